"""``models.py`` and ``tables/<form>.py`` of a package: SQLAlchemy 2.0 typed models of its
forms' tables.

The tables come from :func:`generator.render.tables.build_tables` (the same objects
the migrations are computed from). The core tables are the runtime's
(runtime/tables.py): ``models.py`` copies them into its ``Base.metadata``. Each form's
table and its groups' tables are in a module of their own, ``tables/<form id>.py``, which
the runtime imports on the form's first use: mapping 10,000 forms' classes at start took
most of a province package's start-up (issue 13). Each class is written on plain lines;
``ruff format`` lays them out when the package is written (:mod:`generator.writer`).
"""

from __future__ import annotations

import keyword
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from generator.ir import FormIR, PackageIR, fingerprint
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
    # one line mostly (ids are single words): textwrap only for the long ones
    fits = len(text) <= LINE_LENGTH - 10 and text.isprintable()
    lines = [text] if fits else textwrap.wrap(text, LINE_LENGTH - 10, break_long_words=False)
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
    names = {"PrimaryKeyConstraint"}
    for t in tables:
        names.update("UniqueConstraint" if ix.unique else "Index" for ix in t.indexes)
    columns = [c for t in tables for c in t.columns]
    types = {c.type for c in columns}  # a few distinct ones: looked at once each
    names.update(sql.imports() for sql in types)
    std = {m for sql in types for m in ("datetime", "decimal") if sql.python().startswith(m)}
    if any(c.foreign_key is not None for c in columns):
        names.add("ForeignKey")
    # isort's order within a ``from`` import: CONSTANTS, then Classes
    return sorted(std), ", ".join(sorted(names, key=lambda n: (not n.isupper(), n)))


def render_models(pkg: PackageIR, tables: Sequence[TableSpec] | None = None) -> list[GeneratedFile]:
    """``models.py`` (``Base``, the core tables) and ``tables/<form>.py`` (a form's tables):
    SQLAlchemy 2.0 typed models (docs/package.md).

    ``tables``: the table model continuing the package's previous one
    (:func:`generator.render.migrations.package_tables`); by default a first package's."""
    if tables is None:
        tables = build_tables(pkg)
    names = _class_names(pkg)
    by_form: dict[str, list[TableSpec]] = {f.id: [] for f in pkg.forms}
    for t in tables:
        if t.kind != "core" and t.form is not None:
            by_form[t.form].append(t)
    form_ids = list(by_form)
    models = render(
        "models.py.jinja",
        banner=python_banner(fingerprint(form_ids)),
        region=pkg.region,
        forms=form_ids,
    )
    init = python_banner(fingerprint(pkg.region)) + (
        '"""Each form\'s tables, ``tables/<form id>.py``: imported on the form\'s first use."""\n'
    )
    return [
        GeneratedFile("models.py", models),
        GeneratedFile("tables/__init__.py", init),
        *(_form_models(pkg.region, form, by_form[form.id], names) for form in pkg.forms),
    ]


def _form_models(
    region: str, form: FormIR, own: Sequence[TableSpec], names: dict[str, str]
) -> GeneratedFile:
    """``tables/<form>.py``: the form's table and its groups' tables."""
    std, sqlalchemy = _imports(own)
    text = render(
        "form_models.py.jinja",
        banner=python_banner(fingerprint(own)),
        region=region,
        form=form.id,
        std_imports=std,
        sqlalchemy=sqlalchemy,
        classes=[
            ModelClass(
                names[t.name], t.name, _doc(t), _table_args(t), tuple(map(_column, t.columns))
            )
            for t in own
        ],
        table=names[form_table_name(form.id)],
        groups=[(g.id, names[group_table_name(form.id, g.id)]) for g in form.groups],
    )
    return GeneratedFile(f"tables/{form.id}.py", text)
