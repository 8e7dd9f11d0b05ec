"""``govstd import-xlsx``: a 实施清单 workbook → Matter YAML that validates with the tree.

Every problem is reported at ``FILE:SHEET!CELL`` in one run: unknown headers (with a
suggestion), missing columns, values that are not of their column's kind, codes or
names not in their code set — and then everything ``govstd validate`` finds in the
matters written (a form that does not exist, a promised limit above the legal one …),
mapped back from the YAML to the cell it came from. Nothing is written when there is
an error.
"""

from __future__ import annotations

import difflib
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from generator.checklist import (
    CASE_TYPES,
    CHANNELS,
    FEES,
    MATERIAL_COLUMNS,
    MATERIALS,
    MATTERS,
    NECESSITY,
    SEPARATORS,
    SHEETS,
    SOURCES,
    UNITS,
    YES_NO,
    Column,
    words,
)
from generator.checklist_export import sheet_view
from generator.diagnostics import Diagnostics
from generator.kinds import Matter
from generator.kinds.common import ID_PATTERN, text
from generator.pipeline import check_tree
from generator.tree import StandardsTree, load_tree
from generator.yamlsource import load_file
from runtime.types import GovstdError, bilingual

_ID = re.compile(ID_PATTERN)
_BASIS = re.compile(r"^《(?P<title>[^》]+)》\s*(?P<article>.*)$")


@dataclass(frozen=True)
class Problem:
    where: str  # FILE:SHEET!CELL
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.where}: {self.severity}: {self.message}"


@dataclass
class Cell:
    value: Any
    ref: str  # SHEET!CELL


Row = dict[str, Cell]


@dataclass
class Imported:
    """A matter read from the workbook: its YAML data and where each part came from."""

    data: dict[str, Any]
    row: Row
    materials: list[Row] = field(default_factory=list)
    fees: list[Row] = field(default_factory=list)


class ImportError_(GovstdError):
    """The workbook cannot be read at all."""


class _Sheets:
    """Reads the sheets of one workbook, collecting every problem."""

    def __init__(self, path: Path, display: str) -> None:
        self.display = display
        self.problems: list[Problem] = []
        try:
            self.book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a file that is no workbook
            raise ImportError_(
                f"{display}：无法作为 xlsx 工作簿读取", f"{display}: not an xlsx workbook ({exc})"
            ) from None

    def error(self, ref: str, zh: str, en: str) -> None:
        self.problems.append(Problem(f"{self.display}:{ref}", bilingual(zh, en)))

    def rows(self, sheet: str, required: bool) -> Iterator[tuple[int, Row]]:
        if sheet not in self.book.sheetnames:
            if required:
                self.error(
                    f"{sheet}!A1",
                    f"缺少工作表 '{sheet}'（现有：{'、'.join(self.book.sheetnames)}）",
                    f"no sheet '{sheet}' (sheets: {', '.join(self.book.sheetnames)})",
                )
            return
        ws = self.book[sheet]
        assert isinstance(ws, Worksheet) or hasattr(ws, "iter_rows")
        lines = ws.iter_rows(values_only=True)
        header = list(next(lines, ()))
        if all(h is None for h in header) and not required:
            return  # an empty optional sheet is no sheet
        columns = self._columns(sheet, list(header), SHEETS[sheet])
        for number, values in enumerate(lines, start=2):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            row: Row = {}
            for index, column in columns.items():
                value = values[index] if index < len(values) else None
                if isinstance(value, str):
                    value = value.strip() or None
                row[column.key] = Cell(value, f"{sheet}!{get_column_letter(index + 1)}{number}")
            yield number, row

    def _columns(
        self, sheet: str, header: list[Any], columns: Sequence[Column]
    ) -> dict[int, Column]:
        by_header = {c.header: c for c in columns}
        found: dict[int, Column] = {}
        for index, title in enumerate(header):
            if title is None or not str(title).strip():
                continue
            name = str(title).strip()
            ref = f"{sheet}!{get_column_letter(index + 1)}1"
            if name not in by_header:
                close = difflib.get_close_matches(name, list(by_header), n=1, cutoff=0.3)
                self.error(
                    ref,
                    f"未知的列 '{name}'" + (f"（是否应为 '{close[0]}'？）" if close else ""),
                    f"unknown column '{name}'"
                    + (f"; did you mean '{close[0]}'?" if close else "")
                    + f" (columns: {'、'.join(by_header)})",
                )
            elif by_header[name] in found.values():
                self.error(ref, f"列 '{name}' 重复", f"column '{name}' appears twice")
            else:
                found[index] = by_header[name]
        missing = [c for c in columns if c.required and c not in found.values()]
        after = f"{sheet}!{get_column_letter(len(header) + 1)}1"
        for column in missing:
            self.error(after, f"缺少列 '{column.header}'", f"missing column '{column.header}'")
        return found


class _Values:
    """Turns cells into YAML values; a bad cell is reported and gives None."""

    def __init__(self, sheets: _Sheets, tree: StandardsTree) -> None:
        self.sheets = sheets
        self.tree = tree

    def text(self, cell: Cell | None, required: bool = False) -> str | None:
        if cell is None or cell.value is None:
            if required and cell is not None:
                self.sheets.error(cell.ref, "不能为空", "must not be empty")
            return None
        value = cell.value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value)

    def ident(self, cell: Cell | None) -> str | None:
        value = self.text(cell, required=True)
        if value is not None and cell is not None and not _ID.match(value):
            self.sheets.error(
                cell.ref,
                f"'{value}' 不是有效的标识：只能用小写字母、数字和 '_'，以字母开头",
                f"'{value}' is not a valid id: lower-case letters, digits and '_', "
                "starting with a letter",
            )
            return None
        return value

    def integer(self, cell: Cell | None, required: bool = False) -> int | None:
        if cell is None or cell.value is None:
            self.text(cell, required)  # reports an empty required cell
            return None
        value = cell.value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and float(value).is_integer() and value >= 0:
            return int(value)
        self.sheets.error(
            cell.ref,
            f"'{value}' 不是非负整数（天数、次数）",
            f"'{value}' is not a whole number ≥ 0",
        )
        return None

    def word(self, cell: Cell | None, mapping: dict[str, Any], required: bool = False) -> Any:
        value = self.text(cell, required)
        if value is None or cell is None:
            return None
        if value in mapping:
            return mapping[value]
        if value in mapping.values():  # the YAML value itself is fine too
            return value
        self.sheets.error(
            cell.ref,
            f"'{value}' 不是允许的值（{words(mapping)}）",
            f"'{value}' is not one of {words(mapping)}",
        )
        return None

    def many(self, cell: Cell | None) -> list[str]:
        value = self.text(cell)
        if value is None:
            return []
        parts = re.split(f"[{SEPARATORS}\\s]+", value)
        return [p for p in parts if p]

    def codes(self, cell: Cell | None, codeset_id: str, *, several: bool) -> list[str]:
        """Codes of ``codeset_id`` given by code or by name (numbers lose leading zeros)."""
        if cell is None:
            return []
        codeset = self.tree.codesets.get(codeset_id)
        if cell.value is None:
            self.sheets.error(cell.ref, "不能为空", "must not be empty")
            return []
        values = self.many(cell) if several else [self.text(cell) or ""]
        if codeset is None:
            return values  # validate reports the missing code set
        codes = codeset.codes()
        names = {text(v.name): v.code for v in codes.values()}
        names.update({text(v.name, "en"): v.code for v in codes.values()})
        found = []
        for value in values:
            padded = [c for c in codes if c.lstrip("0") == value.lstrip("0")]
            if value in codes:
                found.append(value)
            elif value in names:
                found.append(names[value])
            elif value.isdigit() and len(padded) == 1:
                found.append(padded[0])
            else:
                shown = [f"{c} {text(v.name)}" for c, v in codes.items()]
                close = difflib.get_close_matches(value, [*codes, *names], n=1)
                self.sheets.error(
                    cell.ref,
                    f"'{value}' 不是代码集 '{codeset_id}' 的代码或名称"
                    + (f"（是否应为 '{close[0]}'？）" if close else ""),
                    f"'{value}' is neither a code nor a name of code set '{codeset_id}'"
                    + (f"; did you mean '{close[0]}'?" if close else "")
                    + f" ({', '.join(shown[:12])})",
                )
        return found


def read_workbook(
    path: Path, display: str, tree: StandardsTree
) -> tuple[list[Imported], list[Problem]]:
    sheets = _Sheets(path, display)
    values = _Values(sheets, tree)
    matters: dict[str, Imported] = {}
    for _, row in sheets.rows(MATTERS, required=True):
        imported = _matter(values, row)
        if imported is None:
            continue
        matter_id = imported.data["id"]
        if matter_id in matters:
            first = matters[matter_id].row["id"].ref
            sheets.error(
                row["id"].ref,
                f"事项标识 '{matter_id}' 重复（首次在 {first}）",
                f"matter id '{matter_id}' appears twice (first at {first})",
            )
            continue
        matters[matter_id] = imported
    for _, row in sheets.rows(MATERIALS, required=False):
        owner = _owner(values, row, matters)
        material = {
            "id": values.ident(row.get("id")),
            "name": {"zh": values.text(row.get("name"), required=True)},
            "necessity": values.word(row.get("necessity"), NECESSITY),
            "source": values.word(row.get("source"), SOURCES),
            "when": values.text(row.get("when")),
        }
        if owner is not None:
            owner.data.setdefault("materials", []).append(_clean(material))
            owner.materials.append(row)
    for _, row in sheets.rows(FEES, required=False):
        owner = _owner(values, row, matters)
        fee = {
            "name": {"zh": values.text(row.get("name"), required=True)},
            "amount": _amount(values, row.get("amount")),
            "basis": values.text(row.get("basis")),
        }
        if owner is not None:
            owner.data["fee"].setdefault("items", []).append(_clean(fee))
            owner.fees.append(row)
    return list(matters.values()), sheets.problems


def _amount(values: _Values, cell: Cell | None) -> float | int | str | None:
    if cell is None or cell.value is None:
        return values.text(cell, required=True)
    if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
        return int(cell.value) if float(cell.value).is_integer() else float(cell.value)
    return str(cell.value)


def _owner(values: _Values, row: Row, matters: dict[str, Imported]) -> Imported | None:
    matter_id = values.text(row.get("matter"), required=True)
    if matter_id is None:
        return None
    if matter_id not in matters:
        cell = row["matter"]
        close = difflib.get_close_matches(matter_id, list(matters), n=1)
        values.sheets.error(
            cell.ref,
            f"事项标识 '{matter_id}' 不在工作表 '{MATTERS}' 中"
            + (f"（是否应为 '{close[0]}'？）" if close else ""),
            f"matter id '{matter_id}' is not on sheet '{MATTERS}'"
            + (f"; did you mean '{close[0]}'?" if close else ""),
        )
        return None
    return matters[matter_id]


def _matter(values: _Values, row: Row) -> Imported | None:
    matter_id = values.ident(row.get("id"))
    unit = values.word(row.get("unit"), UNITS, required=True)
    legal = values.integer(row.get("legal"))
    promised = values.integer(row.get("promised"), required=True)
    time_limit: dict[str, Any] = {}
    if legal is not None:
        time_limit["legal"] = {"value": legal, "unit": unit}
    if promised is not None:
        time_limit["promised"] = {"value": promised, "unit": unit}
    basis = []
    for line in re.split(r"[\n；;]+", values.text(row.get("basis")) or ""):
        match = _BASIS.match(line.strip())
        if match:
            basis.append(
                {
                    "title": match["title"],
                    **({"article": match["article"]} if match["article"] else {}),
                }
            )
        elif line.strip():
            basis.append({"title": line.strip()})
    channels = []
    for word in values.many(row.get("channels")):
        channel = values.word(Cell(word, row["channels"].ref), CHANNELS)
        if channel is not None:
            channels.append(channel)
    charged = values.word(row.get("charged"), YES_NO)
    data: dict[str, Any] = {
        "kind": "Matter",
        "id": matter_id,
        "name": {"zh": values.text(row.get("name"), required=True)},
        "type": next(iter(values.codes(row.get("type"), "matter_type", several=False)), None),
        "service_objects": values.codes(row.get("service_objects"), "service_object", several=True),
        "agency": {
            "name": {"zh": values.text(row.get("agency"), required=True)},
            **({"code": code} if (code := values.text(row.get("agency_code"))) else {}),
        },
        "basis": basis,
        "case_type": values.word(row.get("case_type"), CASE_TYPES, required=True),
        "time_limit": time_limit,
        "fee": {"charged": bool(charged)},
        "visits": values.integer(row.get("visits")) or 0,
        "visits_reason": {"zh": reason}
        if (reason := values.text(row.get("visits_reason")))
        else None,
        "channels": channels,
        "form": values.ident(row.get("form")),
        "workflow": values.ident(row.get("workflow")),
        "contact": {
            key: phone
            for key in ("phone", "complaint_phone")
            if (phone := values.text(row.get(key))) is not None
        },
    }
    if matter_id is None:
        return None
    return Imported(_clean(data), row)


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without empty values (a cell left empty or reported as wrong), at any depth."""
    cleaned = {}
    for key, value in data.items():
        if isinstance(value, dict):
            value = _clean(value)
        if value not in (None, [], {}):
            cleaned[key] = value
    return cleaned


# ---------------------------------------------------------------------------------------
# Validating what would be written, with the rest of the tree
# ---------------------------------------------------------------------------------------

_MATTER_CELLS = {  # first YAML key → the column it comes from
    "kind": "id",
    "id": "id",
    "name": "name",
    "type": "type",
    "service_objects": "service_objects",
    "basis": "basis",
    "case_type": "case_type",
    "visits": "visits",
    "visits_reason": "visits_reason",
    "channels": "channels",
    "form": "form",
    "workflow": "workflow",
    "fee": "charged",
}


def to_yaml(data: dict[str, Any], source: str) -> str:
    """A matter as YAML an implementer would write (keys in the format's order)."""
    head = (
        f"# 由 govstd import-xlsx 自 {source} 生成 / written by govstd import-xlsx from {source}\n"
    )
    body = yaml.safe_dump(
        data, allow_unicode=True, sort_keys=False, width=100, default_flow_style=None
    )
    return head + body


def _path_at(node: yaml.Node, line: int) -> list[Any]:
    """The keys and indexes down to the deepest node that holds ``line`` (0-based)."""
    path: list[Any] = []
    while True:
        if isinstance(node, yaml.MappingNode):
            pairs = [(k.value, v, k) for k, v in node.value if isinstance(k, yaml.ScalarNode)]
            step = next(
                (
                    (key, v)
                    for key, v, k in pairs
                    if k.start_mark.line
                    <= line
                    <= v.end_mark.line - (1 if v.end_mark.column == 0 else 0)
                ),
                None,
            )
        elif isinstance(node, yaml.SequenceNode):
            step = next(
                (
                    (i, v)
                    for i, v in enumerate(node.value)
                    if v.start_mark.line
                    <= line
                    <= v.end_mark.line - (1 if v.end_mark.column == 0 else 0)
                ),
                None,
            )
        else:
            return path
        if step is None:
            return path
        path.append(step[0])
        node = step[1]


def _cell_of(imported: Imported, path: list[Any]) -> Cell | None:
    """The cell a value at ``path`` in the matter's YAML came from; None when its column is
    missing (reported once, for the sheet)."""
    row = imported.row
    first = path[0] if path else "id"
    if first == "materials" and len(path) > 1 and path[1] < len(imported.materials):
        material = imported.materials[int(path[1])]
        return material.get(str(path[2]) if len(path) > 2 else "id")
    if first == "fee" and len(path) > 2 and path[1] == "items" and path[2] < len(imported.fees):
        fee = imported.fees[int(path[2])]
        return fee.get(str(path[3]) if len(path) > 3 else "name")
    if first == "time_limit":
        which = path[1] if len(path) > 1 else "promised"
        return row.get("unit" if len(path) > 2 and path[2] == "unit" else which)
    if first == "contact":
        return row.get("complaint_phone" if path[1:2] == ["complaint_phone"] else "phone")
    if first == "agency":
        return row.get("agency_code" if path[1:2] == ["code"] else "agency")
    return row.get(_MATTER_CELLS.get(first, "id"))


_MISSING = re.compile(r"missing required key '(?P<key>\w+)'")


def import_workbook(
    path: Path, roots: Sequence[Path], out: Path, *, display: str | None = None
) -> tuple[list[Path], list[str], list[Problem]]:
    """Read ``path``, check the matters with the tree ``roots`` and, when nothing is wrong,
    write one ``<id>.yaml`` per matter to ``out``: the files written, the ids of the rows
    skipped because they say what the tree already says, and every problem.

    A matter the tree already defines is not defined twice: its row is skipped when
    unchanged, replaces the file defining it when that file is in ``out`` and holds only
    that matter, and is an error otherwise (change it there, or in a region's overrides).
    """
    shown = display or str(path)
    tree = load_tree(roots, Diagnostics())  # its problems are reported by _validate
    read, problems = read_workbook(path, shown, tree)
    places, unchanged, clashes = _places(read, tree, out, shown)
    problems += clashes
    matters = [m for m in read if m.data["id"] in places]
    texts = {m.data["id"]: to_yaml(m.data, Path(shown).name) for m in matters}
    with tempfile.TemporaryDirectory(prefix="govstd-import-") as scratch:
        problems += _validate(
            matters, texts, places, roots, out, Path(scratch), {p.where for p in problems}, shown
        )
    if any(p.severity == "error" for p in problems):
        return [], unchanged, problems
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for matter_id, content in texts.items():
        target = out / places[matter_id]
        target.write_text(content, encoding="utf-8")
        written.append(target)
    return written, unchanged, problems


def _places(
    matters: list[Imported], tree: StandardsTree, out: Path, display: str
) -> tuple[dict[str, Path], list[str], list[Problem]]:
    """Where in ``out`` each matter is written; the ids left out as unchanged; a problem for
    each row that would define a matter the tree defines elsewhere a second time."""
    places: dict[str, Path] = {}
    unchanged: list[str] = []
    problems: list[Problem] = []
    for imported in matters:
        matter_id = imported.data["id"]
        existing = tree.matters.get(matter_id)
        if existing is None:
            places[matter_id] = Path(f"{matter_id}.yaml")
            continue
        if _same(tree, imported, existing):
            unchanged.append(matter_id)
            continue
        where = existing.at("id")
        owned = _own_file(Path(where.file), out)
        if owned is not None:
            places[matter_id], document = owned
            imported.data = _onto(document, imported.data)
            continue
        problems.append(
            Problem(
                f"{display}:{imported.row['id'].ref}",
                bilingual(
                    f"事项 '{matter_id}' 已在 {where} 定义，该文件不在 {out} 中或还有其他文档；"
                    "请在那里修改，或在区域的 overrides 中覆盖（与标准树相同的行会被跳过）",
                    f"matter '{matter_id}' is already defined at {where}, a file outside "
                    f"{out} or holding other documents too; change it there or in a region's "
                    "overrides (rows that say what the tree says are skipped)",
                ),
            )
        )
    return places, unchanged, problems


def _same(tree: StandardsTree, imported: Imported, existing: Matter) -> bool:
    """Whether the row says what the tree's definition says (as export-xlsx writes it)."""
    try:
        matter = Matter.model_validate(imported.data)
    except ValueError:
        return False  # not even a matter: validation reports it at its cell
    return sheet_view(tree, matter) == sheet_view(tree, existing)


def _own_file(file: Path, out: Path) -> tuple[Path, dict[str, Any]] | None:
    """``file`` relative to ``out`` and its document, when it is in ``out`` and holds a
    single document."""
    try:
        place = file.resolve().relative_to(out.resolve())
    except ValueError:
        return None
    documents = load_file(file, file.as_posix(), Diagnostics())
    return (place, dict(documents[0].data)) if len(documents) == 1 else None


def _without_columns(material: dict[str, Any] | None) -> dict[str, Any] | None:
    """A material without the keys of the 材料 sheet's columns (an empty cell removes)."""
    if material is None:
        return None
    return {k: v for k, v in material.items() if k not in {c.key for c in MATERIAL_COLUMNS}}


_SHEET_KEYS = {*_MATTER_CELLS, "agency", "time_limit", "contact", "materials"}


def _onto(document: dict[str, Any], sheet: dict[str, Any]) -> dict[str, Any]:
    """The matter ``document`` changed as the sheet says, keeping what a sheet cannot say
    (English names, a material's ``accept`` and ``notes``, the result …): nothing lost."""
    merged = {k: v for k, v in document.items() if k not in _SHEET_KEYS or k in sheet}
    for key, value in sheet.items():
        merged[key] = _merge(document.get(key), value, key)
    return merged


def _merge(old: Any, new: Any, key: str) -> Any:
    if isinstance(old, dict) and isinstance(new, dict):
        return {**old, **{k: _merge(old.get(k), v, k) for k, v in new.items()}}
    if key == "materials" and isinstance(old, list) and isinstance(new, list):
        before = {m.get("id"): m for m in old if isinstance(m, dict)}
        return [_merge(_without_columns(before.get(m.get("id"))), m, "") for m in new]
    return new


def _validate(
    matters: list[Imported],
    texts: dict[str, str],
    places: dict[str, Path],
    roots: Sequence[Path],
    out: Path,
    scratch: Path,
    reported: set[str],
    display: str,
) -> list[Problem]:
    """Validate the tree with the matters written where they would be; problems in them at
    their cells, problems elsewhere at their place in the tree."""
    copies: dict[str, str] = {}  # scratch prefix → the root as the user wrote it
    target: Path | None = None
    for index, root in enumerate(roots):
        copy = scratch / f"root{index}"
        shutil.copytree(root, copy)
        copies[copy.as_posix() + "/"] = Path(root).as_posix().rstrip("/") + "/"
        try:
            target = copy / out.resolve().relative_to(Path(root).resolve())
        except ValueError:
            continue
    extra: list[Path] = []
    if target is None:
        target = scratch / "imported"
        extra.append(target)
    target.mkdir(parents=True, exist_ok=True)
    files: dict[str, Imported] = {}
    for matter in matters:
        file = target / places[matter.data["id"]]
        file.write_text(texts[matter.data["id"]], encoding="utf-8")
        files[file.as_posix()] = matter
    _, diagnostics, _ = check_tree([*(scratch / f"root{i}" for i in range(len(roots))), *extra])
    problems = []
    for d in diagnostics:
        owner = files.get(d.location.file)
        if owner is not None:
            node = yaml.compose(texts[owner.data["id"]])
            path = _path_at(node, d.location.line - 1) if node else []
            missing = _MISSING.search(d.message)
            if missing:  # at the mapping that lacks it (its first key): the key names the column
                path = [*path[:-1], missing["key"]]
            cell = _cell_of(owner, path)
            where = f"{display}:{cell.ref}" if cell is not None else ""
            if cell is None or where in reported:
                continue  # said already, at the same cell or for the missing column
            problems.append(Problem(where, _unscratched(d.message, copies), d.severity))
        else:
            shown = _unscratched(str(d.location), copies)
            problems.append(Problem(shown, _unscratched(d.message, copies), d.severity))
    return problems


def _unscratched(text_: str, copies: dict[str, str]) -> str:
    """``text_`` with the scratch copies' paths written as the user's roots."""
    for prefix, original in copies.items():
        text_ = text_.replace(prefix, original)
    return text_
