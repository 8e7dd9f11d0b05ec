"""The ``govstd`` command line: the generator's commands, then the runtime's
(:mod:`runtime.cli`: migrate, serve, sweep-uploads, token, keygen)."""

from __future__ import annotations

import gc
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from runtime.cli import app as runtime_app
from runtime.cli import run, say

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="govstd: government services generated from standards (政务服务标准化平台).",
    pretty_exceptions_enable=False,
)

Roots = Annotated[list[Path], typer.Argument(help="standards tree folder(s), read as one tree")]


def _one_line(text: str) -> str:
    """``text`` with control and separator characters escaped (``\\n``, ``\\x1b``, ``\\u202e``).

    A message may quote the input (an unknown key written ``"a\\nb"`` in YAML): a problem
    stays on one line, and no escape sequence reaches the terminal.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _print_diagnostics(diagnostics: object) -> tuple[int, int]:
    """Print each problem once; the number of errors and of warnings printed."""
    from generator.diagnostics import Diagnostics

    assert isinstance(diagnostics, Diagnostics)
    shown = list(diagnostics)  # sorted, each once (the same node may be reached twice)
    for diagnostic in shown:
        print(_one_line(str(diagnostic)), file=sys.stderr)
    errors = sum(d.severity == "error" for d in shown)
    return errors, len(shown) - errors


@app.command()
def validate(roots: Roots) -> None:
    """Load and check a standards tree; print every error and warning with file:line:col."""
    from generator.pipeline import check_tree

    _, diagnostics, _ = check_tree(roots)
    errors, warnings = _print_diagnostics(diagnostics)
    say(f"{errors} 个错误，{warnings} 个警告", f"{errors} error(s), {warnings} warning(s)")
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


@app.command()
def generate(
    roots: Roots,
    region: Annotated[str, typer.Option("--region", help="region id, e.g. nanshan")],
    out: Annotated[Path, typer.Option("--out", help="package folder to write")],
    check: Annotated[bool, typer.Option("--check", help="write nothing; exit 1 if stale")] = False,
    allow_data_loss: Annotated[
        bool, typer.Option("--allow-data-loss", help="allow migrations that drop or narrow")
    ] = False,
) -> None:
    """Write REGION's deployment package (models, schemas, migrations, OpenAPI) to OUT."""
    from generator.pipeline import generate as run
    from generator.render import GenerateError

    try:
        result, diagnostics = run(roots, region, out, check=check, allow_data_loss=allow_data_loss)
    except GenerateError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        say(f"未向 {out} 写入任何文件", f"nothing written to {out}")
        raise typer.Exit(1) from None
    errors, _ = _print_diagnostics(diagnostics)
    if result is None:
        say(
            f"{errors} 个错误；未向 {out} 写入任何文件",
            f"{errors} error(s); nothing written to {out}",
        )
        raise typer.Exit(1)
    changed = len(result.written) + len(result.removed)
    if check:
        for path in [*result.written, *result.removed]:
            say(f"已过期：{out / path}", f"stale: {out / path}")
        state = "已过期" if changed else "已是最新"
        say(f"{out}: {state}", f"{out}: {'stale' if changed else 'up to date'}")
        raise typer.Exit(1 if changed else 0)
    say(
        f"{out}: 写入 {len(result.written)} 个文件，删除 {len(result.removed)} 个，"
        f"未改动 {result.unchanged} 个",
        f"{out}: {len(result.written)} written, {len(result.removed)} removed, "
        f"{result.unchanged} unchanged",
    )


@app.command()
def schema(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="folder to write one schema per kind to (default: print one)"),
    ] = None,
) -> None:
    """JSON Schemas of the standards format for editors (one per kind, and one for any kind)."""
    from generator.schema import COMBINED, schema_files, write_schemas

    if out is None:
        sys.stdout.write(schema_files()[COMBINED])
        return
    changed, total = write_schemas(out)
    say(
        f"{out}: {total} 个 JSON Schema，写入 {len(changed)} 个",
        f"{out}: {total} JSON Schemas, {len(changed)} written",
    )


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


@app.command()
def impact(
    roots: Roots,
    element: Annotated[str | None, typer.Option("--element", help="data element id")] = None,
    codeset: Annotated[str | None, typer.Option("--codeset", help="code set id")] = None,
    form: Annotated[str | None, typer.Option("--form", help="form id")] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text, or json for tools")
    ] = OutputFormat.text,
) -> None:
    """List every form, matter, bundle, policy and region using an element, code set or form."""
    from generator.impact import ImpactError, TargetKind, render
    from generator.impact import impact as run

    options: list[tuple[TargetKind, str | None]] = [
        ("element", element),
        ("codeset", codeset),
        ("form", form),
    ]
    given = [(kind, value) for kind, value in options if value is not None]
    if len(given) != 1:
        say(
            "请只给出 --element、--codeset、--form 中的一个",
            "give exactly one of --element, --codeset, --form",
        )
        raise typer.Exit(2)
    try:
        result = run(roots, *given[0])
    except ImpactError as exc:
        print(_one_line(f"error: {exc}") if "\n" not in str(exc) else exc, file=sys.stderr)
        raise typer.Exit(1) from None
    sys.stdout.write(render(result, output.value))


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="the standards tree as it is")],
    new: Annotated[Path, typer.Argument(help="the standards tree as it will be")],
    region: Annotated[str, typer.Option("--region", help="region id, e.g. nanshan")],
    old_roots: Annotated[
        list[Path] | None,
        typer.Option("--old-root", help="one more folder of the tree as it is (repeatable)"),
    ] = None,
    new_roots: Annotated[
        list[Path] | None,
        typer.Option("--new-root", help="one more folder of the tree as it will be (repeatable)"),
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text, or json for tools")
    ] = OutputFormat.text,
) -> None:
    """What changing OLD into NEW does to REGION's package, before anyone generates.

    A tree of several folders (national and regional) is OLD plus each --old-root, and NEW
    plus each --new-root: ``govstd diff standards standards --old-root sichuan.old
    --new-root sichuan --region wuhou``."""
    from generator.diff import DiffError, render
    from generator.diff import diff as run

    try:
        result = run([old, *(old_roots or [])], [new, *(new_roots or [])], region)
    except DiffError as exc:
        for line in exc.lines:
            print(_one_line(line), file=sys.stderr)
        raise typer.Exit(1) from None
    sys.stdout.write(render(result, output.value))


@app.command("import-xlsx")
def import_xlsx(
    file: Annotated[Path, typer.Argument(help="实施清单 workbook (.xlsx)")],
    out: Annotated[Path, typer.Option("--out", help="folder to write one <id>.yaml per matter")],
    root: Annotated[
        list[Path] | None,
        typer.Option("--root", help="the standards tree the matters join (default: standards)"),
    ] = None,
) -> None:
    """Turn a 实施清单 workbook into Matter YAML; every problem at FILE:SHEET!CELL.

    A row for a matter the tree already defines is skipped when it says what the tree says,
    and replaces its file when that file is in OUT and holds only that matter."""
    from generator.checklist_import import ImportError_, import_workbook

    roots = root or [Path("standards")]
    try:
        written, unchanged, problems = import_workbook(file, roots, out)
    except ImportError_ as exc:
        print(f"{file}: error: {exc}", file=sys.stderr)
        raise typer.Exit(1) from None
    for problem in problems:
        print(_one_line(str(problem)), file=sys.stderr)
    errors = sum(p.severity == "error" for p in problems)
    if errors:
        say(
            f"{errors} 个错误；未向 {out} 写入任何文件",
            f"{errors} error(s); nothing written to {out}",
        )
        raise typer.Exit(1)
    say(
        f"{out}: 写入 {len(written)} 个事项，{len(unchanged)} 个与标准树相同未写",
        f"{out}: {len(written)} matter(s) written, {len(unchanged)} unchanged",
    )


class CatalogueFormat(StrEnum):
    json = "json"
    xlsx = "xlsx"


@app.command()
def catalogue(
    roots: Roots,
    region: Annotated[str, typer.Option("--region", help="region id, e.g. nanshan")],
    output: Annotated[
        CatalogueFormat, typer.Option("--format", help="json (standard output) or xlsx")
    ] = CatalogueFormat.json,
    out: Annotated[
        Path | None, typer.Option("--out", help="file to write (required for xlsx)")
    ] = None,
) -> None:
    """Write REGION's data resource catalogue (数据资源目录): one resource per form, its
    provider agency, its data items with share type and update cycle (docs/data.md)."""
    from generator.build import build_package
    from generator.catalogue import resources, write_workbook
    from generator.pipeline import checked_region

    if output is CatalogueFormat.xlsx and out is None:
        say("xlsx 格式须给出 --out", "--format xlsx needs --out")
        raise typer.Exit(2)
    tree, diagnostics, resolved = checked_region(roots, region)
    _print_diagnostics(diagnostics)
    if not resolved:
        raise typer.Exit(1)
    found = resources(build_package(tree, resolved, region))
    if output is CatalogueFormat.xlsx:
        assert out is not None
        count = write_workbook(found, out)
        say(f"{out}: 写入 {count} 个数据项", f"{out}: {count} data item(s) written")
        return
    text = json.dumps({"region": region, "items": found}, ensure_ascii=False, indent=2)
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        out.write_text(text + "\n", encoding="utf-8")


@app.command("export-xlsx")
def export_xlsx(
    roots: Roots,
    region: Annotated[str, typer.Option("--region", help="region id, e.g. nanshan")],
    out: Annotated[Path, typer.Option("--out", help="workbook to write (.xlsx)")],
) -> None:
    """Write the matters REGION implements as a 实施清单 workbook (the sheets import-xlsx
    reads), as their Matter documents define them: the region's overrides stay in its YAML."""
    from generator.checklist_export import export_workbook
    from generator.pipeline import check_tree, resolve_region

    resolved, diagnostics = resolve_region(roots, region)
    _print_diagnostics(diagnostics)
    if resolved is None:
        raise typer.Exit(1)
    tree, _, _ = check_tree(roots)
    count = export_workbook(tree, [tree.matters[m] for m in sorted(resolved.matters)], out)
    say(f"{out}: 写入 {count} 个事项", f"{out}: {count} matter(s) written")


# The runtime's commands (migrate, serve, sweep-uploads, token, keygen), after ours.
app.add_typer(runtime_app)


def _quiet_collector(args: list[str]) -> None:
    if args and args[0] in {"validate", "resolve", "generate"}:
        # Short-lived and allocation-heavy (millions of nodes, no cycles worth
        # collecting): the cyclic collector would rescan them again and again.
        gc.disable()


def main() -> None:
    run(app, _quiet_collector)


if __name__ == "__main__":
    main()
