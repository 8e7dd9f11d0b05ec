"""Is the database at the package's revision? Checked at start, by ``/healthz``, and while serving.

A server runs the SQL of its package: on a database another package migrated (a
column renamed by ``govstd migrate`` of a newer package), or on one never migrated,
every query may fail. So:

- at start (:func:`open_database`): a SQLite file that does not exist is refused
  before anything creates it, and so is a database whose ``alembic_version`` is not
  the package's newest revision (``govstd serve`` prints why and exits 1);
- while serving (:class:`RevisionGuard`): the revision is read again when a request
  fails with a database error, every :data:`CHECK_INTERVAL_S` seconds in the
  background, and by every ``/healthz``; the log says once what it found (and again
  when it matches the package).
- a database *behind* the package or never migrated (``database_behind``,
  ``database_unmigrated``) lacks what the package's SQL needs: every request is
  answered 503 with that code, ``/healthz`` too;
- a database *ahead* of the package (``govstd migrate`` of a newer one ran while this
  server still serves, as in a rolling upgrade: docs/deploy.md) is served as long as
  its SQL works — an added column or table does not disturb the older package, so the
  upgrade needs no downtime — and a request whose SQL fails on it (a renamed column)
  is answered 503 ``database_ahead``, never 500. ``/healthz`` stays 200 and says
  ``"database": "ahead"``, so a load balancer keeps the worker until it is restarted.

The normal path costs one attribute read per request (:class:`RevisionGuardMiddleware`);
the database is asked only on an error, on ``/healthz`` and once per interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime.db import make_engine
from runtime.errors import ApiError, api_error_response
from runtime.migrate import VERSION_TABLE, heads, revisions
from runtime.types import GovstdError, bilingual

log = logging.getLogger("govstd.runtime")

CHECK_INTERVAL_S = 15.0
RETRY_AFTER_S = "60"
BLOCKING = frozenset({"database_behind", "database_unmigrated"})  # ahead: see the module
_FOUND = text(f"SELECT version_num FROM {VERSION_TABLE}")


class DatabaseNotReady(GovstdError):
    """The database cannot be served by this package; the message says why (zh / en)."""


@dataclass(frozen=True)
class Revisions:
    """The package's newest revision(s) and every revision it knows."""

    heads: frozenset[str]
    known: frozenset[str]

    @classmethod
    def of_package(cls, app_dir: str | Path) -> Revisions:
        return cls(frozenset(heads(Path(app_dir))), revisions(Path(app_dir)))


def verdict(found: frozenset[str], expected: Revisions) -> str | None:
    """``None`` when the database is at the package's revision, else the error code."""
    if found == expected.heads:
        return None
    if not found:
        return "database_unmigrated"
    if found - expected.known:
        return "database_ahead"  # a revision this package does not know: a newer package's
    return "database_behind"


def database_revisions(engine: Engine) -> frozenset[str]:
    """The revisions recorded in the database (empty: never migrated)."""
    with engine.connect() as conn:
        try:
            return frozenset(str(r[0]) for r in conn.execute(_FOUND))
        except DBAPIError:
            conn.rollback()
            if inspect(conn).has_table(VERSION_TABLE):
                raise  # the table is there: something else failed
            return frozenset()


def explain(code: str, found: frozenset[str], expected: Revisions) -> str:
    """One line for the operator (start-up and log), Chinese then English."""
    at = ", ".join(sorted(found)) or "-"
    want = ", ".join(sorted(expected.heads))
    if code == "database_unmigrated":
        return bilingual(
            "数据库尚未迁移到本部署包的版本；请先运行 'govstd migrate --app DIR --db URL'",
            "the database has not been migrated; run 'govstd migrate --app DIR --db URL' first",
        )
    if code == "database_behind":
        return bilingual(
            f"数据库处于旧的修订版本 {at}（本部署包为 {want}）；请先运行 'govstd migrate'",
            f"the database is at an older revision {at} (this package: {want}); "
            "run 'govstd migrate' first",
        )
    return bilingual(
        f"数据库已被更新的部署包迁移到修订版本 {at}（本服务的部署包为 {want}）；"
        "请部署与数据库匹配的部署包后重启服务",
        f"the database was migrated by a newer package to revision {at} (this server's "
        f"package: {want}); deploy the package that matches the database and restart",
    )


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return Path(database)


def open_database(url: str, expected: Revisions) -> Engine:
    """An engine for ``url`` when the database is at the package's revision, else
    :class:`DatabaseNotReady`. A missing SQLite file is refused, never created."""
    path = _sqlite_file(url)
    if path is not None and not path.is_file():
        raise DatabaseNotReady(
            f"数据库文件 {path} 不存在；请先运行 'govstd migrate --app DIR --db URL' 创建",
            f"the database file {path} does not exist; create it with "
            "'govstd migrate --app DIR --db URL' first",
        )
    engine = make_engine(url)
    try:
        found = database_revisions(engine)
    except DBAPIError as exc:
        engine.dispose()
        kind = type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
        raise DatabaseNotReady(
            f"无法读取数据库（{kind}）", f"cannot read the database ({kind})"
        ) from None
    code = verdict(found, expected)
    if code is not None:
        engine.dispose()
        raise DatabaseNotReady(explain(code, found, expected))
    return engine


class RevisionGuard:
    """What the running server knows of the database's revision (see the module)."""

    def __init__(self, engine: Engine, expected: Revisions) -> None:
        self.engine = engine
        self.expected = expected
        self.problem: str | None = None
        self._lock = threading.Lock()

    def check(self) -> str | None:
        """Read the revision (blocking); the error code while it is not the package's.

        Raises the database's error when it cannot be read (the state is kept)."""
        found = database_revisions(self.engine)
        code = verdict(found, self.expected)
        with self._lock:
            changed, self.problem = code != self.problem, code
        if changed and code is not None:
            log.error("%s: %s", code, explain(code, found, self.expected))
        elif changed:
            log.warning(
                bilingual(
                    "数据库已回到本部署包的版本，恢复服务",
                    "the database is at this package's revision again; serving",
                )
            )
        return code

    def check_quietly(self) -> str | None:
        """:meth:`check`, or the last known state when the database cannot be read."""
        try:
            return self.check()
        except Exception:
            return self.problem

    @contextlib.asynccontextmanager
    async def watching(self, interval: float = CHECK_INTERVAL_S) -> AsyncIterator[None]:
        """Check every ``interval`` seconds in the background while the block runs."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(interval)
                await run_in_threadpool(self.check_quietly)

        task = asyncio.get_running_loop().create_task(loop())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class RevisionGuardMiddleware:
    """503 while the database is behind the package's revision or unmigrated; a request that
    fails with a database error has the revision read again, and is answered 503 when the
    database is not at the package's revision (ahead included)."""

    def __init__(self, app: ASGIApp, guard: RevisionGuard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = self.guard.problem
        if problem in BLOCKING and scope["path"] != "/healthz":
            await self._refuse(problem, scope, receive, send)
            return
        started = False

        async def send_watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_watched)
        except DBAPIError:
            problem = await run_in_threadpool(self.guard.check_quietly)
            if problem is None or started:
                raise  # not the revision: the generic 500 (RequestIdMiddleware)
            await self._refuse(problem, scope, receive, send)

    @staticmethod
    async def _refuse(code: str, scope: Scope, receive: Receive, send: Send) -> None:
        response = api_error_response(Request(scope, receive), ApiError(503, code))
        response.headers["Retry-After"] = RETRY_AFTER_S
        await response(scope, receive, send)
