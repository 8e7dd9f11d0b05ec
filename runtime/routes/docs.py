"""``/healthz``, ``/openapi.json`` and the offline API page ``/docs``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from runtime.answers import Health, HealthUnavailable
from runtime.extensions import Extensions
from runtime.operations import Operation
from runtime.package import Package
from runtime.routes.common import threaded

STATIC = Path(__file__).resolve().parent.parent / "static"


def _health(request: Request) -> tuple[int, Health | HealthUnavailable]:
    try:
        problem = request.app.state.revision_guard.check()
    except Exception:
        return 503, {"status": "unavailable"}
    if problem == "database_ahead":  # served while its SQL works (runtime.revision_guard)
        return 200, {"status": "ok", "database": "ahead", "code": problem}
    if problem is not None:
        return 503, {"status": "unavailable", "code": problem}
    return 200, {"status": "ok"}


async def healthz(request: Request) -> Response:
    """``{"status": "ok"}`` when the database answers and is at the package's revision;
    ``{"status": "ok", "database": "ahead", "code": "database_ahead"}`` while a newer
    package's migration ran (restart on the newer package); else 503 (``code``:
    ``database_behind``, ``database_unmigrated``)."""
    status, body = await threaded(_health, request)
    return JSONResponse(body, status_code=status)


def document(package: Package, extensions: Extensions) -> bytes:
    """The package's ``openapi.json`` (OpenAPI 3.1), or a stub naming the region, with the
    operations of the extensions' ``/api/ext/`` routes."""
    if package.openapi is not None and not extensions.paths:
        return package.openapi
    served: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": f"govstd {package.region}", "version": package.source_hash[:12]},
        "paths": {},
    }
    if package.openapi is not None:
        served = json.loads(package.openapi)
    served["paths"].update(extensions.paths)
    return json.dumps(served, ensure_ascii=False, indent=2).encode()


async def openapi(request: Request) -> Response:
    """The API document (:func:`document`, made at start-up)."""
    return Response(request.app.state.openapi, media_type="application/json")


async def docs(request: Request) -> Response:
    """The API page: swagger-ui, vendored (runtime/static/swagger_ui), on ``/openapi.json``:
    try-it, a place for the bearer token, no CDN, works offline."""
    return FileResponse(STATIC / "docs.html", media_type="text/html; charset=utf-8")


STATIC_FILES = {  # what /static serves, and nothing else
    "docs-init.js": "text/javascript",
    "docs.css": "text/css",
    "swagger_ui/swagger-ui-bundle.js": "text/javascript",
    "swagger_ui/swagger-ui.css": "text/css",
}


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC_FILES:
        return JSONResponse({"error": {"code": "not_found", "message": "not found"}}, 404)
    return FileResponse(
        STATIC / name,
        media_type=f"{STATIC_FILES[name]}; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400"},
    )


ROUTES = [
    Operation(
        "GET /healthz",
        healthz,
        "health",
        "健康检查 / health",
        "system",
        ("ok", "Health"),
        responses={
            503: (
                "数据库无应答或不在本部署包的版本 / the database does not answer or is not at "
                "this package's revision",
                "HealthUnavailable",
            )
        },
    ),
    Operation(
        "GET /openapi.json",
        openapi,
        "openapi",
        "本文档 / this OpenAPI document",
        "system",
        ("the OpenAPI 3.1 document", {"type": "object"}),
    ),
    Operation(
        "GET /docs",
        docs,
        "docs",
        "接口文档页面 / API page (works offline)",
        "system",
        ("an HTML page", {"type": "string"}),
        media=("text/html",),
    ),
    Route("/static/{name:path}", static, methods=["GET"], include_in_schema=False),
]
