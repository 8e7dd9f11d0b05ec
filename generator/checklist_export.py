"""``govstd export-xlsx``: the matters a region implements, as a 实施清单 workbook.

The same sheets and columns ``govstd import-xlsx`` reads (generator/checklist.py), so an
implementer can edit a region's list in a spreadsheet and import it again. Each matter is
written as its Matter document defines it: a region's ``overrides`` stay in its Region
YAML (baked in, they would be applied twice after an import), and import-xlsx skips the
rows that still say what the tree says. Codes are
written as names (事项类型 行政许可, 服务对象 自然人、企业法人); import takes names or codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from generator.checklist import (
    CASE_TYPES,
    CHANNELS,
    FEE_COLUMNS,
    FEES,
    MATERIAL_COLUMNS,
    MATERIALS,
    MATTER_COLUMNS,
    MATTERS,
    NECESSITY,
    SOURCES,
    UNITS,
    Column,
    reverse,
)
from generator.kinds import Matter
from generator.kinds.common import text
from generator.tree import StandardsTree


def _name(tree: StandardsTree, codeset_id: str, code: str) -> str:
    codeset = tree.codesets.get(codeset_id)
    value = codeset.codes().get(code) if codeset is not None else None
    return text(value.name) if value is not None else code


def _basis(matter: Matter) -> str:
    return "\n".join(
        f"《{b.title}》{b.article or ''}" if b.article else b.title for b in matter.basis
    )


def matter_row(tree: StandardsTree, m: Matter) -> dict[str, object]:
    promised = m.time_limit.promised
    legal = m.time_limit.legal
    return {
        "id": m.id,
        "name": text(m.name),
        "type": _name(tree, "matter_type", m.type),
        "service_objects": "、".join(_name(tree, "service_object", c) for c in m.service_objects),
        "agency": text(m.agency.name),
        "agency_code": m.agency.code,
        "basis": _basis(m) or None,
        "legal": legal.value if legal is not None else None,
        "promised": promised.value,
        "unit": reverse(UNITS)[promised.unit],
        "case_type": reverse(CASE_TYPES)[m.case_type],
        "charged": "是" if m.fee.charged else "否",
        "visits": m.visits,
        "visits_reason": text(m.visits_reason) or None,
        "channels": "、".join(reverse(CHANNELS)[c] for c in m.channels) or None,
        "form": m.form,
        "workflow": m.workflow,
        "phone": m.contact.phone if m.contact else None,
        "complaint_phone": m.contact.complaint_phone if m.contact else None,
    }


def _sheet(
    book: Workbook, title: str, columns: tuple[Column, ...], rows: Sequence[Mapping[str, object]]
) -> None:
    ws = book.create_sheet(title)
    ws.append([c.header for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([row.get(c.key) for c in columns])
    for index, column in enumerate(columns, start=1):
        width = max([len(column.header) * 2, *(len(str(r.get(column.key) or "")) for r in rows)])
        ws.column_dimensions[ws.cell(1, index).column_letter].width = min(width + 2, 60)
    ws.freeze_panes = "A2"


def material_rows(m: Matter) -> list[dict[str, object]]:
    return [
        {
            "matter": m.id,
            "id": x.id,
            "name": text(x.name),
            "necessity": reverse(NECESSITY)[x.necessity],
            "source": reverse(SOURCES)[x.source],
            "when": x.when,
        }
        for x in m.materials
    ]


def fee_rows(m: Matter) -> list[dict[str, object]]:
    return [
        {"matter": m.id, "name": text(f.name), "amount": f.amount, "basis": f.basis}
        for f in m.fee.items
    ]


def sheet_view(tree: StandardsTree, m: Matter) -> tuple[object, ...]:
    """Everything a workbook says about ``m``: two matters with the same view are the same
    to a spreadsheet (import-xlsx skips a row that did not change)."""
    return matter_row(tree, m), material_rows(m), fee_rows(m)


def export_workbook(tree: StandardsTree, matters: Sequence[Matter], out: Path) -> int:
    """Write ``matters`` to ``out``; how many matters."""
    book = Workbook()
    if book.active is not None:
        book.remove(book.active)
    _sheet(book, MATTERS, MATTER_COLUMNS, [matter_row(tree, m) for m in matters])
    _sheet(book, MATERIALS, MATERIAL_COLUMNS, [r for m in matters for r in material_rows(m)])
    _sheet(book, FEES, FEE_COLUMNS, [r for m in matters for r in fee_rows(m)])
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    return len(matters)
