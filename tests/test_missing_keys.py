"""A document missing several required keys reports every one of them in one run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import add, diagnostic_lines, validate

NEW_MATTER = """\
kind: Matter
id: new_matter
name: {zh: 新事项}
materials:
  - {medium: paper}
"""


def test_every_missing_key_of_a_new_matter_in_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = validate(tmp_path, monkeypatch, add("matters/new.yaml", NEW_MATTER))
    assert code == 1
    lines = diagnostic_lines(err)
    required = ["agency", "case_type", "form", "service_objects", "time_limit", "type", "workflow"]
    for key in required:
        message = f"缺少必填键 '{key}' / missing required key '{key}'"
        line = f"mini/matters/new.yaml:1:1: error: {message}"
        assert line in lines, f"{key} not reported:\n{err}"
    # the material's own missing keys, at the material
    for key in ["id", "name"]:
        assert any(
            line.startswith("mini/matters/new.yaml:5:5: error:")
            and f"missing required key '{key}'" in line
            for line in lines
        ), f"materials[0].{key} not reported:\n{err}"
    assert len(lines) == len(required) + 2, err
