"""The stages a command runs: load → check → resolve (→ build → render → write)."""

from __future__ import annotations

import ctypes
import re
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from generator.build import build_package, subtree
from generator.checks import check_all
from generator.checks.context import Checker, did_you_mean, did_you_mean_zh, known
from generator.checks.regions import check_resolved_region, validation_day
from generator.diagnostics import Diagnostics, Location
from generator.ir import PackageIR
from generator.pinyin import PinyinKeys
from generator.previous import PreviousPackage, read_previous
from generator.render import GeneratedFile, GenerateError
from generator.resolve import ResolvedRegion, check_region, resolve
from generator.reuse import record
from generator.tree import StandardsTree, collector_off, load_tree
from generator.writer import PackageWriter, WriteResult
from runtime.packs import PACKAGE_FORMAT
from runtime.types import bilingual


def check_tree(
    roots: Sequence[str | Path],
) -> tuple[StandardsTree, Diagnostics, dict[str, ResolvedRegion]]:
    """Load and check a tree and every region in it; all problems in one collector."""
    diagnostics = Diagnostics()
    tree = load_tree(roots, diagnostics)
    check_all(tree, diagnostics)
    return tree, diagnostics, check_regions(tree, diagnostics)


def check_regions(tree: StandardsTree, diagnostics: Diagnostics) -> dict[str, ResolvedRegion]:
    """Check every region, resolve it (parents first) and check the policies claimed in it."""
    c = Checker(tree, diagnostics)
    for region in tree.regions.values():
        check_region(c, region)
    resolved: dict[str, ResolvedRegion] = {}
    for region_id, region in sorted(tree.regions.items(), key=lambda r: _depth(tree, r[0])):
        result = resolve(c, region)
        if result is not None:
            resolved[region_id] = result
    today = validation_day()
    for result in resolved.values():
        check_resolved_region(c, result, today)
    for policy in tree.policies.values():
        for index, region_id in enumerate(policy.regions):
            served = resolved.get(region_id)
            missing = served is not None and policy.apply not in served.matters
            if missing and policy.apply in tree.matters:
                c.error(
                    policy.at("regions", index),
                    bilingual(
                        f"惠企政策 '{policy.id}' 通过事项 '{policy.apply}' 申领，"
                        f"但区域 '{region_id}' 未实施该事项",
                        f"policy '{policy.id}' is claimed "
                        f"through matter '{policy.apply}', which region '{region_id}' does "
                        "not implement",
                    ),
                )
    return resolved


def _depth(tree: StandardsTree, region_id: str) -> int:
    """How many ancestors a region has (parents are resolved before children)."""
    seen: set[str] = set()
    current = tree.regions.get(region_id)
    while current is not None and current.parent and current.id not in seen:
        seen.add(current.id)
        current = tree.regions.get(current.parent)
    return len(seen)


def checked_region(
    roots: Sequence[str | Path], region_id: str
) -> tuple[StandardsTree, Diagnostics, dict[str, ResolvedRegion]]:
    """check_tree, with nothing resolved when there are errors or the region is unknown."""
    tree, diagnostics, resolved = check_tree(roots)
    return tree, diagnostics, _region_known(roots, tree, diagnostics, resolved, region_id)


def _region_known(
    roots: Sequence[str | Path],
    tree: StandardsTree,
    diagnostics: Diagnostics,
    resolved: dict[str, ResolvedRegion],
    region_id: str,
) -> dict[str, ResolvedRegion]:
    """``resolved``, or nothing after reporting why ``region_id`` cannot be generated."""
    if not diagnostics.has_errors() and region_id not in resolved:
        where = Location(str(roots[0]) if roots else ".", 0, 0)
        diagnostics.error(
            where,
            bilingual(
                f"未知的区域 '{region_id}'{did_you_mean_zh(region_id, tree.regions)}",
                f"unknown region '{region_id}'{did_you_mean(region_id, tree.regions)} "
                f"(known regions: {known(tree.regions)})",
            ),
        )
    return {} if diagnostics.has_errors() else resolved


def resolve_region(
    roots: Sequence[str | Path], region_id: str
) -> tuple[ResolvedRegion | None, Diagnostics]:
    _, diagnostics, resolved = checked_region(roots, region_id)
    return (resolved[region_id] if resolved else None), diagnostics


def render_package(
    pkg: PackageIR,
    previous: PreviousPackage,
    writer: PackageWriter,
    pinyin: PinyinKeys,
    *,
    allow_data_loss: bool,
) -> dict[str, object]:
    """Every file of the package continuing ``previous``, into ``writer`` as each renderer
    finishes (its files are not kept); the header of its manifest. Raises GenerateError."""
    from generator.render.catalog import render_catalog
    from generator.render.forms import render_forms
    from generator.render.migrations import render_database
    from generator.render.openapi import render_openapi
    from generator.render.rules import render_rules
    from generator.render.schemas import render_schemas

    # the Python first (the form and table modules, the quicker renderer first):
    # formatted and staged by the writer's helper process, a batch at a time, while the
    # rest renders here (PackageWriter.format_ahead)
    steps: list[Callable[[], Iterable[GeneratedFile]]] = [
        lambda: render_forms(pkg, previous.forms),
        lambda: render_database(pkg, previous, allow_data_loss=allow_data_loss),
        lambda: render_catalog(pkg, pinyin),
        lambda: render_schemas(pkg),
        lambda: render_openapi(pkg),
        lambda: render_rules(pkg, previous.rules),
    ]
    for step in steps:
        writer.add_all(step())
        writer.format_ahead()
    return {"region": pkg.region, "source_hash": pkg.source_hash, "format": PACKAGE_FORMAT}


def generate(
    roots: Sequence[str | Path],
    region_id: str,
    out_dir: Path,
    *,
    check: bool = False,
    allow_data_loss: bool = False,
) -> tuple[WriteResult | None, Diagnostics]:
    """Validate, resolve, build, render and write (or compare, with ``check``).

    One stage after the other in this process, the cyclic collector off
    (:func:`generator.tree.collector_off`): a package is rendered only from a tree
    without errors, and written only when every file of it rendered.
    """
    with collector_off():
        return _generate(roots, region_id, out_dir, check=check, allow_data_loss=allow_data_loss)


def _generate(
    roots: Sequence[str | Path],
    region_id: str,
    out_dir: Path,
    *,
    check: bool,
    allow_data_loss: bool,
) -> tuple[WriteResult | None, Diagnostics]:
    tree, diagnostics, resolved = check_tree(roots)
    if not _region_known(roots, tree, diagnostics, resolved, region_id):
        return None, diagnostics
    # the catalogue's pinyin keys: in a child process from now, beside the build
    names = (
        m.name.get("zh", "") for r in subtree(tree, region_id) for m in resolved[r].matters.values()
    )
    with PinyinKeys(names) as pinyin:
        pkg = build_package(tree, resolved, region_id)
        where = _Sources.of(tree)
        del tree, resolved  # the model is what renders: the tree's memory goes back now
        with _ctrl_c() as interrupted, PackageWriter(out_dir, check=check, ahead=True) as writer:
            try:
                previous = read_previous(out_dir)
                header = render_package(
                    pkg, previous, writer, pinyin, allow_data_loss=allow_data_loss
                )
            except GenerateError as failure:
                raise GenerateError([where.located(line) for line in failure.lines]) from None
            except Exception:
                # a Ctrl-C in Python called from C that turned it into its own error (orjson's
                # ``default`` raises TypeError "not JSON serializable" for any exception)
                interrupted()
                raise
            del pkg, previous  # the files are staged: ruff format runs beside less memory
            _return_freed_memory()
            written = writer.commit(header, before_publishing=interrupted)
    if not check:
        record(out_dir)  # so that the next run can take unchanged form modules over
    return written, diagnostics


def _return_freed_memory() -> None:
    """Hand the C heap's freed memory back to the system (glibc's ``malloc_trim``), so
    that ``ruff format``, which runs next, is not added to memory this process no longer
    uses: 44 MB of the 303 MB left after rendering 4,000 matters. Nothing elsewhere."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    trim(0)


@contextmanager
def _ctrl_c() -> Iterator[Callable[[], None]]:
    """Ctrl-C raises KeyboardInterrupt as always, and is remembered: the yielded function
    raises it again if it came and was lost on the way.

    Python runs its SIGINT handler in whatever Python code the main thread runs next; if
    that is a finalizer (a ``__del__`` or weakref callback, run as reference counting or
    a collection frees an object), the KeyboardInterrupt is printed as "Exception ignored"
    and dropped, and the generate would go on to write the package. The writer calls the
    function before it moves the first file into the package. Only Python's own handler
    is replaced: an ignored SIGINT (a background job of a shell script) stays ignored, and
    signal handlers belong to the main thread.
    """
    own = threading.current_thread() is threading.main_thread()
    if not own or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield lambda: None
        return
    came: list[int] = []

    def handler(signum: int, frame: object) -> None:
        came.append(signum)
        raise KeyboardInterrupt

    def again() -> None:
        if came:
            raise KeyboardInterrupt

    before = signal.signal(signal.SIGINT, handler)
    try:
        yield again
    finally:
        signal.signal(signal.SIGINT, before)


_LOCATED = re.compile(r"(?P<file>[^\s:]+):(?P<line>\d+):(?P<column>\d+): ")


@dataclass(frozen=True)
class _Sources:
    """The tree's files as validate shows them (kept after the tree is let go)."""

    shown: dict[str, str]  # path relative to its root -> path with the root folder

    @classmethod
    def of(cls, tree: StandardsTree) -> _Sources:
        shown = {}
        for root in tree.roots:
            prefix = Path(root).as_posix().rstrip("/") + "/"
            shown.update({f.removeprefix(prefix): f for f in tree.files if f.startswith(prefix)})
        return cls(shown)

    def located(self, line: str) -> str:
        """A render problem's line as validate writes one: ``file:line:col: error: zh /
        en``, the file with its root folder (the package records it relative to the root)."""

        def where(match: re.Match[str]) -> str:
            file = self.shown.get(match["file"], match["file"])
            return f"{file}:{match['line']}:{match['column']}: "

        zh, separator, en = line.partition(" / ")
        first, second = _LOCATED.match(zh), _LOCATED.match(en)
        if separator and first and second and first.group(0) == second.group(0):
            return f"{where(first).rstrip()} error: {zh[first.end() :]} / {en[second.end() :]}"
        if first:
            return f"{where(first).rstrip()} error: {line[first.end() :]}"
        return line
