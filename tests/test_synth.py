"""The synthetic tree of bench/synth.py stays valid as the validator evolves."""

from __future__ import annotations

from pathlib import Path

from bench.synth import matter_id, overridden_matters, write_tree
from generator.pipeline import check_tree


def _texts(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.yaml"))}


def test_synthetic_tree_validates_without_problems(tmp_path: Path) -> None:
    write_tree(tmp_path, 12)
    tree, diagnostics, resolved = check_tree([tmp_path])
    assert [str(d) for d in diagnostics] == []
    assert len(tree.matters) == 12
    assert len(tree.forms) == 12
    assert len(tree.elements) == 12 * 20
    assert set(resolved) == {"province", "city"}
    city = resolved["city"]
    assert len(city.matters) == 12
    for index in overridden_matters(12):
        matter = city.matters[matter_id(index, 12)]
        assert "city" in city.overridden_by[matter.id]
        material_ids = [m.id for m in matter.materials]
        assert "lease_contract" in material_ids
        assert "application_form" not in material_ids
        base = tree.matters[matter.id]
        assert matter.time_limit.promised.value < base.time_limit.promised.value


def test_other_form_sizes_validate(tmp_path: Path) -> None:
    for fields in (1, 3, 7):
        root = tmp_path / str(fields)
        write_tree(root, 6, fields_per_form=fields)
        _, diagnostics, _ = check_tree([root])
        assert [str(d) for d in diagnostics] == [], fields


def test_synthetic_tree_is_deterministic(tmp_path: Path) -> None:
    write_tree(tmp_path / "a", 5)
    write_tree(tmp_path / "b", 5)
    assert _texts(tmp_path / "a") == _texts(tmp_path / "b")


def test_an_override_that_breaks_a_matter_is_reported(tmp_path: Path) -> None:
    """The bench input is checked for real: a bad override in it is an error."""
    write_tree(tmp_path, 5)
    city = tmp_path / "regions" / "city.yaml"
    text = city.read_text(encoding="utf-8")
    city.write_text(text.replace("promised: {value: ", "promised: {value: 9", 1), encoding="utf-8")
    _, diagnostics, _ = check_tree([tmp_path])
    assert any("above the legal limit" in d.message for d in diagnostics.errors)
