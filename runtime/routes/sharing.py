"""Governed data sharing over HTTP (services.md §6; the rules are in :mod:`runtime.sharing`).

| method and path | who |
|---|---|
| POST /api/sharing/requests | staff, data stewards |
| GET /api/sharing/requests[/{id}] | the requester; the provider's stewards; supervisors above |
| POST …/{id}/actions/approve, …/refuse | a steward of the provider region, not the requester |
| POST …/{id}/actions/revoke | a steward of the provider region, or the requester |
| GET /api/sharing/data/{id}?page=&page_size= | the requester |
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from runtime import sharing
from runtime.auth import require
from runtime.errors import request_id
from runtime.operations import WRITE_ERRORS, Operation
from runtime.routes.common import ctx, lang, ok, paging, read_json, require_object, threaded

_FIELDS = {"resource", "region", "items", "purpose", "basis", "unmasked", "expires"}


async def create(request: Request) -> Response:
    identity = require(request, *sorted(sharing.REQUESTERS))
    lng = lang(request)
    body = require_object(
        await read_json(request), _FIELDS, {"resource", "items", "purpose", "basis"}, lng
    )
    c = ctx(request)
    made = await threaded(sharing.create, c, identity, body, lng, request_id(request))
    return ok(made, 201, {"Location": f"/api/sharing/requests/{made['id']}"})


async def list_requests(request: Request) -> Response:
    identity = require(request, *sorted(sharing.REQUESTERS))
    lng = lang(request)
    page, size = paging(request, lng)
    return ok(await threaded(sharing.listing, ctx(request), identity, lng, page, size))


async def get_request(request: Request) -> Response:
    identity = require(request, *sorted(sharing.REQUESTERS))
    c = ctx(request)
    row = await threaded(sharing.find, c, identity, request.path_params["id"])
    return ok(sharing.view(c, row._mapping, lang(request)))


async def act(request: Request) -> Response:
    identity = require(request, *sorted(sharing.REQUESTERS))
    lng = lang(request)
    body = await read_json(request, optional=True)
    body = require_object(body if body is not None else {}, {"reason", "expires"}, set(), lng)
    done = await threaded(
        sharing.decide,
        ctx(request),
        identity,
        request.path_params["id"],
        request.path_params["action"],
        body,
        lng,
        request_id(request),
    )
    return ok(done)


async def data(request: Request) -> Response:
    identity = require(request, *sorted(sharing.REQUESTERS))
    page, size = paging(request, lang(request))
    found = await threaded(
        sharing.read_data,
        ctx(request),
        identity,
        request.path_params["id"],
        page,
        size,
        request_id(request),
    )
    return ok(found)


ROUTES = [
    Operation(
        "POST /api/sharing/requests",
        create,
        "requestSharing",
        "共享申请 / ask for items of a resource (staff, data stewards)",
        "data",
        ("the request", "SharingRequest"),
        status=201,
        errors=WRITE_ERRORS,
        body="SharingRequestBody",
        secured=True,
    ),
    Operation(
        "GET /api/sharing/requests",
        list_requests,
        "listSharingRequests",
        "共享申请列表 / the requests the caller may see",
        "data",
        ("a page of requests", "SharingRequestPage"),
        errors=(401, 403, 422),
        parameters=("page", "page_size"),
        secured=True,
    ),
    Operation(
        "GET /api/sharing/requests/{id}",
        get_request,
        "getSharingRequest",
        "共享申请 / one request",
        "data",
        ("the request", "SharingRequest"),
        errors=(401, 403, 404),
        parameters=("sharingRequest",),
        secured=True,
    ),
    Operation(
        "POST /api/sharing/requests/{id}/actions/{action}",
        act,
        "decideSharingRequest",
        "审批、拒绝、撤销共享 / approve or refuse (a steward of the provider region, not the "
        "requester), revoke (a steward or the requester)",
        "data",
        ("the request", "SharingRequest"),
        errors=WRITE_ERRORS,
        parameters=("sharingRequest", "sharingAction"),
        body="SharingDecision",
        body_required=False,
        secured=True,
    ),
    Operation(
        "GET /api/sharing/data/{id}",
        data,
        "readSharedData",
        "共享数据 / a page of the granted items (the requester; every read audited)",
        "data",
        ("the granted items of the provider region's applications", "SharedData"),
        errors=(401, 403, 404, 422),
        parameters=("sharingRequest", "page", "page_size"),
        secured=True,
    ),
]
