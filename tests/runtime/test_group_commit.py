"""Filings committed in groups (runtime/db.py ``GroupCommit``), issue 13.

Many filings share one transaction (SQLite and PostgreSQL); none may be lost or failed
by another's failure, none answered before its commit, and waiting for SQLite's write
lock must not stop the event loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import NullPool

from runtime.db import group_commit, make_engine
from tests.helpers import Api, ibr_data

META = MetaData()
ROWS = Table("rows", META, Column("id", Integer, primary_key=True), Column("v", String))


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    META.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(ROWS), {"id": 0, "v": "there before"})
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def either(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A SQLite or a PostgreSQL engine holding ``rows`` with one row (id 0)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("engine")
        return
    engine = make_engine(request.getfixturevalue("postgres_url"))
    META.drop_all(engine)
    META.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(ROWS), {"id": 0, "v": "there before"})
    yield engine
    META.drop_all(engine)
    engine.dispose()


def _adding(row_id: int) -> Any:
    def job(conn: Connection) -> int:
        conn.execute(insert(ROWS), {"id": row_id, "v": f"row {row_id}"})
        return row_id

    return job


def _failing(conn: Connection) -> None:
    conn.execute(insert(ROWS), {"id": 1000, "v": "written, then rolled back"})
    raise ValueError("this filing fails after writing")


def _count(engine: Any) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(ROWS.c.id)).all())


@pytest.mark.anyio
async def test_one_commit_for_many_and_a_failure_fails_only_its_own(either: Any) -> None:
    engine = either
    commits: list[int] = []
    event.listen(engine, "commit", lambda _conn: commits.append(1))
    group = group_commit(engine)
    assert group is not None
    jobs = [_adding(i) for i in range(1, 21)]
    jobs[5] = _adding(0)  # the primary key of a row already there: IntegrityError
    jobs[9] = _failing  # raises in the middle of the group
    outcomes = await asyncio.gather(*(group.run(j) for j in jobs), return_exceptions=True)
    assert isinstance(outcomes[5], IntegrityError)
    assert isinstance(outcomes[9], ValueError)
    good = [o for i, o in enumerate(outcomes) if i not in (5, 9)]
    assert good == [i for i in range(1, 21) if i not in (6, 10)]
    assert _count(engine) == 1 + 18  # the one before and every good filing; not row 1000
    assert len(commits) == 1  # all 20 in one transaction


@pytest.mark.anyio
async def test_waiting_for_the_write_lock_leaves_the_loop_free(engine: Any, tmp_path: Path) -> None:
    holder = sqlite3.connect(tmp_path / "g.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing
    group = group_commit(engine)
    assert group is not None
    filing = asyncio.ensure_future(group.run(_adding(7)))
    ticks = 0
    for _ in range(20):  # the loop keeps serving while the filing waits
        await asyncio.sleep(0.005)
        ticks += 1
    assert ticks == 20 and not filing.done()  # not answered before its commit
    holder.execute("COMMIT")
    assert await asyncio.wait_for(filing, 5) == 7
    assert _count(engine) == 2
    holder.close()


@pytest.mark.anyio
async def test_concurrent_filings_with_a_repeated_key_all_stored_once(api: Api) -> None:
    """Ten filings and two with one Idempotency-Key at once (SQLite: in one group, where
    the second key's insert fails): eleven applications, twelve 201s, the two equal."""
    applicant = api.token("applicant", "group-applicant")
    url = "/api/matters/ibr/applications"
    body = {"region": "nanshan", "data": ibr_data()}
    keyed = {**applicant, "Idempotency-Key": "same-key"}
    answers = await asyncio.gather(
        *(api.post(url, json=body, headers=applicant) for _ in range(10)),
        api.post(url, json=body, headers=keyed),
        api.post(url, json=body, headers=keyed),
    )
    assert [r.status_code for r in answers] == [201] * 12, [r.text for r in answers]
    assert answers[10].json() == answers[11].json()
    ids = {r.json()["id"] for r in answers}
    numbers = {r.json()["number"] for r in answers}
    assert len(ids) == len(numbers) == 11
    listed = await api.get("/api/applications?page_size=100", headers=applicant)
    assert listed.json()["total"] == 11
    for app_id in ids:  # each one stored whole: data and history read back
        r = await api.get(f"/api/applications/{app_id}", headers=applicant)
        assert r.status_code == 200 and r.json()["data"]["citizen_id_number"]
        assert [t["transition"] for t in r.json()["transitions"]] == ["submit"]


@pytest.mark.anyio
async def test_a_database_error_before_the_transaction_fails_the_group_not_hangs_it(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import runtime.db

    busy_timeout = runtime.db._busy_timeout

    def broken(conn: Connection, ms: int) -> None:
        if ms == 0:
            raise OperationalError("PRAGMA", None, sqlite3.OperationalError("disk I/O error"))
        busy_timeout(conn, ms)

    monkeypatch.setattr(runtime.db, "_busy_timeout", broken)
    group = group_commit(engine)
    assert group is not None
    outcomes = await asyncio.wait_for(
        asyncio.gather(group.run(_adding(1)), group.run(_adding(2)), return_exceptions=True), 5
    )
    assert all(isinstance(o, OperationalError) for o in outcomes)
    monkeypatch.setattr(runtime.db, "_busy_timeout", busy_timeout)
    assert await asyncio.wait_for(group.run(_adding(3)), 5) == 3  # the lock was given back
    assert _count(engine) == 2


@pytest.mark.postgres
@pytest.mark.anyio
async def test_a_connection_postgresql_dropped_while_idle_is_replaced_before_use(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As after a restart of PostgreSQL: the pool's connection is gone; the next read
    gets a fresh one (pinged before use only after idling, not at every checkout)."""
    import runtime.db

    engine = make_engine(postgres_url)
    META.drop_all(engine)
    META.create_all(engine)
    try:
        assert await group_commit(engine).run(_adding(1)) == 1
        with engine.connect() as conn:
            mine = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        admin = create_engine(postgres_url, poolclass=NullPool)
        with admin.begin() as conn:
            conn.exec_driver_sql("SELECT pg_terminate_backend(%s)", (mine,))
        admin.dispose()
        monkeypatch.setattr(runtime.db, "PING_AFTER_IDLE_S", 0.0)  # idle long enough
        assert _count(engine) == 1  # a read on the pool's one connection: replaced
        assert await group_commit(engine).run(_adding(2)) == 2
        assert _count(engine) == 2
    finally:
        META.drop_all(engine)
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.anyio
async def test_a_group_whose_commit_fails_is_answered_with_the_error_not_filed_again(
    postgres_url: str,
) -> None:
    """The COMMIT goes out with the group's inserts; when the COMMIT itself fails (here
    a deferred foreign key, checked only then), nothing of the group is stored and every
    filing of it gets the error — none is run again in a transaction of its own (a COMMIT
    that fails may have committed: a lost connection; trying again could file twice)."""
    meta = MetaData()
    parents = Table("parents", meta, Column("id", Integer, primary_key=True))
    children = Table(
        "children", meta, Column("id", Integer, primary_key=True), Column("p", Integer)
    )
    engine = make_engine(postgres_url)
    meta.drop_all(engine)
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "ALTER TABLE children ADD FOREIGN KEY (p) REFERENCES parents (id)"
            " DEFERRABLE INITIALLY DEFERRED"
        )
    runs: list[int] = []

    def child(row_id: int, parent: int) -> Any:
        def job(conn: Connection) -> int:
            runs.append(row_id)
            conn.execute(insert(children), {"id": row_id, "p": parent})
            return row_id

        return job

    def parent(conn: Connection) -> int:
        runs.append(0)
        conn.execute(insert(parents), {"id": 1})
        return 0

    try:
        group = group_commit(engine)
        jobs = [parent, child(1, 1), child(2, 99), child(3, 1)]  # no parent 99
        outcomes = await asyncio.gather(*(group.run(j) for j in jobs), return_exceptions=True)
        assert all(isinstance(o, IntegrityError) for o in outcomes), outcomes
        assert sorted(runs) == [0, 1, 2, 3]  # each run once
        with engine.connect() as conn:
            assert conn.execute(select(parents.c.id)).all() == []
            assert conn.execute(select(children.c.id)).all() == []
        assert await group.run(parent) == 0  # the pool's connection still serves
    finally:
        meta.drop_all(engine)
        engine.dispose()


@pytest.mark.anyio
async def test_a_filing_alone_in_its_group_is_stored_on_the_first_try(either: Any) -> None:
    """A group of one row whose id the database gives: on PostgreSQL its insert once asked
    for the new id back (RETURNING) inside the pipeline, failed there, and the group went
    one by one (a rollback, a savepoint and two more round trips) every time."""
    engine = either
    statements: list[str] = []
    event.listen(
        engine, "before_cursor_execute", lambda *a: statements.append(a[2].split()[0].upper())
    )
    rollbacks: list[int] = []
    event.listen(engine, "rollback", lambda _conn: rollbacks.append(1))

    def unnumbered(conn: Connection) -> str:
        conn.execute(insert(ROWS), {"v": "the database numbers me"})
        return "stored"

    assert await group_commit(engine).run(unnumbered) == "stored"
    assert "ROLLBACK" not in statements and not rollbacks  # the first try held
    assert statements.count("SAVEPOINT") <= 1  # SQLite's first try is in one; nothing more
    with engine.connect() as conn:
        assert conn.execute(select(ROWS.c.v).where(ROWS.c.id != 0)).scalars().all() == [
            "the database numbers me"
        ]
