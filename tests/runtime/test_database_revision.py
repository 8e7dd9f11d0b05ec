"""The server and the database's revision (runtime/revision_guard.py).

- ``govstd serve`` refuses a missing database (never creating a SQLite file) and one
  not at the package's revision, with a zh/en line, exit 1;
- ``/healthz`` answers 503 when the database is not at the package's revision;
- a server whose database was migrated ahead (a column renamed) answers every request
  503 ``database_ahead``, never 500, and logs it once.

The live variant with a really newer package is tests/live/test_database_ahead.py.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from runtime import migrate
from tests.helpers import (
    DATA_KEY,
    SECRET,
    Api,
    free_port,
    govstd,
    postgres_database,
    query,
    unemployment_data,
)

SERVE_TIMEOUT_S = 60


def _serve(app_dir: Path, db: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVSTD_")}
    env.update(GOVSTD_SECRET=SECRET, GOVSTD_DATA_KEY=DATA_KEY)
    address = ["--host", "127.0.0.1", "--port", str(free_port())]
    try:
        serve = ["serve", "--app", str(app_dir), "--db", db, *address, *extra]
        return govstd(*serve, env=env, timeout=SERVE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"govstd serve started on {db} instead of refusing it")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_refuses_a_missing_sqlite_file_and_creates_nothing(
    package_dir: Path, tmp_path: Path, workers: str
) -> None:
    folder = tmp_path / "not-there"
    done = _serve(package_dir, f"sqlite:///{folder / 'govstd.db'}", "--workers", workers)
    assert done.returncode == 1, done.stderr
    assert "不存在" in done.stderr and "does not exist" in done.stderr, done.stderr
    assert "govstd migrate" in done.stderr and "Traceback" not in done.stderr
    assert not folder.exists()


def test_serve_refuses_an_unmigrated_sqlite_file(package_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    sqlite3.connect(db).close()
    done = _serve(package_dir, f"sqlite:///{db}")
    assert done.returncode == 1, done.stderr
    assert "尚未迁移" in done.stderr and "has not been migrated" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.postgres
def test_serve_refuses_an_unmigrated_postgresql_database(package_dir: Path) -> None:
    with postgres_database("govstd_unmigrated") as url:
        done = _serve(package_dir, url)
    assert done.returncode == 1, done.stderr
    assert "尚未迁移" in done.stderr and "has not been migrated" in done.stderr, done.stderr


@contextmanager
def _database_changed(db_url: str, *statements: str, undo: tuple[str, ...]) -> Iterator[None]:
    """Run ``statements`` on the database (another ``govstd migrate``); ``undo`` them after."""
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
        yield
    finally:
        with engine.begin() as conn:
            for statement in undo:
                conn.execute(text(statement))
        engine.dispose()


@pytest.mark.anyio
async def test_healthz_503_while_the_database_is_not_at_the_package_revision(
    api: Api, db_url: str
) -> None:
    assert (await api.get("/healthz")).status_code == 200
    [(revision,)] = query(db_url, text("SELECT version_num FROM alembic_version"))
    restore = (
        "DELETE FROM alembic_version",
        f"INSERT INTO alembic_version (version_num) VALUES ('{revision}')",
    )
    cases = {
        "database_unmigrated": ("DELETE FROM alembic_version",),
    }
    for code, statements in cases.items():
        with _database_changed(db_url, *statements, undo=restore):
            r = await api.get("/healthz")
            assert r.status_code == 503, r.text
            assert r.json() == {"status": "unavailable", "code": code}
            r = await api.get("/api/matters")  # no query, refused all the same
            assert r.status_code == 503 and r.json()["error"]["code"] == code
        assert (await api.get("/healthz")).status_code == 200  # taken back: serving again
        assert (await api.get("/api/matters")).status_code == 200
    # ahead (a newer package migrated it, as in a rolling upgrade): still served while its
    # SQL works, so that the upgrade needs no downtime; /healthz says so and stays 200
    with _database_changed(
        db_url, "UPDATE alembic_version SET version_num = 'f0f0f0f0f0f0'", undo=restore
    ):
        r = await api.get("/healthz")
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "ok", "database": "ahead", "code": "database_ahead"}
        assert (await api.get("/api/matters")).status_code == 200


@pytest.mark.anyio
async def test_a_database_migrated_ahead_answers_503_never_500(
    api: Api, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A newer package renamed a column and recorded its revision (as its migration would)."""
    h = api.token("applicant", "citizen-ahead")
    url = "/api/matters/unemployment_registration/applications"
    body = {"region": "nanshan", "data": unemployment_data()}
    created = await api.post(url, json=body, headers=h)
    assert created.status_code == 201, created.text
    table = "form_unemployment_registration_form"
    [(revision,)] = query(db_url, text("SELECT version_num FROM alembic_version"))
    ahead = (
        f"ALTER TABLE {table} RENAME COLUMN mobile_phone TO contact_phone",
        "UPDATE alembic_version SET version_num = 'a1b2c3d4e5f6'",
    )
    back = (
        f"ALTER TABLE {table} RENAME COLUMN contact_phone TO mobile_phone",
        f"UPDATE alembic_version SET version_num = '{revision}'",
    )
    caplog.set_level(logging.INFO, logger="govstd.runtime")
    with _database_changed(db_url, *ahead, undo=back):
        answers = [  # each needs the renamed column
            await api.post(url, json=body, headers=h),
            await api.get(f"/api/applications/{created.json()['id']}", headers=h),
        ]
        en = await api.get(
            f"/api/applications/{created.json()['id']}", headers={**h, "Accept-Language": "en"}
        )
        answers.append(en)
        for r in answers:
            assert r.status_code == 503, r.text
            assert r.json()["error"]["code"] == "database_ahead"
            assert r.headers["retry-after"]
        assert (await api.get("/api/matters")).status_code == 200  # no query on it: served
        assert "更新的部署包" in answers[0].json()["error"]["message"]
        assert "newer package" in answers[-1].json()["error"]["message"]
    said = [r.getMessage() for r in caplog.records if "database_ahead" in r.getMessage()]
    assert len(said) == 1, said  # once, with both revisions and what to do
    assert "a1b2c3d4e5f6" in said[0] and revision in said[0] and "新" in said[0]
    assert not [r for r in caplog.records if "failed:" in r.getMessage()]  # no 500 logged
    assert (await api.get("/healthz")).status_code == 200
    assert (await api.post(url, json=body, headers=h)).status_code == 201


@pytest.mark.parametrize("region", ["nanshan", "hangzhou"])
def test_the_package_revisions_read_without_running_them_are_alembics(
    region: str, tmp_path: Path
) -> None:
    """``serve`` reads the revisions' identifiers from their files' heads (a province's first
    revision is megabytes); they are the ones alembic finds, and a revision file that says
    them some other way is left to alembic."""
    app = tmp_path / region
    shutil.copytree(Path(__file__).parents[2] / "generated" / region, app)
    script = ScriptDirectory.from_config(migrate.config(app, ""))
    alembic_heads = tuple(script.get_heads())
    alembic_all = frozenset(sc.revision for sc in script.walk_revisions())
    assert migrate.declared(app) is not None
    assert migrate.heads(app) == alembic_heads and migrate.revisions(app) == alembic_all
    assert len(alembic_all) > 1
    [newest] = alembic_heads
    odd = app / "migrations" / "versions" / "9999_odd.py"
    odd.write_text(f'revision = "9999" + ""\ndown_revision = "{newest}"\n', encoding="utf-8")
    assert migrate.declared(app) is None
    assert migrate.heads(app) == ("9999",) and "9999" in migrate.revisions(app)
