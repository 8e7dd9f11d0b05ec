"""Staff views: the region's applications (masked), statistics, and the audited reveal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, select
from starlette.requests import Request
from starlette.responses import Response

from runtime.auth import Identity, require_staff, visible_regions
from runtime.context import Context
from runtime.db import read
from runtime.errors import ApiError, FieldProblem, message, request_id
from runtime.masking import sensitive_paths
from runtime.package import Package
from runtime.records import clock_of, load_data, summary, today
from runtime.routes.catalogue import region_param
from runtime.routes.common import (
    audit_access,
    ctx,
    find_application,
    lang,
    ok,
    paging,
    read_json,
    require_object,
    threaded,
)

_TRUE = {"true", "1", "yes"}


def _scope(c: Context, identity: Identity) -> frozenset[str]:
    return visible_regions(identity, c.package.subtree(identity.region))


def _flag(request: Request, name: str, lng: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return False
    if raw.lower() in _TRUE | {"false", "0", "no"}:
        return raw.lower() in _TRUE
    problem = FieldProblem(name, "type", message("field.type", lng, expected="true/false"))
    raise ApiError(422, "validation", fields=[problem])


def _text(request: Request, name: str, lng: str) -> str | None:
    """A free-text filter; NUL (which no stored value holds, and PostgreSQL refuses) is 422."""
    raw = request.query_params.get(name)
    if raw is None or "\x00" not in raw:
        return raw
    problem = FieldProblem(name, "type", message("field.type", lng, expected="text"))
    raise ApiError(422, "validation", fields=[problem])


def _region(request: Request, lng: str) -> str | None:
    region = region_param(request, ctx(request).package, lng)
    return region.id if region is not None else None


def _due_soon_window(pkg: Package) -> timedelta:
    """Calendar days that surely hold the longest ``warn_before`` of working days (holidays
    and weekends at most double a span, plus the longest holiday run)."""
    longest = max((w.warn_before or 0 for w in pkg.workflows.values()), default=0)
    return timedelta(days=2 * longest + 30)


def _list(
    c: Context, identity: Identity, query: dict[str, Any], page: int, size: int, lng: str, rid: str
) -> dict[str, Any]:
    pkg = c.package
    apps = pkg.tables.applications
    now = c.now()
    regions = _scope(c, identity)
    if query.get("region"):
        regions = regions & {query["region"]}
    conditions: list[ColumnElement[bool]] = [apps.c.region.in_(sorted(regions))]
    if query.get("status"):
        conditions.append(apps.c.status == query["status"])
    if query.get("matter"):
        conditions.append(apps.c.matter == query["matter"])
    timed = query["overdue"] or query["due_soon"]
    if timed:  # candidates in SQL, the clock decides in Python (pauses move deadlines)
        conditions += [apps.c.finished_at.is_(None), apps.c.deadline.is_not(None)]
        if query["overdue"]:
            conditions.append(apps.c.deadline < today(now))
        else:
            conditions.append(apps.c.deadline <= today(now) + _due_soon_window(pkg))
    where = and_(*conditions)
    order = (apps.c.created_at.desc(), apps.c.id)
    with read(c.engine) as conn:
        if timed:
            rows = conn.execute(select(apps).where(where).order_by(*order)).all()
        else:
            total = conn.execute(select(func.count()).select_from(apps).where(where)).scalar_one()
            rows = conn.execute(
                select(apps).where(where).order_by(*order).limit(size).offset((page - 1) * size)
            ).all()
    items = [summary(pkg, r._mapping, lang=lng, now=now, staff=True) for r in rows]
    if timed:
        key = "overdue" if query["overdue"] else "due_soon"
        items = [i for i in items if i[key]]
        total = len(items)
        items = items[(page - 1) * size : page * size]
    audit_access(c, identity, rid, "list", detail={k: v for k, v in query.items() if v}, at=now)
    return {"items": items, "total": int(total), "page": page, "page_size": size}


async def list_applications(request: Request) -> Response:
    """``GET /api/staff/applications`` — ``?status= ?matter= ?region= ?overdue= ?due_soon=``."""
    c = ctx(request)
    lng = lang(request)
    identity = require_staff(request)
    page, size = paging(request, lng)
    query: dict[str, Any] = {
        "status": _text(request, "status", lng),
        "matter": _text(request, "matter", lng),
        "region": _region(request, lng),
        "overdue": _flag(request, "overdue", lng),
        "due_soon": _flag(request, "due_soon", lng),
    }
    return ok(await threaded(_list, c, identity, query, page, size, lng, request_id(request)))


def _handling_days(dialect: str, apps: Table) -> ColumnElement[Any]:
    """Days from filing to finishing, computed by the database (not row by row here)."""
    if dialect == "postgresql":
        return func.extract("epoch", apps.c.finished_at - apps.c.created_at) / 86400
    # SQLite keeps datetimes as UTC text, which julianday() reads
    return func.julianday(apps.c.finished_at) - func.julianday(apps.c.created_at)


def _stats(c: Context, identity: Identity, region: str | None, rid: str) -> dict[str, Any]:
    pkg = c.package
    apps, evaluations = pkg.tables.applications, pkg.tables.evaluations
    regions = _scope(c, identity)
    if region:
        regions = regions & {region}
    in_scope = apps.c.region.in_(sorted(regions))
    now = c.now()
    with read(c.engine) as conn:
        by_status = conn.execute(
            select(apps.c.status, func.count()).where(in_scope).group_by(apps.c.status)
        ).all()
        open_cases = conn.execute(
            select(apps).where(in_scope, apps.c.finished_at.is_(None), apps.c.deadline < today(now))
        ).all()
        finished, average_days = conn.execute(
            select(func.count(), func.avg(_handling_days(conn.dialect.name, apps))).where(
                in_scope, apps.c.finished_at.is_not(None)
            )
        ).one()
        score = conn.execute(
            select(func.avg(evaluations.c.score), func.count(evaluations.c.id))
            .select_from(evaluations.join(apps, apps.c.id == evaluations.c.application_id))
            .where(in_scope)
        ).one()
    overdue = len([r for r in open_cases if clock_of(pkg, r._mapping).is_overdue(now)])
    audit_access(c, identity, rid, "list", detail={"stats": True, "region": region}, at=now)
    return {
        "regions": sorted(regions),
        "total": sum(int(n) for _, n in by_status),
        "by_status": {str(s): int(n) for s, n in sorted(by_status)},
        "overdue": overdue,
        "finished": int(finished),
        "average_handling_days": (
            round(float(average_days), 2) if average_days is not None else None
        ),
        "satisfaction": {
            "average": round(float(score[0]), 2) if score[0] is not None else None,
            "count": int(score[1]),
        },
    }


async def stats(request: Request) -> Response:
    """``GET /api/staff/stats`` — counts by status, overdue, handling time, satisfaction."""
    c = ctx(request)
    identity = require_staff(request)
    region = _region(request, lang(request))
    return ok(await threaded(_stats, c, identity, region, request_id(request)))


REVEAL_REASON = (1, 200)  # characters, after trimming spaces


def _reveal_reason(reason: object, lng: str) -> str:
    """The reason given for a reveal: a text of 1–200 characters, or 422."""
    if reason is None:
        problem = FieldProblem("reason", "required", message("field.required", lng))
    elif not isinstance(reason, str):
        problem = FieldProblem("reason", "type", message("field.type", lng, expected="string"))
    elif REVEAL_REASON[0] <= len(reason.strip()) <= REVEAL_REASON[1]:
        return reason.strip()
    else:
        low, high = REVEAL_REASON
        problem = FieldProblem("reason", "length", message("field.length", lng, low=low, high=high))
    raise ApiError(422, "validation", fields=[problem])


def _reveal(
    request: Request, c: Context, identity: Identity, app_id: str, reason: object, lng: str
) -> Any:
    row = find_application(request, identity, app_id)  # 404 (audited) before any 422
    why = _reveal_reason(reason, lng)
    pkg = c.package
    form = pkg.forms.get(row.form)
    data: dict[str, Any] = {}
    if form is not None:
        with read(c.engine) as conn:
            data = load_data(conn, pkg, c.cipher, form, row.id)
    audit_access(
        c,
        identity,
        request_id(request),
        "reveal",
        application_id=row.id,
        detail={"fields": sensitive_paths(form) if form else [], "reason": why},
    )
    return {"id": row.id, "number": row.number, "data": data}


async def reveal(request: Request) -> Response:
    """``POST /api/staff/applications/{id}/reveal`` — unmasked data, audited; ``{"reason"}``
    (required: 1–200 characters, kept in the audit entry)."""
    c = ctx(request)
    lng = lang(request)
    identity = require_staff(request)
    body = await read_json(request, optional=True)
    body = require_object({} if body is None else body, {"reason"}, set(), lng)
    app_id = request.path_params["id"]
    return ok(await threaded(_reveal, request, c, identity, app_id, body.get("reason"), lng))
