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
from starlette.routing import Route

from runtime import sharing
from runtime.auth import require
from runtime.errors import request_id
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
    Route("/api/sharing/requests", create, methods=["POST"], name="requestSharing"),
    Route("/api/sharing/requests", list_requests, methods=["GET"], name="listSharingRequests"),
    Route("/api/sharing/requests/{id}", get_request, methods=["GET"], name="getSharingRequest"),
    Route(
        "/api/sharing/requests/{id}/actions/{action}",
        act,
        methods=["POST"],
        name="decideSharingRequest",
    ),
    Route("/api/sharing/data/{id}", data, methods=["GET"], name="readSharedData"),
]
