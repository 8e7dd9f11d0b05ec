"""Staff views: the region's applications (masked), statistics, and the audited reveal.

The workbench pages (runtime/web/workbench.py) call :func:`_list`, :func:`queue_counts`
and :func:`_stats` too; they also ask for a ``stage`` (see :data:`STAGES`) and the
order ``sort="deadline"`` (the most urgent first), which the JSON route does not take.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, false, func, not_, or_, select
from starlette.requests import Request
from starlette.responses import Response

from runtime.answers import Revealed, Stats
from runtime.auth import Identity, require_staff, visible_regions
from runtime.clock import local_date
from runtime.context import Context
from runtime.db import read
from runtime.errors import ApiError, FieldProblem, message, request_id
from runtime.masking import sensitive_paths
from runtime.operations import Operation, query
from runtime.package import Package
from runtime.records import clock_of, load_data, matter_of, summary, urgency
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


# A case's stage, whatever its workflow: ``pending`` (待受理: in its workflow's initial
# state), ``in_progress`` (办理中: past it, not final), ``open`` (either), ``finished``.
STAGES = ("open", "pending", "in_progress", "finished")


def initial_states(pkg: Package, regions: frozenset[str]) -> dict[str, set[str]]:
    """Initial state -> the matters (of ``regions``) whose workflow starts there."""
    out: dict[str, set[str]] = {}
    for region_id in regions:
        region = pkg.regions.get(region_id)
        for matter in region.matters.values() if region else ():
            workflow = pkg.workflows.get(matter.workflow)
            if workflow is not None:
                out.setdefault(workflow.initial, set()).add(matter.id)
    return out


def _pending(apps: Table, initial: dict[str, set[str]]) -> ColumnElement[bool]:
    return or_(
        false(),
        *(
            and_(apps.c.status == state, apps.c.matter.in_(sorted(matters)))
            for state, matters in sorted(initial.items())
        ),
    )


def _stage(pkg: Package, apps: Table, regions: frozenset[str], stage: str) -> ColumnElement[bool]:
    if stage == "finished":
        return apps.c.finished_at.is_not(None)
    pending = _pending(apps, initial_states(pkg, regions))
    if stage == "pending":
        return and_(apps.c.finished_at.is_(None), pending)
    if stage == "in_progress":
        return and_(apps.c.finished_at.is_(None), not_(pending))
    return apps.c.finished_at.is_(None)


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
    if query.get("stage") in STAGES:
        conditions.append(_stage(pkg, apps, regions, query["stage"]))
    timed = query["overdue"] or query["due_soon"]
    if timed:  # candidates in SQL, the clock decides in Python (pauses move deadlines)
        conditions += [apps.c.finished_at.is_(None), apps.c.deadline.is_not(None)]
        if query["overdue"]:
            conditions.append(apps.c.deadline < local_date(now))
        else:
            conditions.append(apps.c.deadline <= local_date(now) + _due_soon_window(pkg))
    where = and_(*conditions)
    if query.get("sort") == "deadline":  # the most urgent first; no deadline yet: oldest first
        order: tuple[Any, ...] = (
            apps.c.deadline.is_(None),
            apps.c.deadline,
            apps.c.created_at,
            apps.c.id,
        )
    else:
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
        overdue = bool(query["overdue"])
        items = [i for i in items if (i["overdue"] if overdue else i["due_soon"])]
        if query.get("sort") == "deadline":  # by the deadline as of now (pauses move it)
            items.sort(key=lambda i: (i["deadline"] or "9999", i["created_at"], i["id"]))
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


def _timed(conn: Any, pkg: Package, where: ColumnElement[bool], now: Any) -> dict[str, int]:
    """How many open cases of ``where`` are overdue and due soon (the clock decides, as for
    :func:`_list`: :func:`runtime.records.urgency`)."""
    apps = pkg.tables.applications
    candidates = conn.execute(
        select(apps).where(
            where,
            apps.c.finished_at.is_(None),
            apps.c.deadline <= local_date(now) + _due_soon_window(pkg),
        )
    ).all()
    out = {"overdue": 0, "due_soon": 0}
    for row in candidates:
        case = row._mapping
        matter = matter_of(pkg, case["region"], case["matter"])
        workflow = pkg.workflows.get(matter.workflow) if matter else None
        overdue, due_soon = urgency(clock_of(pkg, case), workflow, now)
        out["overdue"] += overdue
        out["due_soon"] += due_soon
    return out


def _by_stage(pkg: Package, regions: frozenset[str], rows: list[Any]) -> dict[str, int]:
    """``rows`` of (matter, status, finished, count) summed by stage (:data:`STAGES`)."""
    initial = initial_states(pkg, regions)
    out = dict.fromkeys(STAGES, 0)
    for matter, status, finished, n in rows:
        if finished:
            out["finished"] += int(n)
            continue
        out["open"] += int(n)
        out["pending" if matter in initial.get(status, ()) else "in_progress"] += int(n)
    return out


def queue_counts(c: Context, identity: Identity, query: dict[str, Any]) -> dict[str, int]:
    """The workbench's tabs: how many cases of each stage, overdue and due soon, under the
    ``region`` and ``matter`` of ``query`` (counts only: not audited)."""
    pkg = c.package
    apps = pkg.tables.applications
    regions = _scope(c, identity)
    if query.get("region"):
        regions = regions & {query["region"]}
    conditions: list[ColumnElement[bool]] = [apps.c.region.in_(sorted(regions))]
    if query.get("matter"):
        conditions.append(apps.c.matter == query["matter"])
    where = and_(*conditions)
    finished = apps.c.finished_at.is_not(None)
    with read(c.engine) as conn:
        rows = conn.execute(
            select(apps.c.matter, apps.c.status, finished, func.count())
            .where(where)
            .group_by(apps.c.matter, apps.c.status, finished)
        ).all()
        timed = _timed(conn, pkg, where, c.now())
    return {**_by_stage(pkg, regions, list(rows)), **timed}


def _stats(c: Context, identity: Identity, region: str | None, rid: str) -> Stats:
    """Counts by status, matter, region and stage, overdue and due soon, handling time,
    satisfaction (with the count of each score)."""
    pkg = c.package
    apps, evaluations = pkg.tables.applications, pkg.tables.evaluations
    regions = _scope(c, identity)
    if region:
        regions = regions & {region}
    in_scope = apps.c.region.in_(sorted(regions))
    now = c.now()
    finished_col = apps.c.finished_at.is_not(None)
    with read(c.engine) as conn:
        groups = conn.execute(
            select(apps.c.region, apps.c.matter, apps.c.status, finished_col, func.count())
            .where(in_scope)
            .group_by(apps.c.region, apps.c.matter, apps.c.status, finished_col)
        ).all()
        timed = _timed(conn, pkg, in_scope, now)
        finished, average_days = conn.execute(
            select(func.count(), func.avg(_handling_days(conn.dialect.name, apps))).where(
                in_scope, apps.c.finished_at.is_not(None)
            )
        ).one()
        scores = conn.execute(
            select(evaluations.c.score, func.count())
            .select_from(evaluations.join(apps, apps.c.id == evaluations.c.application_id))
            .where(in_scope)
            .group_by(evaluations.c.score)
        ).all()
    by_status: dict[str, int] = {}
    by_matter: dict[str, int] = {}
    by_region: dict[str, int] = {}
    for region_id, matter, status, _, n in groups:
        by_status[str(status)] = by_status.get(str(status), 0) + int(n)
        by_matter[str(matter)] = by_matter.get(str(matter), 0) + int(n)
        by_region[str(region_id)] = by_region.get(str(region_id), 0) + int(n)
    rated = sum(int(n) for _, n in scores)
    total_score = sum(int(s) * int(n) for s, n in scores)
    audit_access(c, identity, rid, "list", detail={"stats": True, "region": region}, at=now)
    return {
        "regions": sorted(regions),
        "total": sum(by_status.values()),
        "by_status": dict(sorted(by_status.items())),
        "by_matter": dict(sorted(by_matter.items())),
        "by_region": dict(sorted(by_region.items())),
        "by_stage": _by_stage(pkg, regions, [(m, s, f, n) for _, m, s, f, n in groups]),
        "overdue": timed["overdue"],
        "due_soon": timed["due_soon"],
        "finished": int(finished),
        "average_handling_days": (
            round(float(average_days), 2) if average_days is not None else None
        ),
        "satisfaction": {
            "average": round(total_score / rated, 2) if rated else None,
            "count": rated,
        },
        "by_score": {str(s): int(n) for s, n in sorted(scores)},
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
) -> Revealed:
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


ROUTES = [
    Operation(
        "GET /api/staff/applications",
        list_applications,
        "listStaffApplications",
        "待办/已办 / applications of the staff member's region",
        "staff",
        ("a page of applications", "ApplicationPage"),
        errors=(401, 403, 422),
        parameters=(
            query("status", {"type": "string"}, "workflow state id"),
            query("matter", {"type": "string"}, "matter id"),
            query("overdue", {"type": "boolean"}, "only overdue cases"),
            query("due_soon", {"type": "boolean"}, "only cases due soon"),
            "region",
            "page",
            "page_size",
        ),
        secured=True,
    ),
    Operation(
        "POST /api/staff/applications/{id}/reveal",
        reveal,
        "revealApplication",
        "查看未脱敏数据 / unmasked data (audited)",
        "staff",
        ("the data, unmasked", "Revealed"),
        errors=(400, 401, 403, 404, 413, 415, 422),
        parameters=("application",),
        body="Reveal",
        secured=True,
    ),
    Operation(
        "GET /api/staff/stats",
        stats,
        "staffStats",
        "统计 / counts by status, overdue, handling time, satisfaction",
        "staff",
        ("statistics", "Stats"),
        errors=(401, 403, 422),
        parameters=("region",),
        secured=True,
    ),
]
