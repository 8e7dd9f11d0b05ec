"""docs/new-region.md, followed: every file it shows, written out, validates with the
bundled national tree, and 武侯区's package generates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import ROOT, diagnostic_lines, replace_once, run

GUIDE = (ROOT / "docs" / "new-region.md").read_text(encoding="utf-8")


def _files() -> dict[str, str]:
    blocks = re.findall(r"```yaml\n# file: (\S+)\n(.*?)```", GUIDE, re.S)
    return dict(blocks)


def _write_guide(folder: Path) -> None:
    """Every file the guide shows, below ``folder``."""
    for name, content in _files().items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(content, encoding="utf-8")


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
    _write_guide(tmp_path)
    standards = str(ROOT / "standards")
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


def _command(line: str) -> list[str]:
    """The arguments of the guide's ``govstd …`` command that starts with ``line``."""
    found = re.search(r"`govstd (" + re.escape(line) + r"[^`]*)`", GUIDE)
    assert found, line
    return found[1].split()


def test_the_region_list_round_trips_through_a_spreadsheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """§7: export-xlsx, edit the workbook, import-xlsx, validate — as the guide writes them.

    Before, the workbook held the national matter and wuhou's overrides baked in, and the
    import stopped at two duplicate Matter ids."""
    from openpyxl import load_workbook

    _write_guide(tmp_path)
    (tmp_path / "standards").symlink_to(ROOT / "standards")
    code, _, err = run(tmp_path, monkeypatch, *_command("export-xlsx"))
    assert code == 0, err
    book = load_workbook(tmp_path / "wuhou.xlsx")
    sheet = book["事项"]
    header = [c.value for c in sheet[1]]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert set(rows) == {"outdoor_ad_permit", "unemployment_registration"}
    rows["outdoor_ad_permit"][header.index("法定办结时限")].value = 15  # the edit
    book.save(tmp_path / "wuhou.xlsx")
    code, _, err = run(tmp_path, monkeypatch, *_command("import-xlsx"))
    assert code == 0, err
    assert "1 matter(s) written, 1 unchanged" in err, err
    assert sorted(p.name for p in (tmp_path / "sichuan/matters").iterdir()) == ["outdoor_ad.yaml"]
    code, _, err = run(tmp_path, monkeypatch, "validate", "standards", "sichuan")
    assert code == 0, err
    code, out, err = run(
        tmp_path, monkeypatch, "resolve", "standards", "sichuan", "--region", "wuhou"
    )
    assert code == 0, err
    assert re.search(r"legal:\s*\{?\s*value: 15", out), out
    # what the sheet cannot say is kept, and wuhou's overrides still apply once
    assert "Outdoor advertising permit" in out and "户外广告设施设置许可决定书" in out
    assert out.count("id: site_photo") == 1 and "须标明与道路的距离" in out
    assert "application/pdf" in out


def test_the_documented_diff_compares_two_trees_of_two_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """§7's ``govstd diff``: national plus regional folder on each side (before, diff took
    one folder per side and the guide's command could not be typed)."""
    import shutil

    _write_guide(tmp_path)
    (tmp_path / "standards").symlink_to(ROOT / "standards")
    shutil.copytree(tmp_path / "sichuan", tmp_path / "sichuan.old")
    replace_once(
        tmp_path / "sichuan/matters/outdoor_ad.yaml", "legal: {value: 20", "legal: {value: 15"
    )
    args = _command("diff standards")
    assert "--old-root" in args and "--new-root" in args
    code, out, err = run(tmp_path, monkeypatch, *args)
    assert code == 0, err
    assert "outdoor_ad_permit" in out and "20" in out and "15" in out, out
