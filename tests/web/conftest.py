"""Page tests over HTTP (no browser): the app through httpx's ASGI transport.

The runtime tests' fixtures (package, frozen clock) are reused, over SQLite only:
the pages call the same database code as the API, which the runtime tests run on
both databases. A
:class:`Browser` keeps cookies like a browser and reads the CSRF field of the
last page, so tests post forms as a person would.
"""

# ruff: noqa: F811  (fixtures of tests/runtime, imported and then used as parameters)
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from runtime.migrate import upgrade
from tests.helpers import Browser, FrozenClock, client_of, settings_for
from tests.runtime.conftest import (  # noqa: F401  (fixtures)
    anyio_backend,
    clock,
    guangdong_dir,
    package,
    package_dir,
)


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
    async with client_of(package_dir, db_url, settings) as client:
        yield Browser(client, settings)
