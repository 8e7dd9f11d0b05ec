"""Runtime tests: a package generated from the bundled standards, served through httpx.

The package (region ``nanshan``) is generated once per session into a temporary
folder. Each test gets a fresh database: a new SQLite file, or — when
``GOVSTD_TEST_POSTGRES_URL`` names a PostgreSQL server — a database created for
the run and emptied between tests. "Now" is a :class:`FrozenClock` the test moves.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from runtime.app import create_app
from runtime.numbers import retire_sequences
from runtime.package import Package, load_package
from runtime.settings import Settings
from tests.helpers import DATA_KEY, SECRET, Api, FrozenClock, create_schema, generate_package


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def package_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_package("nanshan", tmp_path_factory.mktemp("package") / "nanshan")


@pytest.fixture(scope="session")
def package(package_dir: Path) -> Package:
    return load_package(package_dir)


@pytest.fixture(scope="session")
def postgres_url(package_dir: Path, package: Package) -> Iterator[str]:
    admin = os.environ.get("GOVSTD_TEST_POSTGRES_URL")
    if not admin:
        pytest.skip(
            "GOVSTD_TEST_POSTGRES_URL is not set (e.g. postgresql+psycopg://postgres@127.0.0.1/postgres)"
        )
    admin_url = make_url(admin)
    if admin_url.drivername == "postgresql":
        admin_url = admin_url.set(drivername="postgresql+psycopg")
    name = f"govstd_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    create_schema(package_dir, package, url)
    yield url
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, package_dir: Path, package: Package
) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'govstd.db'}"
        create_schema(package_dir, package, url)
        return url
    url: str = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in package.metadata.sorted_tables)
    with engine.begin() as conn:
        retire_sequences(conn, package.tables.counters)  # numbers start from 1 again
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(clock: FrozenClock, tmp_path: Path) -> Settings:
    env = {"GOVSTD_SECRET": SECRET, "GOVSTD_DATA_KEY": DATA_KEY}
    return Settings(
        secret=SECRET,
        secret_is_dev=False,
        upload_dir=tmp_path / "uploads",
        env=env,
        now=clock,
    )


@pytest.fixture
async def api(
    package_dir: Path, db_url: str, settings: Settings, package: Package
) -> AsyncIterator[Api]:
    app = create_app(package_dir, db_url, settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, settings, package)
    app.state.ctx.engine.dispose()
