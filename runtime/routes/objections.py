"""Objections (异议处理) over HTTP; the rules are in :mod:`runtime.objections`.

| method and path | who |
|---|---|
| ``POST /api/objections`` | the case's applicant, or staff who may see the case |
| ``GET /api/objections?status=&page=&page_size=`` | applicants: theirs; staff: their regions' |
| ``GET /api/objections/{id}`` | the objector, the case's applicant, staff of the region |
| ``POST /api/staff/objections/{id}/actions/correct`` | the case region's officers, approvers |
| ``POST /api/staff/objections/{id}/actions/reject`` | the same |
| ``GET /api/staff/objections/stats?region=`` | staff: open objections and their age |

Bodies: ``{"application", "element", "reason", "field"?}``; correct ``{"value", "field"?,
"note"?}``; reject ``{"reason"}``.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from runtime import objections
from runtime.auth import require, require_staff, visible_regions
from runtime.errors import ApiError, FieldProblem, message, request_id
from runtime.operations import WRITE_ERRORS, Operation, query
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
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _bad(path: str, code: str, lng: str, **params: object) -> ApiError:
    text = message(code, lng, **params)
    return ApiError(422, "validation", fields=[FieldProblem(path, code.split(".")[-1], text)])


def _objection_id(request: Request, lng: str) -> str:
    """The ``{id}`` of the path: a whole number from 1, else 422 (an unknown one is 404)."""
    raw: str = request.path_params["id"]
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise _bad("id", "field.type", lng, expected="integer ≥ 1")
    return raw


async def create(request: Request) -> Response:
    c = ctx(request)
    identity = require(request)
    lng = lang(request)
    body = require_object(
        await read_json(request),
        {"application", "element", "reason", "field"},
        {"application", "element", "reason"},
        lng,
    )  # the whole body is checked before anything is looked up
    if not isinstance(body["application"], str) or not _UUID.fullmatch(body["application"]):
        raise _bad("application", "field.type", lng, expected="application id (UUID)")
    if not isinstance(body["element"], str) or not 1 <= len(body["element"]) <= 63:
        raise _bad("element", "field.type", lng, expected="data element id")
    objections.reason_of(body, "reason", lng)
    objections.text_of(body, "field", lng)
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
        raise _bad("status", "field.type", lng, expected=" | ".join(STATUSES))
    page, size = paging(request, lng)
    return ok(await threaded(objections.listing, c, identity, status, page, size, lng))


async def get_one(request: Request) -> Response:
    c = ctx(request)
    identity = require(request)
    raw = _objection_id(request, lang(request))
    row, app = await threaded(objections.find, c, identity, raw)
    return ok(objections.view(c.package, row, app, lang(request)))


async def correct(request: Request) -> Response:
    c = ctx(request)
    identity = require_staff(request)
    lng = lang(request)
    body = require_object(await read_json(request), {"value", "field", "note"}, set(), lng)
    if "value" not in body:
        raise _bad("value", "field.required", lng)
    objections.text_of(body, "field", lng)
    if "note" in body:
        objections.reason_of(body, "note", lng)
    raw = _objection_id(request, lng)
    row, app = await threaded(objections.find, c, identity, raw, for_action=True)
    rid = request_id(request)
    return ok(await threaded(objections.correct, c, identity, row, app, body, rid, lng))


async def reject(request: Request) -> Response:
    c = ctx(request)
    identity = require_staff(request)
    lng = lang(request)
    body = require_object(await read_json(request), {"reason"}, {"reason"}, lng)
    reason = objections.reason_of(body, "reason", lng)
    raw = _objection_id(request, lng)
    row, app = await threaded(objections.find, c, identity, raw, for_action=True)
    rid = request_id(request)
    return ok(await threaded(objections.reject, c, identity, row, app, reason, rid, lng))


async def stats(request: Request) -> Response:
    c = ctx(request)
    identity = require_staff(request)
    regions = visible_regions(identity, c.package.subtree(identity.region))
    wanted = region_param(request, c.package, lang(request))
    if wanted is not None:  # a region outside the caller's scope counts nothing
        regions = c.package.subtree(wanted.id) & regions
    return ok(await threaded(objections.statistics, c, regions, c.now()))


ROUTES = [
    Operation(
        "POST /api/objections",
        create,
        "fileObjection",
        "异议 / dispute a value stored in a case (its applicant, or staff)",
        "data",
        ("the objection", "Objection"),
        status=201,
        errors=WRITE_ERRORS,
        body="ObjectionFiling",
        secured=True,
    ),
    Operation(
        "GET /api/objections",
        list_objections,
        "listObjections",
        "异议列表 / the caller's objections (staff: their regions')",
        "data",
        ("a page of objections", "ObjectionPage"),
        errors=(401, 422),
        parameters=(
            query(
                "status", {"type": "string", "enum": list(objections.STATUSES)}, "objection status"
            ),
            "page",
            "page_size",
        ),
        secured=True,
    ),
    Operation(
        "GET /api/objections/{id}",
        get_one,
        "getObjection",
        "异议 / one objection",
        "data",
        ("the objection", "Objection"),
        errors=(401, 404, 422),
        parameters=("objection",),
        secured=True,
    ),
    Operation(
        "POST /api/staff/objections/{id}/actions/correct",
        correct,
        "correctObjection",
        "更正 / store the corrected value (the provider's officers)",
        "data",
        ("the objection, corrected", "Objection"),
        errors=WRITE_ERRORS,
        parameters=("objection",),
        body="ObjectionCorrection",
        secured=True,
    ),
    Operation(
        "POST /api/staff/objections/{id}/actions/reject",
        reject,
        "rejectObjection",
        "驳回 / reject the objection with a reason (the provider's officers)",
        "data",
        ("the objection, rejected", "Objection"),
        errors=WRITE_ERRORS,
        parameters=("objection",),
        body="ObjectionRejection",
        secured=True,
    ),
    Operation(
        "GET /api/staff/objections/stats",
        stats,
        "objectionStats",
        "异议统计 / open objections and their age",
        "data",
        ("statistics", "ObjectionStats"),
        errors=(401, 403, 422),
        parameters=("region",),
        secured=True,
    ),
]
