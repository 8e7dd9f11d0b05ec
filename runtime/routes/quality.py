"""``GET /api/staff/data-quality?region=R`` (数据治理, :mod:`runtime.quality`): supervisors
and administrators for their region and the regions below, data stewards for their own.
Without ``region``, every region the caller oversees; a region outside it is 403."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from runtime import quality
from runtime.auth import SUBTREE_ROLES, Identity, require
from runtime.errors import ApiError, request_id
from runtime.operations import Operation
from runtime.package import Package
from runtime.routes.catalogue import region_param
from runtime.routes.common import audit_access, ctx, lang, ok, threaded

ROLES = (*sorted(SUBTREE_ROLES), "data_steward")


def overseen(pkg: Package, identity: Identity) -> list[str]:
    """The regions whose data quality ``identity`` may read, the package's order."""
    if identity.role == "data_steward":
        scope = frozenset({identity.region}) & frozenset(pkg.regions)
    else:
        scope = pkg.subtree(identity.region)
    return [r for r in pkg.regions if r in scope]


async def data_quality(request: Request) -> Response:
    identity = require(request, *ROLES)
    c = ctx(request)
    lng = lang(request)
    regions = overseen(c.package, identity)
    asked = region_param(request, c.package, lng)
    if asked is not None:
        if asked.id not in regions:
            raise ApiError(403, "forbidden")
        regions = [asked.id]
    found = await threaded(quality.report, c, regions, lng)
    detail = {"data_quality": True, "regions": regions}
    await threaded(audit_access, c, identity, request_id(request), "list", detail=detail)
    return ok(found)


ROUTES = [
    Operation(
        "GET /api/staff/data-quality",
        data_quality,
        "getDataQuality",
        "数据质量 / per element and region: filled, empty, failing checks, one identifier with "
        "several names (supervisors, data stewards)",
        "data",
        ("the report, worst elements first", "DataQuality"),
        errors=(401, 403, 422),
        parameters=("region",),
        secured=True,
    )
]
