"""Runtime tests: a package generated from the bundled standards, served through httpx.

The package (region ``nanshan``) is generated once per session into a temporary
folder. Each test gets a fresh database: a new SQLite file, or — when
``GOVSTD_TEST_POSTGRES_URL`` names a PostgreSQL server — a database created for
the run and emptied between tests. "Now" is a :class:`FrozenClock` the test moves.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from generator.pipeline import generate
from runtime.app import create_app
from runtime.auth import issue_token
from runtime.migrate import upgrade
from runtime.numbers import retire_sequences
from runtime.package import Package, load_package
from runtime.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
STANDARDS = ROOT / "standards"
DATA_KEY = base64.urlsafe_b64encode(b"k" * 32).decode()
SECRET = "test-secret-0123456789abcdef-0123456789"
CST = timedelta(hours=8)


def generate_package(region: str, out: Path) -> Path:
    """``govstd generate standards --region REGION --out OUT``."""
    result, diagnostics = generate([STANDARDS], region, out)
    assert result is not None, "\n".join(str(d) for d in diagnostics)
    return out


def create_schema(app_dir: Path, package: Package, url: str) -> None:
    """``govstd migrate --app APP_DIR --db URL`` (``package`` kept for the callers' symmetry)."""
    upgrade(app_dir, url)


class FrozenClock:
    """The case-handling clock of the app under test; ``set`` takes China local time."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Mon 2026-03-02 10:00 CST

    def __call__(self) -> datetime:
        return self.now

    def set(self, local: str) -> None:
        self.now = (datetime.fromisoformat(local) - CST).replace(tzinfo=UTC)


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


class Api:
    """An httpx client for the app plus token helpers."""

    def __init__(self, client: httpx.AsyncClient, settings: Settings, package: Package) -> None:
        self.client = client
        self.settings = settings
        self.package = package

    def token(self, role: str, sub: str | None = None, **claims: Any) -> dict[str, str]:
        region = claims.pop("region", None if role == "applicant" else "nanshan")
        tok = issue_token(self.settings, role=role, sub=sub or f"{role}-1", region=region, **claims)
        return {"Authorization": f"Bearer {tok}"}

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.get(url, **kw)

    async def post(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.post(url, **kw)

    async def put(self, url: str, **kw: Any) -> httpx.Response:
        return await self.client.put(url, **kw)


@pytest.fixture
async def api(
    package_dir: Path, db_url: str, settings: Settings, package: Package
) -> AsyncIterator[Api]:
    app = create_app(package_dir, db_url, settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, settings, package)
    app.state.ctx.engine.dispose()


# --- materials ------------------------------------------------------------------------

PDF = b"%PDF-1.7\n" + b"0" * 1000 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


async def hand_in(api: Api, app_id: str, applicant: dict[str, str]) -> list[str]:
    """Upload a file for each required material the case misses (受理 needs them); their ids."""
    r = await api.get(f"/api/applications/{app_id}", headers=applicant)
    assert r.status_code == 200, r.text
    missing = [m["material"] for m in r.json()["checklist"] if m["missing"]]
    for material in missing:
        url = f"/api/applications/{app_id}/materials/{material}"
        for name, body in (("f.pdf", PDF), ("f.png", PNG)):  # whichever the material accepts
            r = await api.put(url, files={"file": (name, body)}, headers=applicant)
            if r.status_code != 422:
                break
        assert r.status_code == 201, r.text
    return missing


# --- submissions ------------------------------------------------------------------

ID_A = "440305199003070014"
ID_B = "310115197806150038"
ID_AGENT = "440882198503293017"


def ibr_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "person_name": "张三",
        "citizen_id_number": ID_A,
        "mobile_phone": "13812345678",
        "residence_address": "深圳市南山区桃园路 1 号",
        "organization_form": "1",
        "business_scope": "零售：日用百货",
        "business_address": "深圳市南山区南头街 8 号",
        "business_division": "440305",
        "premises_ownership": "2",
        "registered_capital": 5,
        "employees": 2,
        "agent_used": False,
    }
    data.update(overrides)
    return data


def food_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "enterprise_name": "南山小馆",
        "person_name": "李四",
        "citizen_id_number": ID_A,
        "mobile_phone": "13912345678",
        "business_address": "深圳市南山区南头街 9 号",
        "business_division": "440305",
        "food_business_type": "2",
        "food_business_items": ["05"],
        "online_food_sales": False,
        "operating_area": 80,
        "food_safety_manager_name": "王五",
        "agent_used": False,
        "delivery_method": "1",
    }
    data.update(overrides)
    return data


def unemployment_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "person_name": "赵六",
        "citizen_id_number": ID_B,
        "sex": "1",
        "education_level": "21",
        "household_type": "3",
        "household_division": "440305",
        "household_address": "深圳市南山区蛇口 3 号",
        "residence_division": "440305",
        "residence_address": "深圳市南山区蛇口 3 号",
        "mobile_phone": "13700001111",
        "unemployment_date": "2026-02-20",
        "unemployment_reason": "5",
    }
    data.update(overrides)
    return data
