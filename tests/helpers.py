"""Helpers shared by the tests: packages, the app's clock and client, submissions, and
broken standards trees. Imported by test modules and conftests alike (fixtures stay in
the conftests; a test module never imports another test module or a conftest for these).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, create_engine, event, pool, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.sql import Executable
from starlette.routing import BaseRoute, Route
from typer.testing import CliRunner

from generator.build import build_package
from generator.cli import app as cli_app
from generator.ir import PackageIR
from generator.pipeline import check_tree, generate
from generator.previous import VERSIONS, read_previous
from generator.render import GeneratedFile
from generator.render.migrations import render_database
from generator.writer import format_python, write_package
from runtime.app import create_app
from runtime.auth import issue_token
from runtime.migrate import upgrade
from runtime.numbers import retire_sequences
from runtime.package import Package, load_package
from runtime.packs import unpack
from runtime.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
STANDARDS = ROOT / "standards"
GENERATED = ROOT / "generated"
REGIONS = ["guangdong", "shenzhen", "nanshan", "zhejiang", "hangzhou"]  # the bundled ones
DATA_KEY = base64.urlsafe_b64encode(b"k" * 32).decode()
SECRET = "test-secret-0123456789abcdef-0123456789"
CST = timedelta(hours=8)


class Figures:
    """Figures a group of tests measured: printed when measured (``-s``) and again under
    ``title`` in pytest's terminal summary (a conftest's ``pytest_terminal_summary``)."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.lines: list[str] = []

    def report(self, line: str) -> None:
        print(line)
        self.lines.append(line)

    def summary(self, terminalreporter: Any) -> None:
        if self.lines:
            terminalreporter.section(self.title)
            for line in self.lines:
                terminalreporter.write_line(line)


# --- packages and the app ----------------------------------------------------------------


def generate_package(region: str, out: Path, tree: Path = STANDARDS) -> Path:
    """``govstd generate TREE --region REGION --out OUT`` (the bundled standards)."""
    result, diagnostics = generate([tree], region, out)
    assert result is not None, "\n".join(str(d) for d in diagnostics)
    return out


def pack_documents(app_dir: Path, kind: str) -> dict[str, bytes]:
    """Every document of the packs ``<kind>/*.jsonl`` of a package (runtime/packs.py)."""
    found: dict[str, bytes] = {}
    for path in sorted((app_dir / kind).glob("*.jsonl")):
        found.update(unpack(path.read_bytes(), str(path)))
    return found


def replace_once(path: Path, old: str, new: str) -> str:
    """Replace the one ``old`` in a file; its text before the change."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path}: {old!r} occurs {text.count(old)} times"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text


def edited_standards(root: Path, *edits: tuple[str, str, str]) -> Path:
    """A copy of the bundled standards at ``root``, each edit (file, old text that occurs
    exactly once, new text) applied."""
    shutil.copytree(STANDARDS, root)
    for file, old, new in edits:
        replace_once(root / file, old, new)
    return root


def create_schema(app_dir: Path, package: Package, url: str) -> None:
    """``govstd migrate --app APP_DIR --db URL`` (``package`` kept for the callers' symmetry)."""
    upgrade(app_dir, url)


@asynccontextmanager
async def client_of(
    app_dir: Path, db_url: str, settings: Settings, **kwargs: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client of ``create_app(app_dir, db_url, settings, **kwargs)``, in process;
    the app's database engine is closed afterwards."""
    app = create_app(app_dir, db_url, settings, **kwargs)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        app.state.ctx.engine.dispose()


@contextmanager
def postgres_database(prefix: str = "govstd_test") -> Iterator[str]:
    """A new, empty database on the server ``GOVSTD_TEST_POSTGRES_URL`` names (the test is
    skipped without one), dropped afterwards; its URL."""
    admin = os.environ.get("GOVSTD_TEST_POSTGRES_URL")
    if not admin:
        pytest.skip(
            "GOVSTD_TEST_POSTGRES_URL is not set "
            "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres)"
        )
    admin_url = make_url(admin)
    if admin_url.drivername == "postgresql":
        admin_url = admin_url.set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def new_database(kind: str, sqlite_file: Path, prefix: str = "govstd_test") -> Iterator[str]:
    """A database of its own, as ``kind`` of :data:`BACKENDS` says: the SQLite file
    ``sqlite_file``, or a new PostgreSQL database (:func:`postgres_database`); its URL."""
    if kind == "sqlite":
        yield f"sqlite:///{sqlite_file}"
    else:
        with postgres_database(prefix) as url:
            yield url


def fk_engine(url: str) -> Engine:
    """An engine of its own on ``url``, enforcing foreign keys on SQLite too."""
    engine = create_engine(url, poolclass=pool.NullPool)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA foreign_keys=ON"))
    return engine


def all_tables(package: Package) -> MetaData:
    """``package.metadata`` with every form's tables in it (the runtime imports a form's
    tables on the form's first use; a test that looks at every table, or at one by name,
    wants them all)."""
    for form in package.tables.forms:
        package.tables.groups[form]  # imports tables/<form>.py: the form's table and groups'
    return package.metadata


def emptied(url: str, package: Package) -> str:
    """``url`` (a PostgreSQL database migrated for ``package``) with every table emptied,
    identities restarted and the case numbers starting from 1 again."""
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in all_tables(package).sorted_tables)
    with engine.begin() as conn:
        retire_sequences(conn, package.tables.counters)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


def query(url: str | URL, statement: Executable) -> list[Any]:
    """The rows ``statement`` returns, read beside the app on an engine of its own."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(statement).all())
    finally:
        engine.dispose()


def execute(url: str, statement: Executable, params: Any = None) -> None:
    """Run one statement beside the app, committed, on an engine of its own."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(statement, params)
    finally:
        engine.dispose()


def rows(api: Api, table: str, **where: Any) -> list[Any]:
    """The rows of a table (``where``: column = value), read beside the app."""
    t = all_tables(api.package).tables[table]
    return query(api.db_url, select(t).where(*(t.c[k] == v for k, v in where.items())))


class FrozenClock:
    """The case-handling clock of the app under test; ``set`` takes China local time."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Mon 2026-03-02 10:00 CST

    def __call__(self) -> datetime:
        return self.now

    def set(self, local: str) -> None:
        self.now = (datetime.fromisoformat(local) - CST).replace(tzinfo=UTC)


class Api:
    """An httpx client for the app plus token helpers."""

    def __init__(
        self, client: httpx.AsyncClient, settings: Settings, package: Package, db_url: str = ""
    ) -> None:
        self.client = client
        self.settings = settings
        self.package = package
        self.db_url = db_url

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

    async def file(
        self,
        matter: str,
        data: dict[str, Any],
        sub: str = "citizen-a",
        region: str = "nanshan",
        files: Sequence[str] = (),
    ) -> str:
        """File an application for ``matter`` as applicant ``sub`` and hand in a PDF for
        each of ``files`` (materials); its id."""
        h = self.token("applicant", sub)
        r = await self.post(
            f"/api/matters/{matter}/applications",
            json={"region": region, "data": data},
            headers=h,
        )
        assert r.status_code == 201, r.text
        app_id = str(r.json()["id"])
        for material in files:
            url = f"/api/applications/{app_id}/materials/{material}"
            put = await self.put(url, files={"file": ("f.pdf", PDF)}, headers=h)
            assert put.status_code == 201, put.text
        return app_id


# --- the command line and the network -------------------------------------------------


def govstd_command() -> list[str]:
    """The installed ``govstd`` entry point (else the same through ``python -c``)."""
    script = Path(sys.executable).with_name("govstd")
    if script.is_file():
        return [str(script)]
    found = shutil.which("govstd")
    if found:
        return [found]
    return [sys.executable, "-c", "from generator.cli import main; main()"]


def govstd(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``govstd ARGS`` in a subprocess; its exit code and output (undecodable bytes
    replaced)."""
    return subprocess.run(
        [*govstd_command(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        errors="replace",
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextmanager
def uvicorn_in_a_thread(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free port of 127.0.0.1, in a thread of this process;
    its base URL. Stopped afterwards."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# --- the API document ------------------------------------------------------------------

Operations = dict[tuple[str, str], str]


def served(routes: Sequence[BaseRoute]) -> Operations:
    """``(METHOD, path)`` → the route's name, for every route in the API document."""
    operations: Operations = {}
    for route in routes:
        if not isinstance(route, Route) or not route.include_in_schema:
            continue
        path = re.sub(r":[a-z]+}", "}", route.path)  # {name:path} → {name}
        for method in sorted(route.methods or ()):
            if method != "HEAD":  # starlette answers HEAD wherever GET is
                operations[method, path] = route.name
    return operations


def documented(document: dict[str, Any]) -> Operations:
    """``(METHOD, path)`` → ``operationId``, for every operation of an OpenAPI document."""
    return {
        (method.upper(), path): operation["operationId"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


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


# --- rows -------------------------------------------------------------------------


def application_row(app_id: str, form: str, **overrides: Any) -> dict[str, Any]:
    """The columns of one submitted application in the runtime's ``applications`` table,
    for tests that write a form row beside it with the generated models."""
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    return {
        "id": app_id,
        "number": "440000-20260302-0001",
        "matter": "ibr",
        "form": form,
        "region": "r",
        "applicant_sub": "user-1",
        "status": "submitted",
        "created_at": now,
        "updated_at": now,
        "standards_hash": "0" * 64,
    } | overrides


# --- submissions ------------------------------------------------------------------

# what 受理 needs of each matter (its required materials, the applicant's to hand in)
FOOD_FILES = ("food_license_application", "id_proof", "layout_and_process", "food_safety_rules")
IBR_FILES = ("registration_application", "id_proof", "lease_contract")

ID_A = "440305199003070014"
ID_B = "310115197806150038"
ID_AGENT = "440882198503293017"


def ibr_data(**overrides: Any) -> dict[str, Any]:
    return {
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
    } | overrides


def food_data(**overrides: Any) -> dict[str, Any]:
    return {
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
    } | overrides


def unemployment_data(**overrides: Any) -> dict[str, Any]:
    return {
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
    } | overrides


async def file_food(api: Api, sub: str, region: str = "nanshan", **data: Any) -> str:
    """File a food business licence application; its id."""
    return await api.file("food_business_license", food_data(**data), sub, region)


async def file_unemployment(api: Api, sub: str = "citizen-a", **data: Any) -> str:
    """File a 失业登记 (a public service) in nanshan; its id."""
    return await api.file("unemployment_registration", unemployment_data(**data), sub)


async def file_ibr(api: Api, sub: str = "citizen-a", **data: Any) -> str:
    """File a 个体工商户设立登记 application in nanshan; its id."""
    return await api.file("ibr", ibr_data(**data), sub)


# --- broken standards trees: the fixture tests/fixtures/mini with small edits -----------

FIXTURE = Path(__file__).parent / "fixtures" / "mini"
TREE = "mini"  # the fixture's folder name below tmp_path: locations read mini/<file>

Replace = tuple[str, str, str]  # file, old text (exactly once), new text
Add = tuple[str, str | bytes]  # file, content
Edit = Replace | Add


def replace(file: str, old: str, new: str) -> Replace:
    return (file, old, new)


def add(file: str, content: str | bytes) -> Add:
    return (file, content)


def make_tree(tmp_path: Path, *edits: Edit) -> Path:
    root = tmp_path / TREE
    shutil.copytree(FIXTURE, root)
    for edit in edits:
        path = root / edit[0]
        if len(edit) == 3:
            replace_once(path, edit[1], edit[2])
        else:
            content = edit[1]
            path.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode("utf-8") if isinstance(content, str) else content
            path.write_bytes(data)
    return root


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli_app, list(args))
    return result.exit_code, result.stdout, result.stderr


def validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *edits: Edit) -> tuple[int, str]:
    make_tree(tmp_path, *edits)
    code, _, err = run(tmp_path, monkeypatch, "validate", TREE)
    assert "Traceback" not in err
    return code, err


def diagnostic_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if ": error: " in line or ": warning: " in line]


def assert_reported(err: str, where: str, message: str, severity: str = "error") -> None:
    prefix = f"{TREE}/{where}: {severity}: "
    found = [line for line in err.splitlines() if line.startswith(prefix) and message in line]
    assert found, f"expected {prefix}…{message}…\ngot:\n{err}"


# --- pages: a browser over httpx -------------------------------------------------------

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


def idem_of(page: str) -> str:
    found = re.search(r'name="idem" value="([^"]+)"', page)
    assert found
    return found.group(1)


def bearer(browser: Browser, role: str, sub: str, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {browser.token(role, sub, **claims)}"}


async def file_case(
    browser: Browser,
    matter: str,
    data: dict[str, Any],
    files: tuple[str, ...] = (),
    applicant: str = "citizen-1",
) -> str:
    """File a case through the API (and hand in ``files``); its id."""
    h = bearer(browser, "applicant", applicant)
    r = await browser.client.post(
        f"/api/matters/{matter}/applications", json={"region": "nanshan", "data": data}, headers=h
    )
    assert r.status_code == 201, r.text
    app_id = str(r.json()["id"])
    for material in files:
        url = f"/api/applications/{app_id}/materials/{material}"
        put = await browser.client.put(url, files={"file": ("张三-身份证.pdf", PDF)}, headers=h)
        assert put.status_code == 201, put.text
    return app_id


RESTAURANT_GUIDE = "/regions/nanshan/bundles/open_restaurant"
RESTAURANT_BUNDLE = RESTAURANT_GUIDE + "/apply"


def restaurant_form(**overrides: Any) -> dict[str, Any]:
    """The combined form as a browser posts it (every member's fields, each once)."""
    fields: dict[str, Any] = {
        "person_name": "张三",
        "citizen_id_number": ID_A,
        "mobile_phone": "13812345678",
        "residence_address": "深圳市南山区桃园路 1 号",
        "enterprise_name": "南山小馆",
        "organization_form": "1",
        "business_scope": "餐饮服务",
        "business_address": "深圳市南山区南头街 8 号",
        "business_division": "440305",
        "premises_ownership": "2",
        "operating_area": "80",
        "registered_capital": "5",
        "employees": "2",
        "food_business_type": "2",
        "food_business_items": ["05"],
        "online_food_sales": "false",
        "food_safety_manager_name": "王五",
        "agent_used": "false",
        "delivery_method": "1",
        "public_place_category": "09",
        "health_certified_staff": "2",
        "uses_central_ac": "false",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


# --- bundles and policies: combined data, and a 深圳 tree where not every region offers
# every member and the policies differ in regions and dates ----------------------------


def restaurant_data(**overrides: Any) -> dict[str, Any]:
    """The combined data of ``open_restaurant``: every member's fields, each asked once."""
    data = {**food_data(), **ibr_data(), "enterprise_name": "南山小馆"}
    data.update(
        {
            "public_place_category": "09",
            "health_certified_staff": 2,
            "uses_central_ac": False,
        }
    )
    data.update(overrides)
    return data


POLICIES = {
    # in force from the day after the tests' "now" (2026-03-02 CST) — see test_policies
    "later.yaml": """kind: Policy
id: later_2026
name: {zh: 稍后生效的政策, en: "A later policy"}
issuer: {zh: 深圳市人力资源和社会保障局}
regions: [shenzhen]
valid: {from: 2026-03-03, to: 2026-12-31}
profile: enterprise_profile
eligible: "employees >= 1"
benefit: {zh: 示例}
apply: startup_subsidy
""",
    "expired.yaml": """kind: Policy
id: expired_2026
name: {zh: 已过期的政策, en: "An expired policy"}
issuer: {zh: 广东省人力资源和社会保障厅}
regions: [guangdong]
valid: {from: 2026-01-01, to: 2026-03-01}
profile: enterprise_profile
eligible: "employees >= 1"
benefit: {zh: 示例}
apply: startup_subsidy
""",
}


def services_tree(root: Path) -> Path:
    """The bundled standards, except: 南山 does not implement the public place health licence
    (so 开餐馆 is offered in 深圳 only), the start-up subsidy is issued by 深圳 (in force in
    南山 below it), plus a later and an expired policy; the profile asks a sensitive field."""
    members = ", food_business_license, public_place_health_license]"
    tree = edited_standards(
        root / "standards",
        ("regions/nanshan.yaml", members, ", food_business_license]"),
        (
            "national/policies/startup_subsidy_2026.yaml",
            "regions: [nanshan]",
            "regions: [shenzhen]",
        ),
    )
    profile = tree / "national" / "forms" / "enterprise_profile.yaml"
    profile.write_text(
        profile.read_text(encoding="utf-8")
        + "      - element: legal_representative_name\n        required: false\n",
        encoding="utf-8",
    )
    for name, content in POLICIES.items():
        (tree / "national" / "policies" / name).write_text(content, encoding="utf-8")
    return tree


def services_package(root: Path) -> Path:
    """The 深圳 package (深圳, 南山) of :func:`services_tree`."""
    out = root / "shenzhen"
    generate_package("shenzhen", out, services_tree(root))
    return out


async def serve(app_dir: Path, url: str, settings: Settings) -> AsyncIterator[Api]:
    package = load_package(app_dir)
    create_schema(app_dir, package, url)
    async with client_of(app_dir, url, settings) as client:
        yield Api(client, settings, package)


CREDIT_CODE = "914403001318609160"


def claim_data(**overrides: Any) -> dict[str, Any]:
    """What a start-up subsidy claim adds to the profile (bank account, category…)."""
    return {
        "mobile_phone": "13812345678",
        "entrepreneur_category": "2",
        "unified_social_credit_code": CREDIT_CODE,
        "established_date": "2025-06-01",
        "industry_code": "H",
        "insured_employees": 3,
        "bank_account_name": "南山小馆",
        "bank_name": "中国银行深圳南山支行",
        "bank_account": "6217000000000001",
        "subsidy_amount": 10000,
        "previously_subsidized": False,
    } | overrides


def profile_data(**overrides: Any) -> dict[str, Any]:
    """A 南山 start-up that fits the start-up subsidy (employees ≥ 3, founded < 3 years)."""
    return {
        "enterprise_name": "南山小馆",
        "service_object": "2",
        "industry_code": "H",
        "enterprise_scale": "4",
        "business_division": "440305",
        "established_date": "2025-06-01",
        "established_days": 274,
        "employees": 5,
        "insured_employees": 3,
        "registered_capital": 10,
    } | overrides


# --- the rename scenario of tests/test_migrations.py: three versions of one standards tree
# (v2 renames a form, a field and a group field, adds a field, a group and a code value;
# v3 drops a field) ---------------------------------------------------------------------

BASE = """\
kind: CodeSet
id: matter_type
name: 事项类型
values:
  - {code: "01", name: 行政许可}
---
kind: CodeSet
id: service_object
name: 服务对象
values:
  - {code: "1", name: 自然人}
---
kind: DataElement
id: person_name
name: 姓名
type: string
format: c..50
---
kind: DataElement
id: citizen_id_number
name: 公民身份号码
type: string
format: an18
sensitive: true
---
kind: DataElement
id: sex
name: 性别
type: code
codeset: sex
---
kind: DataElement
id: business_scope
name: 经营范围
type: text
---
kind: DataElement
id: registered_capital
name: 资金数额
type: decimal
format: n..12,2
---
kind: DataElement
id: employees
name: 从业人数
type: integer
---
kind: DataElement
id: agent_used
name: 委托代理人办理
type: boolean
---
kind: DataElement
id: opened_on
name: 开业日期
type: date
---
kind: DataElement
id: website
name: 网址
type: string
format: c..200
---
kind: DataElement
id: address
name: 地址
type: string
format: c..100
---
kind: Workflow
id: simple
name: 简单流程
initial: submitted
states:
  - {id: submitted, name: 已申请}
  - {id: done, name: 办结, final: true}
transitions:
  - {id: finish, from: submitted, to: done, by: officer}
---
kind: Calendar
id: cn
weekend: [sat, sun]
holidays: [2026-01-01]
workdays: []
---
kind: Region
id: r
code: "440000"
name: 甲省
calendar: cn
matters: {include: all}
"""

MATTER = """\
kind: Matter
id: ibr
name: 个体工商户设立登记
type: "01"
service_objects: ["1"]
agency: {{name: 市场监督管理局}}
case_type: commitment
contact: {{phone: "0755-88888888", complaint_phone: "12345"}}
time_limit:
  promised: {{value: 3, unit: working_day}}
fee: {{charged: false}}
visits: 0
channels: [online]
form: {form}
workflow: simple
"""

SEX_V1 = """\
kind: CodeSet
id: sex
name: 性别
values:
  - {code: "1", name: 男}
  - {code: "2", name: 女}
"""
SEX_V2 = SEX_V1 + '  - {code: "9", name: 未说明}\n'

FORM_V1 = """\
kind: Form
id: ibr_form
name: 个体工商户登记申请表
sections:
  - id: operator
    name: 经营者信息
    fields:
      - element: person_name
      - element: citizen_id_number
      - element: sex
      - element: agent_used
        required: false
  - id: business
    name: 经营信息
    fields:
      - element: business_scope
      - element: registered_capital
      - element: employees
      - element: opened_on
  - id: members
    name: 家庭成员
    repeat: {min: 0, max: 10}
    fields:
      - element: person_name
      - element: sex
        required: false
"""

FORM_V2 = """\
kind: Form
id: ibr_application
renamed_from: [ibr_form]
name: 个体工商户登记申请表
sections:
  - id: operator
    name: 经营者信息
    fields:
      - id: operator_name
        element: person_name
        renamed_from: [person_name]
      - element: citizen_id_number
      - element: sex
      - element: agent_used
        required: false
      - element: website
        required: false
  - id: business
    name: 经营信息
    fields:
      - element: business_scope
      - element: registered_capital
      - element: employees
      - element: opened_on
  - id: members
    name: 家庭成员
    repeat: {min: 0, max: 10}
    fields:
      - id: member_name
        element: person_name
        renamed_from: [person_name]
      - element: sex
        required: false
  - id: branches
    name: 分支机构
    repeat: {min: 0, max: 5}
    fields:
      - element: address
"""

FORM_V3 = FORM_V2.replace("      - element: business_scope\n", "")


def tree_files(
    form: str = "ibr_form", form_yaml: str = FORM_V1, sex: str = SEX_V1, base: str = BASE
) -> dict[str, str]:
    """The files of a standards tree: ``base`` and a matter filed on ``form``."""
    return {
        "base.yaml": base,
        "matters/ibr.yaml": MATTER.format(form=form),
        "forms/ibr.yaml": form_yaml,
        "codesets/sex.yaml": sex,
    }


VERSIONS_OF_TREE = {
    1: tree_files(),
    2: tree_files("ibr_application", FORM_V2, SEX_V2),
    3: tree_files("ibr_application", FORM_V3, SEX_V2),
}


def build(root: Path, files: dict[str, str]) -> PackageIR:
    """Write a standards tree below ``root`` and build region 'r' of it.

    Run from ``root``'s parent so that locations read ``<root name>/<file>:line:col``.
    """
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    tree, diagnostics, resolved = check_tree([root.name])
    assert not diagnostics.has_errors(), "\n".join(str(d) for d in diagnostics.errors)
    return build_package(tree, resolved, "r")


def build_version(tmp_path: Path, version: int) -> PackageIR:
    return build(tmp_path / "standards", VERSIONS_OF_TREE[version])


def generate_files(pkg: PackageIR, app: Path, allow_data_loss: bool = False) -> list[GeneratedFile]:
    """What ``govstd generate`` does with these renderers: render, format, write."""
    files = format_python(render_database(pkg, read_previous(app), allow_data_loss))
    write_package(app, files)
    return files


def revisions(app: Path) -> list[str]:
    return sorted(p.stem for p in (app / VERSIONS).glob("*.py"))


def tables(engine: sa.Engine) -> dict[str, sa.Table]:
    metadata = sa.MetaData()
    metadata.reflect(engine)
    return dict(metadata.tables)


def assert_models_match(engine: sa.Engine, app: Path) -> None:
    """The database the migrations made is the one ``models.py`` and ``tables/`` describe."""
    import importlib
    import sys
    import types

    name = f"govstd_models_{uuid.uuid4().hex[:8]}"  # the package as it is now, not as cached
    sys.modules[name] = types.ModuleType(name)
    sys.modules[name].__path__ = [str(app)]
    try:
        module = importlib.import_module(f"{name}.models")
        module.FORM_TABLES  # noqa: B018 - imports every form's tables into Base.metadata
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = [
                d
                for d in compare_metadata(context, module.Base.metadata)
                if not (
                    isinstance(d, tuple)
                    and d[0] == "remove_table"
                    and d[1].name == "alembic_version"
                )
            ]
        assert diff == []
    finally:
        for loaded in [n for n in sys.modules if n.split(".")[0] == name]:
            del sys.modules[loaded]
