"""The Starlette application serving one deployment package.

The API's routes are :data:`runtime.routes.ROUTES` (each module of :mod:`runtime.routes`
ends with its own: method and path, handler, and what ``openapi.json`` says of it); the
web pages are :mod:`runtime.web`'s, a region's own routes (under /api/ext/ and /ext/)
``GOVSTD_EXTENSIONS``' (:mod:`runtime.extensions`), webhooks :mod:`runtime.webhooks`.

Routes take the matter, form or application from a path parameter and look it
up in a dict, so matching cost does not grow with the number of matters.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime import webhooks
from runtime.context import Context
from runtime.crypto import Cipher
from runtime.errors import (
    ApiError,
    RequestIdMiddleware,
    handle_api_error,
    handle_http_exception,
    handle_unexpected,
)
from runtime.extensions import ENV_VAR as EXTENSIONS_VAR
from runtime.extensions import Register, load
from runtime.package import load_package
from runtime.revision_guard import RevisionGuard, RevisionGuardMiddleware, Revisions, open_database
from runtime.routes import ROUTES, docs
from runtime.settings import Settings, SettingsError, data_keys, database_url
from runtime.types import bilingual
from runtime.web import ROUTES as PAGE_ROUTES
from runtime.web import pages_or

log = logging.getLogger("govstd.runtime")


class HeadersMiddleware:
    """No caching of API answers (they hold personal data); no MIME sniffing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = str(scope.get("path", "")).startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                if api:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    app_dir: str | Path,
    db_url: str | None = None,
    settings: Settings | None = None,
    *,
    extensions: Sequence[Register] = (),
) -> Starlette:
    """The application for the package in ``app_dir`` on ``db_url`` (default: see settings).

    A region's own routes and checks: the files or modules ``GOVSTD_EXTENSIONS`` names,
    then ``extensions``, each a ``register(ext)`` (:mod:`runtime.extensions`).
    Raises :class:`runtime.revision_guard.DatabaseNotReady` when the database is not at the
    package's revision (a missing SQLite file is not created)."""
    settings = settings or Settings.from_env()
    package = load_package(app_dir)
    added = load((settings.env or os.environ).get(EXTENSIONS_VAR, ""), extensions)
    keys = data_keys(settings)
    if settings.secret_is_dev and not (settings.public_key or settings.jwks_url):
        log.warning(
            bilingual(
                "未设置 GOVSTD_SECRET：令牌用开发用密钥签名",
                "GOVSTD_SECRET is not set: tokens are signed with the development secret",
            )
        )
    expected = Revisions.of_package(app_dir)
    engine = open_database(database_url(db_url, settings.env or None), expected)
    guard = RevisionGuard(engine, expected)
    context = Context(
        package=package, engine=engine, settings=settings, cipher=Cipher(keys), extensions=added
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with guard.watching(), webhooks.delivering(context):
            yield
        engine.dispose()

    app = Starlette(
        routes=[*ROUTES, *added.routes, *PAGE_ROUTES],
        # outermost first: the generic 500 of RequestIdMiddleware gets the headers too
        middleware=[
            Middleware(HeadersMiddleware),
            Middleware(RequestIdMiddleware),
            Middleware(RevisionGuardMiddleware, guard=guard),
        ],
        exception_handlers={
            ApiError: handle_api_error,
            HTTPException: pages_or(handle_http_exception),
            Exception: handle_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.ctx = context
    app.state.revision_guard = guard
    app.state.settings = settings
    app.state.openapi = docs.document(package, added)
    return app


def app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory`` with several workers: ``GOVSTD_APP_DIR`` and the
    usual ``GOVSTD_*`` variables."""
    app_dir = os.environ.get("GOVSTD_APP_DIR")
    if not app_dir:
        raise SettingsError(
            "GOVSTD_APP_DIR 必须指向部署包文件夹", "GOVSTD_APP_DIR must name the package folder"
        )
    return create_app(app_dir, os.environ.get("GOVSTD_DATABASE_URL"))
