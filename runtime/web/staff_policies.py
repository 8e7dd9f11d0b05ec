"""政策督查 (``/staff/policies``): per policy in the staff member's regions, how many
enterprises it matched, was delivered to, claimed and was granted, and the claimants'
satisfaction — ``policies._stats``, what ``GET /api/staff/policies/stats`` answers (audited
there). Staff of an issuing region (or above) also see 精准送达: ``POST
/staff/policies/{policy}/deliver`` runs the API's ``deliver`` (every stored profile matched,
each eligible enterprise notified once) and shows its counts.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from runtime.auth import Identity
from runtime.errors import ApiError, request_id
from runtime.policies import may_deliver
from runtime.routes import policies as api
from runtime.routes.common import ctx, threaded
from runtime.web.i18n import lang_of
from runtime.web.render import page, render
from runtime.web.session import checked_form
from runtime.web.workbench import staff_member


async def _draw(
    request: Request, identity: Identity, delivered: dict[str, Any] | None = None
) -> Response:
    c = ctx(request)
    lng = lang_of(request)
    stats = await threaded(api._stats, c, identity, request_id(request), lng)
    for item in stats["items"]:
        item["deliver"] = may_deliver(
            c.package, c.package.policies[item["policy"]], identity.region
        )
    names = {p.id: p.name for p in c.package.policies.values()}
    return render(request, "staff_policies.jinja", stats=stats, delivered=delivered, names=names)


@page
async def statistics(request: Request) -> Response:
    """``GET /staff/policies``: the figures (any staff member, their regions)."""
    return await _draw(request, staff_member(request))


@page
async def deliver(request: Request) -> Response:
    """``POST /staff/policies/{policy}/deliver``: staff of an issuing region or above."""
    c = ctx(request)
    identity = staff_member(request)
    await checked_form(request)
    policy = c.package.policies.get(request.path_params["policy"])
    if policy is None:
        raise ApiError(404, "unknown_policy", {"policy": request.path_params["policy"][:64]})
    if not may_deliver(c.package, policy, identity.region):
        raise ApiError(403, "forbidden")
    result = await threaded(api.deliver, c, identity, policy, request_id(request))
    return await _draw(request, identity, delivered=result)
