"""Objections (异议处理): someone disputes a value stored in a case; the provider corrects it
or rejects the objection with a reason; the objector is told.

- **Who objects**: the applicant of the case, or staff who may see it (404 otherwise, as
  for reading the case, and the refusal audited). The disputed value is named by its data
  element (数据元); the element must be one of the package's (422 ``unknown_element``) and
  collected by the case's own form (422 ``element_not_in_form``). ``field`` names the place
  when the element is collected at several (a field, or ``group[i].field`` of a repeating
  group's row); one open objection per case and place (409 ``objection_open``).
- **Who resolves**: the provider — the agency implementing the matter (its ``guide.agency``),
  whose officers and approvers are the staff of the case's region (as for its steps).
- **Correct** (``value``): the case's data with the new value is validated again against
  the case's own form (422 with the field's problems), stored (sensitive fields encrypted as
  always), and the case's ``row_version`` moves on (a step prepared on the old data is 409).
  The old and the new value are kept in the objection row, encrypted when the field is
  sensitive; the audit entry names the field, never the values.
- **Reject** (``reason``, 1–500 characters).
- Every change writes an event (runtime/events.py) and, when resolved, a notification to
  the objector (``GET /api/notifications``), in the same transaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, func, insert, select, update

from runtime import audit, events
from runtime.answers import Objection, ObjectionPage, ObjectionStats, Provider
from runtime.auth import Identity, visible_regions
from runtime.clock import local_date
from runtime.context import Context
from runtime.db import read, row_key, write
from runtime.errors import ApiError, FieldProblem, message
from runtime.formspec import FieldSpec, FormSpec, localized
from runtime.package import Package
from runtime.records import aware, iso, load_data, lock_case, matter_of, rules_of, store_data
from runtime.validation import validate_submission

OPEN, CORRECTED, REJECTED = STATUSES = ("open", "corrected", "rejected")
MAX_REASON = 500
RESOLVERS = frozenset({"officer", "approver"})
_ROW_PATH = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\[(\d{1,4})\]\.([A-Za-z_][A-Za-z0-9_]*)")


def places(form: FormSpec, element: str, data: Mapping[str, Any]) -> dict[str, FieldSpec]:
    """Where the case's form holds ``element``: ``field`` or ``group[i].field`` → its spec."""
    found = {f.id: f for f in form.fields if f.element == element}
    for group in form.groups:
        rows = data.get(group.id)
        count = len(rows) if isinstance(rows, list) else 0
        for f in group.fields:
            if f.element == element:
                found |= {f"{group.id}[{i}].{f.id}": f for i in range(count)}
    return found


def _problem(path: str, code: str, lng: str, **params: Any) -> ApiError:
    return ApiError(
        422, "validation", fields=[FieldProblem(path, code, message(code, lng, **params))]
    )


def reason_of(body: Mapping[str, Any], key: str, lng: str) -> str:
    raw = body.get(key)
    text = raw.strip() if isinstance(raw, str) else ""
    if not 1 <= len(text) <= MAX_REASON:
        raise ApiError(
            422,
            "validation",
            fields=[
                FieldProblem(key, "length", message("field.length", lng, low=1, high=MAX_REASON))
            ],
        )
    return text


def text_of(body: Mapping[str, Any], key: str, lng: str) -> str | None:
    """An optional text of 1–255 characters: absent is None, anything else (null too) 422."""
    value = body.get(key)
    if key in body and (not isinstance(value, str) or not value or len(value) > 255):
        raise _problem(key, "field.type", lng, expected="text")
    return value


def _seal(c: Context, spec: FieldSpec, column: str, value: Any) -> str | None:
    """A value as the objection row keeps it: JSON, encrypted when the field is sensitive."""
    if value is None:
        return None
    text = json.dumps(value, ensure_ascii=False, default=str)
    return c.cipher.encrypt(text, context=f"objections.{column}") if spec.sensitive else text


def provider(pkg: Package, app: Row[Any], lng: str) -> Provider:
    """The provider of the case's data: its resource's in the data catalogue (the agency
    implementing the matters of the form, runtime/catalogue.py), else its matter's agency."""
    resource = pkg.data_catalogue.resource(app.region, app.form)
    if resource is not None:
        return {"code": resource.provider_code, "name": localized(resource.provider, lng) or None}
    matter = matter_of(pkg, app.region, app.matter)
    agency = (matter.guide.get("agency") if matter else None) or {}
    return {"code": agency.get("code"), "name": localized(agency.get("name"), lng) or None}


def view(pkg: Package, row: Row[Any], app: Row[Any] | None, lng: str) -> Objection:
    """An objection as the API shows it (never the values)."""
    out: Objection = {
        "id": row.id,
        "application": row.application_id,
        "region": row.region,
        "element": row.element,
        "field": row.field,
        "status": row.status,
        "reason": row.reason,
        "objector_role": row.objector_role,
        "created_at": iso(row.created_at),
        "resolved_at": iso(row.resolved_at),
        "resolution": row.resolution,
    }
    if app is not None:
        out["number"] = app.number
        out["matter"] = app.matter
        out["provider"] = provider(pkg, app, lng)
    return out


# --- filing --------------------------------------------------------------------------


def file_objection(
    c: Context, identity: Identity, app: Row[Any], body: Mapping[str, Any], lng: str, rid: str
) -> Objection:
    """Record an objection on ``app`` (which ``identity`` may see: checked by the caller)."""
    pkg = c.package
    element = body.get("element")
    rules = rules_of(pkg, app._mapping)
    form = rules.form if rules is not None else pkg.forms[app.form]
    collected = {f.element for f in form.fields} | {
        f.element for g in form.groups for f in g.fields
    }
    if not isinstance(element, str) or (
        element not in collected and element not in pkg.data_catalogue.elements
    ):  # neither the case's form nor the catalogue (runtime/catalogue.py) knows it
        shown = element[:64] if isinstance(element, str) else repr(element)[:64]
        raise ApiError(
            422,
            "unknown_element",
            {"element": shown},
            fields=[
                FieldProblem(
                    "element", "unknown_element", message("unknown_element", lng, element=shown)
                )
            ],
        )
    reason = reason_of(body, "reason", lng)
    field = text_of(body, "field", lng)
    if element not in collected:
        text = message("element_not_in_form", lng, element=element, form=form.id)
        raise ApiError(
            422,
            "element_not_in_form",
            {"element": element, "form": form.id},
            fields=[FieldProblem("element", "element_not_in_form", text)],
        )
    t = pkg.tables
    now = c.now()
    with write(c.engine) as conn:
        lock_case(conn, pkg, app.id)
        found = places(form, element, load_data(conn, pkg, c.cipher, form, app.id))
        if field is not None and field not in found:
            known = ", ".join(found) or "—"
            raise _problem("field", "field.place", lng, element=element, known=known)
        if field is None and len(found) == 1:
            field = next(iter(found))
        o = t.objections
        clash = o.c.field == field if field is not None else o.c.field.is_(None)
        taken = conn.execute(
            select(o.c.id).where(
                o.c.application_id == app.id, o.c.element == element, clash, o.c.status == OPEN
            )
        ).first()
        if taken is not None:
            raise ApiError(409, "objection_open", {"id": taken.id})
        new_id = conn.execute(
            insert(o).returning(o.c.id),
            {
                "application_id": app.id,
                "region": app.region,
                "element": element,
                "field": field,
                "objector_sub": identity.subject,
                "objector_role": identity.role,
                "reason": reason,
                "status": OPEN,
                "created_at": now,
            },
        ).scalar_one()
        detail = {"objection": new_id, "element": element, "field": field}
        audit.record(
            conn,
            t.audit_log,
            at=now,
            action="objection",
            identity=identity,
            request_id=rid,
            application_id=app.id,
            detail=detail,
        )
        data = events.application_data(app._mapping, objection=new_id, element=element)
        events.emit(
            conn,
            t,
            events.OBJECTION_FILED,
            region=app.region,
            at=now,
            data=data,
            application_id=app.id,
        )
        row = conn.execute(select(o).where(o.c.id == new_id)).one()
    return view(pkg, row, app, lng)


# --- reading -------------------------------------------------------------------------


def find(
    c: Context, identity: Identity, raw: str, *, for_action: bool = False
) -> tuple[Row[Any], Row[Any]]:
    """The objection ``raw`` and its case, when ``identity`` may see it (resolve it, with
    ``for_action``); else 404. The objector sees their own; staff their regions'."""
    t = c.package.tables
    key = row_key(raw)
    with read(c.engine) as conn:
        found = conn.execute(
            select(t.objections, t.applications.c.applicant_sub.label("app_sub"))
            .join(t.applications, t.applications.c.id == t.objections.c.application_id)
            .where(t.objections.c.id == key)
        ).first()
        app = (
            conn.execute(
                select(t.applications).where(t.applications.c.id == found.application_id)
            ).one()
            if found is not None
            else None
        )
    if found is None or app is None or not _may(c, identity, found, for_action):
        raise ApiError(404, "unknown_objection", {"id": raw[:64]})
    return found, app


def _may(c: Context, identity: Identity, row: Row[Any], for_action: bool) -> bool:
    if for_action:
        return identity.role in RESOLVERS and row.region == identity.region
    if identity.role == "applicant":
        return row.objector_sub in identity.subjects or row.app_sub in identity.subjects
    return row.region in visible_regions(identity, c.package.subtree(identity.region))


def listing(
    c: Context, identity: Identity, status: str | None, page: int, size: int, lng: str
) -> ObjectionPage:
    """Objections ``identity`` may see, newest first: an applicant's own (made by them or on
    their cases), staff their regions'."""
    t = c.package.tables
    o, a = t.objections, t.applications
    scope: ColumnElement[bool]
    if identity.role == "applicant":
        subs = list(identity.subjects)
        scope = o.c.objector_sub.in_(subs) | a.c.applicant_sub.in_(subs)
    else:
        scope = o.c.region.in_(
            sorted(visible_regions(identity, c.package.subtree(identity.region)))
        )
    where = [scope] + ([o.c.status == status] if status else [])
    with read(c.engine) as conn:
        total = conn.execute(
            select(func.count()).select_from(o.join(a, a.c.id == o.c.application_id)).where(*where)
        ).scalar_one()
        rows = conn.execute(
            select(o, a.c.number, a.c.matter, a.c.region.label("app_region"))
            .join(a, a.c.id == o.c.application_id)
            .where(*where)
            .order_by(o.c.id.desc())
            .limit(size)
            .offset((page - 1) * size)
        ).all()
    items = []
    for r in rows:
        item = view(c.package, r, None, lng)
        item["number"], item["matter"] = r.number, r.matter
        items.append(item)
    return {"items": items, "total": int(total), "page": page, "page_size": size}


def statistics(c: Context, regions: frozenset[str], now: datetime) -> ObjectionStats:
    """Open objections and their age (days), per element; resolved ones and how long they took."""
    o = c.package.tables.objections
    with read(c.engine) as conn:
        rows = conn.execute(
            select(o.c.element, o.c.status, o.c.created_at, o.c.resolved_at).where(
                o.c.region.in_(sorted(regions))
            )
        ).all()

    def days(start: Any, end: Any) -> float:
        return round(((aware(end) or now) - aware(start)).total_seconds() / 86400, 2)  # type: ignore[operator]

    opened = [r for r in rows if r.status == OPEN]
    ages = sorted(days(r.created_at, now) for r in opened)
    buckets = {"under_1_day": 0, "1_to_3_days": 0, "3_to_7_days": 0, "over_7_days": 0}
    for age in ages:
        key = (
            "under_1_day"
            if age < 1
            else "1_to_3_days"
            if age < 3
            else "3_to_7_days"
            if age < 7
            else "over_7_days"
        )
        buckets[key] += 1
    by_element: dict[str, dict[str, Any]] = {}
    for r in opened:
        e = by_element.setdefault(r.element, {"element": r.element, "open": 0, "oldest_days": 0.0})
        e["open"] += 1
        e["oldest_days"] = max(e["oldest_days"], days(r.created_at, now))
    resolved = [r for r in rows if r.status != OPEN and r.resolved_at is not None]
    took = [days(r.created_at, r.resolved_at) for r in resolved]
    return {
        "open": len(opened),
        "oldest_days": ages[-1] if ages else None,
        "median_age_days": ages[len(ages) // 2] if ages else None,
        "by_age": buckets,
        "by_element": sorted(by_element.values(), key=lambda e: (-e["open"], -e["oldest_days"])),
        "corrected": sum(1 for r in resolved if r.status == CORRECTED),
        "rejected": sum(1 for r in resolved if r.status == REJECTED),
        "mean_days_to_resolve": round(sum(took) / len(took), 2) if took else None,
    }


# --- resolving -----------------------------------------------------------------------


def _close(
    conn: Connection,
    c: Context,
    identity: Identity,
    row: Row[Any],
    app: Row[Any],
    *,
    status: str,
    now: datetime,
    rid: str,
    values: dict[str, Any],
) -> None:
    """Close the objection (if still open: else 409), audit, event, notify the objector."""
    t = c.package.tables
    o = t.objections
    done = conn.execute(
        update(o)
        .where(o.c.id == row.id, o.c.status == OPEN)
        .values(status=status, resolved_at=now, resolver_sub=identity.subject, **values)
    )
    if done.rowcount != 1:
        raise ApiError(409, "objection_closed", {"id": row.id})
    field = values.get("field", row.field)
    audit.record(
        conn,
        t.audit_log,
        at=now,
        action="objection_" + status,
        identity=identity,
        request_id=rid,
        application_id=app.id,
        detail={"objection": row.id, "element": row.element, "field": field},
    )
    conn.execute(
        insert(t.notifications),
        {
            "applicant_sub": row.objector_sub,
            "policy": None,
            "objection_id": row.id,
            "region": row.region,
            "created_at": now,
        },
    )
    kind = events.CORRECTED if status == CORRECTED else events.OBJECTION_REJECTED
    more: dict[str, Any] = {"objection": row.id, "element": row.element}
    if status == CORRECTED:
        more["field"] = field
    data = events.application_data(app._mapping, **more)
    events.emit(conn, t, kind, region=app.region, at=now, data=data, application_id=app.id)


def reject(
    c: Context, identity: Identity, row: Row[Any], app: Row[Any], reason: str, rid: str, lng: str
) -> Objection:
    now = c.now()
    with write(c.engine) as conn:
        _close(
            conn,
            c,
            identity,
            row,
            app,
            status=REJECTED,
            now=now,
            rid=rid,
            values={"resolution": reason},
        )
        fresh = conn.execute(
            select(c.package.tables.objections).where(c.package.tables.objections.c.id == row.id)
        ).one()
    return view(c.package, fresh, app, lng)


def correct(
    c: Context,
    identity: Identity,
    row: Row[Any],
    app: Row[Any],
    body: Mapping[str, Any],
    rid: str,
    lng: str,
) -> Objection:
    """Store the corrected value (see the module doc) and close the objection."""
    if "value" not in body:
        raise _problem("value", "field.required", lng)
    pkg = c.package
    t = pkg.tables
    now = c.now()
    field = text_of(body, "field", lng) or row.field
    with write(c.engine) as conn:
        case = lock_case(conn, pkg, app.id)
        rules = rules_of(pkg, case._mapping)
        form = rules.form if rules is not None else pkg.forms[case.form]
        data = load_data(conn, pkg, c.cipher, form, case.id)
        found = places(form, row.element, data)
        if field is None or field not in found:
            known = ", ".join(found) or "—"
            raise _problem("field", "field.place", lng, element=row.element, known=known)
        spec = found[field]
        old = _get(data, field)
        merged = _set(data, field, body["value"])
        cleaned, errors = validate_submission(form, merged, lang=lng, today=local_date(now))
        if errors:
            problems = [FieldProblem(e.path, e.code, e.message, e.fields) for e in errors]
            raise ApiError(422, "validation", fields=problems)
        store_data(conn, pkg, c.cipher, form, case.id, cleaned, replace=True)
        new = _get(cleaned, field)
        conn.execute(
            update(t.applications)
            .where(t.applications.c.id == case.id)
            .values(row_version=case.row_version + 1, updated_at=now)
        )
        values = {
            "field": field,
            "old_value": _seal(c, spec, "old_value", old),
            "new_value": _seal(c, spec, "new_value", new),
            "resolution": reason_of(body, "note", lng) if "note" in body else None,
        }
        _close(conn, c, identity, row, case, status=CORRECTED, now=now, rid=rid, values=values)
        fresh = conn.execute(select(t.objections).where(t.objections.c.id == row.id)).one()
    return view(pkg, fresh, case, lng)


def _get(data: Mapping[str, Any], path: str) -> Any:
    m = _ROW_PATH.fullmatch(path)
    if m is None:
        return data.get(path)
    rows = data.get(m.group(1)) or []
    index = int(m.group(2))
    return rows[index].get(m.group(3)) if index < len(rows) else None


def _set(data: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    merged = dict(data)
    m = _ROW_PATH.fullmatch(path)
    if m is None:
        merged[path] = value
        return merged
    rows = [dict(r) for r in merged.get(m.group(1)) or []]
    rows[int(m.group(2))][m.group(3)] = value
    merged[m.group(1)] = rows
    return merged
