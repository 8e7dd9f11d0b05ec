"""Messages of the standards commands: a region that is not in the tree gets a suggestion,
and no location reads ``:0:0``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import STANDARDS, edited_standards, run


@pytest.mark.parametrize("command", ["resolve", "generate"])
def test_unknown_region_did_you_mean(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    standards = str(Path(__file__).parent.parent / "standards")
    args = [command, standards, "--region", "nansan"]
    if command == "generate":
        args += ["--out", "out"]
    code, out, err = run(tmp_path, monkeypatch, *args)
    assert code == 1 and out == ""
    line = next(line for line in err.splitlines() if "nansan" in line)
    assert line.startswith(f"{standards}: error: 未知的区域 'nansan'（是否应为 'nanshan'？） / ")
    assert "unknown region 'nansan'; did you mean 'nanshan'? (known regions: " in line
    assert not (tmp_path / "out").exists()


def test_no_location_reads_0_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "empty").mkdir()
    for args in (
        ["validate", "missing"],
        ["validate", "empty"],
        ["resolve", "empty", "--region", "x"],
    ):
        code, _, err = run(tmp_path, monkeypatch, *args)
        assert code == 1
        assert ":0:0" not in err, err
        assert f"{args[1]}: error: " in err


def test_generate_refusals_are_located_like_validate_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A migration step that would lose data names the file with its root folder, then
    ``error:``, then the message in both languages (the location once)."""
    shutil.copytree(STANDARDS.parent / "generated" / "nanshan", tmp_path / "pkg")
    removed = "      - element: email\n        required: false\n"
    edited_standards(tmp_path / "std", ("national/forms/ibr_form.yaml", removed, ""))
    code, _, err = run(
        tmp_path, monkeypatch, "generate", "std", "--region", "nanshan", "--out", "pkg"
    )
    assert code == 1
    [line] = [line for line in err.splitlines() if "email" in line]
    assert line.startswith("std/national/forms/ibr_form.yaml:")
    location, _, rest = line.partition(": error: ")
    assert rest.startswith("表单 'ibr_form' 的字段 'email'")
    assert " / field 'email' (element email) of form 'ibr_form' was removed" in rest
    assert location not in rest
