"""Applicants' stored profiles (for policy matching) and their notifications (政策通 送达).

- ``PUT /api/profile`` ``{"form", "region", "data"}`` and ``GET /api/profile?form=F``:
  one profile per applicant and profile form, validated like the form (unanswered
  fields allowed, :func:`runtime.policies.validate_profile`), stored as JSON with each
  sensitive value encrypted on its own (context ``profiles.<form>.<field>``).
- ``GET /api/notifications`` and ``POST /api/notifications/{id}/read``: the caller's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from starlette.requests import Request
from starlette.responses import Response

from runtime import audit
from runtime.answers import Notification, NotificationList
from runtime.auth import Identity, require
from runtime.clock import local_date
from runtime.context import Context
from runtime.crypto import Cipher
from runtime.db import read, row_key, write
from runtime.errors import ApiError, FieldProblem, message, request_id
from runtime.formspec import FormSpec, localized
from runtime.package import Package, Region
from runtime.policies import validate_profile
from runtime.records import iso, json_value
from runtime.routes.common import ctx, lang, ok, read_json, require_object, threaded


def profile_form(pkg: Package, form_id: Any, lng: str) -> FormSpec:
    forms = sorted({p.profile for p in pkg.policies.values() if p.profile in pkg.forms})
    if isinstance(form_id, str) and form_id in forms:
        return pkg.forms[form_id]
    shown = form_id if isinstance(form_id, str) else repr(form_id)
    text = message("field.profile_form", lng, form=shown[:64], known=", ".join(forms))
    raise ApiError(422, "validation", fields=[FieldProblem("form", "form", text)])


def region_of(pkg: Package, region_id: Any, lng: str) -> Region:
    region = pkg.regions.get(region_id) if isinstance(region_id, str) else None
    if region is None:
        shown = region_id if isinstance(region_id, str) else repr(region_id)
        text = message("field.region", lng, region=shown[:64], known=", ".join(pkg.regions))
        raise ApiError(422, "validation", fields=[FieldProblem("region", "region", text)])
    return region


def invalid(errors: list[Any], prefix: str) -> ApiError:
    return ApiError(
        422,
        "validation",
        fields=[
            FieldProblem(
                f"{prefix}{e.path}" if e.path else prefix.rstrip("."),
                e.code,
                e.message,
                None if e.fields is None else tuple(prefix + f for f in e.fields),
            )
            for e in errors
        ],
    )


def seal(cipher: Cipher, form: FormSpec, data: Mapping[str, Any]) -> str:
    """The profile as stored: JSON, each sensitive value encrypted on its own."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        plain = json_value(value)
        f = form.field_map.get(key)
        if f is not None and f.sensitive:
            text = json.dumps(plain, ensure_ascii=False)
            out[key] = {"sealed": cipher.encrypt(text, context=f"profiles.{form.id}.{key}")}
        else:
            out[key] = plain
    return json.dumps(out, ensure_ascii=False, sort_keys=True)


def open_profile(
    cipher: Cipher, form: FormSpec, text: str, names: frozenset[str] | None = None
) -> dict[str, Any]:
    """A stored profile's data; with ``names``, only those fields are decrypted."""
    stored: dict[str, Any] = json.loads(text)
    out: dict[str, Any] = {}
    for key, value in stored.items():
        if isinstance(value, dict) and "sealed" in value:
            if names is not None and key not in names:
                continue
            out[key] = json.loads(
                cipher.decrypt(value["sealed"], context=f"profiles.{form.id}.{key}")
            )
        else:
            out[key] = value
    return out


def _upsert(table: Table, dialect: str) -> Any:
    stmt = (sqlite if dialect == "sqlite" else postgresql).insert(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.applicant_sub, table.c.form],
        set_={
            "region": stmt.excluded.region,
            "data": stmt.excluded.data,
            "updated_at": stmt.excluded.updated_at,
        },
    )


def _store_profile(
    c: Context,
    identity: Identity,
    form: FormSpec,
    region: Region,
    cleaned: dict[str, Any],
    rid: str,
) -> dict[str, Any]:
    t = c.package.tables
    now = c.now()
    with write(c.engine) as conn:
        conn.execute(
            _upsert(t.profiles, conn.dialect.name),
            {
                "applicant_sub": identity.subject,
                "form": form.id,
                "region": region.id,
                "data": seal(c.cipher, form, cleaned),
                "updated_at": now,
            },
        )
        audit.record(
            conn,
            t.audit_log,
            at=now,
            action="profile_store",
            identity=identity,
            request_id=rid,
            detail={"form": form.id, "region": region.id, "fields": sorted(cleaned)},
        )
    return {
        "form": form.id,
        "region": region.id,
        "data": {k: json_value(v) for k, v in cleaned.items()},
        "updated_at": iso(now),
    }


async def put_profile(request: Request) -> Response:
    """``PUT /api/profile`` — ``{"form", "region", "data"}``, validated as the form."""
    c = ctx(request)
    lng = lang(request)
    identity = require(request, "applicant")
    body = require_object(
        await read_json(request), {"form", "region", "data"}, {"form", "region", "data"}, lng
    )
    form = profile_form(c.package, body["form"], lng)
    region = region_of(c.package, body["region"], lng)
    cleaned, errors = validate_profile(form, body["data"], lang=lng, today=local_date(c.now()))
    if errors:
        raise invalid(errors, "data.")
    stored = await threaded(_store_profile, c, identity, form, region, cleaned, request_id(request))
    return ok(stored)


def stored_profile(c: Context, conn: Connection, sub: str, form: FormSpec) -> Any:
    t = c.package.tables.profiles
    return conn.execute(select(t).where(t.c.applicant_sub == sub, t.c.form == form.id)).first()


def _load_profile(c: Context, identity: Identity, form: FormSpec) -> dict[str, Any]:
    with read(c.engine) as conn:
        row = stored_profile(c, conn, identity.subject, form)
    if row is None:
        raise ApiError(404, "no_profile", {"form": form.id})
    data = open_profile(c.cipher, form, row.data)
    return {"form": form.id, "region": row.region, "data": data, "updated_at": iso(row.updated_at)}


async def get_profile(request: Request) -> Response:
    """``GET /api/profile?form=F`` — the caller's stored profile (F may be left out when the
    package has one profile form)."""
    c = ctx(request)
    lng = lang(request)
    identity = require(request, "applicant")
    form_id = request.query_params.get("form")
    if form_id is None:
        forms = sorted({p.profile for p in c.package.policies.values()})
        form_id = forms[0] if len(forms) == 1 else None
    form = profile_form(c.package, form_id, lng)
    return ok(await threaded(_load_profile, c, identity, form))


# --- notifications -----------------------------------------------------------------------


def _notifications(c: Context, identity: Identity, lng: str) -> NotificationList:
    t = c.package.tables.notifications
    with read(c.engine) as conn:
        rows = conn.execute(
            select(t)
            .where(t.c.applicant_sub == identity.subject)
            .order_by(t.c.created_at.desc(), t.c.id.desc())
        ).all()
    items = [_notification(c.package, r, lng) for r in rows]
    unread = sum(1 for i in items if not i["read"])
    return {"items": items, "total": len(items), "unread": unread}


def _notification(pkg: Package, row: Any, lng: str) -> Notification:
    if row.objection_id is not None:  # an objection resolved (runtime/objections.py)
        return {
            "id": row.id,
            "kind": "objection",
            "objection": row.objection_id,
            "policy": None,
            "policy_name": message("objection_resolved", lng, id=row.objection_id),
            "benefit": None,
            "region": row.region,
            "at": iso(row.created_at),
            "read": row.read_at is not None,
            "read_at": iso(row.read_at),
        }
    policy = pkg.policies.get(row.policy)
    return {
        "id": row.id,
        "kind": "policy",
        "policy": row.policy,
        "policy_name": localized(policy.name, lng) if policy else row.policy,
        "benefit": localized(policy.benefit, lng) if policy else None,
        "region": row.region,
        "at": iso(row.created_at),
        "read": row.read_at is not None,
        "read_at": iso(row.read_at),
    }


async def list_notifications(request: Request) -> Response:
    """``GET /api/notifications`` — the caller's, newest first, with read marks."""
    c = ctx(request)
    identity = require(request)  # staff objectors are told too
    return ok(await threaded(_notifications, c, identity, lang(request)))


def _mark_read(c: Context, identity: Identity, raw: str, lng: str) -> Notification:
    t = c.package.tables.notifications
    mine = (t.c.id == row_key(raw)) & (t.c.applicant_sub == identity.subject)
    with write(c.engine) as conn:
        conn.execute(update(t).where(mine, t.c.read_at.is_(None)).values(read_at=c.now()))
        row = conn.execute(select(t).where(mine)).first()
    if row is None:
        raise ApiError(404, "unknown_notification", {"id": raw[:64]})
    return _notification(c.package, row, lng)


async def read_notification(request: Request) -> Response:
    """``POST /api/notifications/{notification}/read`` — mark one read (the caller's own);
    an id that is not a whole number from 1 is 422, an unknown one 404."""
    c = ctx(request)
    identity = require(request)
    raw = request.path_params["notification"]
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        text = message("field.type", lang(request), expected="integer ≥ 1")
        raise ApiError(422, "validation", fields=[FieldProblem("notification", "type", text)])
    return ok(await threaded(_mark_read, c, identity, raw, lang(request)))
