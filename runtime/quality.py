"""Data quality (数据治理, services.md §6): what the stored data of a region looks like.

For each data element a region's forms collect (the data resource catalogue,
:mod:`runtime.catalogue`), counted over the stored values of every application in the
region (a field of a repeating group counts each row):

- ``filled`` and ``empty`` (no value stored; a field hidden by its condition is empty too);
- ``failures``: stored values that fail the field's checks *as the package has them now*
  (:func:`runtime.validation.stored_problems`) — values filed before a check was added
  or tightened, or a code since deprecated — with the count of each problem code;
- ``conflicts``: for an identifier (an element checked as a citizen ID number, gb11643, or
  a unified social credit code, gb32100), how many identifiers were given with more than
  one name across the region's applications. An identifier's name is the nearest text
  field before it in its form (or row) that is not an identifier itself (姓名 before
  公民身份号码, 市场主体名称 before 统一社会信用代码), compared without spaces.

Elements come worst first: the most failures and conflicts, then the largest empty share.
``conflict_examples`` lists up to :data:`EXAMPLES` identifiers with their names and the
application numbers, identifiers and sensitive names masked. Sensitive values are
decrypted only in memory, to be checked and compared; none is written or answered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, select

from runtime.answers import DataQuality, ElementQuality
from runtime.context import Context
from runtime.db import read
from runtime.formspec import FieldSpec, FormSpec, GroupSpec, localized
from runtime.masking import mask_value
from runtime.package import Package
from runtime.records import open_value
from runtime.validation import stored_problems

IDENTIFIER_CHECKS = frozenset({"gb11643", "gb32100"})
EXAMPLES = 50


@dataclass
class Tally:
    """One element in one region."""

    element: str
    region: str
    name: Mapping[str, str]
    sensitive: bool
    filled: int = 0
    empty: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    names: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # id -> name -> numbers
    name_sensitive: bool = False

    def add(self, value: Any, problem: str | None) -> None:
        if value is None or value == "" or value == []:
            self.empty += 1
            return
        self.filled += 1
        if problem is not None:
            self.failures[problem] = self.failures.get(problem, 0) + 1

    @property
    def conflicts(self) -> dict[str, dict[str, set[str]]]:
        return {k: v for k, v in self.names.items() if len(v) > 1}

    def view(self, lng: str) -> ElementQuality:
        total = self.filled + self.empty
        return {
            "element": self.element,
            "name": localized(self.name, lng),
            "region": self.region,
            "sensitive": self.sensitive,
            "filled": self.filled,
            "empty": self.empty,
            "empty_share": round(self.empty / total, 4) if total else 0.0,
            "failures": sum(self.failures.values()),
            "failure_codes": dict(sorted(self.failures.items())),
            "conflicts": len(self.conflicts),
        }


def _pairs(fields: Sequence[FieldSpec]) -> dict[str, str]:
    """Identifier field id -> the id of its name field (see the module docstring)."""
    out: dict[str, str] = {}
    for index, f in enumerate(fields):
        if f.check not in IDENTIFIER_CHECKS:
            continue
        for before in reversed(fields[:index]):
            if before.type in ("string", "text") and before.check is None:
                out[f.id] = before.id
                break
    return out


def _rows(
    conn: Connection, pkg: Package, form: FormSpec, region: str, table: Table, group: bool
) -> Iterable[Any]:
    apps = pkg.tables.applications
    query = (
        select(apps.c.number, table)
        .join(table, table.c.application_id == apps.c.id)
        .where(apps.c.form == form.id, apps.c.region == region)
    )
    if group:
        query = query.order_by(table.c.application_id, table.c.position)
    return conn.execute(query)


def _scan(
    c: Context,
    conn: Connection,
    form: FormSpec,
    group: GroupSpec | None,
    table: Table,
    region: str,
    tallies: dict[tuple[str, str], Tally],
) -> None:
    fields = group.fields if group is not None else form.fields
    pairs = _pairs(fields)
    specs = {f.id: f for f in fields if f.id in table.c}
    for row in _rows(conn, c.package, form, region, table, group is not None):
        m = row._mapping
        values = {fid: open_value(c.cipher, table, f, m[fid]) for fid, f in specs.items()}
        problems = stored_problems(form, values, group)
        for fid, f in specs.items():
            tally = tallies.get((f.element, region))
            if tally is None:
                continue
            tally.add(values[fid], problems.get(fid))
            name_field = pairs.get(fid)
            if name_field is None or name_field not in specs:
                continue
            identifier, name = values[fid], values[name_field]
            if isinstance(identifier, str) and isinstance(name, str) and name.strip():
                key = identifier.strip().upper()
                shown = "".join(name.split())
                tally.names.setdefault(key, {}).setdefault(shown, set()).add(str(m["number"]))
                tally.name_sensitive = tally.name_sensitive or specs[name_field].sensitive


def report(c: Context, regions: Sequence[str], lng: str) -> DataQuality:
    """The data quality of ``regions`` (blocking; the caller checked who may see them)."""
    pkg = c.package
    tallies: dict[tuple[str, str], Tally] = {}
    for region in regions:
        for resource in pkg.data_catalogue.in_region(region):
            for item in resource.items:
                tallies.setdefault(
                    (item.element, region),
                    Tally(item.element, region, item.name, item.sensitive),
                )
    with read(c.engine) as conn:
        for region in regions:
            for resource in pkg.data_catalogue.in_region(region):
                form = pkg.forms[resource.id]
                table = pkg.tables.forms[form.id]
                _scan(c, conn, form, None, table, region, tallies)
                for g in form.groups:
                    gtable = pkg.tables.groups.get(form.id, {}).get(g.id)
                    if gtable is not None:
                        _scan(c, conn, form, g, gtable, region, tallies)
    ordered = sorted(
        tallies.values(),
        key=lambda t: (
            -(sum(t.failures.values()) + len(t.conflicts)),
            -(t.empty / (t.filled + t.empty) if t.filled + t.empty else 0.0),
            t.element,
            t.region,
        ),
    )
    examples = [
        {
            "element": t.element,
            "region": t.region,
            "identifier": mask_value(identifier),
            "names": sorted(mask_value(n) if t.name_sensitive else n for n in names),
            "applications": sorted({num for nums in names.values() for num in nums}),
        }
        for t in ordered
        for identifier, names in sorted(t.conflicts.items())
    ][:EXAMPLES]
    return {
        "regions": list(regions),
        "elements": [t.view(lng) for t in ordered],
        "conflict_examples": examples,
    }
