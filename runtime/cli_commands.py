"""What ``govstd migrate``, ``govstd serve``, ``govstd sweep-uploads`` and ``govstd token``
do (the typer commands in :mod:`runtime.cli` are thin wrappers). Errors a user can fix
raise :class:`CommandError` with one line to print."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime.settings import Settings, SettingsError, data_keys, database_url
from runtime.types import GovstdError, bilingual

if TYPE_CHECKING:
    import uvicorn

    from runtime.package import Package
    from runtime.sweep import Swept


class CommandError(GovstdError):
    """A problem the user can fix; printed as one line (``中文 / English``), exit 1."""


def _warn(zh: str, en: str) -> None:
    print(f"warning: {bilingual(zh, en)}", file=sys.stderr)


def _check_app(app_dir: Path, *, verify: bool = True) -> None:
    """A package folder (``verify``: whose files are all as its ``package.json`` records
    them; without it, loading the package checks that)."""
    from runtime.package import PackageError, check_package

    if not (app_dir / "catalog.json").is_file():
        raise CommandError(
            f"{app_dir}: 不是部署包（没有 catalog.json）；"
            "请用 'govstd generate ROOT --region ID --out DIR' 生成",
            f"{app_dir}: not a deployment package (no catalog.json); "
            "write one with 'govstd generate ROOT --region ID --out DIR'",
        )
    if not verify:
        return
    try:
        check_package(app_dir)
    except PackageError as exc:
        raise CommandError(str(exc)) from None


def migrate(
    app_dir: Path, db: str | None = None, *, allow_data_loss: bool = False
) -> tuple[str, list[tuple[str, str]]]:
    """Bring the database to the package's newest revision; the URL it used and the
    revisions it applied (revision, description), oldest first."""
    _check_app(app_dir)
    from runtime.migrate import MigrationError, upgrade

    url = database_url(db)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        applied = upgrade(app_dir, url, allow_data_loss=allow_data_loss)
    except MigrationError as exc:
        raise CommandError(str(exc)) from None
    _pseudonymize(app_dir, url)
    return url, applied


def _pseudonymize(app_dir: Path, url: str) -> None:
    """Rows written before applicants were stored by pseudonym get theirs
    (:mod:`runtime.subjects`); needs the data key only when there are such rows."""
    from runtime.crypto import Cipher
    from runtime.db import make_engine, read, write
    from runtime.package import load_package
    from runtime.subjects import legacy_count, pseudonymize_existing

    package = load_package(app_dir)
    engine = make_engine(url)
    try:
        with read(engine) as conn:
            if not legacy_count(conn, package):
                return
        production = os.environ.get("GOVSTD_ENV", "").lower() == "production"
        try:
            keys = data_keys(Settings(production=production, env=dict(os.environ)))
        except SettingsError as exc:
            raise CommandError(str(exc)) from None
        with write(engine) as conn:
            changed = pseudonymize_existing(conn, package, Cipher(keys))
    finally:
        engine.dispose()
    print(
        bilingual(
            f"{changed} 行中的申请人登录名已改为假名",
            f"applicant login ids replaced by pseudonyms in {changed} rows",
        ),
        file=sys.stderr,
    )


WORKER_START_TIMEOUT_S = 120


def serve(
    app_dir: Path,
    db: str | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    forwarded_allow_ips: str | None = None,
) -> None:
    """Serve the package with uvicorn; several workers use the import-string factory.

    Connection limits and the workers' tie to the master: :mod:`runtime.server`.
    ``X-Forwarded-Proto`` / ``-For`` are believed only from ``forwarded_allow_ips`` (or
    ``GOVSTD_FORWARDED_ALLOW_IPS``): behind a proxy that ends TLS, cookies are then Secure."""
    import uvicorn

    from runtime.server import ServeConfig

    trusted = forwarded_allow_ips or os.environ.get("GOVSTD_FORWARDED_ALLOW_IPS") or None

    # One worker loads the package here (which verifies it); several load it in each
    # worker process, so it is verified first, for one clear error before they start.
    _check_app(app_dir, verify=workers > 1)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    url = database_url(db)
    try:
        settings = Settings.from_env()
        if workers > 1:  # each worker checks them too, but one clear error comes first
            data_keys(settings)
    except SettingsError as exc:
        raise CommandError(str(exc)) from None
    if workers > 1:  # one clear error before the workers start (each checks again)
        _check_database(app_dir, url)
        _sweep_at_start(app_dir, url, settings.upload_dir)
        if url.startswith("sqlite"):
            _warn(
                "多个工作进程共用 SQLite 的同一把写锁，写入不会更快",
                "several workers share one SQLite write lock; writes do not get faster",
            )
        os.environ["GOVSTD_APP_DIR"] = str(app_dir.resolve())
        os.environ["GOVSTD_DATABASE_URL"] = url
        _run_workers(
            ServeConfig(
                "runtime.app:app_from_env",
                settings=settings,
                factory=True,
                host=host,
                port=port,
                workers=workers,
                forwarded_allow_ips=trusted,
                # SIGHUP replaces each worker once its replacement is ready (docs/deploy.md);
                # a worker loads and verifies the package first, which can take longer than
                # uvicorn's 5 s on a busy machine, and then the restart was abandoned.
                timeout_worker_healthcheck=WORKER_START_TIMEOUT_S,
            )
        )
        return
    from runtime.app import create_app
    from runtime.package import PackageError
    from runtime.revision_guard import DatabaseNotReady

    try:
        app = create_app(app_dir, url, settings)
    except (PackageError, SettingsError, DatabaseNotReady) as exc:
        raise CommandError(str(exc)) from None
    # the app's package: loading it again took 1.5 s of a province package's start
    _sweep_at_start(app_dir, url, settings.upload_dir, app.state.ctx.package)
    config = ServeConfig(app, settings=settings, host=host, port=port, forwarded_allow_ips=trusted)
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run()


def sweep_uploads(
    app_dir: Path, db: str | None = None, *, older_than_minutes: int = 60, dry_run: bool = False
) -> str:
    """Remove the material files no row refers to (:mod:`runtime.sweep`); one line saying
    what was removed."""
    from datetime import timedelta

    _check_app(app_dir)
    url = database_url(db)
    _check_database(app_dir, url)
    try:
        upload_dir = Settings.from_env().upload_dir
    except SettingsError as exc:
        raise CommandError(str(exc)) from None
    if older_than_minutes < 1:
        raise CommandError(
            "--older-than 至少为 1 分钟：更新的文件可能属于正在进行的上传",
            "--older-than must be at least 1 minute: newer files may be uploads in progress",
        )
    from runtime.sweep import report

    age = timedelta(minutes=older_than_minutes)
    return report(
        _sweep(app_dir, url, upload_dir, older_than=age, dry_run=dry_run), dry_run=dry_run
    )


def _sweep(
    app_dir: Path, url: str, upload_dir: Path, package: Package | None = None, **options: Any
) -> Swept:
    from runtime.db import make_engine
    from runtime.package import load_package
    from runtime.sweep import sweep_uploads as sweep

    engine = make_engine(url, pool_size=1)
    try:
        return sweep(engine, package or load_package(app_dir), upload_dir, **options)
    finally:
        engine.dispose()


def _sweep_at_start(
    app_dir: Path, url: str, upload_dir: Path, package: Package | None = None
) -> None:
    """The start-up sweep of ``govstd serve`` (with the package if it is loaded already): a
    failure is logged, never fatal."""
    from sqlalchemy.exc import SQLAlchemyError

    from runtime.sweep import report

    log = logging.getLogger("govstd.runtime")
    try:
        swept = _sweep(app_dir, url, upload_dir, package)
    except (OSError, SQLAlchemyError) as exc:
        log.warning(
            "upload sweep failed (%s): unreferenced material files were not removed",
            type(exc).__name__,
        )
        return
    if swept.removed:
        log.warning("%s: %s", report(swept), ", ".join(swept.removed[:20]))


def _check_database(app_dir: Path, url: str) -> None:
    """The database exists and is at the package's revision (a SQLite file is not created)."""
    from runtime.revision_guard import DatabaseNotReady, Revisions, open_database

    try:
        open_database(url, Revisions.of_package(app_dir)).dispose()
    except DatabaseNotReady as exc:
        raise CommandError(str(exc)) from None


def _run_workers(config: uvicorn.Config) -> None:
    """``uvicorn.run(…, workers=N)``, with a listening socket that says it is TCP and
    hands out one connection per wake-up (:class:`runtime.server.OneAtATimeSocket`).

    uvicorn binds the workers' socket with ``proto`` 0; accepted connections inherit it,
    and asyncio turns on TCP_NODELAY only for sockets that say ``IPPROTO_TCP``. Without
    it every keep-alive request after the first waited ~40 ms for the client's delayed
    ACK (uvicorn issue #3149): 360 requests/s at most over 16 connections.
    """
    from uvicorn.supervisors import Multiprocess

    from runtime.server import OneAtATimeSocket

    sock = OneAtATimeSocket.listening(config.bind_socket())
    with contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[sock]).run()


def token(
    role: str,
    *,
    region: str | None = None,
    sub: str | None = None,
    name: str | None = None,
    id_number: str | None = None,
    ttl: int = 8 * 3600,
    app_dir: Path | None = None,
) -> str:
    """A signed development token; warns when the development secret signs it. With
    ``app_dir``, ``region`` must be one the package serves."""
    from runtime.auth import issue_token

    if app_dir is not None and region is not None:
        _check_region(app_dir, region)

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise CommandError(str(exc)) from None
    if settings.secret_is_dev:
        _warn(
            "未设置 GOVSTD_SECRET：用开发用密钥签名",
            "GOVSTD_SECRET is not set: signing with the development secret",
        )
    if ttl <= 0:
        raise CommandError("--ttl 必须是正的秒数", "--ttl must be a positive number of seconds")
    try:
        return issue_token(
            settings,
            role=role,
            sub=sub or f"dev-{role}",
            region=region,
            name=name,
            id_number=id_number,
            ttl=ttl,
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def _check_region(app_dir: Path, region: str) -> None:
    """``region`` is served by the package in ``app_dir``; else an error with a suggestion."""
    import difflib

    from runtime.package import PackageError, load_package

    _check_app(app_dir, verify=False)
    try:
        served = sorted(load_package(app_dir).regions)
    except PackageError as exc:
        raise CommandError(str(exc)) from None
    if region in served:
        return
    close = difflib.get_close_matches(region, served, n=1)
    raise CommandError(
        f"部署包 {app_dir} 不服务区域 '{region}'"
        + (f"（是否应为 '{close[0]}'？）" if close else ""),
        f"the package in {app_dir} does not serve region '{region}'"
        + (f"; did you mean '{close[0]}'?" if close else "")
        + f" (regions: {', '.join(served)})",
    )
