"""Application numbers (受理编号): the next sequence of a region's day, inside a filing.

The format is :func:`runtime.clock.application_number`; a number is never given twice
in a region and day, and numbers rise in the order they are taken.

SQLite: a ``counters`` row per region and day (:func:`runtime.clock.counter_name`),
incremented with ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` in the filing's
transaction, which holds SQLite's one write lock anyway: gap-free, since a filing
that rolls back rolls its increment back too.

PostgreSQL: a sequence per region and day (:func:`sequence_name`). ``nextval`` takes
no lock that lasts to the commit and is not undone by a rollback, so filings of one
region and day never wait for each other's commit (a counter row would make every
filing queue behind the one before until it commits). The price: a filing that
rolls back leaves its number unused (a gap), and so may a crash (PostgreSQL logs
sequences 32 values ahead). :func:`prepare` creates the day's sequence before the
day's first filing in a process opens its transaction, in a transaction of its own
(so the DDL's catalog lock is not held until that filing commits) under an advisory
lock (workers take turns), starting after the day's ``counters`` row if one exists
(a day begun before an upgrade goes on from there; stop the old workers before
starting new ones). Then it retires the sequences of days before yesterday (a filing
begun just before midnight may still take yesterday's number): each one's last value
goes into its day's ``counters`` row, and the sequence is dropped. Each process
remembers, per engine, the sequences it knows exist.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Protocol

from sqlalchemy import Connection, Engine, Insert, Table, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from runtime.clock import application_number, counter_name, local_date
from runtime.package import Package, Region

SEQUENCE_PREFIX = "application_"
ADVISORY_LOCK = 0x676F7673_6E756D  # "govs" "num": creating and dropping sequences take turns

_KNOWN: weakref.WeakKeyDictionary[Engine, set[str]] = weakref.WeakKeyDictionary()
_KNOWN_LOCK = threading.Lock()


def sequence_name(region_code: str, day: date) -> str:
    """The PostgreSQL sequence of a region's day: ``application_440305_20260312``."""
    return counter_name(region_code, day).replace(":", "_")


def prepare(engine: Engine, pkg: Package, region: Region, now: datetime) -> None:
    """Make ready what :func:`next_number` takes from; call it before the filing's
    transaction begins (on PostgreSQL the day's sequence may have to be created in a
    connection of its own, and a filing holding one connection while it waits for a
    second could exhaust the pool)."""
    if engine.dialect.name != "sqlite":
        _ensure_sequence(engine, pkg.tables.counters, region.code, local_date(now))


def numbers_ready(engine: Engine, region: Region, now: datetime) -> bool:
    """Whether :func:`prepare` has nothing left to do (it would not touch the database)."""
    if engine.dialect.name == "sqlite":
        return True
    with _KNOWN_LOCK:
        known = _KNOWN.get(engine, set())
        return sequence_name(region.code, local_date(now)) in known


def next_number(
    conn: Connection, pkg: Package, region: Region, now: datetime, taken: int | None = None
) -> str:
    """The next number of ``region`` on the local day of ``now``, in the filing's
    transaction (after :func:`prepare`); ``taken``: the sequence's value when already
    taken (:func:`take_many`)."""
    day = local_date(now)
    if taken is not None:
        return application_number(region.code, day, taken)
    if conn.dialect.name == "sqlite":
        name = counter_name(region.code, day)
        sequence = conn.execute(_increment(pkg.tables.counters), {"name": name, "value": 1})
    else:
        name = sequence_name(region.code, day)
        sequence = conn.execute(select(func.nextval(name)).execution_options(reads_no_table=True))
    return application_number(region.code, day, int(sequence.scalar_one()))


class Numbered(Protocol):
    """A filing of a group commit (runtime/db.py) that takes its number with the others of
    its group: from the PostgreSQL sequence ``sequence``, or from the SQLite counter row
    ``counter`` of the table ``counters``; ``taken`` holds the value once taken."""

    sequence: str | None
    counter: str | None
    counters: Table | None
    taken: int | None


_MANY = text(
    "SELECT s, nextval(s::regclass) FROM unnest(CAST(:names AS text[])) AS s"
).execution_options(reads_no_table=True)


def take_many(conn: Connection, filings: Sequence[Numbered]) -> None:
    """A number for each of ``filings`` that has none, given out in rising order in the
    order of ``filings``: on PostgreSQL from their sequences, all in one statement (a
    sequence's value is never given again, not even rolled back, so a filing tried
    again keeps it); on SQLite one statement per counter row, which raises it by the
    number of its filings in the transaction (rolled back with it: then the filings
    must :func:`forget` their numbers)."""
    wanting = [f for f in filings if f.sequence is not None and f.taken is None]
    if wanting:
        values: dict[str, list[int]] = {}
        rows = conn.execute(_MANY, {"names": [f.sequence for f in wanting]})
        for name, value in rows:
            values.setdefault(name, []).append(int(value))
        for given in values.values():
            given.sort(reverse=True)  # pop() gives the lowest first
        for f in wanting:
            f.taken = values[f.sequence].pop()  # type: ignore[index]
    counted: dict[tuple[str, Table], list[Numbered]] = {}
    for f in filings:
        if f.counter is not None and f.counters is not None and f.taken is None:
            counted.setdefault((f.counter, f.counters), []).append(f)
    for (name, table), row_filings in counted.items():
        raised = conn.execute(_increment(table), {"name": name, "value": len(row_filings)})
        first = int(raised.scalar_one()) - len(row_filings) + 1
        for offset, f in enumerate(row_filings):
            f.taken = first + offset


def forget(filings: Sequence[Numbered]) -> None:
    """The transaction the numbers of ``filings`` were taken in was rolled back: those
    from a counter row (SQLite) are void; a sequence's (PostgreSQL) stay taken."""
    for f in filings:
        if f.counter is not None:
            f.taken = None


@lru_cache(maxsize=16)
def _increment(table: Table) -> Insert:
    """``INSERT … ON CONFLICT (name) DO UPDATE SET value = value + :value RETURNING value``."""
    stmt = sqlite.insert(table)
    raised: Insert = stmt.on_conflict_do_update(
        index_elements=[table.c.name], set_={"value": table.c.value + stmt.excluded.value}
    ).returning(table.c.value)
    return raised


def _ensure_sequence(engine: Engine, counters: Table, region_code: str, day: date) -> None:
    name = sequence_name(region_code, day)
    with _KNOWN_LOCK:
        known = _KNOWN.setdefault(engine, set())
    if name in known:
        return
    with engine.connect() as conn, conn.begin():
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        retired = retire_sequences(conn, counters, before=day - timedelta(days=1))
        last = conn.execute(
            select(counters.c.value).where(counters.c.name == counter_name(region_code, day))
        ).scalar()
        # The name: letters, digits and _ (counter_name checked the code and the day).
        conn.exec_driver_sql(f"CREATE SEQUENCE IF NOT EXISTS {name} START {(last or 0) + 1}")
    known.difference_update(retired)
    known.add(name)


def retire_sequences(conn: Connection, counters: Table, *, before: date | None = None) -> set[str]:
    """Drop the number sequences of days before ``before`` (every one without it); each
    day's last number goes into its ``counters`` row, so a day that comes back (a clock
    set back) goes on after it. Returns their names."""
    names = conn.execute(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'S' AND n.nspname = current_schema() AND c.relname ~ :pattern"
        ),
        {"pattern": f"^{SEQUENCE_PREFIX}[0-9]{{6,12}}_[0-9]{{8}}$"},
    ).scalars()
    old = {n for n in names if before is None or n[-8:] < f"{before:%Y%m%d}"}
    for name in sorted(old):
        last = conn.exec_driver_sql(
            f"SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {name}"
        ).scalar_one()
        counter = name.removeprefix(SEQUENCE_PREFIX).replace("_", ":")  # sequence_name back
        conn.execute(
            postgresql.insert(counters)
            .values(name=f"application:{counter}", value=last)
            .on_conflict_do_update(index_elements=[counters.c.name], set_={"value": last})
        )
        conn.exec_driver_sql(f"DROP SEQUENCE {name}")
    return old
