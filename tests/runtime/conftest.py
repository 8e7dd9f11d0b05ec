"""Runtime tests: a package generated from the bundled standards, served through httpx.

The package (region ``nanshan``) is generated once per session into a temporary
folder. Each test gets a fresh database: a new SQLite file, or — when
``GOVSTD_TEST_POSTGRES_URL`` names a PostgreSQL server — a database created for
the run and emptied between tests. "Now" is a :class:`FrozenClock` the test moves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from runtime.package import Package, load_package
from runtime.settings import Settings
from tests.helpers import (
    BACKENDS,
    Api,
    FrozenClock,
    client_of,
    create_schema,
    emptied,
    generate_package,
    postgres_database,
    serve,
    services_package,
    settings_for,
)


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
    with postgres_database() as url:
        create_schema(package_dir, package, url)
        yield url


def _database(
    request: pytest.FixtureRequest, app_dir: Path, package: Package, pg: str, sqlite: str
) -> str:
    """A database at the package's revision: a new SQLite file (named ``sqlite``), or the
    session's PostgreSQL database (the fixture ``pg``) emptied."""
    if request.param == "postgresql":
        return emptied(request.getfixturevalue(pg), package)
    url = f"sqlite:///{request.getfixturevalue('tmp_path') / sqlite}"
    create_schema(app_dir, package, url)
    return url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, package_dir: Path, package: Package) -> str:
    return _database(request, package_dir, package, "postgres_url", "govstd.db")


@pytest.fixture(scope="session")
def guangdong_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A deployment serving a region tree: 广东 → 深圳 → 南山."""
    return generate_package("guangdong", tmp_path_factory.mktemp("package") / "guangdong")


# The data system tests (catalogue, sharing, data quality): the 深圳 package, 深圳 and 南山
# below it.


@pytest.fixture(scope="session")
def shenzhen_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_package("shenzhen", tmp_path_factory.mktemp("package") / "shenzhen")


@pytest.fixture(scope="session")
def shenzhen_package(shenzhen_dir: Path) -> Package:
    return load_package(shenzhen_dir)


@pytest.fixture(scope="session")
def shenzhen_postgres(shenzhen_dir: Path, shenzhen_package: Package) -> Iterator[str]:
    with postgres_database("datashare") as url:
        create_schema(shenzhen_dir, shenzhen_package, url)
        yield url


@pytest.fixture(params=BACKENDS)
def shenzhen_db(
    request: pytest.FixtureRequest, shenzhen_dir: Path, shenzhen_package: Package
) -> str:
    return _database(request, shenzhen_dir, shenzhen_package, "shenzhen_postgres", "sz.db")


@pytest.fixture
async def sz(
    shenzhen_dir: Path, shenzhen_db: str, settings: Settings, shenzhen_package: Package
) -> AsyncIterator[Api]:
    async with client_of(shenzhen_dir, shenzhen_db, settings) as client:
        yield Api(client, settings, shenzhen_package, shenzhen_db)


# The 深圳 package of helpers.services_tree: its own 一件事 bundles and policies.


@pytest.fixture(scope="session")
def services_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return services_package(tmp_path_factory.mktemp("services"))


@pytest.fixture
async def shenzhen_api(
    services_dir: Path, tmp_path: Path, settings: Settings
) -> AsyncIterator[Api]:
    async for api in serve(services_dir, f"sqlite:///{tmp_path / 'sz.db'}", settings):
        yield api


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(clock: FrozenClock, tmp_path: Path) -> Settings:
    return settings_for(clock, tmp_path)


@pytest.fixture
async def api(
    package_dir: Path, db_url: str, settings: Settings, package: Package
) -> AsyncIterator[Api]:
    async with client_of(package_dir, db_url, settings) as client:
        yield Api(client, settings, package)
