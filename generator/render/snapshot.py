"""``schema.json``: the table model a package's newest revision leaves in the database.

Written with every package; the next ``govstd generate`` plans its migration from
it (:mod:`generator.render.plan`), so a package folder carries its own history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from generator.render import GenerateError, json_bytes
from generator.render.tables import (
    ColumnSpec,
    ForeignKeySpec,
    IndexSpec,
    SqlType,
    TableSpec,
)
from runtime.types import bilingual

SNAPSHOT = "schema.json"
SNAPSHOT_FORMAT = 1


@dataclass(frozen=True)
class Snapshot:
    """The schema the package's migrations lead to, and the revision that makes it."""

    revision: str | None
    tables: tuple[TableSpec, ...]


# A column's keys in schema.json, each with where its value is on the ColumnSpec
_COLUMNS = (
    ("name", "name"),
    ("type", "type.kind"),
    ("length", "type.length"),
    ("precision", "type.precision"),
    ("scale", "type.scale"),
    ("primary_key", "primary_key"),
    ("default", "default"),
    ("server_default", "server_default"),
    ("field", "field"),
    ("element", "element"),
    ("sensitive", "sensitive"),
    ("source", "source"),
    ("sealed_as", "sealed_as"),
)
_COLUMN_KEYS = tuple(key for key, _ in _COLUMNS)
_COLUMN_VALUES = attrgetter(*(where for _, where in _COLUMNS))
_UNSET: tuple[object, ...] = (None, False, [])  # left out (0 too: it equals False)


def _column_json(c: ColumnSpec) -> dict[str, Any]:
    # Only what is set, so the file reads easily; "nullable" always. (The values in one
    # C call: a province has 200,000 columns.)
    data = {k: v for k, v in zip(_COLUMN_KEYS, _COLUMN_VALUES(c), strict=True) if v not in _UNSET}
    data["nullable"] = c.nullable
    if c.renamed_from:
        data["renamed_from"] = list(c.renamed_from)
    if c.foreign_key is not None:
        fk = c.foreign_key
        data["foreign_key"] = {
            "table": fk.table,
            "column": fk.column,
            "name": fk.name,
            "ondelete": fk.ondelete,
        }
    return data


def _table_json(t: TableSpec) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": t.name,
        "kind": t.kind,
        "form": t.form,
        "group": t.group,
        "renamed_from": list(t.renamed_from),
        "source": t.source,
        "columns": [_column_json(c) for c in t.columns],
        "indexes": [
            {"name": ix.name, "columns": list(ix.columns), "unique": ix.unique} for ix in t.indexes
        ],
    }
    return {k: v for k, v in data.items() if v not in (None, [])}


def snapshot_json(snapshot: Snapshot) -> bytes:
    """``schema.json``: tables in creation order, keys sorted, one stable text."""
    data = {
        "format": SNAPSHOT_FORMAT,
        "revision": snapshot.revision,
        "tables": [_table_json(t) for t in snapshot.tables],
    }
    return json_bytes(data)


def _column_from(data: dict[str, Any]) -> ColumnSpec:
    fk = data.get("foreign_key")
    return ColumnSpec(
        name=data["name"],
        type=SqlType(data["type"], data.get("length"), data.get("precision"), data.get("scale")),
        nullable=data["nullable"],
        primary_key=data.get("primary_key", False),
        default=data.get("default"),
        server_default=data.get("server_default"),
        foreign_key=ForeignKeySpec(fk["table"], fk["column"], fk["name"], fk.get("ondelete"))
        if fk
        else None,
        field=data.get("field"),
        element=data.get("element"),
        sensitive=data.get("sensitive", False),
        source=data.get("source"),
        renamed_from=tuple(data.get("renamed_from", ())),
        sealed_as=data.get("sealed_as"),
    )


def load_snapshot(text: str, where: str = SNAPSHOT) -> Snapshot:
    try:
        data = json.loads(text)
        if data.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {SNAPSHOT_FORMAT}")
        tables = tuple(
            TableSpec(
                name=t["name"],
                kind=t["kind"],
                columns=tuple(_column_from(c) for c in t["columns"]),
                indexes=tuple(
                    IndexSpec(ix["name"], tuple(ix["columns"]), ix.get("unique", False))
                    for ix in t.get("indexes", ())
                ),
                form=t.get("form"),
                group=t.get("group"),
                renamed_from=tuple(t.get("renamed_from", ())),
                source=t.get("source"),
            )
            for t in data["tables"]
        )
        return Snapshot(data.get("revision"), tables)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise GenerateError(
            [
                bilingual(
                    f"{where}: 不是 govstd 写的表结构快照；请从上一版部署包中恢复它",
                    f"{where}: not a schema snapshot written by govstd ({exc}); restore it from "
                    "the previous package",
                )
            ]
        ) from None
