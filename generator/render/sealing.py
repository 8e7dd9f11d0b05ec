"""Which encryption context each sensitive column's values are sealed under.

A sensitive value is stored as an AES-GCM token whose associated data names where it
belongs (runtime/crypto.py): ``<table>.<column>``, so a token copied into another column
fails to decrypt. A rename through ``renamed_from`` (a field, a data element, a group, a
form) renames the column or the table but cannot re-encrypt its values (migrations do
not hold the data key), so the context is the column's *identity*, not its current
name: the ``<table>.<column>`` it was created as, kept through every later rename.

:func:`carry_sealing` gives each sensitive column of the new table model the context of
the column it continues (the same pairing the migration plan makes, so a column keeps
its context exactly when it keeps its data) and a fresh column its own name. A fresh
name that another column's context already holds (a column created where one was
renamed away) gets ``#2``, ``#3`` … so no two columns share a context. The context is
recorded in ``schema.json`` and in ``models.py`` (``info={"sealed_as": …}``, read by
runtime/records.py) only where it differs from the column's own name, so a package
without renames is unchanged, and it is carried across generations like the rest of
the snapshot. A downgraded database stays readable too: the older package names the
column as it was created.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from generator.render.plan import match
from generator.render.tables import ColumnSpec, TableSpec


def sealed_as(table: str, column: ColumnSpec) -> str:
    """The context ``column`` of ``table`` seals its values under (sensitive columns)."""
    return column.sealed_as or f"{table}.{column.name}"


def carry_sealing(old: Sequence[TableSpec], new: Sequence[TableSpec]) -> tuple[TableSpec, ...]:
    """``new`` with each sensitive column sealed as the old column it continues."""
    tables = match(old, new)
    inherited: dict[tuple[str, str], str] = {}
    for t in new:
        previous = tables.get(t.name)
        if previous is None:
            continue
        for name, o in match(previous.columns, t.columns).items():
            c = t.column(name)
            if c is not None and c.sensitive and o.sensitive:
                inherited[t.name, name] = sealed_as(previous.name, o)
    taken = set(inherited.values())
    result = []
    for t in new:
        columns = []
        for c in t.columns:
            own = f"{t.name}.{c.name}"
            context = inherited.get((t.name, c.name)) if c.sensitive else own
            if context is None:
                context, n = own, 2
                while context in taken:
                    context, n = f"{own}#{n}", n + 1
                taken.add(context)
            sealed = None if context == own else context
            columns.append(c if c.sealed_as == sealed else dataclasses.replace(c, sealed_as=sealed))
        same = all(a is b for a, b in zip(columns, t.columns, strict=True))
        result.append(t if same else dataclasses.replace(t, columns=tuple(columns)))
    return tuple(result)
