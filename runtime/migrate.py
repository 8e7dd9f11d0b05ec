"""Run a package's migrations: Alembic configured in code, no ``alembic.ini``.

A package folder holds ``migrations/env.py`` (generated; it calls :func:`run_env`) and
``migrations/versions/*.py`` (generated revisions). :func:`upgrade`,
:func:`downgrade` and :func:`current` point Alembic at that folder and a database URL.

A revision that loses data says so (``destructive = True``, and ``data_loss`` lists the
steps; its docstring too, for a reader); :func:`upgrade` refuses to apply one unless
``allow_data_loss``.

SQLite: the whole run is one transaction (``BEGIN IMMEDIATE``), so a failed migration
leaves the database as it was. Foreign keys are enforced by checking them
(``PRAGMA foreign_key_check``) before that transaction commits, rather than by
``PRAGMA foreign_keys=ON`` during the run: with enforcement on, the table copy that
batch mode makes to alter a column (``DROP TABLE`` of the original) would fire
``ON DELETE CASCADE`` and empty every child table of the altered table.

PostgreSQL: the run is one transaction too, started with ``SET LOCAL lock_timeout``
and ``statement_timeout`` (``GOVSTD_MIGRATION_LOCK_TIMEOUT``, default 5s;
``GOVSTD_MIGRATION_STATEMENT_TIMEOUT``, default 30min). A migration that cannot get
a table's lock while the running service holds it gives up after the lock timeout,
instead of queueing every query of that service behind its waiting ``ALTER TABLE``;
nothing of it is applied and it can be run again.
"""

from __future__ import annotations

import ast
import io
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, pool
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from runtime.settings import Environment, SettingsError
from runtime.types import GovstdError, bilingual

if TYPE_CHECKING:  # alembic (and mako) are imported when a migration runs, not by a server
    from alembic.config import Config

VERSION_TABLE = "alembic_version"
URL_ATTRIBUTE = "govstd_db_url"


class MigrationError(GovstdError):
    """A migration was refused or failed; the message says which and why."""


def timeouts(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The PostgreSQL timeouts a migration runs under, checked (they are written into SQL).
    Only the ``GOVSTD_MIGRATION_*`` variables are read: a migration does not need the
    service's other settings."""
    env = os.environ if env is None else env
    own = {k: v for k, v in env.items() if k.startswith("GOVSTD_MIGRATION_")}
    try:
        read = Environment.read(own)
    except SettingsError as exc:
        raise MigrationError(str(exc)) from None
    return {
        "lock_timeout": read.migration_lock_timeout,
        "statement_timeout": read.migration_statement_timeout,
    }


def config(app_dir: Path, db_url: str) -> Config:
    """An Alembic configuration for the package in ``app_dir`` and the database ``db_url``."""
    from alembic.config import Config

    migrations = Path(app_dir) / "migrations"
    if not (migrations / "env.py").is_file():
        raise MigrationError(
            f"{migrations / 'env.py'}: 文件缺失（{app_dir} 是 'govstd generate' 写出的文件夹吗？）",
            f"{migrations / 'env.py'}: missing (is {app_dir} a folder written by "
            "'govstd generate'?)",
        )
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations).replace("%", "%%"))
    cfg.set_main_option("version_table", VERSION_TABLE)
    cfg.attributes[URL_ATTRIBUTE] = db_url
    return cfg


def migration_engine(db_url: str) -> Engine:
    """An engine for one migration run (no pool); on SQLite, one transaction for the run."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, poolclass=pool.NullPool)
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, poolclass=pool.NullPool)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # pysqlite must not BEGIN or COMMIT itself
        dbapi_connection.execute("PRAGMA foreign_keys=OFF")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def check_foreign_keys(connection: Connection) -> None:
    """Raise when a row of a SQLite database refers to a row that is not there."""
    rows = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if rows:
        found = ", ".join(f"{r[0]} row {r[1]} → {r[2]}" for r in rows[:10])
        raise MigrationError(
            f"迁移破坏了外键约束（{len(rows)} 处）",
            f"the migration broke foreign keys ({len(rows)}): {found}",
        )


def run_env() -> None:
    """The body of a package's ``migrations/env.py``."""
    from alembic import context

    cfg = context.config
    db_url = cfg.attributes.get(URL_ATTRIBUTE) or cfg.get_main_option("sqlalchemy.url")
    if not db_url:
        raise MigrationError(
            "没有数据库 URL（请用 runtime.migrate.upgrade 或 'govstd migrate'）",
            "no database URL (use runtime.migrate.upgrade or 'govstd migrate')",
        )
    options: dict[str, Any] = {
        "target_metadata": None,
        "render_as_batch": True,
        "version_table": VERSION_TABLE,
        "transactional_ddl": True,
    }
    limits = timeouts()
    if context.is_offline_mode():
        context.configure(url=db_url, literal_binds=True, **options)
        with context.begin_transaction():
            _set_timeouts(context, limits)
            context.run_migrations()
        return
    engine = migration_engine(db_url)
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, **options)
            with context.begin_transaction():
                _set_timeouts(context, limits)
                context.run_migrations()
                if connection.dialect.name == "sqlite":
                    check_foreign_keys(connection)
    finally:
        engine.dispose()


def _set_timeouts(context: Any, limits: dict[str, str]) -> None:
    """``SET LOCAL`` the timeouts on PostgreSQL (in offline SQL as well)."""
    if context.get_context().dialect.name == "postgresql":
        for setting, value in limits.items():
            context.execute(f"SET LOCAL {setting} = '{value}'")


@contextmanager
def _timeouts_explained(limits: dict[str, str]) -> Iterator[None]:
    """A PostgreSQL lock or statement timeout as a MigrationError saying what to do."""
    try:
        yield
    except DBAPIError as exc:
        code = getattr(exc.orig, "sqlstate", None)
        if code == "55P03":  # lock_not_available
            raise MigrationError(
                f"迁移在 {limits['lock_timeout']} 内未能锁定数据表"
                "（正在运行的服务或其他事务持有它），未做任何更改，可稍后重试 / "
                "the migration could not lock a table within "
                f"{limits['lock_timeout']} (the running service or another transaction holds "
                "it); nothing was changed; run it again when the database is quieter, or set "
                "GOVSTD_MIGRATION_LOCK_TIMEOUT"
            ) from exc
        if code == "57014":  # query_canceled: statement_timeout
            raise MigrationError(
                f"迁移的一条语句超过 {limits['statement_timeout']}，未做任何更改 / a statement of "
                f"the migration ran longer than {limits['statement_timeout']}; nothing was "
                "changed; set GOVSTD_MIGRATION_STATEMENT_TIMEOUT to allow more"
            ) from exc
        raise


@contextmanager
def _no_bytecode() -> Iterator[None]:
    """Alembic imports env.py and the revisions; keep ``__pycache__`` out of the package."""
    before = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        yield
    finally:
        sys.dont_write_bytecode = before


def current(app_dir: Path, db_url: str) -> str | None:
    """The revision the database is at (``None``: no migration has run)."""
    from alembic.runtime.migration import MigrationContext

    config(app_dir, db_url)  # the same checks as the other commands
    engine = create_engine(db_url, poolclass=pool.NullPool)  # a reader: no write lock
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    finally:
        engine.dispose()


def declared(app_dir: Path) -> dict[str, tuple[str, ...]] | None:
    """Each revision of the package and the ones it revises, as its file assigns them
    before its first function — read without running the file: a province's first revision
    is megabytes of operations, and compiling it took seconds of ``govstd serve``'s start-up
    and hundreds of megabytes (issue 13). ``None`` when a file says it otherwise (written
    by hand): alembic's own reading is the answer then."""
    found: dict[str, tuple[str, ...]] = {}
    for path in sorted((app_dir / "migrations" / "versions").glob("*.py")):
        head = path.read_text(encoding="utf-8").split("\ndef ", 1)[0]
        values: dict[str, Any] = {}
        try:
            for node in ast.parse(head).body:
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target = node.targets[0]
                    if isinstance(target, ast.Name):
                        values[target.id] = ast.literal_eval(node.value)
        except (SyntaxError, ValueError):
            return None
        revision, down = values.get("revision"), values.get("down_revision")
        if isinstance(down, str):
            down = (down,)
        if not isinstance(revision, str) or not isinstance(down, tuple | type(None)):
            return None
        found[revision] = tuple(down or ())
    return found


def heads(app_dir: Path) -> tuple[str, ...]:
    """The newest revision(s) of the package."""
    graph = declared(app_dir)
    if graph is not None:
        revised = {down for downs in graph.values() for down in downs}
        return tuple(sorted(r for r in graph if r not in revised))
    from alembic.script import ScriptDirectory  # a package without declared revisions

    with _no_bytecode():
        script = ScriptDirectory.from_config(config(app_dir, ""))
        return tuple(script.get_heads())


def revisions(app_dir: Path) -> frozenset[str]:
    """Every revision of the package (its history, newest included)."""
    graph = declared(app_dir)
    if graph is not None:
        return frozenset(graph)
    from alembic.script import ScriptDirectory  # a package without declared revisions

    with _no_bytecode():
        script = ScriptDirectory.from_config(config(app_dir, ""))
        return frozenset(sc.revision for sc in script.walk_revisions())


def destructive_steps(app_dir: Path, db_url: str, revision: str = "head") -> list[str]:
    """The revisions between the database's and ``revision`` that lose data, with why."""
    from alembic.script import ScriptDirectory

    cfg = config(app_dir, db_url)
    at = current(app_dir, db_url)
    found = []
    with _no_bytecode():
        script = ScriptDirectory.from_config(cfg)
        for sc in script.iterate_revisions(revision, at):
            if sc.revision == at:
                continue
            if getattr(sc.module, "destructive", False):
                losses = getattr(sc.module, "data_loss", None)
                if isinstance(losses, tuple):
                    detail = "\n".join(f"- {loss}" for loss in losses)
                else:  # written before revisions listed them as data: from the docstring
                    doc = (sc.module.__doc__ or "").split("Data loss", 1)
                    detail = doc[1].split(":", 1)[1].strip() if len(doc) == 2 else ""
                said = bilingual(
                    f"修订版本 {sc.revision} 会丢失数据", f"revision {sc.revision} loses data:"
                )
                found.append(f"{said}\n{detail}".rstrip())
    return found


def revisions_between(app_dir: Path, start: str | None, end: str | None) -> list[tuple[str, str]]:
    """(revision, first line of its description) after ``start`` up to ``end``, oldest first."""
    from alembic.script import ScriptDirectory

    if end is None or start == end:
        return []
    with _no_bytecode():
        script = ScriptDirectory.from_config(config(app_dir, ""))
        found = [
            (sc.revision, (sc.doc or "").strip().splitlines()[0] if sc.doc else "")
            for sc in script.iterate_revisions(end, start)
            if sc.revision != start
        ]
    return list(reversed(found))


def upgrade(
    app_dir: Path, db_url: str, revision: str = "head", *, allow_data_loss: bool = False
) -> list[tuple[str, str]]:
    """Bring the database to ``revision``; refuse a revision that loses data unless allowed.

    Returns the revisions applied, oldest first (none when the database was up to date).
    """
    from alembic import command

    limits = timeouts()  # bad settings are refused before the database is touched
    before = current(app_dir, db_url)
    if not allow_data_loss:
        lossy = destructive_steps(app_dir, db_url, revision)
        if lossy:
            raise MigrationError(
                "\n".join(
                    [
                        *lossy,
                        bilingual(
                            "加 --allow-data-loss 才会应用这些修订版本",
                            "pass --allow-data-loss to apply these revisions",
                        ),
                    ]
                )
            )
    with _no_bytecode(), _timeouts_explained(limits):
        command.upgrade(config(app_dir, db_url), revision)
    return revisions_between(app_dir, before, current(app_dir, db_url))


def sql(
    app_dir: Path, dialect: str = "postgresql", revision: str = "head", *, down: bool = False
) -> str:
    """The SQL a migration runs, written without a database (Alembic's offline mode).

    ``revision`` is a target (``head``, a revision id: everything from the start) or a
    range ``FROM:TO`` (the revisions after FROM up to TO); with ``down``, the downgrade
    from FROM back to TO. ``dialect`` names the database: ``postgresql``, or ``sqlite`` for
    revisions that alter no table (batch mode copies tables there, which needs a database).
    """
    from alembic import command

    buffer = io.StringIO()
    cfg = config(app_dir, f"{dialect}://")
    cfg.output_buffer = buffer
    with _no_bytecode():
        if down:
            command.downgrade(cfg, revision, sql=True)
        else:
            command.upgrade(cfg, revision, sql=True)
    return buffer.getvalue()


def downgrade(app_dir: Path, db_url: str, revision: str) -> None:
    """Take the database back to ``revision`` (``base``: before the first; ``-1``: one back).

    Undoing a step drops what it added (a column, a table, a group's rows).
    """
    from alembic import command

    with _no_bytecode(), _timeouts_explained(timeouts()):
        command.downgrade(config(app_dir, db_url), revision)
