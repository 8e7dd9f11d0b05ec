"""``models.py`` of a package: SQLAlchemy 2.0 typed models of its forms' tables.

The tables come from :func:`generator.render.tables.build_tables` (the same objects
the migrations are computed from). The core tables are the runtime's
(runtime/tables.py): ``models.py`` copies them into its ``Base.metadata``. Each
class is written on plain lines; ``ruff format`` lays them out when the package is
written (:mod:`generator.writer`).
"""

from __future__ import annotations

import keyword
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from generator.ir import PackageIR, fingerprint
from generator.render import LINE_LENGTH, GeneratedFile, python_banner
from generator.render.tables import (
    RESERVED_ATTRIBUTES,
    ColumnSpec,
    TableSpec,
    build_tables,
    class_name,
    form_table_name,
    group_table_name,
    pk_name,
)
from generator.render.templating import render


@dataclass(frozen=True)
class ModelClass:
    """What the template needs of one class."""

    name: str
    table: str
    doc: tuple[str, ...]  # the docstring's lines
    table_args: str
    columns: tuple[str, ...]


def attribute_name(column: str) -> str:
    """The Python attribute of a column: its name, unless Python or SQLAlchemy reserve it."""
    if keyword.iskeyword(column) or column in RESERVED_ATTRIBUTES:
        return f"{column}_"
    return column


def _q(value: str) -> str:
    """A double-quoted string literal (ids and names never hold quotes or backslashes)."""
    return f'"{value}"'


def _column(c: ColumnSpec) -> str:
    attr = attribute_name(c.name)
    args = [_q(c.name)] if attr != c.name else []
    args.append(c.type.expression())
    if c.foreign_key is not None:
        fk = c.foreign_key
        ondelete = f", ondelete={_q(fk.ondelete)}" if fk.ondelete else ""
        args.append(f"ForeignKey({_q(f'{fk.table}.{fk.column}')}{ondelete}, name={_q(fk.name)})")
    if c.primary_key:
        args.append("primary_key=True")
    if c.sealed_as is not None:  # a renamed sensitive column (generator/render/sealing.py)
        args.append(f"info={{{_q('sealed_as')}: {_q(c.sealed_as)}}}")
    annotation = c.type.python() + (" | None" if c.nullable else "")
    return f"{attr}: Mapped[{annotation}] = mapped_column({', '.join(args)})"


def _table_args(spec: TableSpec) -> str:
    """The constraints, with a trailing comma (a tuple of several stays one per line)."""
    columns = ", ".join(_q(c) for c in spec.primary_key)
    items = [f"PrimaryKeyConstraint({columns}, name={_q(pk_name(spec.name))})"]
    for ix in spec.indexes:
        columns = ", ".join(_q(c) for c in ix.columns)
        if ix.unique:
            items.append(f"UniqueConstraint({columns}, name={_q(ix.name)})")
        else:
            items.append(f"Index({_q(ix.name)}, {columns})")
    return f"({', '.join(items)},)"


def _doc(spec: TableSpec) -> tuple[str, ...]:
    if spec.kind == "group":
        text = f"Repeating group '{spec.group}' of form '{spec.form}': one row per entry."
    else:
        text = f"Form '{spec.form}': one row per application, a column per field."
    lines = textwrap.wrap(text, LINE_LENGTH - 10, break_long_words=False)
    lines[0] = '"""' + lines[0]
    lines[-1] += '"""'
    return tuple(lines)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_") if part)


def _class_names(pkg: PackageIR) -> dict[str, str]:
    """Table name → class name, unique (a number is added on a clash)."""
    names: dict[str, str] = {}
    used = {"Base"}

    def claim(table: str, wanted: str) -> None:
        name = class_name(wanted)
        n = 2
        while name in used:
            name = class_name(f"{wanted}{n}")
            n += 1
        used.add(name)
        names[table] = name

    for form in pkg.forms:
        claim(form_table_name(form.id), "Form" + _camel(form.id))
        for group in form.groups:
            claim(group_table_name(form.id, group.id), "Form" + _camel(form.id) + _camel(group.id))
    return names


def _imports(tables: Sequence[TableSpec]) -> tuple[list[str], str]:
    """The standard modules and the ``from sqlalchemy import`` names the classes use."""
    std: set[str] = set()
    names = {"MetaData", "PrimaryKeyConstraint"}
    for t in tables:
        names.update("UniqueConstraint" if ix.unique else "Index" for ix in t.indexes)
        for c in t.columns:
            names.add(c.type.imports())
            std.update(m for m in ("datetime", "decimal") if c.type.python().startswith(m))
            if c.foreign_key is not None:
                names.add("ForeignKey")
    # isort's order within a ``from`` import: CONSTANTS, then Classes
    return sorted(std), ", ".join(sorted(names, key=lambda n: (not n.isupper(), n)))


def render_models(pkg: PackageIR, tables: Sequence[TableSpec] | None = None) -> list[GeneratedFile]:
    """``models.py``: SQLAlchemy 2.0 typed models of the forms' tables (docs/package.md).

    ``tables``: the table model continuing the package's previous one
    (:func:`generator.render.migrations.package_tables`); by default a first package's."""
    if tables is None:
        tables = build_tables(pkg)
    names = _class_names(pkg)
    own = [t for t in tables if t.kind != "core"]
    std, sqlalchemy = _imports(own)
    classes = [
        ModelClass(names[t.name], t.name, _doc(t), _table_args(t), tuple(map(_column, t.columns)))
        for t in own
    ]
    text = render(
        "models.py.jinja",
        banner=python_banner(fingerprint(tables)),
        region=pkg.region,
        std_imports=std,
        sqlalchemy=sqlalchemy,
        classes=classes,
        forms=[(f.id, names[form_table_name(f.id)]) for f in pkg.forms],
        groups=[
            (f.id, [(g.id, names[group_table_name(f.id, g.id)]) for g in f.groups])
            for f in pkg.forms
        ],
    )
    return [GeneratedFile("models.py", text)]
