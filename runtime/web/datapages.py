"""The data system's pages: 数据资源目录 (``/regions/{region}/catalogue``, anyone, searchable)
and 数据质量 (``/staff/data-quality``, supervisors, administrators and data stewards).

Both show what the API answers (:mod:`runtime.catalogue`, :mod:`runtime.quality`): the
same resources, the same report (audited as the API audits it)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from runtime import quality
from runtime.catalogue import matches, resource_view
from runtime.errors import ApiError, request_id
from runtime.formspec import localized
from runtime.routes.common import audit_access, ctx, threaded
from runtime.routes.quality import ROLES, overseen
from runtime.web.hall import region_of
from runtime.web.i18n import TEXT, lang_of, text
from runtime.web.render import page, render
from runtime.web.session import signed_in


def _code_name(code: str, lng: str) -> str:
    """A check's problem code in words (``dq.code_<code>``), else the code itself."""
    key = f"dq.code_{code.split('.')[0]}"
    return text(key, lng) if key in TEXT else code


@page
async def catalogue(request: Request) -> Response:
    """``GET /regions/{region}/catalogue?q=``: the region's data resources."""
    c = ctx(request)
    lng = lang_of(request)
    region = region_of(request)
    query = (request.query_params.get("q") or "").strip()[:64]
    resources = [
        resource_view(r, lng)
        for r in c.package.data_catalogue.in_region(region.id)
        if not query or matches(r, query.lower())
    ]
    return render(
        request,
        "data_catalogue.jinja",
        region=region,
        query=query,
        resources=resources,
        items=sum(len(r["items"]) for r in resources),
    )


@page
async def data_quality(request: Request) -> Response:
    """``GET /staff/data-quality?region=``: the report, worst elements first."""
    c = ctx(request)
    lng = lang_of(request)
    identity = signed_in(request, *ROLES)
    regions = overseen(c.package, identity)
    asked = request.query_params.get("region") or None
    if asked is not None and asked not in regions:
        raise ApiError(403, "forbidden")
    shown = [asked] if asked else regions
    report = await threaded(quality.report, c, shown, lng)
    detail = {"data_quality": True, "regions": shown}
    await threaded(audit_access, c, identity, request_id(request), "list", detail=detail)
    names = {r: localized(c.package.regions[r].name, lng) for r in regions}
    elements: list[dict[str, Any]] = [
        {
            **e,
            "failure_names": [(_code_name(code, lng), n) for code, n in e["failure_codes"].items()],
        }
        for e in report["elements"]
    ]
    return render(
        request,
        "staff_quality.jinja",
        report=report,
        region=asked,
        regions=[(r, names[r]) for r in regions] if len(regions) > 1 else [],
        region_names=names,
        problems=[e for e in elements if e["failures"] or e["conflicts"]],
        stored=[e for e in elements if e["filled"] + e["empty"]],
        unused=sum(1 for e in report["elements"] if not e["filled"] + e["empty"]),
    )
