"""The data resource catalogue (政务数据资源目录, 数据底账, after GB/T 21063) of a package.

Decided at generate time from the intermediate model, written into the package's
``resources.json`` and served by the runtime (``GET /api/catalogue``, runtime/catalogue.py);
``govstd catalogue ROOT --region R --format json|xlsx`` writes the same list.

One resource per form and region that offers it (a matter of the region uses the form;
a profile form, which no matter files, is not a resource): its provider (the agency of
the first matter, by id, that uses it there), the matters, and its items — each data
element the form collects, once, in form order, with its share type (the element's
``share``, ``conditional`` when absent; a sensitive element is never ``unconditional``,
which ``govstd validate`` refuses) and its update cycle (``realtime``: every filing
stores a record). ``fields`` names where each element is stored (``field`` or
``group[].field``), which the runtime reads when sharing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from generator.ir import ElementIR, FieldIR, FormIR, PackageIR
from runtime.catalogue import CYCLE_NAMES, SHARE_NAMES

UPDATE_CYCLE = "realtime"


def _paths(form: FormIR) -> Iterable[tuple[str, FieldIR]]:
    for f in form.fields:
        yield f.id, f
    for g in form.groups:
        for f in g.fields:
            yield f"{g.id}[].{f.id}", f


def share_type(element: ElementIR) -> str:
    """The element's share type; never ``unconditional`` for a sensitive one."""
    if element.sensitive and element.share == "unconditional":
        return "conditional"
    return element.share


def items(form: FormIR, elements: dict[str, ElementIR]) -> list[dict[str, Any]]:
    """The form's data elements, once each, in form order, with where they are stored."""
    found: dict[str, dict[str, Any]] = {}
    for path, f in _paths(form):
        item = found.get(f.element)
        if item is None:
            e = elements[f.element]
            item = found[f.element] = {
                "element": e.id,
                "name": e.name,
                "type": e.type,
                "sensitive": e.sensitive,
                "share_type": share_type(e),
                "update_cycle": UPDATE_CYCLE,
                "identifier": e.identifier,
                "fields": [],
            }
        item["fields"].append(path)
    return list(found.values())


def resources(pkg: PackageIR) -> list[dict[str, Any]]:
    """Every resource of the package: by region (the package's order), then form id."""
    forms = {f.id: f for f in pkg.forms}
    elements = {e.id: e for e in pkg.elements}
    cache: dict[str, list[dict[str, Any]]] = {}
    out: list[dict[str, Any]] = []
    for region in pkg.regions:
        by_form: dict[str, list[Any]] = {}
        for m in sorted(region.matters, key=lambda m: m.id):
            by_form.setdefault(m.form, []).append(m)
        for form_id in sorted(by_form):
            matters = by_form[form_id]
            agency = matters[0].guide.get("agency") or {}
            if form_id not in cache:
                cache[form_id] = items(forms[form_id], elements)
            out.append(
                {
                    "id": form_id,
                    "region": region.id,
                    "name": forms[form_id].name,
                    "provider": {"name": agency.get("name") or {}, "code": agency.get("code")},
                    "matters": [{"id": m.id, "name": m.name} for m in matters],
                    "items": cache[form_id],
                }
            )
    return out


# --- govstd catalogue ---------------------------------------------------------------------

COLUMNS = (
    ("region", "区域"),
    ("resource", "资源代码"),
    ("resource_name", "资源名称"),
    ("provider", "提供方"),
    ("provider_code", "提供方统一社会信用代码"),
    ("element", "数据项"),
    ("identifier", "数据元标识符"),
    ("name", "数据项名称"),
    ("type", "数据类型"),
    ("sensitive", "敏感"),
    ("share_type", "共享类型"),
    ("update_cycle", "更新周期"),
)


def rows(resources: Sequence[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """One row per item of every resource (the workbook's lines), in Chinese."""
    for r in resources:
        for item in r["items"]:
            yield {
                "region": r["region"],
                "resource": r["id"],
                "resource_name": r["name"]["zh"],
                "provider": (r["provider"]["name"] or {}).get("zh", ""),
                "provider_code": r["provider"]["code"] or "",
                "element": item["element"],
                "identifier": item["identifier"] or "",
                "name": item["name"]["zh"],
                "type": item["type"],
                "sensitive": "是" if item["sensitive"] else "否",
                "share_type": SHARE_NAMES[item["share_type"]]["zh"],
                "update_cycle": CYCLE_NAMES[item["update_cycle"]]["zh"],
            }


def write_workbook(resources: Sequence[dict[str, Any]], out: Path) -> int:
    """The catalogue as one sheet ``数据资源目录``; the number of rows written. openpyxl's
    write-only mode streams the rows (a 10,000-matter catalogue has 400,000)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet("数据资源目录")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for _, zh in COLUMNS:
        cell = WriteOnlyCell(sheet, value=zh)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows(resources):
        sheet.append([row[key] for key, _ in COLUMNS])
        count += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    return count
