"""Live-server tests: ``govstd serve --workers 2`` as a subprocess on 127.0.0.1.

The nanshan package is generated once per session into a temporary folder. Per
test module and database kind (SQLite file, and PostgreSQL when
``GOVSTD_TEST_POSTGRES_URL`` names a server) a fresh database is migrated with
``govstd migrate`` and a server started with ``govstd serve``; its stdout and
stderr go to a log file the tests read. Every wait here is bounded in time.

Figures the tests measure are printed (``pytest -s``) and repeated in the
terminal summary, so they show in the CI log.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from runtime.auth import issue_token
from runtime.crypto import Cipher, load_keys
from runtime.filecrypt import SealedFile
from runtime.identifiers import gb11643_check_char
from runtime.package import Package, load_package
from runtime.routes.materials import stored_context
from runtime.settings import Settings
from runtime.subjects import pseudonyms
from tests.helpers import (
    BACKENDS,
    DATA_KEY,
    SECRET,
    Figures,
    free_port,
    generate_package,
    govstd,
    govstd_command,
    ibr_data,
    postgres_database,
)

HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
SETTINGS = Settings(secret=SECRET, secret_is_dev=False)

FIGURES = Figures("govstd live-server figures")
report = FIGURES.report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    FIGURES.summary(terminalreporter)


# --- helpers ----------------------------------------------------------------------


def token(role: str, sub: str, **claims: Any) -> dict[str, str]:
    region = claims.pop("region", None if role == "applicant" else "nanshan")
    tok = issue_token(SETTINGS, role=role, sub=sub, region=region, **claims)
    return {"Authorization": f"Bearer {tok}"}


def stored_subject(sub: str) -> str:
    """How the server stores the applicant ``sub``: its pseudonym under ``DATA_KEY``."""
    return pseudonyms(Cipher(load_keys({"GOVSTD_DATA_KEY": DATA_KEY})[0]), sub)[0]


def stored_file(upload_dir: Path, row: Any) -> bytes:
    """The plaintext of a ``material_files`` row's file (encrypted at rest under ``DATA_KEY``)."""
    cipher = Cipher(load_keys({"GOVSTD_DATA_KEY": DATA_KEY})[0])
    return SealedFile(upload_dir / row.storage_name, cipher, stored_context(row)).read_all()


def citizen_id(n: int) -> str:
    """A valid, distinct GB 11643 number for each ``n`` (0 ≤ n < 3,650,000)."""
    born = time.gmtime(365 * 86400 * 20 + (n // 1000) * 86400)  # from 1990 on
    first17 = f"440305{born.tm_year:04d}{born.tm_mon:02d}{born.tm_mday:02d}{n % 1000:03d}"
    return first17 + gb11643_check_char(first17)


def ibr_body(n: int, **overrides: Any) -> dict[str, Any]:
    """A valid 个体工商户登记 submission, distinct for each ``n``."""
    data = ibr_data(
        person_name=f"张{n}",
        citizen_id_number=citizen_id(n),
        mobile_phone=f"138{n % 100_000_000:08d}",
        residence_address=f"深圳市南山区桃园路 {n} 号",
        registered_capital=5 + n % 7,
    )
    return {"region": "nanshan", "data": data | overrides}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


# --- databases --------------------------------------------------------------------


@dataclass
class LiveDB:
    kind: str
    url: str

    def engine(self) -> Engine:
        return create_engine(self.url)


def local_postgres(prefix: str) -> contextlib.AbstractContextManager[str]:
    """:func:`tests.helpers.postgres_database`, on this machine only (a server is started
    next to it)."""
    admin = os.environ.get("GOVSTD_TEST_POSTGRES_URL")
    host = make_url(admin).host if admin else None
    if host not in (None, "127.0.0.1", "localhost", "::1"):
        pytest.skip(f"GOVSTD_TEST_POSTGRES_URL must point at this machine, not {host}")
    return postgres_database(prefix)


def migrate(app_dir: Path, url: str) -> None:
    done = govstd("migrate", "--app", str(app_dir), "--db", url)
    assert done.returncode == 0, f"govstd migrate failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="session")
def live_package_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_package("nanshan", tmp_path_factory.mktemp("live-package") / "nanshan")


@pytest.fixture(scope="session")
def live_package(live_package_dir: Path) -> Package:
    return load_package(live_package_dir)


@pytest.fixture(scope="module", params=BACKENDS)
def live_db(
    request: pytest.FixtureRequest, live_package_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveDB]:
    """A freshly migrated database for the module: SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("live-sqlite")
        db = LiveDB("sqlite", f"sqlite:///{folder / 'govstd.db'}")
        migrate(live_package_dir, db.url)
        yield db
        return
    with local_postgres("govstd_live") as url:
        db = LiveDB("postgresql", url)
        migrate(live_package_dir, db.url)
        yield db


# --- the server -------------------------------------------------------------------


class LiveServer:
    """``govstd serve`` in its own process group; logs to ``log_path``."""

    def __init__(
        self,
        app_dir: Path,
        db: LiveDB,
        folder: Path,
        workers: int = 2,
        extra_env: dict[str, str] | None = None,  # more GOVSTD_* settings of a test
    ) -> None:
        self.app_dir = app_dir
        self.db = db
        self.folder = folder
        self.workers = workers
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.upload_dir = folder / "uploads"
        self.log_path = folder / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.extra_env = dict(extra_env or {})

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GOVSTD_")}
        env.update(
            GOVSTD_SECRET=SECRET,
            GOVSTD_DATA_KEY=DATA_KEY,
            GOVSTD_UPLOAD_DIR=str(self.upload_dir),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def logs(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        marker = f"--- start {self.starts} ---\n"
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(marker)
        before = len(self.logs())
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    *govstd_command(),
                    "serve",
                    "--app",
                    str(self.app_dir),
                    "--db",
                    self.db.url,
                    "--host",
                    HOST,
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.folder,
                env=self.env(),
                start_new_session=True,  # its own process group: master and workers
            )
        self._wait_ready(before)

    def _wait_ready(self, log_offset: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        healthy = False
        with httpx.Client(base_url=self.url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise AssertionError(
                        f"govstd serve exited with {self.proc.returncode}:\n{self.logs()[-4000:]}"
                    )
                if not healthy:
                    try:
                        healthy = client.get("/healthz").status_code == 200
                    except httpx.HTTPError:
                        healthy = False
                started = self.logs()[log_offset:].count("Application startup complete")
                if healthy and started >= self.workers:
                    return
                time.sleep(0.1)
        self.stop()
        raise AssertionError(
            f"govstd serve not ready in {START_TIMEOUT_S:.0f} s:\n{self.logs()[-4000:]}"
        )

    def kill(self) -> None:
        """SIGKILL the whole process group (the master and both workers) at once."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT_S)
        self._wait_group_gone(self.proc.pid)

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL what is left after a bounded wait."""
        if self.proc is None:
            return
        pid = self.proc.pid
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=STOP_TIMEOUT_S)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)  # stragglers (workers) of this group only
        if self.proc.poll() is None:
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        self._wait_group_gone(pid)

    @staticmethod
    def _wait_group_gone(pgid: int) -> None:
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            except PermissionError:
                return
            time.sleep(0.05)


@pytest.fixture(scope="module")
def live_server(
    live_db: LiveDB, live_package_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A running ``govstd serve --workers 2`` on the module's database."""
    server = LiveServer(live_package_dir, live_db, tmp_path_factory.mktemp(f"live-{live_db.kind}"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
