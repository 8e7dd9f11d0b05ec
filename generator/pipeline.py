"""The stages a command runs: load → check → resolve (→ build → render → write)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from generator.checks import check_all
from generator.checks.context import Checker, known
from generator.diagnostics import Diagnostics, Location
from generator.resolve import ResolvedRegion, check_region, resolve
from generator.tree import StandardsTree, load_tree


def check_tree(
    roots: Sequence[str | Path],
) -> tuple[StandardsTree, Diagnostics, dict[str, ResolvedRegion]]:
    """Load and check a tree and every region in it; all problems in one collector."""
    diagnostics = Diagnostics()
    tree = load_tree(roots, diagnostics)
    check_all(tree, diagnostics)
    c = Checker(tree, diagnostics)
    for region in tree.regions.values():
        check_region(c, region)
    resolved: dict[str, ResolvedRegion] = {}
    for region_id, region in tree.regions.items():
        result = resolve(c, region)
        if result is not None:
            resolved[region_id] = result
    return tree, diagnostics, resolved


def resolve_region(
    roots: Sequence[str | Path], region_id: str
) -> tuple[ResolvedRegion | None, Diagnostics]:
    tree, diagnostics, resolved = check_tree(roots)
    if diagnostics.has_errors():
        return None, diagnostics
    if region_id not in resolved:
        where = Location(str(roots[0]) if roots else ".", 0, 0)
        diagnostics.error(where, f"unknown region '{region_id}' (known regions: "
                          f"{known(tree.regions)})")
        return None, diagnostics
    return resolved[region_id], diagnostics
