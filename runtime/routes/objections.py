"""Objections (异议处理) over HTTP; the rules are in :mod:`runtime.objections`.

| method and path | who |
|---|---|
| ``POST /api/objections`` | the case's applicant, or staff who may see the case |
| ``GET /api/objections?status=&page=&page_size=`` | applicants: theirs; staff: their regions' |
| ``GET /api/objections/{id}`` | the objector, the case's applicant, staff of the region |
| ``POST /api/objections/{id}/actions/correct`` | officers and approvers of the case's region |
| ``POST /api/objections/{id}/actions/reject`` | the same |
| ``GET /api/staff/objections/stats?region=`` | staff: open objections and their age |

Bodies: ``{"application", "element", "reason", "field"?}``; correct ``{"value", "field"?,
"note"?}``; reject ``{"reason"}``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from runtime import objections
from runtime.auth import require, require_staff, visible_regions
from runtime.errors import ApiError, FieldProblem, message, request_id
from runtime.routes.catalogue import region_param
from runtime.routes.common import (
    ctx,
    find_application,
    lang,
    ok,
    paging,
    read_json,
    require_object,
    threaded,
)

STATUSES = (objections.OPEN, objections.CORRECTED, objections.REJECTED)


async def create(request: Request) -> Response:
    c = ctx(request)
    identity = require(request)
    lng = lang(request)
    body = require_object(
        await read_json(request),
        {"application", "element", "reason", "field"},
        {"application", "element", "reason"},
        lng,
    )
    if not isinstance(body["application"], str):
        text = message("field.type", lng, expected="text")
        raise ApiError(422, "validation", fields=[FieldProblem("application", "type", text)])
    app = await threaded(find_application, request, identity, body["application"])
    found = await threaded(
        objections.file_objection, c, identity, app, body, lng, request_id(request)
    )
    return ok(found, 201, {"Location": f"/api/objections/{found['id']}"})


async def list_objections(request: Request) -> Response:
    c = ctx(request)
    identity = require(request)
    lng = lang(request)
    status = request.query_params.get("status")
    if status is not None and status not in STATUSES:
        text = message("field.type", lng, expected=" | ".join(STATUSES))
        raise ApiError(422, "validation", fields=[FieldProblem("status", "type", text)])
    page, size = paging(request, lng)
    return ok(await threaded(objections.listing, c, identity, status, page, size, lng))


async def get_one(request: Request) -> Response:
    c = ctx(request)
    identity = require(request)
    row, app = await threaded(objections.find, c, identity, request.path_params["id"])
    return ok(objections.view(c.package, row, app, lang(request)))


async def act(request: Request) -> Response:
    c = ctx(request)
    identity = require_staff(request)
    lng = lang(request)
    action = request.path_params["action"]
    if action not in ("correct", "reject"):
        raise ApiError(404, "not_found")
    allowed = {"value", "field", "note"} if action == "correct" else {"reason"}
    body = require_object(await read_json(request), allowed, set(), lng)
    row, app = await threaded(
        objections.find, c, identity, request.path_params["id"], for_action=True
    )
    rid = request_id(request)
    if action == "reject":
        reason = objections.reason_of(body, "reason", lng)
        return ok(await threaded(objections.reject, c, identity, row, app, reason, rid, lng))
    return ok(await threaded(objections.correct, c, identity, row, app, body, rid, lng))


async def stats(request: Request) -> Response:
    c = ctx(request)
    identity = require_staff(request)
    regions = visible_regions(identity, c.package.subtree(identity.region))
    wanted = region_param(request, c.package, lang(request))
    if wanted is not None:  # a region outside the caller's scope counts nothing
        regions = c.package.subtree(wanted.id) & regions
    return ok(await threaded(objections.statistics, c, regions, c.now()))


ROUTES = [
    Route("/api/objections", create, methods=["POST"]),
    Route("/api/objections", list_objections, methods=["GET"]),
    Route("/api/objections/{id}", get_one, methods=["GET"]),
    Route("/api/objections/{id}/actions/{action}", act, methods=["POST"]),
    Route("/api/staff/objections/stats", stats, methods=["GET"]),
]
