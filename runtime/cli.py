"""The runtime's commands: ``migrate``, ``serve``, ``sweep-uploads``, ``token``, ``keygen``.

They need only the runtime: a server that runs a package but never generates one installs
no generator, and runs them as ``python -m runtime.cli``. The ``govstd`` command
(:mod:`generator.cli`) adds them to the generator's commands. What each command does is
in :mod:`runtime.cli_commands`; these are its typer wrappers (options, help, printing).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer

from runtime.types import bilingual

P = ParamSpec("P")
R = TypeVar("R")


def say(zh: str, en: str) -> None:
    """Tell the person at the terminal (standard error), Chinese first, then English."""
    print(bilingual(zh, en), file=sys.stderr)


def _one_line_errors(command: Callable[P, R]) -> Callable[P, R]:
    """A :class:`runtime.cli_commands.CommandError` (a problem the user can fix) printed as
    one line, ``error: 中文 / English``, exit 1."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        from runtime.cli_commands import CommandError

        try:
            return command(*args, **kwargs)
        except CommandError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(1) from None

    return run


app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="govstd runtime: migrate and serve a deployment package (政务服务运行时).",
    pretty_exceptions_enable=False,
)


AppDir = Annotated[Path, typer.Option("--app", help="deployment package folder (govstd generate)")]
DbUrl = Annotated[
    str | None,
    typer.Option("--db", help="database URL (default: GOVSTD_DATABASE_URL or var/govstd.db)"),
]


@app.command()
@_one_line_errors
def migrate(
    app_dir: AppDir,
    db: DbUrl = None,
    allow_data_loss: Annotated[
        bool, typer.Option("--allow-data-loss", help="allow steps that drop or narrow data")
    ] = False,
) -> None:
    """Bring the database to the package's newest revision."""
    from runtime.cli_commands import migrate as run

    url, applied = run(app_dir, db, allow_data_loss=allow_data_loss)
    database = url.split("@")[-1]
    if not applied:
        say(f"{database}: 已是最新修订版本，无需迁移", f"{database}: up to date, nothing to do")
        return
    for revision, description in applied:
        print(
            bilingual(f"已应用 {revision}", f"applied {revision}") + f": {description}",
            file=sys.stderr,
        )
    say(
        f"{database}: 已应用 {len(applied)} 个修订版本；请重启正在运行的 govstd serve "
        "以使用新的部署包",
        f"{database}: {len(applied)} revision(s) applied; restart a running govstd serve "
        "so that it uses the new package",
    )


@app.command()
@_one_line_errors
def serve(
    app_dir: AppDir,
    db: DbUrl = None,
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="worker processes")] = 1,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            "--forwarded-allow-ips",
            help="addresses of the reverse proxy whose X-Forwarded-Proto/-For are believed "
            "(comma-separated, default: GOVSTD_FORWARDED_ALLOW_IPS, else none)",
        ),
    ] = None,
) -> None:
    """Serve the deployment package over HTTP (uvicorn)."""
    from runtime.cli_commands import serve as run

    run(app_dir, db, host=host, port=port, workers=workers, forwarded_allow_ips=forwarded_allow_ips)


@app.command("sweep-uploads")
@_one_line_errors
def sweep_uploads(
    app_dir: AppDir,
    db: DbUrl = None,
    older_than: Annotated[
        int,
        typer.Option("--older-than", help="minutes since a file was last written (at least 1)"),
    ] = 60,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="say what would be removed, remove nothing")
    ] = False,
) -> None:
    """Remove material files no row refers to (left by a crash); serve does it at start-up."""
    from runtime.cli_commands import sweep_uploads as run

    print(run(app_dir, db, older_than_minutes=older_than, dry_run=dry_run), file=sys.stderr)


@app.command()
@_one_line_errors
def token(
    role: Annotated[
        str, typer.Option("--role", help="applicant|officer|approver|supervisor|admin|data_steward")
    ],
    region: Annotated[str | None, typer.Option("--region", help="staff: region id")] = None,
    sub: Annotated[str | None, typer.Option("--sub", help="subject (person id)")] = None,
    name: Annotated[str | None, typer.Option("--name", help="display name")] = None,
    id_number: Annotated[
        str | None, typer.Option("--id-number", help="applicant: citizen ID number for prefill")
    ] = None,
    ttl: Annotated[int, typer.Option("--ttl", help="lifetime in seconds")] = 8 * 3600,
    app_dir: Annotated[
        Path | None,
        typer.Option("--app", help="package folder: the region must be one it serves"),
    ] = None,
) -> None:
    """Print a signed development token."""
    from runtime.cli_commands import token as run

    print(
        run(role, region=region, sub=sub, name=name, id_number=id_number, ttl=ttl, app_dir=app_dir)
    )


@app.command()
def keygen() -> None:
    """Print a new GOVSTD_SECRET and GOVSTD_DATA_KEY, as lines of an environment file."""
    import secrets

    from runtime.crypto import new_key

    print(f"GOVSTD_SECRET={secrets.token_urlsafe(48)}")
    print(f"GOVSTD_DATA_KEY={new_key()}")
    say(
        "请像数据库口令一样保管；丢失 GOVSTD_DATA_KEY 后加密的个人信息无法再读出",
        "keep them like a database password: without GOVSTD_DATA_KEY the encrypted "
        "personal data cannot be read again",
    )


def run(cli: typer.Typer, before: Callable[[list[str]], None] | None = None) -> None:
    """Run ``cli`` as a program: exit 130 on Ctrl-C, and one line instead of a traceback
    for an unexpected error (``--traceback`` shows it). ``before`` sees the arguments."""
    traceback = "--traceback" in sys.argv
    if traceback:
        sys.argv.remove("--traceback")
    if before is not None:
        before(sys.argv[1:])
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if traceback:
            raise
        say(
            f"意外错误 {type(exc).__name__}（加 --traceback 运行可看详情）",
            f"error: {type(exc).__name__}: {exc} (run with --traceback for details)",
        )
        sys.exit(1)


def main() -> None:
    run(app)


if __name__ == "__main__":
    main()
