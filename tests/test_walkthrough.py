"""docs/new-region.md, followed: every file it shows, written out, validates with the
bundled national tree, and 武侯区's package generates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_broken_trees import diagnostic_lines, run

REPO = Path(__file__).parent.parent
GUIDE = (REPO / "docs" / "new-region.md").read_text(encoding="utf-8")


def _files() -> dict[str, str]:
    blocks = re.findall(r"```yaml\n# file: (\S+)\n(.*?)```", GUIDE, re.S)
    return dict(blocks)


def test_the_guide_writes_a_whole_tree() -> None:
    assert set(_files()) == {
        "sichuan/codesets/divisions.yaml",
        "sichuan/elements/advertising.yaml",
        "sichuan/forms/outdoor_ad_form.yaml",
        "sichuan/matters/outdoor_ad.yaml",
        "sichuan/regions/sichuan.yaml",
        "sichuan/regions/chengdu.yaml",
        "sichuan/regions/wuhou.yaml",
    }


def test_the_new_region_validates_resolves_and_generates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, content in _files().items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    standards = str(REPO / "standards")
    code, _, err = run(tmp_path, monkeypatch, "validate", standards, "sichuan")
    assert code == 0, err
    assert [line for line in diagnostic_lines(err) if "sichuan/" in line] == [], err
    code, out, err = run(
        tmp_path, monkeypatch, "resolve", standards, "sichuan", "--region", "wuhou"
    )
    assert code == 0, err
    assert "成都市武侯区综合行政执法局" in out and "site_photo" in out
    assert re.search(r"promised:\s*\{?\s*value: 7", out), out
    code, _, err = run(
        tmp_path, monkeypatch,
        "generate", standards, "sichuan", "--region", "wuhou", "--out", "generated/wuhou",
    )  # fmt: skip
    assert code == 0, err
    assert (tmp_path / "generated/wuhou/catalog.json").is_file()
