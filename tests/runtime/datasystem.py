"""Fixtures of the data system tests (catalogue, sharing, data quality): the 深圳 package
(深圳 and 南山 below it) served on SQLite, and on PostgreSQL when
``GOVSTD_TEST_POSTGRES_URL`` is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from runtime.app import create_app
from runtime.package import Package, load_package
from runtime.settings import Settings
from tests.helpers import Api, create_schema, food_data, generate_package


@pytest.fixture(scope="session")
def shenzhen_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_package("shenzhen", tmp_path_factory.mktemp("package") / "shenzhen")


@pytest.fixture(scope="session")
def shenzhen_package(shenzhen_dir: Path) -> Package:
    return load_package(shenzhen_dir)


@pytest.fixture(scope="session")
def shenzhen_postgres(shenzhen_dir: Path) -> Iterator[str]:
    admin = os.environ.get("GOVSTD_TEST_POSTGRES_URL")
    if not admin:
        pytest.skip("GOVSTD_TEST_POSTGRES_URL is not set")
    admin_url = make_url(admin).set(drivername="postgresql+psycopg")
    name = f"datashare_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    create_schema(shenzhen_dir, load_package(shenzhen_dir), url)
    yield url
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shenzhen_db(
    request: pytest.FixtureRequest, tmp_path: Path, shenzhen_dir: Path, shenzhen_package: Package
) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'sz.db'}"
        create_schema(shenzhen_dir, shenzhen_package, url)
        return url
    url: str = request.getfixturevalue("shenzhen_postgres")
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in shenzhen_package.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
async def sz(shenzhen_dir: Path, shenzhen_db: str, settings: Settings) -> AsyncIterator[Api]:
    app = create_app(shenzhen_dir, shenzhen_db, settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        api = Api(client, settings, load_package(shenzhen_dir))
        api.db_url = shenzhen_db  # type: ignore[attr-defined]
        yield api
    app.state.ctx.engine.dispose()


async def file_food(api: Api, sub: str, region: str = "nanshan", **data: Any) -> str:
    """File a food business licence application; its id."""
    r = await api.post(
        "/api/matters/food_business_license/applications",
        json={"region": region, "data": food_data(**data)},
        headers=api.token("applicant", sub),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def rows(api: Api, table: str, **where: Any) -> list[Any]:
    """The rows of a table (``where``: column = value), read beside the app."""
    engine = create_engine(api.db_url)  # type: ignore[attr-defined]
    t = api.package.metadata.tables[table]
    query = select(t).where(*(t.c[k] == v for k, v in where.items()))
    with engine.connect() as conn:
        found = conn.execute(query).all()
    engine.dispose()
    return found
