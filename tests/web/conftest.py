"""Page tests over HTTP (no browser): the app through httpx's ASGI transport.

The runtime tests' fixtures (package, frozen clock) are reused, over SQLite only:
the pages call the same database code as the API, which the runtime tests run on
both databases. A
:class:`Browser` keeps cookies like a browser and reads the CSRF field of the
last page, so tests post forms as a person would.
"""

# ruff: noqa: F811  (fixtures of tests/runtime, imported and then used as parameters)
from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtime.app import create_app
from runtime.auth import issue_token
from runtime.migrate import upgrade
from runtime.settings import Settings
from tests.runtime.conftest import (  # noqa: F401  (fixtures)
    DATA_KEY,
    SECRET,
    FrozenClock,
    anyio_backend,
    clock,
    package,
    package_dir,
)

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def settings_for(clock: FrozenClock, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "secret": SECRET,
        "secret_is_dev": False,
        "upload_dir": tmp_path / "uploads",
        "env": {"GOVSTD_DATA_KEY": DATA_KEY},
        "now": clock,
    }
    values.update(overrides)
    return Settings(**values)


class Browser:
    """An httpx client with cookies that remembers the CSRF field of the last page."""

    def __init__(self, client: httpx.AsyncClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.csrf = ""

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.client.get(path, **kwargs)
        found = CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    async def post(self, path: str, data: Any = None, **kwargs: Any) -> httpx.Response:
        fields = dict(data or {})
        fields.setdefault("csrf", self.csrf)
        response = await self.client.post(path, data=fields, **kwargs)
        found = CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def token(self, role: str, sub: str, **claims: Any) -> str:
        region = claims.pop("region", None if role == "applicant" else "nanshan")
        return issue_token(self.settings, role=role, sub=sub, region=region, **claims)

    async def sign_in(self, role: str = "applicant", sub: str = "citizen-1", **claims: Any) -> None:
        await self.get("/login")
        response = await self.post("/login", {"token": self.token(role, sub, **claims)})
        assert response.status_code == 303, response.text


@pytest.fixture
def db_url(tmp_path: Path, package_dir: Path) -> str:
    url = f"sqlite:///{tmp_path / 'govstd.db'}"
    upgrade(package_dir, url)
    return url


@pytest.fixture
async def browser(
    package_dir: Path, db_url: str, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[Browser]:
    settings = settings_for(clock, tmp_path)
    app = create_app(package_dir, db_url, settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Browser(client, settings)
    app.state.ctx.engine.dispose()
