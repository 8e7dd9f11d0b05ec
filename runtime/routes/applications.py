"""Applications: file one, list one's own, read one (masked for staff), take a step."""

from __future__ import annotations

from functools import lru_cache, partial
from typing import Any, NamedTuple

from sqlalchemy import Select, Table, bindparam, func, select
from starlette.requests import Request
from starlette.responses import Response

from runtime import audit
from runtime.actions import take_step
from runtime.answers import ApplicationSummary
from runtime.auth import Identity, require
from runtime.context import Context
from runtime.db import group_commit, is_sqlite, read
from runtime.errors import ApiError, request_id
from runtime.operations import WRITE_ERRORS, Operation
from runtime.records import detail, load_data, rows_where, rules_of, summary
from runtime.routes.bundles import siblings
from runtime.routes.common import (
    audit_access,
    ctx,
    denial,
    filed,
    find_application,
    idempotency_key,
    lang,
    ok,
    paging,
    read_json,
    record_denied,
    require_object,
    threaded,
)
from runtime.submission import request_hash, resolve_region, submit_now


async def create(request: Request) -> Response:
    """``POST /api/matters/{matter}/applications`` — body exactly ``{"region", "data"}``."""
    c = ctx(request)
    lng = lang(request)
    identity = require(request, "applicant")
    matter_id = request.path_params["matter"]
    matter = c.package.matter_anywhere(matter_id)
    if matter is None:
        raise ApiError(404, "unknown_matter", {"matter": matter_id[:64]})
    body = require_object(await read_json(request), {"region", "data"}, {"region", "data"}, lng)
    region = resolve_region(c.package, matter, body["region"], lng)
    matter = region.matters[matter.id]
    key = idempotency_key(request)
    digest = request_hash(matter.id, body) if key is not None else ""  # only a key needs it
    stored = await submit_now(
        c,
        identity,
        matter,
        region,
        body["data"],
        idempotency_key=key,
        digest=digest,
        lng=lng,
        rid=request_id(request),
    )
    return filed(stored, f"/api/applications/{stored.body['id']}")


def _own(c: Context, identity: Identity, page: int, size: int, lng: str) -> dict[str, Any]:
    apps = c.package.tables.applications
    where = apps.c.applicant_sub.in_(identity.subjects)
    now = c.now()
    with read(c.engine) as conn:
        total = conn.execute(select(func.count()).select_from(apps).where(where)).scalar_one()
        rows = conn.execute(
            select(apps)
            .where(where)
            .order_by(apps.c.created_at.desc(), apps.c.id)
            .limit(size)
            .offset((page - 1) * size)
        ).all()
    items = [summary(c.package, r._mapping, lang=lng, now=now, staff=False) for r in rows]
    return {"items": items, "total": int(total), "page": page, "page_size": size}


async def list_own(request: Request) -> Response:
    """``GET /api/applications`` — the caller's own applications, newest first."""
    c = ctx(request)
    lng = lang(request)
    identity = require(request, "applicant")
    page, size = paging(request, lng)
    return ok(await threaded(_own, c, identity, page, size, lng))


def _detail(
    request: Request,
    c: Context,
    identity: Identity,
    app_id: str,
    lng: str,
    denied: list[str] | None = None,
) -> Any:
    pkg = c.package
    t = pkg.tables
    with read(c.engine) as conn:
        joined = _with_rating(t.applications, t.evaluations, t.policy_claims)
        row = find_application(
            request, identity, app_id, conn=conn, denied=denied, statement=joined
        )
        rules = rules_of(pkg, row._mapping)  # the form the case was filed with
        form = rules.form if rules is not None else pkg.forms.get(row.form)
        data = load_data(conn, pkg, c.cipher, form, row.id) if form is not None else {}
        key = {"key": row.id}
        steps = conn.execute(rows_where(t.transitions, "application_id", "id"), key).all()
        materials = conn.execute(
            rows_where(t.material_files, "application_id", "material"), key
        ).all()
        bundle = siblings(conn, c, row, lng=lng, staff=identity.is_staff)
        fetches = (
            conn.execute(rows_where(t.licence_fetches, "application_id"), key).all()
            if rules is not None and rules.fetches_licences
            else []
        )
    evaluation = None
    if row.evaluation_id is not None:
        evaluation = Rating(row.evaluation_score, row.evaluation_comment, row.evaluation_at)
    if identity.is_staff:
        audit_access(c, identity, request_id(request), "read", application_id=row.id)
    out = detail(
        pkg,
        row._mapping,
        data,
        steps,
        evaluation,
        materials,
        viewer=identity,
        lang=lng,
        now=c.now(),
        fetches=fetches,
    )
    if bundle is not None:  # a bundle member: the filing and its sibling applications
        out["bundle"] = bundle
    if row.claim_policy is not None:  # a policy claim (政策兑现)
        out["policy"] = row.claim_policy
    return out


class Rating(NamedTuple):
    """The applicant's evaluation as :func:`runtime.records.detail` shows it."""

    score: Any
    comment: Any
    created_at: Any


@lru_cache(maxsize=16)
def _with_rating(apps: Table, rating: Table, claims: Table) -> Select[Any]:
    """The application's row by ``:key`` with its evaluation and policy claim (at most one
    each: both are unique per application), one query instead of three."""
    return (
        select(
            apps,
            rating.c.id.label("evaluation_id"),
            rating.c.score.label("evaluation_score"),
            rating.c.comment.label("evaluation_comment"),
            rating.c.created_at.label("evaluation_at"),
            claims.c.policy.label("claim_policy"),
        )
        .select_from(
            apps.outerjoin(rating, rating.c.application_id == apps.c.id).outerjoin(
                claims, claims.c.application_id == apps.c.id
            )
        )
        .where(apps.c.id == bindparam("key"))
    )


async def get_one(request: Request) -> Response:
    """``GET /api/applications/{id}`` — the applicant's own (unmasked), or staff (masked).

    An applicant's read on SQLite runs in the event loop: a WAL read never waits for a
    writer, and a thread hop costs more than the reads; a refusal is audited through the
    group commit. Staff reads (audited each) and PostgreSQL run in a thread."""
    c = ctx(request)
    identity = require(request)
    app_id = request.path_params["id"]
    if identity.is_staff or not is_sqlite(c.engine):
        return ok(await threaded(_detail, request, c, identity, app_id, lang(request)))
    denied: list[str] = []
    try:
        return ok(_detail(request, c, identity, app_id, lang(request), denied))
    finally:
        if denied:  # find_application refused someone else's case
            entry = denial(request, c, identity, denied[0])
            await group_commit(c.engine).run(
                partial(audit.record, table=c.package.tables.audit_log, **entry)
            )


async def act(request: Request) -> Response:
    """``POST /api/applications/{id}/actions/{transition}`` — ``{"reason": …, "data": {…}}``."""
    c = ctx(request)
    lng = lang(request)
    identity = require(request)
    app_id = request.path_params["id"]
    transition = request.path_params["transition"]
    body = await read_json(request, optional=True)
    body = require_object({} if body is None else body, {"reason", "data"}, set(), lng)
    reason, data = body.get("reason"), body.get("data")
    if reason is not None and not isinstance(reason, str):
        raise _type_error("reason", "string", lng)
    if data is not None and not isinstance(data, dict):
        raise _type_error("data", "object", lng)
    if reason is not None and len(reason) > 4000:
        raise _type_error("reason", "string (≤ 4000)", lng)
    result = await step(request, c, identity, app_id, transition, reason=reason, data=data, lng=lng)
    return ok(result)


async def step(
    request: Request,
    c: Context,
    identity: Identity,
    app_id: str,
    transition: str,
    *,
    reason: str | None,
    data: dict[str, Any] | None,
    lng: str,
) -> ApplicationSummary:
    """Take a step on a case the caller may act on (else 404); a refusal (403) is audited.
    The JSON route above and the workbench's buttons (runtime/web/workbench.py) both."""
    await threaded(find_application, request, identity, app_id, for_action=True)
    try:
        return await threaded(
            take_step,
            c,
            identity,
            app_id,
            transition,
            reason=reason,
            data=data,
            lng=lng,
            rid=request_id(request),
        )
    except ApiError as exc:
        if exc.status == 403:  # a step refused on a case the caller sees: audited as denied
            await threaded(record_denied, request, c, identity, app_id, exc.code)
        raise


def _type_error(path: str, expected: str, lng: str) -> ApiError:
    from runtime.errors import FieldProblem, message

    problem = FieldProblem(path, "type", message("field.type", lng, expected=expected))
    return ApiError(422, "validation", fields=[problem])


ROUTES = [
    Operation(
        "POST /api/matters/{matter}/applications",
        create,
        "submitApplication",
        "提交申请 / file an application (applicant)",
        "applications",
        ("filed (or, with a reused Idempotency-Key, the first response)", "Filed"),
        status=201,
        headers={
            "Location": {"type": "string"},
            "Idempotent-Replayed": {"type": "string", "const": "true"},
        },
        errors=WRITE_ERRORS,
        parameters=("matter", "IdempotencyKey"),
        body="Submission",
        secured=True,
    ),
    Operation(
        "GET /api/applications",
        list_own,
        "listOwnApplications",
        "我的申请 / the caller's own applications",
        "applications",
        ("a page of applications", "ApplicationPage"),
        errors=(401, 403, 422),
        parameters=("page", "page_size"),
        secured=True,
    ),
    Operation(
        "GET /api/applications/{id}",
        get_one,
        "getApplication",
        "申请详情 / one application (applicant: own only; staff: own region)",
        "applications",
        ("the application", "Application"),
        errors=(401, 403, 404),
        parameters=("application",),
        secured=True,
    ),
    Operation(
        "POST /api/applications/{id}/actions/{transition}",
        act,
        "takeStep",
        "办理步骤 / take a workflow step (role per workflow; 受理 without the required "
        "materials: 409 materials_missing, listed in fields)",
        "applications",
        ("the application after the step", "ApplicationSummary"),
        errors=WRITE_ERRORS,
        parameters=("application", "transition"),
        body="Action",
        body_required=False,
        secured=True,
    ),
]
