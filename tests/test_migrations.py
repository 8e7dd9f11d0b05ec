"""Migrations generated from successive versions of a standards tree, run on SQLite and
PostgreSQL (``GOVSTD_TEST_POSTGRES_URL``, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``: a fresh database is created
for the run and dropped after it).

The scenario: v1 → upgrade → applications with form and group rows → v2 renames a
field, a group field and the form, adds an optional field, a repeating group and a code
value → upgrade → every value is still there under its new name → v3 drops a field:
refused, then allowed → downgrade revision by revision to base → upgrade again. The three
trees are in tests/helpers.py (VERSIONS_OF_TREE), shared with test_migration_safety.
"""

from __future__ import annotations

import datetime
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from generator import writer
from generator.build import build_package
from generator.pipeline import check_tree
from generator.previous import VERSIONS, read_previous
from generator.render import GenerateError
from generator.render.migrations import SNAPSHOT, render_migrations
from generator.render.models import render_models
from generator.render.sealing import sealed_as
from generator.render.snapshot import load_snapshot
from generator.writer import format_python, write_package
from runtime import migrate
from tests.helpers import (
    BACKENDS,
    BASE,
    FORM_V1,
    MATTER,
    STANDARDS,
    application_row,
    assert_models_match,
    build,
    build_version,
    fk_engine,
    generate_files,
    new_database,
    postgres_database,
    revisions,
    tables,
    tree_files,
)

# ---------------------------------------------------------------- databases


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with new_database(request.param, tmp_path / "app.db") as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    eng = fk_engine(db_url)
    yield eng
    eng.dispose()


def rows(engine: sa.Engine, table: str, order: str) -> list[dict[str, Any]]:
    t = tables(engine)[table]
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(t).order_by(t.c[order]))]


def _models_text(app: Path) -> str:
    """``models.py`` and every ``tables/<form>.py``."""
    files = [app / "models.py", *sorted((app / "tables").glob("*.py"))]
    return "".join(f.read_text(encoding="utf-8") for f in files)


APP_IDS = [str(uuid.UUID(int=i + 1)) for i in range(3)]


def insert_v1_data(engine: sa.Engine) -> None:
    t = tables(engine)
    with engine.begin() as conn:
        for i, app_id in enumerate(APP_IDS):
            conn.execute(
                sa.insert(t["applications"]), application_row(app_id, "ibr_form", number=f"N{i}")
            )
            conn.execute(
                sa.insert(t["form_ibr_form"]),
                {
                    "application_id": app_id,
                    "person_name": f"张三{i}",
                    "citizen_id_number": f"ciphertext-{i}",
                    "sex": "1",
                    "agent_used": i % 2 == 0,
                    "business_scope": f"餐饮服务 {i}",
                    "registered_capital": Decimal("12345.67") + i,
                    "employees": 10**12 + i,
                    "opened_on": datetime.date(2026, 1, 5 + i),
                },
            )
            for position in range(2):
                conn.execute(
                    sa.insert(t["form_ibr_form__members"]),
                    {
                        "application_id": app_id,
                        "position": position,
                        "person_name": f"成员{i}-{position}",
                        "sex": "2",
                    },
                )


def check_form_rows(
    engine: sa.Engine, table: str, name_column: str, scope: bool, updated: bool = False
) -> None:
    found = rows(engine, table, "application_id")
    assert [r["application_id"] for r in found] == APP_IDS
    for i, r in enumerate(found):
        assert r[name_column] == f"张三{i}"
        assert r["citizen_id_number"] == f"ciphertext-{i}"
        assert r["sex"] == ("9" if updated and i == 1 else "1")
        assert bool(r["agent_used"]) is (i % 2 == 0)
        assert Decimal(r["registered_capital"]) == Decimal("12345.67") + i
        assert r["employees"] == 10**12 + i
        assert r["opened_on"] == datetime.date(2026, 1, 5 + i)
        if scope:
            assert r["business_scope"] == f"餐饮服务 {i}"
        else:
            assert "business_scope" not in r


def check_group_rows(engine: sa.Engine, table: str, name_column: str, added: bool = False) -> None:
    found = rows(engine, table, "id")
    expected: list[tuple[str, int, str, str | None]] = [
        (app_id, position, f"成员{i}-{position}", "2")
        for i, app_id in enumerate(APP_IDS)
        for position in range(2)
    ]
    if added:  # the row inserted after v2 (its id from the sequence / rowid)
        expected.append((APP_IDS[2], 2, "新成员", None))
    assert [(r["application_id"], r["position"], r[name_column], r["sex"]) for r in found] == (
        expected
    )


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the package goes; the test runs from ``tmp_path`` (see :func:`build`)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path / "app"


@pytest.fixture
def at_v1(tmp_path: Path, app: Path, db_url: str, engine: sa.Engine) -> Path:
    """The v1 package generated, the database upgraded to it, applications in it."""
    generate_files(build_version(tmp_path, 1), app)
    migrate.upgrade(app, db_url)
    insert_v1_data(engine)
    return app


# ---------------------------------------------------------------- the scenario


def test_scenario(tmp_path: Path, app: Path, db_url: str, engine: sa.Engine) -> None:
    # v1: the first revision creates every table.
    generate_files(build_version(tmp_path, 1), app)
    [rev1] = revisions(app)
    assert rev1.startswith("0001_")
    migrate.upgrade(app, db_url)
    assert migrate.current(app, db_url) == rev1
    assert_models_match(engine, app)
    insert_v1_data(engine)

    # v2: renames (form, field, group field), an optional field, a group, a code value.
    generate_files(build_version(tmp_path, 2), app)
    rev1_again, rev2 = revisions(app)
    assert rev1_again == rev1 and rev2.startswith("0002_")
    text = (app / VERSIONS / f"{rev2}.py").read_text(encoding="utf-8")
    assert 'op.rename_table("form_ibr_form", "form_ibr_application")' in text
    assert 'op.rename_table("form_ibr_form__members", "form_ibr_application__members")' in text
    assert 'new_column_name="operator_name"' in text
    assert 'new_column_name="member_name"' in text
    assert "drop_column" not in text.split("def downgrade")[0]
    assert "destructive = False" in text
    migrate.upgrade(app, db_url)
    assert migrate.current(app, db_url) == rev2
    assert_models_match(engine, app)
    names = set(tables(engine))
    assert {
        "form_ibr_application",
        "form_ibr_application__members",
        "form_ibr_application__branches",
    } <= names
    assert not {"form_ibr_form", "form_ibr_form__members"} & names
    check_form_rows(engine, "form_ibr_application", "operator_name", scope=True)
    check_group_rows(engine, "form_ibr_application__members", "member_name")
    assert all(r["website"] is None for r in rows(engine, "form_ibr_application", "website"))
    assert [r["form"] for r in rows(engine, "applications", "id")] == ["ibr_application"] * 3
    t = tables(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(t["form_ibr_application__branches"]),
            {"application_id": APP_IDS[0], "position": 0, "address": "深圳市南山区"},
        )
        conn.execute(
            sa.insert(t["form_ibr_application__members"]),
            {"application_id": APP_IDS[2], "position": 2, "member_name": "新成员"},
        )
        conn.execute(
            sa.update(t["form_ibr_application"])
            .where(t["form_ibr_application"].c.application_id == APP_IDS[1])
            .values(sex="9", website="https://example.cn")
        )

    # Generating v2 again changes nothing: no new revision, same bytes.
    before = {p: p.read_bytes() for p in app.rglob("*") if p.is_file()}
    generate_files(build_version(tmp_path, 2), app)
    assert {p: p.read_bytes() for p in app.rglob("*") if p.is_file()} == before

    # v3 drops a field: refused, naming the field, the table and the source file.
    pkg3 = build_version(tmp_path, 3)
    with pytest.raises(GenerateError) as refused:
        render_migrations(pkg3, read_previous(app))
    [line] = refused.value.lines
    assert line.startswith("forms/ibr.yaml:")  # relative to the standards root
    assert "field 'business_scope' (element business_scope) of form 'ibr_application'" in line
    assert "dropping column form_ibr_application.business_scope loses its data" in line
    assert "--allow-data-loss" in line
    assert revisions(app) == [rev1, rev2]  # nothing written

    generate_files(pkg3, app, allow_data_loss=True)
    rev3 = revisions(app)[-1]
    assert rev3.startswith("0003_")
    assert "destructive = True" in (app / VERSIONS / f"{rev3}.py").read_text(encoding="utf-8")
    # the steps that lose data are listed as data in the revision, shown before it asks
    [lossy] = migrate.destructive_steps(app, db_url)
    steps = [line for line in lossy.splitlines() if line.startswith("- ")]
    assert len(steps) == 1 and "business_scope" in steps[0], lossy
    with pytest.raises(migrate.MigrationError, match="business_scope"):
        migrate.upgrade(app, db_url)
    assert migrate.current(app, db_url) == rev2
    migrate.upgrade(app, db_url, allow_data_loss=True)
    assert migrate.current(app, db_url) == rev3
    assert_models_match(engine, app)
    check_form_rows(engine, "form_ibr_application", "operator_name", scope=False, updated=True)
    check_group_rows(engine, "form_ibr_application__members", "member_name", added=True)
    assert [r["address"] for r in rows(engine, "form_ibr_application__branches", "id")] == [
        "深圳市南山区"
    ]

    # Downgrade revision by revision, the data following where it can.
    migrate.downgrade(app, db_url, rev2)
    assert migrate.current(app, db_url) == rev2
    found = rows(engine, "form_ibr_application", "application_id")
    assert [r["business_scope"] for r in found] == [None, None, None]  # the column is back
    assert found[1]["website"] == "https://example.cn"

    migrate.downgrade(app, db_url, rev1)
    assert migrate.current(app, db_url) == rev1
    names = set(tables(engine))
    assert {"form_ibr_form", "form_ibr_form__members"} <= names
    assert not any(n.startswith("form_ibr_application") for n in names)
    found = rows(engine, "form_ibr_form", "application_id")
    assert [r["person_name"] for r in found] == ["张三0", "张三1", "张三2"]
    assert "website" not in found[0]
    check_group_rows(engine, "form_ibr_form__members", "person_name", added=True)
    assert [r["form"] for r in rows(engine, "applications", "id")] == ["ibr_form"] * 3

    migrate.downgrade(app, db_url, "base")
    assert migrate.current(app, db_url) is None
    assert set(tables(engine)) <= {"alembic_version"}

    # And up again, to the newest revision.
    migrate.upgrade(app, db_url, allow_data_loss=True)
    assert migrate.current(app, db_url) == rev3
    assert_models_match(engine, app)


def test_cascade_survives_batch_migration(
    tmp_path: Path, at_v1: Path, db_url: str, engine: sa.Engine
) -> None:
    """Tables altered in batch mode (SQLite copies them) keep their ON DELETE CASCADE."""
    app = at_v1
    generate_files(build_version(tmp_path, 2), app)
    migrate.upgrade(app, db_url)
    t = tables(engine)
    with engine.begin() as conn:
        conn.execute(sa.delete(t["applications"]).where(t["applications"].c.id == APP_IDS[0]))
    assert [
        r["application_id"] for r in rows(engine, "form_ibr_application", "application_id")
    ] == APP_IDS[1:]
    members = rows(engine, "form_ibr_application__members", "id")
    assert {r["application_id"] for r in members} == set(APP_IDS[1:])


# ---------------------------------------------------------------- rendering only


def test_first_run_and_unchanged(tmp_path: Path, app: Path) -> None:
    pkg = build_version(tmp_path, 1)
    first = render_migrations(pkg, read_previous(None))
    assert first == render_migrations(pkg, read_previous(tmp_path / "nothing-here"))
    paths = [f.path for f in first]
    assert paths[:2] == [SNAPSHOT, "migrations/env.py"]
    [revision] = [p for p in paths if p.startswith(VERSIONS)]
    assert revision.startswith(f"{VERSIONS}/0001_")
    text = next(f.content for f in first if f.path == revision)
    assert "down_revision = None" in text
    assert "please adjust" not in text
    assert text.startswith("# Generated by govstd")

    files = generate_files(pkg, app)
    again = format_python(render_models(pkg) + render_migrations(pkg, read_previous(app)))
    assert again == files  # nothing changed: no new revision, the same bytes


def test_renamed_table_refuses_to_drop_without_renamed_from(tmp_path: Path, app: Path) -> None:
    """Renaming a form without ``renamed_from`` is a drop: every lost table is named."""
    generate_files(build_version(tmp_path, 1), app)
    other = FORM_V1.replace("id: ibr_form", "id: ibr_other")
    pkg = build(tmp_path / "standards", tree_files("ibr_other", other))
    with pytest.raises(GenerateError) as refused:
        render_migrations(pkg, read_previous(app))
    lines = refused.value.lines
    assert len(lines) == 2
    assert any("form 'ibr_form' was removed: dropping table form_ibr_form " in x for x in lines)
    assert any(
        "group 'members' of form 'ibr_form' was removed: dropping table "
        "form_ibr_form__members " in x
        for x in lines
    )


def test_narrowing_and_type_change_are_data_loss(
    tmp_path: Path, at_v1: Path, db_url: str, engine: sa.Engine
) -> None:
    app = at_v1
    narrowed = FORM_V1.replace(
        "      - element: person_name\n      - element: citizen_id_number",
        "      - element: person_name\n        max_length: 2\n      - element: citizen_id_number",
    ).replace("      - element: opened_on\n", "      - {id: opened_on, element: employees}\n")
    pkg = build(tmp_path / "standards", tree_files(form_yaml=narrowed))
    with pytest.raises(GenerateError) as refused:
        render_migrations(pkg, read_previous(app))
    lines = refused.value.lines
    assert len(lines) == 2, lines
    assert (
        "field 'person_name' (element person_name) of form 'ibr_form' changed type from "
        "String(50) to String(2): narrowing column form_ibr_form.person_name cuts longer "
        "values to 2 characters" in lines[0]
    )
    assert "field 'opened_on' (element employees)" in lines[1]
    assert "changed type from Date() to BigInteger()" in lines[1]

    generate_files(pkg, app, allow_data_loss=True)
    migrate.upgrade(app, db_url, allow_data_loss=True)
    assert_models_match(engine, app)
    found = rows(engine, "form_ibr_form", "application_id")
    assert [r["person_name"] for r in found] == ["张三", "张三", "张三"]  # cut to 2
    assert [r["opened_on"] for r in found] == [None, None, None]
    migrate.downgrade(app, db_url, "-1")
    after = rows(engine, "form_ibr_form", "application_id")
    assert after[0]["business_scope"] == "餐饮服务 0"


def test_hand_edited_package_is_refused(tmp_path: Path, app: Path) -> None:
    pkg = build_version(tmp_path, 1)
    generate_files(pkg, app)
    [revision] = (app / VERSIONS).glob("*.py")
    revision.unlink()
    with pytest.raises(GenerateError, match=r"records revision 0001_\w+ but the head"):
        render_migrations(pkg, read_previous(app))


@pytest.fixture
def v2_pending(tmp_path: Path, app: Path) -> Iterator[tuple[Path, str, str, sa.Engine]]:
    """On PostgreSQL: v1 applied, v2 (it renames form_ibr_form: ACCESS EXCLUSIVE) generated
    but not applied. The package, the database's URL, revision 1 and a service's engine."""
    with postgres_database() as url:
        generate_files(build_version(tmp_path, 1), app)
        migrate.upgrade(app, url)
        [rev1] = revisions(app)
        generate_files(build_version(tmp_path, 2), app)
        service = sa.create_engine(url, poolclass=sa.pool.NullPool)
        yield app, url, rev1, service
        service.dispose()


@pytest.mark.postgres
def test_a_migration_blocked_by_a_lock_gives_up_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, v2_pending: tuple[Path, str, str, sa.Engine]
) -> None:
    """A table held by the running service: the ALTER waits lock_timeout, then fails cleanly."""
    app, url, rev1, service = v2_pending
    monkeypatch.setenv("GOVSTD_MIGRATION_LOCK_TIMEOUT", "300ms")
    with service.connect() as holder:
        holder.exec_driver_sql("BEGIN")
        holder.exec_driver_sql("SELECT count(*) FROM form_ibr_form")  # ACCESS SHARE, held
        started = time.monotonic()
        with pytest.raises(migrate.MigrationError, match="lock a table within 300ms"):
            migrate.upgrade(app, url)
        assert time.monotonic() - started < 20  # gave up; did not wait for the holder
        holder.exec_driver_sql("ROLLBACK")
    assert migrate.current(app, url) == rev1  # nothing of revision 2 was applied
    assert "form_ibr_form" in tables(service)
    migrate.upgrade(app, url)  # once the lock is gone it runs
    assert migrate.current(app, url) == revisions(app)[-1]
    assert "form_ibr_application" in tables(service)


def test_a_bad_timeout_setting_is_refused_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app: Path
) -> None:
    generate_files(build_version(tmp_path, 1), app)
    db = tmp_path / "app.db"
    for bad in ("5s'; DROP TABLE x; --", "999999999h", "5 seconds"):
        monkeypatch.setenv("GOVSTD_MIGRATION_LOCK_TIMEOUT", bad)
        with pytest.raises(migrate.MigrationError, match="GOVSTD_MIGRATION_LOCK_TIMEOUT"):
            migrate.upgrade(app, f"sqlite:///{db}")
        assert not db.exists()


# ---------------------------------------------------------------- renamed data elements


def test_renaming_an_element_renames_the_columns_of_its_fields(
    tmp_path: Path, at_v1: Path, db_url: str, engine: sa.Engine
) -> None:
    """``renamed_from`` on a DataElement renames the column of every field named after it
    (here one in the form, one in a repeating group): the rows keep their values."""
    app = at_v1
    renamed = BASE.replace("id: person_name\n", "id: full_name\nrenamed_from: [person_name]\n")
    form = FORM_V1.replace("- element: person_name\n", "- element: full_name\n")
    assert form.count("element: full_name") == 2
    files = tree_files(form_yaml=form, base=renamed)
    generate_files(build(tmp_path / "standards", files), app)  # no data loss: it is a rename
    assert len(revisions(app)) == 2
    migrate.upgrade(app, db_url)
    check_form_rows(engine, "form_ibr_form", "full_name", scope=True)
    check_group_rows(engine, "form_ibr_form__members", "full_name")
    assert "person_name" not in tables(engine)["form_ibr_form"].c
    assert_models_match(engine, app)


# ---------------------------------------------------------------- sensitive columns renamed


def _sealed(app: Path) -> dict[str, str]:
    """``<table>.<column>`` → the context its values are sealed under, from schema.json."""
    snapshot = load_snapshot((app / SNAPSHOT).read_text(encoding="utf-8"))
    return {
        f"{t.name}.{c.name}": sealed_as(t.name, c)
        for t in snapshot.tables
        for c in t.columns
        if c.sensitive
    }


def test_a_sensitive_column_keeps_its_context_through_renames_and_generations(
    tmp_path: Path, app: Path
) -> None:
    """Values are sealed with where the column was created (runtime/records.py): a renamed
    column (field, then form) keeps that context in schema.json and tables/, also when
    the next standards drop ``renamed_from``; a column created later under the first name
    gets a context of its own, so no two columns share one."""
    root = tmp_path / "standards"
    first = "form_ibr_form.citizen_id_number"
    files = tree_files()
    generate_files(build(root, files), app)
    assert _sealed(app) == {first: first}
    assert "sealed_as" not in _models_text(app)

    field = "      - element: citizen_id_number\n"
    renamed = "      - id: operator_id\n        element: citizen_id_number\n"
    files["forms/ibr.yaml"] = FORM_V1.replace(
        field, renamed + "        renamed_from: [citizen_id_number]\n"
    )
    generate_files(build(root, files), app)
    assert len(revisions(app)) == 2
    assert _sealed(app) == {"form_ibr_form.operator_id": first}
    models = _models_text(app)
    assert f'info={{"sealed_as": "{first}"}}' in models

    # The next standards no longer say where the name came from, and add a field under
    # the first name: a new column, sealed apart.
    files["forms/ibr.yaml"] = FORM_V1.replace(field, renamed + field)
    generate_files(build(root, files), app)
    assert len(revisions(app)) == 3
    assert _sealed(app) == {"form_ibr_form.operator_id": first, first: f"{first}#2"}

    # The form is renamed: both columns keep their contexts.
    files["forms/ibr.yaml"] = files["forms/ibr.yaml"].replace(
        "id: ibr_form\n", "id: ibr_application\nrenamed_from: [ibr_form]\n"
    )
    files["matters/ibr.yaml"] = MATTER.format(form="ibr_application")
    generate_files(build(root, files), app)
    assert len(revisions(app)) == 4
    assert _sealed(app) == {
        "form_ibr_application.operator_id": first,
        "form_ibr_application.citizen_id_number": f"{first}#2",
    }


@pytest.mark.postgres
def test_a_statement_past_the_statement_timeout_gives_up_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, v2_pending: tuple[Path, str, str, sa.Engine]
) -> None:
    """statement_timeout is set too: a statement of the migration still running (here,
    waiting) past it is cancelled with a zh/en message, and nothing of the run stays."""
    app, url, rev1, service = v2_pending
    monkeypatch.setenv("GOVSTD_MIGRATION_LOCK_TIMEOUT", "60s")  # the lock would wait long
    monkeypatch.setenv("GOVSTD_MIGRATION_STATEMENT_TIMEOUT", "400ms")
    with service.connect() as holder:
        holder.exec_driver_sql("BEGIN")
        holder.exec_driver_sql("SELECT count(*) FROM form_ibr_form")
        started = time.monotonic()
        with pytest.raises(migrate.MigrationError, match="ran longer than 400ms"):
            migrate.upgrade(app, url)
        took = time.monotonic() - started
        holder.exec_driver_sql("ROLLBACK")
    assert took < 20, took  # the statement timeout ended it, not the lock timeout
    assert migrate.current(app, url) == rev1
    assert "form_ibr_form" in tables(service)


def _waiting_for_a_lock(engine: sa.Engine, timeout: float = 10.0) -> bool:
    """Whether another session of the database waits for a lock (the migration's ALTER)."""
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            ).scalar_one()
            if waiting:
                return True
            conn.rollback()  # a new snapshot of pg_stat_activity next time
            time.sleep(0.02)
    return False


@pytest.mark.postgres
def test_service_reads_do_not_stall_behind_a_waiting_migration(
    monkeypatch: pytest.MonkeyPatch, v2_pending: tuple[Path, str, str, sa.Engine]
) -> None:
    """An ALTER waiting for a table queues every later reader of that table behind it. With
    lock_timeout the ALTER gives up and the reads proceed: a read that arrives while the
    migration waits is answered within the lock timeout. Without it (0: no limit) the same
    read stalls for as long as the first transaction holds the table."""
    app, url, rev1, service = v2_pending
    lock_timeout = 1.5

    def read_while_the_migration_waits(setting: str) -> tuple[float | None, BaseException | None]:
        """Start the migration behind a holder of the table, read the table as the service
        would (its own statement timeout 4 s), then let the holder go."""
        monkeypatch.setenv("GOVSTD_MIGRATION_LOCK_TIMEOUT", setting)
        outcome: list[BaseException | None] = []

        def run() -> None:
            try:
                migrate.upgrade(app, url)
                outcome.append(None)
            except BaseException as exc:  # handed to the test's thread
                outcome.append(exc)

        with service.connect() as holder:
            holder.exec_driver_sql("BEGIN")
            holder.exec_driver_sql("SELECT count(*) FROM form_ibr_form")  # ACCESS SHARE, held
            migration = threading.Thread(target=run)
            migration.start()
            assert _waiting_for_a_lock(service), "the migration never waited for the table"
            read_in: float | None = None
            with service.connect() as reader:
                reader.exec_driver_sql("SET statement_timeout = '4s'")
                started = time.monotonic()
                try:
                    reader.exec_driver_sql("SELECT count(*) FROM form_ibr_form").scalar_one()
                    read_in = time.monotonic() - started
                except sa.exc.OperationalError:
                    read_in = None  # cancelled after 4 s: stalled behind the ALTER
            holder.exec_driver_sql("ROLLBACK")
            migration.join(30)
        assert not migration.is_alive()
        return read_in, outcome[0]

    read_in, error = read_while_the_migration_waits(f"{int(lock_timeout * 1000)}ms")
    assert isinstance(error, migrate.MigrationError), error
    assert read_in is not None and read_in < lock_timeout + 1.0, read_in
    assert migrate.current(app, url) == rev1
    # the contrast: no lock timeout, and the read is stuck behind the waiting ALTER
    stalled, error = read_while_the_migration_waits("0")
    assert stalled is None, stalled
    assert error is None  # it ran once the holder let go
    assert migrate.current(app, url) == revisions(app)[-1]
    print(
        f"\n[migrations] a read behind an ALTER waiting for its lock: answered in "
        f"{read_in * 1000:.0f} ms with lock_timeout {lock_timeout * 1000:.0f} ms; "
        "stalled (cancelled at 4 s) without one"
    )


def test_a_big_revision_is_formatted_in_pieces_as_a_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer hands ``ruff format`` a big revision in pieces of statements
    (generator/writer.py ``_revision_pieces``): joined, they are the bytes of the whole
    formatted at once. Here with pieces of 1,000 characters, on the first revisions of the
    bundled province (long lines among them) and of a synthetic tree."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from synth import write_tree

    write_tree(tmp_path / "tree", 30)
    revisions = []
    for root, region in ((tmp_path / "tree", "province"), (STANDARDS, "guangdong")):
        tree, diagnostics, resolved = check_tree([root])
        assert not diagnostics.has_errors()
        files = render_migrations(build_package(tree, resolved, region), read_previous(None))
        revisions += [f for f in files if f.path.startswith(VERSIONS)]
    for k, revision in enumerate(revisions):
        whole = write_package(tmp_path / f"whole{k}", [revision])
        monkeypatch.setattr(writer, "_PIECE", 1000)
        assert len(writer._revision_pieces(revision)) > 5
        cut = write_package(tmp_path / f"cut{k}", [revision])
        monkeypatch.undo()
        assert whole.written == cut.written == [revision.path]
        text = (tmp_path / f"whole{k}" / revision.path).read_bytes()
        assert (tmp_path / f"cut{k}" / revision.path).read_bytes() == text
        assert sorted(p.name for p in (tmp_path / f"cut{k}").iterdir()) == ["migrations"]
