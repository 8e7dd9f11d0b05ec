"""The data resource catalogue (数据底账, services.md §6): who collects which data, and how
it may be shared.

| method and path | who |
|---|---|
| GET /api/catalogue?region=R&q=TEXT | anyone |
| GET /api/catalogue/elements/{element} | anyone |
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from runtime.catalogue import element_view, matches, resource_view
from runtime.errors import ApiError, FieldProblem, message
from runtime.operations import Operation, query
from runtime.routes.catalogue import region_param
from runtime.routes.common import ctx, lang, ok

MAX_QUERY = 64  # characters of ``?q=``


async def list_resources(request: Request) -> Response:
    """``GET /api/catalogue?region=R`` — the region's resources (default: the package's
    region), ``?q=`` (at most 64 characters, else 422) searches names, providers, matters
    and items (zh and en)."""
    pkg = ctx(request).package
    lng = lang(request)
    region = region_param(request, pkg, lng) or pkg.regions[pkg.region]
    q = (request.query_params.get("q") or "").strip().lower()
    if len(q) > MAX_QUERY:
        text = message("field.length", lng, low=0, high=MAX_QUERY)
        raise ApiError(422, "validation", fields=[FieldProblem("q", "length", text)])
    found = [
        resource_view(r, lng)
        for r in pkg.data_catalogue.in_region(region.id)
        if not q or matches(r, q)
    ]
    return ok({"region": region.id, "items": found, "total": len(found)})


async def element(request: Request) -> Response:
    """``GET /api/catalogue/elements/{element}`` — where the element is collected."""
    pkg = ctx(request).package
    element_id = request.path_params["element"]
    view = element_view(pkg.data_catalogue, element_id, lang(request))
    if view is None:
        raise ApiError(404, "unknown_element", {"element": element_id[:64]})
    return ok(view)


ROUTES = [
    Operation(
        "GET /api/catalogue",
        list_resources,
        "listDataResources",
        "数据资源目录 / a region's data resources (one per form)",
        "data",
        ("the resources", "ResourceList"),
        errors=(422,),
        parameters=(
            "region",
            query(
                "q", {"type": "string", "maxLength": 64}, "search text (names and ids, zh or en)"
            ),
        ),
    ),
    Operation(
        "GET /api/catalogue/elements/{element}",
        element,
        "getElementUse",
        "数据元使用情况 / where a data element is collected",
        "data",
        ("forms, matters, regions, providers", "ElementUse"),
        errors=(404,),
        parameters=("element",),
    ),
]
