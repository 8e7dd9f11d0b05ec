"""``models.py`` and ``tables/<form>.py`` of a package: SQLAlchemy 2.0 typed models of its
table model.

The tables come from :func:`generator.render.tables.build_tables` (the same objects
the migrations are computed from); this module only lays them out as classes. The core
tables are in ``models.py``; each form's table and its groups' tables in a module of their
own, ``tables/<form id>.py``, which the runtime imports on the form's first use: mapping
10,000 forms' classes at start took most of a province package's start-up (issue 13).
"""

from __future__ import annotations

import keyword
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.ir import PackageIR, fingerprint
from generator.render import GeneratedFile, python_banner
from generator.render.tables import (
    CORE_CLASSES,
    LINE_LENGTH,
    NAMING_CONVENTION,
    RESERVED_ATTRIBUTES,
    ColumnSpec,
    SqlType,
    TableSpec,
    build_tables,
    class_name,
    form_table_name,
    group_table_name,
    pk_name,
)
from generator.render.templating import camel, render

# ---------------------------------------------------------------- models.py


@dataclass(frozen=True)
class Call:
    """A call expression, laid out the way ``ruff format`` lays it out."""

    func: str
    args: tuple[str | Call, ...]

    def flat(self) -> str:
        return f"{self.func}({', '.join(_flat(a) for a in self.args)})"


def _flat(item: str | Call) -> str:
    return item.flat() if isinstance(item, Call) else item


def layout(head: str, item: str | Call, indent: int, tail: str = "") -> list[str]:
    """Lines of ``head + item + tail`` at ``indent``, split like ruff format when too long."""
    pad = " " * indent
    line = f"{pad}{head}{_flat(item)}{tail}"
    if len(line) <= LINE_LENGTH or not isinstance(item, Call) or not item.args:
        return [line]
    inner = " " * (indent + 4)
    hugged = f"{inner}{', '.join(_flat(a) for a in item.args)}"
    first = f"{pad}{head}{item.func}("
    if len(hugged) <= LINE_LENGTH:
        return [first, hugged, f"{pad}){tail}"]
    lines = [first]
    for arg in item.args:
        lines += layout("", arg, indent + 4, ",")
    return [*lines, f"{pad}){tail}"]


@dataclass(frozen=True)
class ModelColumn:
    """One mapped attribute of a model class, as lines of ``models.py``."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class ModelClass:
    """What the template needs of one class."""

    name: str
    table: str
    doc: tuple[str, ...]  # the docstring's lines, indented
    columns: tuple[ModelColumn, ...]
    table_args: tuple[str, ...]  # lines, already indented


@dataclass(frozen=True)
class ModelsFile:
    """``models.py`` (``form`` None: Base and the core tables) or ``tables/<form>.py``."""

    banner: str
    region: str
    import_lines: tuple[str, ...]  # from sqlalchemy import ...
    std_imports: tuple[str, ...]
    classes: tuple[ModelClass, ...]
    naming_convention: tuple[tuple[str, str], ...] = ()
    forms: tuple[str, ...] = ()  # models.py: every form id
    form: str | None = None  # tables/<form>.py: its form, its table's class and groups'
    table: str = ""
    groups: tuple[tuple[str, str], ...] = ()  # group id, class name


def attribute_name(column: str) -> str:
    """The Python attribute of a column: its name, unless Python or SQLAlchemy reserve it."""
    if keyword.iskeyword(column) or column in RESERVED_ATTRIBUTES:
        return f"{column}_"
    return column


def _pyrepr(value: str) -> str:
    """A double-quoted string literal (ids and names never hold quotes or backslashes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class _Imports:
    sa: set[str] = field(default_factory=set)
    std: set[str] = field(default_factory=set)

    def type(self, t: SqlType) -> None:
        self.sa.add(t.imports())
        module = t.python().split(".")[0]
        if module in ("decimal", "datetime"):
            self.std.add(module)


def _model_column(c: ColumnSpec, imports: _Imports) -> ModelColumn:
    imports.type(c.type)
    attr = attribute_name(c.name)
    args: list[str | Call] = []
    if attr != c.name:
        args.append(_pyrepr(c.name))
    args.append(c.type.expression())
    if c.foreign_key is not None:
        fk = c.foreign_key
        imports.sa.add("ForeignKey")
        fk_args: list[str | Call] = [_pyrepr(f"{fk.table}.{fk.column}")]
        if fk.ondelete:
            fk_args.append(f"ondelete={_pyrepr(fk.ondelete)}")
        fk_args.append(f"name={_pyrepr(fk.name)}")
        args.append(Call("ForeignKey", tuple(fk_args)))
    if c.primary_key:
        args.append("primary_key=True")
    if c.default is not None:
        args.append(f"default={c.default!r}")
    if c.server_default is not None:
        args.append(f"server_default={_pyrepr(c.server_default)}")
    if c.sealed_as is not None:  # a renamed sensitive column (generator/render/sealing.py)
        args.append(f"info={{{_pyrepr('sealed_as')}: {_pyrepr(c.sealed_as)}}}")
    annotation = c.type.python() + (" | None" if c.nullable else "")
    return ModelColumn(tuple(attribute_lines(attr, annotation, Call("mapped_column", tuple(args)))))


def attribute_lines(attr: str, annotation: str, value: Call, indent: int = 4) -> list[str]:
    """``attr: Mapped[annotation] = value`` laid out as ruff format does: flat; else split
    the value's brackets; else parenthesize the value; else split the annotation."""
    pad = " " * indent
    head = f"{attr}: Mapped[{annotation}] = "
    if len(f"{pad}{head}{value.flat()}") <= LINE_LENGTH:
        return [f"{pad}{head}{value.flat()}"]
    if len(f"{pad}{head}{value.func}(") <= LINE_LENGTH:
        return layout(head, value, indent)
    if len(f"{pad}{head}(") <= LINE_LENGTH:
        return [f"{pad}{head}(", *layout("", value, indent + 4), f"{pad})"]
    return [f"{pad}{attr}: Mapped[", f"{pad}    {annotation}", *layout("] = ", value, indent)]


def _table_args(spec: TableSpec, imports: _Imports) -> tuple[str, ...]:
    items: list[Call] = []
    imports.sa.add("PrimaryKeyConstraint")
    pk_args = [_pyrepr(c) for c in spec.primary_key]
    items.append(Call("PrimaryKeyConstraint", (*pk_args, f"name={_pyrepr(pk_name(spec.name))}")))
    for ix in spec.indexes:
        kind = "UniqueConstraint" if ix.unique else "Index"
        imports.sa.add(kind)
        cols = [_pyrepr(c) for c in ix.columns]
        if ix.unique:
            items.append(Call(kind, (*cols, f"name={_pyrepr(ix.name)}")))
        else:
            items.append(Call(kind, (_pyrepr(ix.name), *cols)))
    if len(items) == 1:  # a one-element tuple's comma is not a "magic" trailing comma
        line = f"    __table_args__ = ({items[0].flat()},)"
        if len(line) <= LINE_LENGTH:
            return (line,)
    lines = ["    __table_args__ = ("]
    for item in items:
        lines += layout("", item, 8, ",")
    return (*lines, "    )")


def _doc(spec: TableSpec) -> tuple[str, ...]:
    if spec.kind == "form":
        text = f"Form '{spec.form}': one row per application, a column per field."
    elif spec.kind == "group":
        text = f"Repeating group '{spec.group}' of form '{spec.form}': one row per entry."
    else:
        text = CORE_DOCS[spec.name]
    lines = textwrap.wrap(text, LINE_LENGTH - 10, break_long_words=False)
    lines[0] = '"""' + lines[0]
    lines[-1] += '"""'
    return tuple(f"    {line}" for line in lines)


def _import_lines(module: str, names: Iterable[str]) -> tuple[str, ...]:
    ordered = sorted(names, key=_import_key)
    line = f"from {module} import {', '.join(ordered)}"
    if len(line) <= LINE_LENGTH:
        return (line,)
    return (f"from {module} import (", *(f"    {n}," for n in ordered), ")")


def _noqa_long_lines(text: str) -> str:
    """Mark the lines no formatter can shorten (63-character ids) for the line-length check."""
    return "".join(
        f"{line[:-1]}  # noqa: E501\n" if len(line) > LINE_LENGTH + 1 else line
        for line in text.splitlines(keepends=True)
    )


CORE_DOCS = {
    "applications": "An application (办件): one submission of one matter's form.",
    "transitions": "One workflow step taken on an application.",
    "material_files": "An uploaded material file (the bytes are in storage).",
    "evaluations": "The applicant's evaluation of a finished case (好差评).",
    "audit_log": "Who did what, when: reveals, actions, uploads.",
    "idempotency_keys": "A remembered response to a request with an Idempotency-Key.",
    "counters": "Named counters (application numbers).",
    "bundle_filings": "One filing of a bundle (一件事); its members' applications name it.",
    "profiles": "An applicant's stored profile for policy matching (sensitive values sealed).",
    "notifications": "A policy delivered (精准送达), once per policy; or an objection's outcome.",
    "policy_deliveries": "One delivery run of a policy: who, when, how many fitted.",
    "policy_claims": "An application filed to claim a policy (政策兑现).",
    "events": "The event outbox: one CloudEvent per change (docs/data.md).",
    "event_receivers": "A webhook receiver: its delivery lease and cursor.",
    "event_deliveries": "An event a webhook receiver has not acknowledged yet.",
    "objections": "An objection (异议) to a stored value of a case, and its outcome.",
    "licence_fetches": "A government-sourced material (电子证照) fetched at filing, or why not.",
    "sharing_requests": "A request to share a data resource's items (数据共享申请).",
}


def _class_names(pkg: PackageIR) -> dict[str, str]:
    """Table name → class name, unique (a number is added on a clash)."""
    names: dict[str, str] = dict(CORE_CLASSES)
    used = set(names.values()) | {"Base"}

    def claim(table: str, wanted: str) -> None:
        name = class_name(wanted)
        n = 2
        while name in used:
            name = class_name(f"{wanted}{n}")
            n += 1
        used.add(name)
        names[table] = name

    for form in pkg.forms:
        claim(form_table_name(form.id), "Form" + camel(form.id))
        for group in form.groups:
            claim(group_table_name(form.id, group.id), "Form" + camel(form.id) + camel(group.id))
    return names


def _models_file(
    banner: str, region: str, tables: Sequence[TableSpec], names: dict[str, str], **more: Any
) -> ModelsFile:
    imports = _Imports(sa={"MetaData"} if "naming_convention" in more else set())
    classes = tuple(
        ModelClass(
            name=names[t.name],
            table=t.name,
            doc=_doc(t),
            columns=tuple(_model_column(c, imports) for c in t.columns),
            table_args=_table_args(t, imports),
        )
        for t in tables
    )
    return ModelsFile(
        banner=banner,
        region=region,
        import_lines=_import_lines("sqlalchemy", imports.sa),
        std_imports=tuple(sorted(imports.std)),
        classes=classes,
        **more,
    )


def models_files(pkg: PackageIR, tables: Sequence[TableSpec]) -> list[ModelsFile]:
    """``models.py``, then ``tables/<form>.py`` of each form."""
    names = _class_names(pkg)
    by_form: dict[str, list[TableSpec]] = {f.id: [] for f in pkg.forms}
    for t in tables:
        if t.form is not None and t.kind != "core":
            by_form[t.form].append(t)
    core = _models_file(
        python_banner(fingerprint(([t for t in tables if t.kind == "core"], list(by_form)))),
        pkg.region,
        [t for t in tables if t.kind == "core"],
        names,
        naming_convention=tuple(NAMING_CONVENTION.items()),
        forms=tuple(by_form),
    )
    return [
        core,
        *(
            _models_file(
                python_banner(fingerprint(form_tables)),
                pkg.region,
                form_tables,
                names,
                form=form.id,
                table=names[form_table_name(form.id)],
                groups=tuple((g.id, names[group_table_name(form.id, g.id)]) for g in form.groups),
            )
            for form, form_tables in zip(pkg.forms, by_form.values(), strict=True)
        ),
    ]


def _import_key(name: str) -> tuple[int, str]:
    """isort's order within a ``from`` import: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


def render_models(pkg: PackageIR, tables: Sequence[TableSpec] | None = None) -> list[GeneratedFile]:
    """``models.py`` and ``tables/``: SQLAlchemy 2.0 typed models of every table
    (docs/package.md).

    ``tables``: the table model continuing the package's previous one
    (:func:`generator.render.migrations.package_tables`); by default a first package's."""
    if tables is None:
        tables = build_tables(pkg)
    core, *forms = models_files(pkg, tables)
    init = python_banner(fingerprint(pkg.region)) + (
        '"""Each form\'s tables, ``tables/<form id>.py``: imported on the form\'s first use."""\n'
    )
    return [
        GeneratedFile("models.py", _noqa_long_lines(render("models.py.jinja", m=core))),
        GeneratedFile("tables/__init__.py", init),
        *(
            GeneratedFile(
                f"tables/{m.form}.py", _noqa_long_lines(render("form_models.py.jinja", m=m))
            )
            for m in forms
        ),
    ]
