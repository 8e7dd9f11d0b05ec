"""The ``govstd`` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="govstd: government services generated from standards (政务服务标准化平台).",
    pretty_exceptions_enable=False,
)

Roots = Annotated[list[Path], typer.Argument(help="standards tree folder(s), read as one tree")]


def _print_diagnostics(diagnostics: object) -> None:
    from generator.diagnostics import Diagnostics

    assert isinstance(diagnostics, Diagnostics)
    for diagnostic in diagnostics:
        print(diagnostic, file=sys.stderr)


@app.command()
def validate(roots: Roots) -> None:
    """Load and check a standards tree; print every error and warning with file:line:col."""
    from generator.pipeline import check_tree

    _, diagnostics, _ = check_tree(roots)
    _print_diagnostics(diagnostics)
    errors, warnings = len(diagnostics.errors), len(diagnostics.warnings)
    print(f"{errors} error(s), {warnings} warning(s)", file=sys.stderr)
    raise typer.Exit(1 if errors else 0)


@app.command()
def resolve(
    roots: Roots,
    region: Annotated[str, typer.Option("--region", help="region id, e.g. nanshan")],
) -> None:
    """Print what REGION implements after inheritance and overrides, as YAML."""
    from generator.pipeline import resolve_region
    from generator.resolved import to_yaml

    resolved, diagnostics = resolve_region(roots, region)
    _print_diagnostics(diagnostics)
    if resolved is None:
        raise typer.Exit(1)
    sys.stdout.write(to_yaml(resolved))


def main() -> None:
    traceback = "--traceback" in sys.argv
    if traceback:
        sys.argv.remove("--traceback")
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if traceback:
            raise
        print(f"error: {type(exc).__name__}: {exc} (run with --traceback for details)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
