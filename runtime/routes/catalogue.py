"""Public catalogue: matters (事项), service guides (办事指南), form schemas, code sets."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from runtime.errors import ApiError, FieldProblem, message
from runtime.formspec import localized
from runtime.operations import Operation, query
from runtime.package import Matter, Package, Region
from runtime.routes.common import ctx, lang, ok

_LOCALE = re.compile(r"[a-z]{2}(-[A-Za-z]{2,4})?")


def is_text(value: Any) -> bool:
    """Whether ``value`` is localized text: ``{"zh": …, "en": …}`` with string values."""
    return (
        isinstance(value, dict)
        and "zh" in value
        and all(isinstance(k, str) and _LOCALE.fullmatch(k) for k in value)
        and all(isinstance(v, str) for v in value.values())
    )


def resolve_text(value: Any, lng: str) -> Any:
    """``value`` with every localized text replaced by its string in ``lng`` (zh fallback)."""
    if is_text(value):
        return localized(value, lng)
    if isinstance(value, dict):
        return {k: resolve_text(v, lng) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_text(v, lng) for v in value]
    return value


def _code_name(pkg: Package, codeset: str, code: str, lng: str) -> str | None:
    cs = pkg.codesets.get(codeset)
    for v in cs.get("values", []) if cs else []:
        if v.get("code") == code:
            return localized(v.get("name"), lng)
    return None


def region_param(request: Request, pkg: Package, lng: str) -> Region | None:
    """``?region=``: a region the package serves, ``None`` when absent, else 422."""
    region_id = request.query_params.get("region")
    if region_id is None:
        return None
    if region_id not in pkg.regions:
        known = ", ".join(pkg.regions)
        problem = FieldProblem(
            "region", "region", message("field.region", lng, region=region_id[:64], known=known)
        )
        raise ApiError(422, "validation", fields=[problem])
    return pkg.regions[region_id]


def _item(pkg: Package, m: Matter, region: Region, lng: str) -> dict[str, Any]:
    return {
        "id": m.id,
        "name": localized(m.name, lng),
        "names": m.name,
        "type": m.type,
        "type_name": _code_name(pkg, "matter_type", m.type, lng),
        "case_type": m.case_type,
        "promised": m.promised,
        "service_objects": list(m.service_objects),
        "form": m.form,
        "region": region.id,
        "regions": [r.id for r in pkg.regions.values() if m.id in r.matters],
        "version": m.version,
    }


_LISTS_CACHED = 256  # answers kept per application (the catalogue never changes while it runs)


async def list_matters(request: Request) -> Response:
    """``GET /api/matters`` — ``?q=`` (zh/en name), ``?type=``, ``?region=``.

    The answer depends on the package and those parameters only, so its encoded body
    is kept per application (up to :data:`_LISTS_CACHED` of them, ``q`` of at most 64
    characters; a 422 is never kept)."""
    pkg = ctx(request).package
    lng = lang(request)
    params = request.query_params
    key = (lng, params.get("region"), params.get("q"), params.get("type"))
    cache: dict[tuple[str | None, ...], bytes] | None = getattr(
        request.app.state, "matter_lists", None
    )
    if cache is None:
        cache = request.app.state.matter_lists = {}
    body: bytes | memoryview | None = cache.get(key)
    if body is None:
        region = region_param(request, pkg, lng) or pkg.regions[pkg.region]
        q = (params.get("q") or "").strip().lower()
        mtype = params.get("type")
        items = []
        for m in sorted(region.matters.values(), key=lambda m: m.id):
            if mtype and m.type != mtype:
                continue
            if q and not any(q in text.lower() for text in m.name.values()) and q not in m.id:
                continue
            items.append(_item(pkg, m, region, lng))
        body = bytes(ok({"region": region.id, "items": items, "total": len(items)}).body)
        if len(cache) < _LISTS_CACHED and len(params.get("q") or "") <= 64:
            cache[key] = body
    return Response(body, media_type="application/json")


async def guide(request: Request) -> Response:
    """``GET /api/matters/{matter}`` — the service guide in the requested language, plus raw."""
    pkg = ctx(request).package
    lng = lang(request)
    matter_id = request.path_params["matter"]
    region = region_param(request, pkg, lng)
    if region is None:
        region = next((r for r in pkg.regions.values() if matter_id in r.matters), None)
    if region is None or matter_id not in region.matters:
        raise ApiError(404, "unknown_matter", {"matter": matter_id[:64]})
    m = region.matters[matter_id]
    workflow = pkg.workflows.get(m.workflow)
    body = _item(pkg, m, region, lng)
    body.update(
        {
            "lang": lng,
            "region_name": localized(region.name, lng),
            "guide": resolve_text(m.guide, lng),
            "materials": resolve_text(list(m.materials), lng),
            "schema": f"/api/forms/{m.form}/schema",
            "workflow": {
                "id": workflow.id,
                "name": localized(workflow.name, lng),
                "states": [
                    {"id": s.id, "name": localized(s.name, lng), "clock": s.clock, "final": s.final}
                    for s in workflow.states.values()
                ],
                "transitions": [
                    {
                        "id": t.id,
                        "name": localized(t.name, lng),
                        "from": list(t.sources),
                        "to": t.to,
                        "by": t.by,
                        "reason": t.reason,
                    }
                    for t in workflow.transitions.values()
                ],
            }
            if workflow
            else None,
            "raw": m.guide,
        }
    )
    return ok(body)


async def form_schema(request: Request) -> Response:
    """``GET /api/forms/{form}/schema`` — the package's ``schemas/<form>.json``."""
    pkg = ctx(request).package
    form_id = request.path_params["form"]
    schema = pkg.form_schema(form_id)
    if schema is None:
        raise ApiError(404, "unknown_form", {"form": form_id[:64]})
    return Response(schema, media_type="application/schema+json")


async def codeset(request: Request) -> Response:
    """``GET /api/codesets/{codeset}`` — its values (names in the requested language)."""
    pkg = ctx(request).package
    lng = lang(request)
    codeset_id = request.path_params["codeset"]
    cs = pkg.codesets.get(codeset_id)
    if cs is None:
        raise ApiError(404, "unknown_codeset", {"codeset": codeset_id[:64]})
    values = [
        {
            "code": v["code"],
            "name": localized(v.get("name"), lng),
            "names": v.get("name"),
            "parent": v.get("parent"),
            "deprecated": bool(v.get("deprecated")),
        }
        for v in cs.get("values", [])
    ]
    return ok({"id": cs["id"], "name": localized(cs.get("name"), lng), "values": values})


ROUTES = [
    Operation(
        "GET /api/matters",
        list_matters,
        "listMatters",
        "事项目录 / the region's matters",
        "catalogue",
        ("matters", "MatterList"),
        errors=(404, 422),
        parameters=(
            query("q", {"type": "string"}, "search text"),
            query("type", {"type": "string"}, "事项类型 code"),
            "region",
        ),
    ),
    Operation(
        "GET /api/matters/{matter}",
        guide,
        "getServiceGuide",
        "办事指南 / a matter's service guide",
        "catalogue",
        ("the service guide", "ServiceGuide"),
        errors=(404, 422),
        parameters=("matter", "region"),
    ),
    Operation(
        "GET /api/forms/{form}/schema",
        form_schema,
        "getFormSchema",
        "表单的 JSON Schema / JSON Schema (2020-12) of a submission's data",
        "catalogue",
        ("the schema", {"type": "object"}),
        media=("application/schema+json",),
        errors=(404,),
        parameters=("form",),
    ),
    Operation(
        "GET /api/codesets/{codeset}",
        codeset,
        "getCodeSet",
        "代码集 / a code set's values",
        "catalogue",
        ("the code set", "CodeSet"),
        errors=(404,),
        parameters=("codeset",),
    ),
]
