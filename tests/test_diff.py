"""``govstd diff OLD NEW --region R``: what a standards change does to a region's package."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import FIXTURE, replace_once, run


def _trees(tmp_path: Path, *edits: tuple[str, str, str]) -> None:
    shutil.copytree(FIXTURE, tmp_path / "old")
    shutil.copytree(FIXTURE, tmp_path / "new")
    for file, old, new in edits:
        replace_once(tmp_path / "new" / file, old, new)


EDITS = (
    # a field renamed (kept data), one dropped, one added
    (
        "forms/ibr_form.yaml",
        "      - id: operator_phone\n",
        "      - id: contact_phone\n        renamed_from: [operator_phone]\n",
    ),
    ("forms/food_form.yaml", "      - element: business_scope\n", "      - element: employees\n"),
    # a region stops implementing a matter; another limit changes
    ("regions/c.yaml", "include: [ibr, food]", "include: [ibr]"),
    ("regions/c.yaml", "  food:\n    time_limit: {promised: {value: 5, unit: working_day}}\n", ""),
    (
        "regions/b.yaml",
        "promised: {value: 1, unit: working_day}",
        "promised: {value: 2, unit: working_day}",
    ),
)


def test_a_change_in_matters_fields_and_migration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trees(tmp_path, *EDITS)
    code, out, err = run(
        tmp_path, monkeypatch, "diff", "old", "new", "--region", "b", "--format", "json"
    )
    assert code == 0, err
    result = json.loads(out)
    matters = [(c["change"], c["en"]) for c in result["matters"]]
    assert ("removed", "c: no longer implements matter food") in matters
    assert ("changed", "b: ibr promised limit 1 working day(s) → 2 working day(s)") in matters
    fields = [(c["change"], c["en"]) for c in result["fields"]]
    assert ("changed", "form ibr_form field operator_phone renamed to contact_phone") in fields
    assert ("removed", "form food_form field business_scope") in fields
    assert any(
        change == "added"
        and en.startswith(
            "form food_form field employees (element employees, new/forms/food_form.yaml:"
        )
        for change, en in fields
    ), fields
    migration = result["migration"]
    assert "add column form_food_form.employees" in migration["steps"]
    assert "drop column form_food_form.business_scope" in migration["steps"]
    assert not any("operator_phone" in step and "drop" in step for step in migration["steps"])
    [loss] = migration["data_loss"]
    assert loss.startswith("old/forms/food_form.yaml:")
    assert "dropping column form_food_form.business_scope loses its data" in loss


def test_text_output_and_no_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _trees(tmp_path, *EDITS)
    code, out, _ = run(tmp_path, monkeypatch, "diff", "old", "new", "--region", "b")
    assert code == 0
    assert out.startswith("区域 'b' 部署包的变化 / what changes in region 'b''s package\n")
    assert "  - 表单 food_form 字段 business_scope / form food_form field business_scope\n" in out
    assert "steps that lose data (generate refuses them without --allow-data-loss):" in out
    code, out, _ = run(tmp_path, monkeypatch, "diff", "old", "old", "--region", "b")
    assert code == 0
    assert "nothing changes" in out


def test_a_tree_with_errors_or_an_unknown_region(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trees(tmp_path, ("matters/ibr.yaml", "form: ibr_form", "form: ibr_from"))
    code, out, err = run(tmp_path, monkeypatch, "diff", "old", "new", "--region", "b")
    assert code == 1 and out == ""
    assert "new/matters/ibr.yaml:" in err and "form 'ibr_from' is not defined" in err
    code, out, err = run(tmp_path, monkeypatch, "diff", "old", "old", "--region", "bb")
    assert code == 1 and out == ""
    assert "unknown region 'bb' in old; did you mean 'b'?" in err
