"""Governed data sharing (services.md §6): requests, a steward's decision, granted reads.

A staff member (any case-handling role or a data steward) asks for items of one
resource of the data resource catalogue (:mod:`runtime.catalogue`) — a form as one
region collects it — with a purpose and a legal basis. Items shared
``unconditionally`` are granted at once; the others wait for a ``data_steward`` of the
provider region (never the requester: four eyes), who approves or refuses with a reason.
Items shared ``none`` cannot be asked for. A grant lasts until ``expires`` (a China
date, at most :data:`MAX_DAYS` ahead) and until revoked (by a steward of the provider
region, or withdrawn by the requester).

States: ``pending`` (conditional items wait; unconditional ones are readable) →
``approved`` | ``refused`` (nothing readable); ``pending`` | ``approved`` → ``revoked``
(nothing readable). A request whose items are all unconditional is ``approved`` at once.
Each change is one conditional ``UPDATE … WHERE status IN (…)``: of two stewards
deciding at once, or a decision racing a revocation, exactly one wins; the other gets
409 and nothing changes.

Reads (``GET /api/sharing/data/{request}``, the requester only) return the granted
items of the resource's applications in the provider region, a page at a time, sensitive
values masked unless the request asked for them unmasked and was approved; each page
read is an ``audit_log`` entry ``share_read`` with the request id, its purpose and the
applications read (never values). Request lifecycle entries: ``share_request``,
``share_approve``, ``share_refuse``, ``share_revoke``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Row, Table, func, insert, or_, select, update

from runtime import audit, events
from runtime.answers import (
    SharedCase,
    SharedData,
    SharedElement,
    SharingRequest,
    SharingRequestPage,
    SharingStatus,
)
from runtime.auth import REGIONAL_ROLES, SUBTREE_ROLES, Identity
from runtime.catalogue import Resource
from runtime.clock import local_date
from runtime.context import Context
from runtime.db import read, write
from runtime.errors import ApiError, FieldProblem, message
from runtime.formspec import localized
from runtime.masking import mask_value
from runtime.package import Package
from runtime.record_ids import new_id
from runtime.records import iso, load_data

TABLE = "sharing_requests"
STEWARD = "data_steward"
REQUESTERS = REGIONAL_ROLES  # every staff role may ask
MAX_DAYS = 366  # the longest grant
DEFAULT_DAYS = 365
MAX_TEXT = 500  # purpose, basis and reasons: 1..500 characters
LIVE = ("pending", "approved")


def table(pkg: Package) -> Table:
    return pkg.metadata.tables[TABLE]


def _problem(path: str, code: str, lng: str, **params: Any) -> FieldProblem:
    return FieldProblem(path, code, message(f"field.{code}", lng, **params))


def _text(body: Mapping[Any, Any], key: str, lng: str, problems: list[FieldProblem]) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        problems.append(_problem(key, "length", lng, low=1, high=MAX_TEXT))
        return ""
    return value.strip()


def _expires(value: Any, today: date, lng: str, problems: list[FieldProblem]) -> date:
    """``expires`` of a body (the key given: ``null`` is no date), in range, or a problem."""
    try:
        day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        day = None
    last = today + timedelta(days=MAX_DAYS)
    if day is None or not today <= day <= last:
        problems.append(_problem("expires", "range", lng, low=today.isoformat(), high=last))
        return today
    return day


def checked_request(
    pkg: Package, body: Mapping[Any, Any], today: date, lng: str
) -> tuple[Resource, list[str], dict[str, Any]]:
    """The resource, the items and the columns of a new request, or 422 naming every
    problem (an unknown resource or region, items outside the resource or not shared,
    purpose, basis, ``unmasked``, ``expires``)."""
    problems: list[FieldProblem] = []
    region = body.get("region", pkg.region)
    if not isinstance(region, str) or region not in pkg.regions:
        known = ", ".join(pkg.regions)
        shown = str(region)[:64]
        text = message("field.served_region", lng, region=shown, known=known)
        problems.append(FieldProblem("region", "region", text))
        raise ApiError(422, "validation", fields=problems)
    resource_id = body.get("resource")
    resource = (
        pkg.data_catalogue.resource(region, resource_id) if isinstance(resource_id, str) else None
    )
    items = body.get("items")
    if resource is None:
        known = ", ".join(r.id for r in pkg.data_catalogue.in_region(region))
        shown = str(resource_id)[:64]
        text = message("field.resource", lng, resource=shown, region=region, known=known)
        problems.append(FieldProblem("resource", "unknown", text))
        items = []
    elif not isinstance(items, list) or not items or len(items) > len(resource.items):
        problems.append(_problem("items", "range", lng, low=1, high=len(resource.items)))
        items = []
    chosen: list[str] = []
    for index, element in enumerate(items):
        assert resource is not None
        item = resource.item_map.get(element) if isinstance(element, str) else None
        if item is None:
            known = ", ".join(resource.item_map)
            shown = str(element)[:64]
            problems.append(
                _problem(f"items[{index}]", "resource_item", lng, element=shown, known=known)
            )
        elif item.share_type == "none":
            problems.append(_problem(f"items[{index}]", "not_shared", lng, element=element))
        elif element not in chosen:
            chosen.append(element)
    purpose = _text(body, "purpose", lng, problems)
    basis = _text(body, "basis", lng, problems)
    unmasked = body.get("unmasked", False)
    if not isinstance(unmasked, bool):
        problems.append(_problem("unmasked", "type", lng, expected="boolean"))
    expires = today + timedelta(days=DEFAULT_DAYS)
    if "expires" in body:
        expires = _expires(body["expires"], today, lng, problems)
    if problems or resource is None:
        raise ApiError(422, "validation", fields=problems)
    columns = {"purpose": purpose, "basis": basis, "unmasked": int(unmasked), "expires": expires}
    return resource, chosen, columns


def create(c: Context, identity: Identity, body: Mapping[Any, Any], lng: str, rid: str) -> Any:
    """File a request (blocking); unconditional items are granted in the same step."""
    now = c.now()
    resource, chosen, columns = checked_request(c.package, body, local_date(now), lng)
    free = [e for e in chosen if resource.item_map[e].share_type == "unconditional"]
    row = {
        "id": new_id(),
        "resource": resource.id,
        "region": resource.region,
        "requester_sub": identity.subject,
        "requester_role": identity.role,
        "requester_region": identity.region or "",
        **columns,
        "items": json.dumps(chosen),
        "granted": json.dumps(free),
        "status": "approved" if len(free) == len(chosen) else "pending",
        "created_at": now,
        "decided_by": None,
        "decided_at": None,
        "reason": None,
    }
    detail = {"request": row["id"], "resource": resource.id, "region": resource.region}
    with write(c.engine) as conn:
        conn.execute(insert(table(c.package)), row)
        audit.record(
            conn,
            c.package.tables.audit_log,
            at=now,
            action="share_request",
            identity=identity,
            request_id=rid,
            detail={**detail, "items": chosen, "granted": free},
        )
        if free:  # the unconditional items, granted at once
            data = {"request": row["id"], "resource": resource.id, "items": free}
            events.emit(
                conn,
                c.package.tables,
                events.SHARING_GRANTED,
                region=resource.region,
                at=now,
                data=data,
            )
    return view(c, row, lng)


def may_see(identity: Identity, pkg: Package, row: Mapping[Any, Any]) -> bool:
    """The requester, a steward of the provider region, a supervisor above it."""
    if row["requester_sub"] == identity.subject:
        return True
    if identity.role == STEWARD:
        return bool(row["region"] == identity.region)
    return identity.role in SUBTREE_ROLES and row["region"] in pkg.subtree(identity.region)


def find(c: Context, identity: Identity, request_id: str) -> Row[Any]:
    """The request if ``identity`` may see it; else 404 (existence never leaked)."""
    t = table(c.package)
    row = None
    if len(request_id) <= 36:
        with read(c.engine) as conn:
            row = conn.execute(select(t).where(t.c.id == request_id)).first()
    if row is None or not may_see(identity, c.package, row._mapping):
        raise ApiError(404, "unknown_sharing_request", {"id": request_id[:64]})
    return row


def state(row: Mapping[Any, Any], today: date) -> SharingStatus:
    """The status, with ``expired`` for a live request past its last day."""
    if row["status"] in LIVE and row["expires"] < today:
        return "expired"
    status: SharingStatus = row["status"]
    return status


def view(c: Context, row: Mapping[Any, Any], lng: str) -> SharingRequest:
    pkg = c.package
    resource = pkg.data_catalogue.resource(row["region"], row["resource"])
    names = {i.element: i.name for i in resource.items} if resource else {}
    today = local_date(c.now())

    def item(e: str) -> SharedElement:
        return {"element": e, "name": localized(names.get(e), lng) or e}

    granted = json.loads(row["granted"]) if state(row, today) in LIVE else []
    return {
        "id": row["id"],
        "resource": row["resource"],
        "region": row["region"],
        "requester": row["requester_sub"],
        "requester_region": row["requester_region"],
        "purpose": row["purpose"],
        "basis": row["basis"],
        "items": [item(e) for e in json.loads(row["items"])],
        "granted": [item(e) for e in granted],
        "unmasked": bool(row["unmasked"]),
        "status": state(row, today),
        "expires": iso(row["expires"]),
        "created_at": iso(row["created_at"]),
        "decided_by": row["decided_by"],
        "decided_at": iso(row["decided_at"]),
        "reason": row["reason"],
    }


def listing(c: Context, identity: Identity, lng: str, page: int, size: int) -> SharingRequestPage:
    """The requests ``identity`` may see, newest first."""
    t = table(c.package)
    mine = t.c.requester_sub == identity.subject
    if identity.role == STEWARD:
        where = or_(mine, t.c.region == identity.region)
    elif identity.role in SUBTREE_ROLES:
        where = or_(mine, t.c.region.in_(sorted(c.package.subtree(identity.region))))
    else:
        where = mine
    with read(c.engine) as conn:
        total = conn.execute(select(func.count()).select_from(t).where(where)).scalar_one()
        rows = conn.execute(
            select(t)
            .where(where)
            .order_by(t.c.created_at.desc(), t.c.id)
            .limit(size)
            .offset((page - 1) * size)
        ).all()
    items = [view(c, r._mapping, lng) for r in rows]
    return {"items": items, "total": total, "page": page, "page_size": size}


# --- decisions --------------------------------------------------------------------------

_ACTIONS = {  # action -> (the states it leaves, the state it makes)
    "approve": (("pending",), "approved"),
    "refuse": (("pending",), "refused"),
    "revoke": (LIVE, "revoked"),
}


def decide(
    c: Context,
    identity: Identity,
    request_id: str,
    action: str,
    body: Mapping[Any, Any],
    lng: str,
    rid: str,
) -> SharingRequest:
    """Approve, refuse or revoke (blocking): the body first (422: no reason to refuse or
    revoke, an unknown key, a bad date), then who may (404 for who may not see the
    request, 403 for the wrong person), then the state (409, also when another decision
    won the race)."""
    if action not in _ACTIONS:
        raise ApiError(404, "not_found")
    now = c.now()
    today = local_date(now)
    problems: list[FieldProblem] = []
    allowed = {"reason", "expires"} if action == "approve" else {"reason"}
    problems += [_problem(str(k)[:64], "unknown", lng) for k in body if k not in allowed]
    reason = None
    if action != "approve" or "reason" in body:  # given, it must be a text (null is none)
        reason = _text(body, "reason", lng, problems)
    asked = None
    if action == "approve" and "expires" in body:
        asked = _expires(body["expires"], today, lng, problems)
    if problems:
        raise ApiError(422, "validation", fields=problems)
    row = find(c, identity, request_id)._mapping
    requester = row["requester_sub"] == identity.subject
    steward = identity.role == STEWARD and row["region"] == identity.region
    if action == "revoke" and not (steward or requester):
        raise ApiError(403, "forbidden")
    if action != "revoke":
        if not steward:
            raise ApiError(403, "forbidden")
        if requester:
            raise ApiError(403, "sharing_four_eyes")
    expires = min(row["expires"], asked) if asked is not None else row["expires"]
    sources, target = _ACTIONS[action]
    current = state(row, today)
    if current not in sources:
        raise ApiError(409, "sharing_state", {"status": current, "action": action})
    values: dict[str, Any] = {
        "status": target,
        "decided_by": identity.subject,
        "decided_at": now,
        "reason": reason,
    }
    if action == "approve":
        values.update(granted=row["items"], expires=expires)
    else:
        values["granted"] = "[]"
    t = table(c.package)
    with write(c.engine) as conn:
        changed = conn.execute(
            update(t).where(t.c.id == row["id"], t.c.status.in_(sources)).values(**values)
        ).rowcount
        if changed != 1:  # another decision came first
            raise ApiError(409, "sharing_state", {"status": "changed", "action": action})
        detail = {"request": row["id"], "resource": row["resource"], "region": row["region"]}
        if reason:
            detail["reason_given"] = True
        audit.record(
            conn,
            c.package.tables.audit_log,
            at=now,
            action=f"share_{action}",
            identity=identity,
            request_id=rid,
            detail=detail,
        )
        if action in ("approve", "revoke"):
            kind = events.SHARING_GRANTED if action == "approve" else events.SHARING_REVOKED
            items = json.loads(values.get("granted") or "[]") if action == "approve" else []
            data = {"request": row["id"], "resource": row["resource"], "items": items}
            events.emit(conn, c.package.tables, kind, region=row["region"], at=now, data=data)
    return view(c, {**row, **values}, lng)


# --- reads ------------------------------------------------------------------------------


def _granted_data(
    resource: Resource, granted: Sequence[str], data: Mapping[Any, Any], unmasked: bool
) -> dict[str, Any]:
    """``data`` cut down to the granted items' fields, sensitive ones masked unless
    ``unmasked``; repeating groups keep their rows with only the granted fields."""
    out: dict[str, Any] = {}
    for element in granted:
        item = resource.item_map[element]
        hide = item.sensitive and not unmasked
        for path in item.fields:
            group, _, field = path.partition("[].")
            if not field:
                if path in data:
                    out[path] = mask_value(data[path]) if hide else data[path]
                continue
            rows = data.get(group)
            if not isinstance(rows, list):
                continue
            kept = out.setdefault(group, [{} for _ in rows])
            for position, source in enumerate(rows):
                if field in source:
                    value = source[field]
                    kept[position][field] = mask_value(value) if hide else value
    return out


def read_data(
    c: Context, identity: Identity, request_id: str, page: int, size: int, rid: str
) -> SharedData:
    """A page of the granted items (blocking): the requester only (404 for anyone else),
    403 unless something is granted now; the read is audited before the answer leaves."""
    row = find(c, identity, request_id)._mapping
    if row["requester_sub"] != identity.subject:
        raise ApiError(404, "unknown_sharing_request", {"id": request_id[:64]})
    now = c.now()
    granted = json.loads(row["granted"])
    pkg = c.package
    resource = pkg.data_catalogue.resource(row["region"], row["resource"])
    if state(row, local_date(now)) not in LIVE or not granted or resource is None:
        raise ApiError(403, "sharing_not_granted", {"id": row["id"]})
    unmasked = bool(row["unmasked"]) and row["status"] == "approved"
    apps = pkg.tables.applications
    where = (apps.c.form == resource.id, apps.c.region == resource.region)
    form = pkg.forms[resource.id]
    with read(c.engine) as conn:
        total = conn.execute(select(func.count()).select_from(apps).where(*where)).scalar_one()
        cases = conn.execute(
            select(apps.c.id, apps.c.number, apps.c.matter, apps.c.created_at)
            .where(*where)
            .order_by(apps.c.created_at, apps.c.id)
            .limit(size)
            .offset((page - 1) * size)
        ).all()
        items: list[SharedCase] = [
            {
                "application": case.id,
                "number": case.number,
                "matter": case.matter,
                "filed_at": iso(case.created_at),
                "data": _granted_data(
                    resource, granted, _load(conn, c, form.id, case.id), unmasked
                ),
            }
            for case in cases
        ]
    detail = {
        "request": row["id"],
        "purpose": row["purpose"],
        "resource": resource.id,
        "region": resource.region,
        "items": granted,
        "unmasked": unmasked,
        "page": page,
        "applications": [i["application"] for i in items],
    }
    audit.record_now(
        c.engine,
        pkg.tables.audit_log,
        at=now,
        action="share_read",
        identity=identity,
        request_id=rid,
        detail=detail,
    )
    return {
        "request": row["id"],
        "resource": resource.id,
        "region": resource.region,
        "items": granted,
        "unmasked": unmasked,
        "applications": items,
        "total": total,
        "page": page,
        "page_size": size,
    }


def _load(conn: Connection, c: Context, form_id: str, application_id: str) -> dict[str, Any]:
    return load_data(conn, c.package, c.cipher, c.package.forms[form_id], application_id)
