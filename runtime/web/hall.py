"""The public pages: the regions (``/``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from runtime.routes.common import ctx
from runtime.web.render import page, render


@page
async def home(request: Request) -> Response:
    """``GET /``: every region the package serves, each linking to its service hall."""
    pkg = ctx(request).package
    regions = sorted(pkg.regions.values(), key=lambda r: (r.id != pkg.region, r.code))
    return render(request, "home.jinja", regions=regions)
