"""``/assets/{name}``: the pages' stylesheet and scripts, served by the application itself.

``htmx.min.js`` is htmx 2 as published in the npm package ``htmx.org`` (copied
unchanged; its licence beside it). No page loads anything from another site.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from runtime.web.i18n import lang_of, text
from runtime.web.render import STATIC, error_page

TYPES: Final = {
    "site.css": "text/css",
    "htmx.min.js": "text/javascript",
    "govstd.js": "text/javascript",
    "favicon.svg": "image/svg+xml",
}


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in TYPES:
        return error_page(request, 404, text("error.not_found", lang_of(request)))
    headers = {"cache-control": "public, max-age=86400"}
    media = TYPES[name] if name.endswith(".svg") else f"{TYPES[name]}; charset=utf-8"
    return FileResponse(STATIC / name, media_type=media, headers=headers)
