"""Application numbers (受理编号) under concurrency, rollback and day changes (runtime/numbers.py).

On PostgreSQL numbers come from a sequence per region and day: a filing does not wait
for another filing's commit, a rolled-back filing leaves a gap, and a retired day's
sequence leaves its last number in ``counters``. On SQLite (one writer anyway) a
counter row gives numbers without gaps.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from sqlalchemy import Engine, create_engine, event, insert, select, text

from runtime import audit
from tests.helpers import Api, FrozenClock, execute, ibr_data

pytestmark = pytest.mark.anyio
URL = "/api/matters/ibr/applications"
POSTGRES = [pytest.param("postgresql", marks=pytest.mark.postgres)]
HOLD_S = 15  # the longest a held filing waits to be released


async def _file(api: Api, sub: str) -> Any:
    r = await api.post(
        URL, json={"region": "nanshan", "data": ibr_data()}, headers=api.token("applicant", sub)
    )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """The first filing stops inside its transaction, its number taken and its rows
    written, until ``release`` is set; ``reached`` is set when it got there."""
    reached, release = threading.Event(), threading.Event()
    real = audit.record

    def record(*args: Any, **kwargs: Any) -> None:
        real(*args, **kwargs)
        if not reached.is_set():
            reached.set()
            release.wait(timeout=HOLD_S)

    monkeypatch.setattr(audit, "record", record)
    yield reached, release
    release.set()


@pytest.mark.parametrize("db_url", POSTGRES, indirect=True)
async def test_filings_of_one_region_and_day_do_not_wait_for_each_others_commit(
    api: Api, db_url: str, held: tuple[threading.Event, threading.Event]
) -> None:
    reached, release = held
    async with anyio.create_task_group() as tg:
        first: dict[str, Any] = {}

        async def file_first() -> None:
            first.update(await _file(api, "citizen-first"))

        tg.start_soon(file_first)
        assert await anyio.to_thread.run_sync(reached.wait, 10), "the first filing never began"
        # With a counter row it would wait for the first's commit (HOLD_S, then fail here);
        # so it would with one group transaction at a time (runtime/db.py PG_PARALLEL_GROUPS).
        second = await _file(api, "citizen-second")
        assert not first, "the second filing waited for the first one's commit"
        seen = await api.get(
            f"/api/applications/{second['id']}", headers=api.token("applicant", "citizen-second")
        )
        assert seen.status_code == 200  # committed while the first is still open
        release.set()
    day = "440305-20260302-"
    assert (first["number"], second["number"]) == (f"{day}000001", f"{day}000002")


@pytest.mark.parametrize("db_url", ["sqlite", *POSTGRES], indirect=True)
async def test_a_rolled_back_filing_leaves_a_gap_on_postgresql_only(
    api: Api, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = audit.record

    def failing(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", failing)
    r = await api.post(
        URL, json={"region": "nanshan", "data": ibr_data()}, headers=api.token("applicant", "a")
    )
    assert r.status_code == 500
    monkeypatch.setattr(audit, "record", real)
    numbers = [(await _file(api, f"citizen-{i}"))["number"] for i in range(2)]
    first = 1 if db_url.startswith("sqlite") else 2  # the rolled-back filing's number is gone
    assert numbers == [f"440305-20260302-{n:06d}" for n in (first, first + 1)]


@pytest.mark.parametrize("db_url", POSTGRES, indirect=True)
async def test_a_day_begun_with_the_counter_row_goes_on_from_it(api: Api, db_url: str) -> None:
    """A day's first filings made by a version that counted in ``counters`` (an upgrade)."""
    counter = {"name": "application:440305:20260302", "value": 41}
    execute(db_url, insert(api.package.tables.counters), counter)
    assert (await _file(api, "citizen-a"))["number"] == "440305-20260302-000042"


@pytest.mark.parametrize("db_url", POSTGRES, indirect=True)
async def test_old_days_sequences_are_retired_and_a_day_that_comes_back_goes_on(
    api: Api, db_url: str, clock: FrozenClock
) -> None:
    counters = api.package.tables.counters
    engine = create_engine(db_url)

    def sequences() -> list[str]:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text("SELECT relname FROM pg_class WHERE relkind = 'S' ORDER BY relname")
                ).scalars()
            )

    def counted(day: str) -> int | None:
        name = f"application:440305:{day}"
        with engine.connect() as conn:
            return conn.execute(select(counters.c.value).where(counters.c.name == name)).scalar()

    try:
        clock.set("2026-03-02T10:00:00")
        for i in range(2):
            await _file(api, f"citizen-{i}")
        clock.set("2026-03-03T10:00:00")
        await _file(api, "citizen-3")
        assert [s for s in sequences() if s.startswith("application_")] == [
            "application_440305_20260302",  # yesterday's is kept (a filing begun before midnight)
            "application_440305_20260303",
        ]
        clock.set("2026-03-05T10:00:00")
        await _file(api, "citizen-5")
        assert [s for s in sequences() if s.startswith("application_")] == [
            "application_440305_20260305"
        ]
        assert (counted("20260302"), counted("20260303")) == (2, 1)
        clock.set("2026-03-02T18:00:00")  # a clock set back: numbers go on, never repeat
        assert (await _file(api, "citizen-6"))["number"] == "440305-20260302-000003"
    finally:
        engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite", *POSTGRES], indirect=True)
async def test_a_group_takes_its_numbers_in_one_statement(api: Api, db_url: str) -> None:
    await _file(api, "citizen-first")  # the day's sequence made (a thread hop of its own)
    taking: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "nextval" in statement or "INSERT INTO counters" in statement:
            taking.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        filed = await asyncio.gather(*(_file(api, f"citizen-{i}") for i in range(12)))
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    numbers = [f["number"] for f in filed]
    assert sorted(numbers) == [f"440305-20260302-{n:06d}" for n in range(2, 14)]
    assert len(taking) <= 3, taking  # a statement a group (two or three groups), not a filing


@pytest.mark.parametrize("db_url", ["sqlite", *POSTGRES], indirect=True)
async def test_a_failing_filing_in_a_group_leaves_the_others_numbers_unique(
    api: Api, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The group's numbers are taken together; one filing fails, the group is stored one
    by one: the others keep distinct numbers, on SQLite without a gap, and the next
    filing follows them (a counter raised in the rolled-back try is not given again)."""
    real = audit.record

    def failing_for_one(*args: Any, **kwargs: Any) -> None:
        if getattr(kwargs.get("identity"), "sub", None) == "citizen-bad":
            raise RuntimeError("disk full")
        real(*args, **kwargs)

    monkeypatch.setattr(audit, "record", failing_for_one)
    subs = (
        [f"citizen-{i}" for i in range(5)]
        + ["citizen-bad"]
        + [f"citizen-{i}" for i in range(5, 10)]
    )

    async def file(sub: str) -> Any:
        return await api.post(
            URL, json={"region": "nanshan", "data": ibr_data()}, headers=api.token("applicant", sub)
        )

    answers = await asyncio.gather(*(file(sub) for sub in subs))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201] * 10 + [500], statuses
    numbers = sorted(r.json()["number"] for r in answers if r.status_code == 201)
    assert len(set(numbers)) == 10
    last = (await _file(api, "citizen-after"))["number"]
    assert last not in numbers and last > numbers[-1]
    if db_url.startswith("sqlite"):  # one writer, a counter row: no gap
        assert [*numbers, last] == [f"440305-20260302-{n:06d}" for n in range(1, 12)]
