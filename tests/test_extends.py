"""``extends:`` on a CodeSet: a tree adds codes to a national code set without editing it."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.build import build_codeset
from generator.diagnostics import Diagnostics
from generator.tree import load_tree
from tests.helpers import add, assert_reported, diagnostic_lines, make_tree, validate

REGION = """\
kind: Region
id: chengdu
code: "510100"
name: {zh: 成都市}
calendar: cn_2026
matters: {include: [ibr]}
overrides:  # its own agency (an inherited one of another division is a warning)
  ibr:
    agency: {name: {zh: 成都市市场监督管理局}, code: "11510100MB2D072246"}
"""
DIVISIONS = """\
kind: CodeSet
id: sichuan_divisions
name: {zh: 四川省行政区划代码}
extends: admin_division
values:
  - {code: "510000", name: {zh: 四川省}}
  - {code: "510100", name: {zh: 成都市}, parent: "510000"}
  - {code: "510107", name: {zh: 武侯区}, parent: "510100"}
"""


def test_a_region_code_added_by_extension(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, err = validate(tmp_path, monkeypatch, add("sichuan/regions/chengdu.yaml", REGION))
    assert_reported(  # without the extension: not a known division
        err,
        "sichuan/regions/chengdu.yaml:3:7",
        "region code '510100' is not in code set 'admin_division'",
        "warning",
    )
    code, err = validate(
        tmp_path / "2",
        monkeypatch,
        add("sichuan/regions/chengdu.yaml", REGION),
        add("sichuan/codesets/divisions.yaml", DIVISIONS),
    )
    assert code == 0, err
    assert not any("admin_division" in line for line in diagnostic_lines(err)), err


def test_the_extended_codes_reach_the_package(tmp_path: Path) -> None:
    root = make_tree(tmp_path, add("sichuan/codesets/divisions.yaml", DIVISIONS))
    diagnostics = Diagnostics()
    tree = load_tree([root], diagnostics)
    assert not diagnostics.has_errors()
    codes = [v.code for v in build_codeset(tree.codesets["admin_division"]).values]
    assert codes[:3] == ["440000", "440300", "440305"]
    assert codes[-3:] == ["510000", "510100", "510107"]


@pytest.mark.parametrize(
    ("values", "where", "message"),
    [
        ('extends: admin_divison', "sichuan/codesets/divisions.yaml:4:10",
         "code set 'admin_divison' is not defined; did you mean 'admin_division'?"),
        ('extends: sichuan_divisions', "sichuan/codesets/divisions.yaml:4:10",
         "a code set cannot extend itself"),
    ],
)  # fmt: skip
def test_extends_an_unknown_set_or_itself(
    values: str, where: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = DIVISIONS.replace("extends: admin_division", values)
    code, err = validate(tmp_path, monkeypatch, add("sichuan/codesets/divisions.yaml", text))
    assert code == 1
    assert_reported(err, where, message)


def test_a_code_the_set_has_already(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = DIVISIONS + '  - {code: "440305", name: {zh: 又一个南山区}}\n'
    code, err = validate(tmp_path, monkeypatch, add("sichuan/codesets/divisions.yaml", text))
    assert code == 1
    assert_reported(
        err,
        "sichuan/codesets/divisions.yaml:9:5",
        "duplicate code '440305' in code set 'admin_division' (first at mini/codesets/",
    )


def test_a_parent_in_the_extended_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = DIVISIONS + '  - {code: "440306", name: {zh: 宝安区}, parent: "440300"}\n'
    code, err = validate(tmp_path, monkeypatch, add("sichuan/codesets/divisions.yaml", text))
    assert code == 0, err
    text = DIVISIONS + '  - {code: "440306", name: {zh: 宝安区}, parent: "449999"}\n'
    code, err = validate(tmp_path / "2", monkeypatch, add("sichuan/codesets/divisions.yaml", text))
    assert code == 1
    assert "parent '449999' of code '440306' is not a code of 'sichuan_divisions'" in err
