"""Rendering pages: one jinja2 environment, the frame every page shares, HTML errors.

Templates (``runtime/web/templates``) are autoescaped. Each gets, besides its own
values: ``lang`` (``zh``/``en``), ``t(key, **params)`` (the catalogue,
:mod:`runtime.web.i18n`), ``loc(text)`` (a localized name from the standards),
``user`` (the signed-in :class:`~runtime.auth.Identity` or ``None``), ``csrf`` (the
hidden field's value) and ``asset(name)`` (a static file's address).

Answers are never cached by the browser or a proxy (they may hold personal data,
and every form a per-browser CSRF value), and carry a Content-Security-Policy that
allows only this site's own scripts and styles.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from runtime.clock import CHINA_TZ
from runtime.errors import ApiError, handle_unexpected, message
from runtime.formspec import localized
from runtime.web.i18n import LANG_COOKIE, lang_of, text
from runtime.web.session import csrf_token, remember_csrf, session_identity

HERE: Final = Path(__file__).resolve().parent
STATIC: Final = HERE / "static"
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

ENV: Final = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["jinja", "html"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def local_time(value: object, with_time: bool = True) -> str:
    """An ISO timestamp from the API as China local time: ``2026-03-09 18:00``."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(CHINA_TZ)
    return moment.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


ENV.filters["local_time"] = local_time


@functools.cache
def asset_version(name: str) -> str:
    """A short digest of a static file, so its address changes when it does."""
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]


def asset(name: str) -> str:
    return f"/assets/{name}?v={asset_version(name)}"


def with_query(path: str, **params: object) -> str:
    shown = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(shown)}" if shown else path


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """The page ``template`` with the shared values (see the module documentation)."""
    lng = lang_of(request)
    user = session_identity(request)
    context = {
        "request": request,
        "lang": lng,
        "html_lang": "en" if lng == "en" else "zh-CN",
        "t": functools.partial(text, lang=lng),
        "loc": functools.partial(_loc, lang=lng),
        "user": user,
        "csrf": csrf_token(request),
        "asset": asset,
        "path": request.url.path,
        "switch_url": _switch_url(request, "zh" if lng == "en" else "en"),
        **values,
    }
    body = ENV.get_template(template).render(context)
    response = HTMLResponse(body, status_code=status)
    finish(request, response)
    return response


def _switch_url(request: Request, lng: str) -> str:
    params = dict(request.query_params)
    params["lang"] = lng
    return f"{request.url.path}?{urlencode(params)}"


def _loc(value: Any, lang: str) -> str:
    return localized(value, lang) if isinstance(value, dict) else str(value or "")


def finish(request: Request, response: Response) -> None:
    """Cookies and headers every page answer carries."""
    remember_csrf(request, response)
    asked = request.query_params.get("lang")
    if asked in ("zh", "en") and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 86400, samesite="lax", path="/")
    response.headers["content-security-policy"] = CSP
    response.headers["referrer-policy"] = "same-origin"
    response.headers["x-frame-options"] = "DENY"
    response.headers["cache-control"] = "no-store"  # personal data, and a per-browser CSRF
    response.headers["vary"] = "Cookie, Accept-Language"


def redirect(request: Request, url: str, status: int = 303) -> RedirectResponse:
    response = RedirectResponse(url, status_code=status)
    finish(request, response)
    return response


def error_page(request: Request, status: int, msg: str) -> HTMLResponse:
    return render(request, "error.jinja", status=status, message=msg, status_code=status)


Handler = Callable[[Request], Awaitable[Response]]


def page(handler: Handler) -> Handler:
    """A page handler whose :class:`ApiError` becomes an HTML page (a 401: the sign-in page)
    and any other exception the generic 500 as a page (logged by the API's own handler:
    where it failed, never the message)."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            if exc.status == 401:
                target = request.url.path
                if request.url.query:
                    target += "?" + request.url.query
                return redirect(request, with_query("/login", next=target))
            lng = lang_of(request)
            msg = exc.message_override or message(exc.code, lng, **exc.params)
            return error_page(request, exc.status, msg)
        except Exception as exc:  # the API's generic 500, as a page: the log says where
            await handle_unexpected(request, exc)
            return error_page(request, 500, message("internal", lang_of(request)))

    return wrapped
