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

Filings are committed in groups (:class:`GroupCommit`): a request's validated filing
is queued in its worker's event loop; one flush takes every filing queued, runs them in
one transaction and answers each after the ``COMMIT``; a filing that fails is rolled
back (to a savepoint of its own, on a second try) and only its request gets the error. On SQLite
the flush runs in the loop (``BEGIN IMMEDIATE``: no thread hop, no queue of threads
for the write lock), on PostgreSQL in one thread per group: one thread hop, one
transaction and one commit for many filings instead of one each.

PostgreSQL (``postgresql+psycopg://``): a QueuePool (a connection idle for a second is
pinged before use: :func:`_ping_after_idle`) that keeps every
connection it opens (``pool_size`` of them at most, no overflow): with 10 kept and 10
more opened and closed as the load came and went, a worker under 16 concurrent
filings opened a new connection (a new PostgreSQL backend process) every ~20 filings.

Statement parameters are never put into exception messages or logs
(``hide_parameters``): they may be personal data.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy import Connection, Engine, Insert, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

from runtime.bulk_insert import insert_rows

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_POOL_SIZE = 40  # anyio's default threadpool: at most 40 blocking calls at once
READS_NO_TABLE = "reads_no_table"  # execution options: see _Deferred
BEFORE_KEPT_INSERTS = "before_kept_inserts"
PG_PARALLEL_GROUPS = 2  # group transactions of one worker under way at once on PostgreSQL
PING_AFTER_IDLE_S = 1.0  # a pooled PostgreSQL connection idle longer is pinged before use


class _ErrorClassOnly(logging.Filter):
    """psycopg logs an error it drops (ending a pipeline or a rollback after another error)
    with the database's message, which can quote a row's values — personal data. Its
    records keep the error's class only; the request's own failure is logged by
    runtime/errors.py without database text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                type(a).__name__ if isinstance(a, BaseException) else a for a in record.args
            )
        return True


logging.getLogger("psycopg").addFilter(_ErrorClassOnly())

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
    engine = create_engine(
        parsed,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=0,
        pool_recycle=1800,
    )
    _ping_after_idle(engine)
    return engine


def _ping_after_idle(engine: Engine) -> None:
    """Pre-ping a pooled connection only when it has been idle :data:`PING_AFTER_IDLE_S`
    (SQLAlchemy's ``pool_pre_ping`` pings at every checkout: one more round trip in
    every group commit). One found dead is replaced before use (``DisconnectionError``:
    the pool opens a new connection), so a PostgreSQL restarted while the pool was idle
    costs no failed request. One used within that time is not checked: when PostgreSQL
    restarted in between (under load — requests under way fail then anyway), its next
    statement fails and SQLAlchemy drops every connection of the pool opened before."""

    @event.listens_for(engine.pool, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the pooled connection is gone") from exc
        if not alive:
            raise DisconnectionError("the pooled connection is gone")


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
        statement = "BEGIN DEFERRED" if mode == "DEFERRED" else "BEGIN IMMEDIATE"
        try:  # on the driver's connection: through SQLAlchemy it cost as much as a query
            connection.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
        except sqlite3.Error as exc:  # raised as exec_driver_sql would (OperationalError …)
            raise DBAPIError.instance(
                statement, None, exc, sqlite3.Error, hide_parameters=True
            ) from exc


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


_Queued = tuple[Callable[[Connection], Any], "asyncio.Future[Any]"]


class GroupCommit:
    """Filings of one worker process committed together: one transaction, many filings.

    ``await group.run(job)`` queues ``job(conn)`` and returns what it returned once its
    transaction has committed (or raises what it raised). A flush, started by a job
    queued while fewer than :attr:`parallel` flushes run, takes at most :attr:`most`
    queued jobs, runs them all together (their inserts one ``executemany`` per table,
    :func:`_together`); when anything fails, it runs every one in a ``SAVEPOINT`` of its
    own (a job that raises is rolled back to it; the others go on); it commits, and only
    then answers. A job whose
    request went away before the flush is not run. When the ``COMMIT`` itself fails,
    nothing of the group is stored and every job of it gets the error.

    The transaction begins in a way of its database (:meth:`_stored`). SQLite (one
    flush at a time: one writer anyway): in the event loop; the process's write lock
    and ``BEGIN IMMEDIATE`` are taken without waiting (when either is held — a write of
    a thread of this process, another worker — it sleeps in the loop and tries again),
    and nothing is awaited until the ``COMMIT``, so the database is never locked while
    the loop serves other requests; jobs must not block on anything but SQLite. (The
    ``COMMIT`` in a thread, so the loop goes on while SQLite writes the WAL, was tried:
    filings 8 % slower, the thread hop and the GIL going back and forth cost more.)
    PostgreSQL: the whole transaction in one thread (one thread hop per group, not per
    filing), :data:`PG_PARALLEL_GROUPS` of them at once, so a filing waits for another
    one's commit only while that many groups are all under way.
    """

    most = 64

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)  # the engine's registry holds the group: no cycle
        self._queued: list[_Queued] = []
        self.parallel = 1 if engine in _WRITE_LOCKS else PG_PARALLEL_GROUPS
        self._flushes = 0
        self._tasks: set[asyncio.Task[None]] = set()  # referenced until done

    async def run(self, job: Callable[[Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        self._queued.append((job, done))
        if self._flushes < self.parallel:
            self._flushes += 1
            task = loop.create_task(self._flush())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await done

    async def _flush(self) -> None:
        try:
            while self._queued:
                await asyncio.sleep(0)  # requests already under way join this group
                group, self._queued = self._queued[: self.most], self._queued[self.most :]
                group = [(job, done) for job, done in group if not done.done()]
                if group:
                    await self._commit(group)
        finally:
            self._flushes -= 1  # in the task itself: a job queued after this starts a flush

    async def _stored(self, engine: Engine, group: list[_Queued]) -> list[_Outcome]:
        """The group's jobs run and committed, in its database's way."""
        if engine not in _WRITE_LOCKS:  # PostgreSQL
            return await anyio.to_thread.run_sync(_stored_in_thread, engine, group)
        conn = await self._begin(engine)
        try:
            return _store(conn, group)
        finally:
            _give_back(conn)  # rolls back what did not commit
            _WRITE_LOCKS[engine].release()

    async def _begin(self, engine: Engine) -> Connection:
        """SQLite: a connection in ``BEGIN IMMEDIATE``, the process's write lock held: both
        taken without waiting, tried again after a sleep in the loop while another holds them."""
        lock = _WRITE_LOCKS[engine]
        pause = 0.0005
        while True:
            if lock.acquire(blocking=False):
                conn = None
                try:
                    conn = engine.connect()
                    _busy_timeout(conn, 0)  # wait here, in the loop, not in SQLite's handler
                    conn.begin()
                    return conn
                except OperationalError as exc:
                    lock.release()
                    if conn is not None:
                        _give_back(conn)
                    if "locked" not in str(exc.orig) and "busy" not in str(exc.orig):
                        raise
                except BaseException:
                    lock.release()
                    if conn is not None:
                        _give_back(conn)
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.005)

    async def _commit(self, group: list[_Queued]) -> None:
        engine = self._engine()
        try:
            if engine is None:
                raise RuntimeError("the engine of this group commit is gone")
            outcomes = await self._stored(engine, group)
        except BaseException as exc:  # nothing of the group stored: every filing gets it
            _fail(group, exc)
            if not isinstance(exc, Exception):
                raise
            return
        for done, result, error in outcomes:
            if done.done():
                continue
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(result)


_Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]


def _fail(group: list[_Queued], error: BaseException) -> None:
    for _job, done in group:
        if not done.done():
            done.set_exception(error)


def _busy_timeout(conn: Connection, ms: int) -> None:
    conn.connection.driver_connection.execute(f"PRAGMA busy_timeout={ms}")  # type: ignore[union-attr]


def _give_back(conn: Connection) -> None:
    """Back to the pool with the busy timeout every other user expects."""
    try:
        _busy_timeout(conn, SQLITE_BUSY_TIMEOUT_MS)
    finally:
        conn.close()


def _store(conn: Connection, group: list[_Queued], *, restart: bool = False) -> list[_Outcome]:
    """Every job of the group in ``conn``'s transaction, then the ``COMMIT``."""
    outcomes = _together(conn, group, restart) or _one_by_one(conn, group)
    conn.commit()
    return outcomes


def _stored_in_thread(engine: Engine, group: list[_Queued]) -> list[_Outcome]:
    """PostgreSQL: :func:`_store` in a transaction of a pooled connection (blocking)."""
    with engine.connect() as conn:
        conn.begin()
        return _store(conn, group, restart=True)


def _together(conn: Connection, group: list[_Queued], restart: bool) -> list[_Outcome] | None:
    """The group's first try: the jobs' ``batch`` (:func:`_batched`), every job against a
    :class:`_Deferred` connection, then their inserts, one ``executemany`` per table.
    ``None`` (and nothing written) when anything fails: :func:`_one_by_one` tells them
    apart. The try runs in a savepoint, or (``restart``: PostgreSQL, where a savepoint
    costs two more round trips) in the transaction itself, rolled back and begun again
    when it fails; there the inserts and the ``COMMIT`` are sent in psycopg's pipeline
    mode, all in one round trip, and the pipeline's end waits for their outcome. An
    insert that fails makes PostgreSQL skip the rest, ``COMMIT`` included (the
    transaction is left open and failed): then the group goes one by one. A ``COMMIT``
    that ran and failed (a deferred constraint, a lost connection: it may have
    committed) is never tried again: every job of the group gets its error."""
    savepoint = None if restart else conn.begin_nested()
    deferred = _Deferred(conn)
    committing = False
    try:
        _batched(conn, group)
        outcomes: list[_Outcome] = [(done, job(deferred), None) for job, done in group]  # type: ignore[arg-type]
        if savepoint is None:  # PostgreSQL: the lock, the inserts, COMMIT: one round trip
            driver = conn.connection.driver_connection
            with driver.pipeline():  # type: ignore[union-attr]
                deferred.flush()  # their errors come at the end of the block
                committing = True
                driver.execute("COMMIT")  # type: ignore[union-attr]
        else:
            deferred.flush()
    except Exception as exc:
        if savepoint is not None:
            savepoint.rollback()
        else:
            if committing and not _commit_skipped(conn):
                raise _commit_failed(conn, exc) from None
            conn.rollback()
            conn.begin()
        _rolled_back([job for job, _done in group])
        return None
    if savepoint is not None:
        savepoint.commit()
    return outcomes


def _commit_skipped(conn: Connection) -> bool:
    """PostgreSQL: the transaction still open (the pipeline's ``COMMIT`` did not run)."""
    from psycopg.pq import TransactionStatus

    status = conn.connection.driver_connection.pgconn.transaction_status  # type: ignore[union-attr]
    return status in (TransactionStatus.INTRANS, TransactionStatus.INERROR)


def _commit_failed(conn: Connection, error: Exception) -> Exception:
    """The error of a ``COMMIT`` sent on the driver's connection, as SQLAlchemy raises
    one (``IntegrityError`` …); a connection it broke is not given back to the pool."""
    import psycopg

    driver = conn.connection.driver_connection
    gone = driver.closed or driver.pgconn.status == psycopg.pq.ConnStatus.BAD  # type: ignore[union-attr]
    if gone:
        conn.invalidate()
    if not isinstance(error, psycopg.Error):
        return error
    return DBAPIError.instance(
        "COMMIT", None, error, psycopg.Error, hide_parameters=True, connection_invalidated=gone
    )


def _by_hook(jobs: list[Any], name: str) -> dict[Any, list[Any]]:
    """The jobs that have the function ``name`` (a ``staticmethod``), grouped by it."""
    found: dict[Any, list[Any]] = {}
    for job in jobs:
        hook = getattr(job, name, None)
        if hook is not None:
            found.setdefault(hook, []).append(job)
    return found


def _batched(conn: Connection, group: list[_Queued]) -> None:
    """A job may have a ``batch(conn, jobs)``: it runs once for all the group's jobs that
    have the same one, before any of them (runtime/submission.py: their numbers, in one
    statement instead of one each)."""
    for batch, jobs in _by_hook([job for job, _done in group], "batch").items():
        batch(conn, jobs)


def _rolled_back(jobs: list[Any]) -> None:
    """A job may have a ``rolled_back(jobs)``: called once for all of ``jobs`` that have the
    same one when what they wrote was rolled back (runtime/submission.py: numbers taken
    from a counter row in it are void)."""
    for hook, hooked in _by_hook(jobs, "rolled_back").items():
        hook(hooked)


def _one_by_one(conn: Connection, group: list[_Queued]) -> list[_Outcome]:
    """Every job in a savepoint of its own: one that raises is rolled back, the others stay."""
    outcomes: list[_Outcome] = []
    for job, done in group:
        savepoint = conn.begin_nested()
        try:
            result = job(conn)
        except Exception as exc:
            savepoint.rollback()
            _rolled_back([job])
            outcomes.append((done, None, exc))
        else:
            savepoint.commit()
            outcomes.append((done, result, None))
    return outcomes


class _Deferred:
    """The connection the jobs of a group see on its first try: a plain ``INSERT`` of
    rows (``execute(insert(table), {…} or [{…}, …])``, no RETURNING) is kept, to run
    with the same inserts of the other jobs as one ``executemany``; any other statement
    runs at once, after the kept inserts into its table (all of them, for a statement
    whose tables are not known; none for a statement marked
    ``execution_options(reads_no_table=True)``, such as a sequence's ``nextval``). A
    statement marked ``before_kept_inserts`` (a lock held to the commit) is kept once and
    runs first when the kept inserts run, so the lock is held for them and the commit
    only. Kept
    inserts run table by table in the order their tables were first written, which is
    the order of the foreign keys when every job writes parents first; a kept insert
    answers ``None``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect
        self.kept: dict[tuple[Any, tuple[str, ...]], list[dict[str, Any]]] = {}
        self.first: dict[int, tuple[Any, Any]] = {}

    def execute(self, statement: Any, parameters: Any = None) -> Any:
        if type(statement) is Insert and not statement._returning and statement._values is None:
            rows = [parameters] if isinstance(parameters, dict) else parameters
            if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
                for row in rows:
                    self.kept.setdefault((statement.table, tuple(row)), []).append(row)
                return None
        options = statement.get_execution_options()
        if options.get(READS_NO_TABLE):  # nextval(…)
            return self.conn.execute(statement, parameters)
        if options.get(BEFORE_KEPT_INSERTS):  # a lock held to the commit: taken late, once
            self.first.setdefault(id(statement), (statement, parameters))
            return None
        table = getattr(statement, "table", None)
        if table is None or any(kept_table is table for kept_table, _ in self.kept):
            self.flush()
        return self.conn.execute(statement, parameters)

    def flush(self) -> None:
        first, self.first = self.first, {}
        for statement, parameters in first.values():
            self.conn.execute(statement, parameters)
        kept, self.kept = self.kept, {}
        for (table, _columns), rows in kept.items():
            insert_rows(self.conn, table, rows)


_GROUPS: weakref.WeakKeyDictionary[Engine, dict[asyncio.AbstractEventLoop, GroupCommit]] = (
    weakref.WeakKeyDictionary()
)


def group_commit(engine: Engine) -> GroupCommit:
    """The running loop's :class:`GroupCommit` of an engine."""
    loop = asyncio.get_running_loop()
    groups = _GROUPS.setdefault(engine, {})
    group = groups.get(loop)
    if group is None:
        groups.clear()  # a loop of the past (tests run one per test) is done with
        group = groups[loop] = GroupCommit(engine)
    return group


MAX_ROW_ID = 2**31 - 1  # numbered rows (notifications, objections, events): INTEGER ids


def row_key(raw: str) -> int:
    """The id of a numbered row named in a request, as a query value: -1 (no such row) when
    ``raw`` is not a whole number within INTEGER — PostgreSQL refuses a larger value bound
    to an INTEGER column (it would answer 500), and no row has one."""
    if raw.isascii() and raw.isdigit() and len(raw) <= 10 and int(raw) <= MAX_ROW_ID:
        return int(raw)
    return -1
