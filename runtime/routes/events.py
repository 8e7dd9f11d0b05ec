"""``GET /api/staff/events?after=ID&limit=N``: the event outbox for receivers that pull.

Staff only, each their own region's events (supervisors and admins: their subtree's),
oldest first; ``next`` is the ``after`` of the next page (the last event's ``sequence``).
Events hold no sensitive value (runtime/events.py); each page read is audited (``list``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from runtime import events
from runtime.auth import require_staff, visible_regions
from runtime.db import MAX_ROW_ID
from runtime.errors import ApiError, FieldProblem, message, request_id
from runtime.operations import Operation, query
from runtime.routes.common import audit_access, ctx, lang, ok, threaded


def _number(request: Request, name: str, default: int, high: int, low: int) -> int:
    raw = request.query_params.get(name)
    value = (
        default
        if raw is None
        else int(raw)
        if raw.isascii() and raw.isdigit() and len(raw) < 19
        else -1
    )
    if not low <= value <= high:
        text = message("field.range", lang(request), low=low, high=high)
        raise ApiError(422, "validation", fields=[FieldProblem(name, "range", text)])
    return value


async def list_events(request: Request) -> Response:
    c = ctx(request)
    identity = require_staff(request)
    after = min(_number(request, "after", 0, 2**63 - 1, 0), MAX_ROW_ID)  # none beyond
    limit = _number(request, "limit", 100, events.MAX_PAGE, 1)
    regions = visible_regions(identity, c.package.subtree(identity.region))
    try:
        found = await threaded(events.page, c.engine, c.package, regions, after, limit)
    except events.Unsettled:  # a transaction writing events is stuck: ask again later
        raise ApiError(503, "unavailable") from None
    await threaded(
        audit_access,
        c,
        identity,
        request_id(request),
        "list",
        detail={"events_after": after, "count": len(found["items"])},
    )
    return ok(found)


ROUTES = [
    Operation(
        "GET /api/staff/events",
        list_events,
        "listEvents",
        "事件 / the events of the caller's regions after a sequence, oldest first",
        "data",
        ("a page of events", "EventPage"),
        errors=(401, 403, 422),
        parameters=(
            query("after", {"type": "integer", "minimum": 0}, "the last sequence read"),
            query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "events"),
        ),
        secured=True,
    )
]
