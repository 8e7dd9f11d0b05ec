"""Half a big tree parsed in a second process (generator/parse_ahead.py) loads exactly as
the loader alone would: the same models, each knowing the same ``file:line:col`` and way
back to its node, the same messages for broken files, the same source hash."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from generator import parse_ahead, tree
from generator.kinds.common import Model
from generator.pipeline import check_tree
from generator.tree import StandardsTree
from tests.helpers import STANDARDS, make_tree
from tests.test_broken_trees import BROKEN, TREE, Case


def _where(value: object, path: str, out: dict[str, object]) -> None:
    """Every model below ``value``: its location and the way back to its node."""
    if isinstance(value, Model):
        private = value.private
        ref = private["_ref"]
        out[path] = (value.at(), ref[0].index if ref else None, ref[1] if ref else None)
        for name in type(value).model_fields:
            _where(getattr(value, name), f"{path}.{name}", out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _where(item, f"{path}[{index}]", out)
    elif isinstance(value, dict):
        for key, item in value.items():
            _where(item, f"{path}[{key!r}]", out)


def _loaded(root: Path) -> tuple[StandardsTree, list[str], dict[str, object]]:
    """The tree, every message of checking it (its locations read from the models), and
    every model's place."""
    loaded, diagnostics, _ = check_tree([root])
    places: dict[str, object] = {}
    for kind, items in loaded.items.items():
        for ident, model in items.items():
            _where(model, f"{kind}:{ident}", places)
    return loaded, [str(d) for d in diagnostics], places


def _both(root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple, tuple, int]:  # type: ignore[type-arg]
    """The tree loaded alone, then with every file parsed by the child; how many files
    the loader took from the child."""
    alone = _loaded(root)
    monkeypatch.setattr(parse_ahead, "AHEAD_FROM", 0)
    monkeypatch.setattr(parse_ahead, "SHARE", 1.0)
    taken: list[Path] = []
    add_parsed = tree._add_parsed

    def counted(t: StandardsTree, documents: list, path: Path, *rest: object) -> bool:  # type: ignore[type-arg]
        done = add_parsed(t, documents, path, *rest)  # type: ignore[arg-type]
        if done:
            taken.append(path)
        return done

    monkeypatch.setattr(tree, "_add_parsed", counted)
    ahead = _loaded(root)
    return alone, ahead, len(taken)


def test_the_bundled_tree_loads_the_same_when_parsed_ahead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alone, ahead, taken = _both(STANDARDS, monkeypatch)
    assert taken == len(alone[0].files) > 30  # every file came from the child
    assert ahead[1] == alone[1]  # the messages (warnings of the bundled tree)
    assert ahead[0].source_hash == alone[0].source_hash
    assert ahead[0].files == alone[0].files
    for kind, items in alone[0].items.items():
        assert list(ahead[0].items[kind]) == list(items), kind
        for ident, model in items.items():
            assert ahead[0].items[kind][ident].model_dump() == model.model_dump(), ident
    assert len(alone[2]) > 500
    assert ahead[2] == alone[2]  # every model's file:line:col and way back to its node
    code_set = next(iter(ahead[0].codesets.values()))
    assert code_set.node is not None  # read again from its file when asked for


@pytest.mark.parametrize("case", BROKEN[::3], ids=[c.id for c in BROKEN[::3]])
def test_a_broken_tree_reports_the_same_when_parsed_ahead(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_tree(tmp_path, *case.edits)
    assert root.name == TREE
    alone, ahead, taken = _both(root, monkeypatch)
    assert alone[1], case.id  # broken: something is reported
    assert ahead[1] == alone[1]
    assert ahead[2] == alone[2]
    assert 0 < taken <= len(alone[0].files)


def test_a_child_that_fails_leaves_the_loading_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = _loaded(STANDARDS)
    monkeypatch.setattr(parse_ahead, "AHEAD_FROM", 0)
    failing = ([sys.executable, "-c", "import sys; sys.exit(3)"], {})
    monkeypatch.setattr("generator.children.python_module", lambda *a: failing)
    again = _loaded(STANDARDS)
    assert again[1] == alone[1] and again[2] == alone[2]
    assert again[0].source_hash == alone[0].source_hash
