"""Messages of the standards commands: a region that is not in the tree gets a suggestion,
and no location reads ``:0:0``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_broken_trees import run


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
