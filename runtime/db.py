"""Database engines: SQLite (WAL, busy timeout, foreign keys, BEGIN IMMEDIATE) and PostgreSQL.

SQLite: every connection sets ``journal_mode=WAL``, ``busy_timeout`` and
``foreign_keys=ON``; pysqlite's own transaction handling is switched off and
every transaction starts with ``BEGIN IMMEDIATE`` (the SQLAlchemy recipe
"Serializable isolation / Savepoints / Transactional DDL"), so concurrent
read-then-write requests queue for the write lock instead of failing with
"database is locked". Within one process, write transactions also queue on a
lock of the engine before ``BEGIN IMMEDIATE``: SQLite's busy handler polls with
sleeps of up to 100 ms, so dozens of threadpool threads polling for the one
write lock served writes in no fair order (p99 of seconds under load); with the
process lock only one thread per worker process polls, and the others wake as
soon as it commits. The pool keeps enough connections for the threadpool.

PostgreSQL (``postgresql+psycopg://``): a QueuePool with pre-ping that keeps every
connection it opens (``pool_size`` of them at most, no overflow): with 10 kept and 10
more opened and closed as the load came and went, a worker under 16 concurrent
filings opened a new connection (a new PostgreSQL backend process) every ~20 filings.

Statement parameters are never put into exception messages or logs
(``hide_parameters``): they may be personal data.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_POOL_SIZE = 40  # anyio's default threadpool: at most 40 blocking calls at once

# One write lock per SQLite engine (process-local): see the module documentation.
_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, pool_size: int = 20) -> Engine:
    """An engine for ``url``; the SQLite file's folder is created when missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        options: dict[str, Any] = {}
        if database and database != ":memory:":
            options = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_SIZE}
        engine = create_engine(
            parsed,
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **options,
        )
        _sqlite_events(engine)
        _WRITE_LOCKS[engine] = threading.RLock()
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(
        parsed,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop pysqlite from issuing BEGIN itself (and from committing before DDL).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """One write transaction (BEGIN IMMEDIATE on SQLite); commits, or rolls back on error.

    On SQLite the transaction first takes the engine's process-local write lock."""
    lock = _WRITE_LOCKS.get(engine)
    if lock is None:
        with engine.begin() as conn:
            yield conn
        return
    with lock, engine.begin() as conn:
        yield conn


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """One read transaction (a deferred BEGIN on SQLite, so readers never take the write lock)."""
    if is_sqlite(engine):
        with engine.connect() as raw:
            conn = raw.execution_options(sqlite_begin="DEFERRED")
            with conn.begin():
                yield conn
        return
    with engine.connect() as conn, conn.begin():
        yield conn
