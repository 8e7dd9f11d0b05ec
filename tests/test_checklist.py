"""``govstd import-xlsx`` / ``export-xlsx``: 实施清单 workbooks, every problem at its cell."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import Workbook

from generator.kinds.common import text
from generator.pipeline import check_tree
from tests.helpers import ROOT, edited_standards, run

SAMPLE = ROOT / "standards" / "checklist-sample.xlsx"


def test_a_region_round_trips_through_a_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = edited_standards(tmp_path / "std")
    code, _, err = run(
        tmp_path, monkeypatch, "export-xlsx", "std", "--region", "zhejiang", "--out", "z.xlsx"
    )
    assert code == 0, err
    assert "z.xlsx: 8 matter(s) written" in err
    from openpyxl import load_workbook

    book = load_workbook(tmp_path / "z.xlsx")
    book["事项"]["B2"].value = "出生医学证明签发"  # one edit
    book.save(tmp_path / "z.xlsx")
    # a changed row replaces the matter's own file; the unchanged rows are skipped
    code, _, err = run(
        tmp_path,
        monkeypatch,
        *("import-xlsx", "z.xlsx", "--root", "std", "--out", "std/national/matters"),
    )
    assert code == 0, err
    assert "error" not in err and "1 matter(s) written, 7 unchanged" in err
    tree, diagnostics, _ = check_tree([root])
    assert not diagnostics.has_errors(), [str(d) for d in diagnostics.errors]
    sheet = load_workbook(tmp_path / "z.xlsx")["事项"]
    assert len(tree.matters) == 8 and text(tree.matters["birth_certificate_first_issue"].name, "en")
    for row in sheet.iter_rows(min_row=2, values_only=True):
        assert text(tree.matters[str(row[0])].name) == row[1]


def _workbook(path: Path, matters: list[list[Any]], materials: list[list[Any]]) -> None:
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    for title, rows in (("事项", matters), ("材料", materials)):
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)


HEADER = [
    "标识", "事项名称", "事项类型", "服务对象", "实施主体", "法定办结时限", "承诺办结时限",
    "时限单位", "办件类型", "办理渠道", "申请表单", "办理流程", "到办事现场的次数", "备注",
]  # fmt: skip
GOOD = ["new_matter", "新事项", "行政许可", "自然人、2", "某局", 5, 3, "工作日", "承诺件",
        "网上、窗口", "ibr_form", "licensing", 0, ""]  # fmt: skip


def test_every_problem_at_its_cell_in_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edited_standards(tmp_path / "std")
    bad_row = ["Bad-Id", "坏事项", "行政许ke", "自然人", "某局", "三", 3, "周", "承诺件",
               "网上", "ibr_form", "licensing", 0, ""]  # fmt: skip
    limits = ["limits", "时限", "01", "1", "某局", 2, 5, "工作日", "承诺件",
              "网上", "ibr_form", "licensing", 0, ""]  # fmt: skip
    _workbook(
        tmp_path / "w.xlsx",
        [HEADER, GOOD, bad_row, limits],
        [["事项标识", "材料标识", "材料名称", "必要性"],
         ["new_matter", "id_proof", "身份证明", "必须"],
         ["nwe_matter", "x", "某材料", "必要"]],
    )  # fmt: skip
    code, _, err = run(
        tmp_path, monkeypatch, "import-xlsx", "w.xlsx", "--root", "std", "--out", "out"
    )
    assert code == 1
    assert not (tmp_path / "out").exists()
    expected = {
        "w.xlsx:事项!M1": "unknown column '到办事现场的次数'; did you mean '到办事现场次数'?",
        "w.xlsx:事项!N1": "unknown column '备注' (columns: 标识、事项名称",
        "w.xlsx:事项!A3": "'Bad-Id' is not a valid id",
        "w.xlsx:事项!C3": "'行政许ke' is neither a code nor a name of code set 'matter_type'; "
        "did you mean '行政许可'?",
        "w.xlsx:事项!F3": "'三' is not a whole number ≥ 0",
        "w.xlsx:事项!H3": "'周' is not one of 工作日 | 自然日",
        "w.xlsx:材料!D2": "'必须' is not one of 必要 | 非必要 | 容缺",
        "w.xlsx:材料!A3": "matter id 'nwe_matter' is not on sheet '事项'; "
        "did you mean 'new_matter'?",
        # found by validate in the YAML, reported at the cell it came from
        "w.xlsx:事项!G4": "promised limit 5 working_day is above the legal limit 2",
    }
    lines = [line for line in err.splitlines() if ": error: " in line]
    for where, message in expected.items():
        assert any(line.startswith(f"{where}: error: ") and message in line for line in lines), (
            f"{where}: {message}\n{err}"
        )
    assert len(lines) == len(expected), err
    assert f"{len(expected)} error(s); nothing written to out" in err


def test_a_missing_column_is_said_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    edited_standards(tmp_path / "std")
    header = [h for h in HEADER if h != "事项名称"]
    row = [v for h, v in zip(HEADER, GOOD, strict=True) if h != "事项名称"]
    _workbook(tmp_path / "w.xlsx", [header, row, ["m2", *row[1:]]], [])
    code, _, err = run(
        tmp_path, monkeypatch, "import-xlsx", "w.xlsx", "--root", "std", "--out", "out"
    )
    assert code == 1
    lines = [line for line in err.splitlines() if ": error: " in line]
    assert any(
        line.startswith("w.xlsx:事项!N1: error: ") and "missing column '事项名称'" in line
        for line in lines
    ), err
    assert not any("'name'" in line for line in lines), err


def test_names_or_codes_and_a_form_that_is_not_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = edited_standards(tmp_path / "std")
    rows: list[list[Any]] = [HEADER[:12]]
    for index, kind in enumerate(["行政许可", "01", 1]):
        rows.append([f"m{index}", "新事项", kind, "自然人、2", "某局", 5, 3, "工作日", "承诺件",
                     "网上、窗口", "ibr_form", "licensing"])  # fmt: skip
    rows.append(["m9", "新事项", "01", "1", "某局", 5, 3, "工作日", "承诺件", "网上",
                 "ibr_from", "licensing"])  # fmt: skip
    _workbook(tmp_path / "w.xlsx", rows, [["事项标识", "材料标识", "材料名称"]])
    code, _, err = run(
        tmp_path, monkeypatch, "import-xlsx", "w.xlsx", "--root", "std", "--out", "out"
    )
    assert code == 1
    lines = [line for line in err.splitlines() if ": error: " in line]
    assert len(lines) == 1, err
    [line] = lines
    assert line.startswith("w.xlsx:事项!K5: error: ")
    assert "form 'ibr_from' is not defined; did you mean 'ibr_form'?" in line
    _workbook(tmp_path / "w.xlsx", rows[:-1], [["事项标识", "材料标识", "材料名称"]])
    code, _, err = run(
        tmp_path, monkeypatch, "import-xlsx", "w.xlsx", "--root", "std", "--out", "out"
    )
    assert code == 0, err
    for index in range(3):
        data = yaml.safe_load((tmp_path / "out" / f"m{index}.yaml").read_text("utf-8"))
        assert data["type"] == "01"
        assert data["service_objects"] == ["1", "2"]
        assert data["channels"] == ["online", "window"]
    shutil.copytree(tmp_path / "out", root / "imported")
    assert not check_tree([root])[1].has_errors()


def test_the_sample_workbook_imports_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As documented: ``govstd import-xlsx standards/checklist-sample.xlsx --out DIR`` from the
    repository. Its rows are the bundled matters: before, 8 duplicate Matter ids."""
    monkeypatch.chdir(ROOT)
    code, _, err = run(
        ROOT, monkeypatch, "import-xlsx", "standards/checklist-sample.xlsx", "--out", str(tmp_path)
    )
    assert code == 0, err
    assert "0 matter(s) written, 8 unchanged" in err
    assert list(tmp_path.iterdir()) == []


def test_a_changed_row_of_a_matter_defined_elsewhere_is_refused_at_its_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpyxl import load_workbook

    edited_standards(tmp_path / "std")
    book = load_workbook(SAMPLE)
    book["事项"]["B2"].value = "出生医学证明签发"
    book.save(tmp_path / "s.xlsx")
    code, _, err = run(
        tmp_path, monkeypatch, "import-xlsx", "s.xlsx", "--root", "std", "--out", "out"
    )
    assert code == 1
    assert "s.xlsx:事项!A2: error: 事项 'birth_certificate_first_issue' 已在 std/national/" in err
    assert "7 unchanged" not in err and not (tmp_path / "out").exists()
