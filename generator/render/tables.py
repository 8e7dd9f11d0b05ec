"""The table model of a package: what tables, columns, keys and indexes it has.

Decide first, render second: :func:`build_tables` turns the intermediate model into
:class:`TableSpec` objects (names, SQL types, keys, indexes, where each column comes
from). The core tables' specs are read from the runtime's hand-written tables
(runtime/tables.py, :func:`core_tables`); the form and group tables' are decided
here. ``models.py`` (:mod:`generator.render.models`) is rendered from them; the
migrations and ``schema.json`` (:mod:`generator.render.migrations`) are computed from
the very same objects, so the models and the database the migrations make cannot
disagree.

Naming: ``form_<form>`` and ``form_<form>__<group>`` tables, a column per field named
after the field id, constraint and index names ``pk_``/``fk_``/``ix_``/``uq_`` given
explicitly (never left to a dialect); every name longer than PostgreSQL's 63
characters is shortened with a hash suffix (:func:`identifier`).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from generator.ir import FieldIR, FormIR, GroupIR, PackageIR
from generator.render import GenerateError
from runtime import tables as runtime_tables

MAX_IDENTIFIER = 63  # PostgreSQL's limit (NAMEDATALEN - 1)
MAX_CLASS_NAME = 40
DEFAULT_STRING_LENGTH = 255
MAX_VARCHAR = 10_485_760  # PostgreSQL's varchar limit; longer texts become Text

# Attribute names a declarative class cannot use for a column.
RESERVED_ATTRIBUTES = frozenset({"metadata", "registry"})


# ---------------------------------------------------------------- names


def identifier(name: str) -> str:
    """``name``, or when longer than 63 characters its head and a hash of the whole."""
    if len(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_IDENTIFIER - 9]}_{digest}"


def form_table_name(form_id: str) -> str:
    return identifier(f"form_{form_id}")


def group_table_name(form_id: str, group_id: str) -> str:
    return identifier(f"form_{form_id}__{group_id}")


def pk_name(table: str) -> str:
    return identifier(f"pk_{table}")


def fk_name(table: str, column: str, referred: str) -> str:
    return identifier(f"fk_{table}_{column}_{referred}")


def index_name(table: str, columns: Sequence[str]) -> str:
    return identifier(f"ix_{table}_{'_'.join(columns)}")


def class_name(name: str) -> str:
    if len(name) <= MAX_CLASS_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_CLASS_NAME - 9]}_{digest}"


# ---------------------------------------------------------------- the table model


@dataclass(frozen=True)
class SqlType:
    """A column type: ``kind`` is string, text, integer, biginteger, numeric, boolean,
    date, datetime or json."""

    kind: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None

    def expression(self) -> str:
        """The SQLAlchemy type as written in ``models.py``."""
        if self.kind == "string":
            return f"String({self.length})"
        if self.kind == "numeric":
            if self.precision is None:
                return "Numeric()"
            return f"Numeric({self.precision}, {self.scale or 0})"
        if self.kind == "datetime":
            return "DateTime(timezone=True)"
        return f"{SA_NAMES[self.kind]}()"

    def imports(self) -> str:
        return SA_NAMES[self.kind]

    def python(self) -> str:
        return PYTHON_TYPES[self.kind]

    def sqlalchemy(self) -> sa.types.TypeEngine[Any]:
        if self.kind == "string":
            return sa.String(self.length)
        if self.kind == "numeric":
            if self.precision is None:
                return sa.Numeric()
            return sa.Numeric(self.precision, self.scale or 0)
        if self.kind == "datetime":
            return sa.DateTime(timezone=True)
        kind: type[sa.types.TypeEngine[Any]] = getattr(sa, SA_NAMES[self.kind])
        return kind()

    @classmethod
    def of(cls, type_: sa.types.TypeEngine[Any]) -> SqlType:
        """The column type of a SQLAlchemy type (the inverse of :meth:`sqlalchemy`)."""
        for kind, name in SA_NAMES.items():
            if type(type_) is getattr(sa, name):
                if isinstance(type_, sa.Numeric):
                    return cls(kind, precision=type_.precision, scale=type_.scale)
                return cls(kind, length=getattr(type_, "length", None))
        raise ValueError(
            f"{type_!r}: not a column type of a package ({', '.join(SA_NAMES.values())})"
        )

    def __str__(self) -> str:
        return self.expression()


SA_NAMES = {
    "string": "String",
    "text": "Text",
    "integer": "Integer",
    "biginteger": "BigInteger",
    "numeric": "Numeric",
    "boolean": "Boolean",
    "date": "Date",
    "datetime": "DateTime",
    "json": "JSON",
}

PYTHON_TYPES = {
    "string": "str",
    "text": "str",
    "integer": "int",
    "biginteger": "int",
    "numeric": "decimal.Decimal",
    "boolean": "bool",
    "date": "datetime.date",
    "datetime": "datetime.datetime",
    "json": "list[str]",
}


@functools.cache
def _sql_type(
    kind: str, length: int | None = None, precision: int | None = None, scale: int | None = None
) -> SqlType:
    """One object per distinct type (a province has 200,000 columns of a few types)."""
    return SqlType(kind, length, precision, scale)


def string(length: int) -> SqlType:
    return _sql_type("string", length)


def field_type(f: FieldIR) -> SqlType:
    """The column type of a field (the one place that decides it, see docs/package.md)."""
    if f.sensitive:
        return _sql_type("text")  # AES-GCM ciphertext (runtime/crypto.py)
    if f.type == "code" and f.multiple:
        return _sql_type("json")
    if f.type in ("string", "code"):
        length = f.max_length or DEFAULT_STRING_LENGTH
        return string(length) if length <= MAX_VARCHAR else _sql_type("text")
    if f.type == "file":
        return string(DEFAULT_STRING_LENGTH)
    if f.type == "text":
        return _sql_type("text")
    if f.type == "integer":
        return _sql_type("biginteger")
    if f.type == "decimal":
        if f.digits is None:
            return _sql_type("numeric")
        return _sql_type("numeric", None, f.digits, f.fraction_digits or 0)
    if f.type == "boolean":
        return _sql_type("boolean")
    if f.type == "date":
        return _sql_type("date")
    if f.type == "datetime":
        return _sql_type("datetime")
    raise GenerateError([f"{f.source}: field '{f.id}' has unknown type '{f.type}'"])


@dataclass(frozen=True)
class ForeignKeySpec:
    table: str
    column: str
    name: str
    ondelete: str | None = None


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: SqlType
    nullable: bool = True
    primary_key: bool = False
    default: int | None = None  # Python-side default of the model
    server_default: str | None = None  # SQL text
    foreign_key: ForeignKeySpec | None = None
    # Where a form column comes from (for messages and the snapshot):
    field: str | None = None
    element: str | None = None
    sensitive: bool = False
    source: str | None = None
    renamed_from: tuple[str, ...] = ()
    # The encryption context of a sensitive column's values when it is not the column's
    # own ``<table>.<column>`` (it was renamed, see generator/render/sealing.py):
    sealed_as: str | None = None


@dataclass(frozen=True)
class IndexSpec:
    name: str
    columns: tuple[str, ...]
    unique: bool = False  # a unique constraint rather than a plain index


@dataclass(frozen=True)
class TableSpec:
    name: str
    kind: str  # core | form | group
    columns: tuple[ColumnSpec, ...]
    indexes: tuple[IndexSpec, ...] = ()
    form: str | None = None
    group: str | None = None
    renamed_from: tuple[str, ...] = ()  # earlier table names, newest first
    source: str | None = None

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.primary_key)

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)

    def describe(self, zh: bool = False) -> str:
        """How messages name the table's origin: ``form 'x'`` / ``group 'g' of form 'x'``
        (``zh``: ``表单 'x'`` / ``表单 'x' 的重复组 'g'``)."""
        if self.kind == "group":
            if zh:
                return f"表单 '{self.form}' 的重复组 '{self.group}'"
            return f"group '{self.group}' of form '{self.form}'"
        if self.kind == "form":
            return f"表单 '{self.form}'" if zh else f"form '{self.form}'"
        return f"表 {self.name}" if zh else f"table {self.name}"


def table_items(spec: TableSpec) -> list[Any]:
    """Columns, primary key, foreign keys and unique constraints of a table."""
    items: list[Any] = []
    for c in spec.columns:
        items.append(to_column(c))
    items.append(sa.PrimaryKeyConstraint(*spec.primary_key, name=pk_name(spec.name)))
    for c in spec.columns:
        if c.foreign_key is not None:
            fk = c.foreign_key
            items.append(
                sa.ForeignKeyConstraint(
                    [c.name], [f"{fk.table}.{fk.column}"], name=fk.name, ondelete=fk.ondelete
                )
            )
    for ix in spec.indexes:
        if ix.unique:
            items.append(sa.UniqueConstraint(*ix.columns, name=ix.name))
    return items


def to_column(c: ColumnSpec) -> sa.Column[Any]:
    server_default = sa.text(c.server_default) if c.server_default is not None else None
    return sa.Column(
        c.name, c.type.sqlalchemy(), nullable=c.nullable, server_default=server_default
    )


# ---------------------------------------------------------------- core tables


def core_tables() -> tuple[TableSpec, ...]:
    """The tables every package has, parents before children: the specs of the runtime's
    hand-written tables (runtime/tables.py)."""
    return tuple(table_spec(t) for t in runtime_tables.metadata.tables.values())


def table_spec(table: sa.Table) -> TableSpec:
    """The spec of a SQLAlchemy table; its indexes and unique constraints in the order of
    their first column."""
    position = {c.name: i for i, c in enumerate(table.columns)}
    indexes = [IndexSpec(str(ix.name), tuple(c.name for c in ix.columns)) for ix in table.indexes]
    indexes += [
        IndexSpec(str(uq.name), tuple(c.name for c in uq.columns), unique=True)
        for uq in table.constraints
        if isinstance(uq, sa.UniqueConstraint)
    ]
    indexes.sort(key=lambda ix: (position[ix.columns[0]], ix.name))
    return TableSpec(
        table.name, "core", tuple(_column_spec(c) for c in table.columns), tuple(indexes)
    )


def _column_spec(c: sa.Column[Any]) -> ColumnSpec:
    foreign_key = None
    for fk in c.foreign_keys:
        referred, column = fk.target_fullname.split(".")
        foreign_key = ForeignKeySpec(referred, column, str(fk.name), fk.ondelete)
    return ColumnSpec(
        c.name,
        SqlType.of(c.type),
        nullable=bool(c.nullable),
        primary_key=c.primary_key,
        default=c.default.arg if isinstance(c.default, sa.ColumnDefault) else None,
        server_default=str(c.server_default.arg)
        if isinstance(c.server_default, sa.DefaultClause)
        else None,
        foreign_key=foreign_key,
    )


FORM_KEY = "application_id"
GROUP_KEYS = ("id", "application_id", "position")
ID = string(36)
INTEGER = SqlType("integer")


def _application_key(table: str, primary_key: bool = False) -> ColumnSpec:
    fk = ForeignKeySpec(
        "applications", "id", fk_name(table, "application_id", "applications"), "CASCADE"
    )
    return ColumnSpec("application_id", ID, False, primary_key, foreign_key=fk)


# ---------------------------------------------------------------- form tables


def _field_column(f: FieldIR) -> ColumnSpec:
    return ColumnSpec(
        f.id,
        field_type(f),
        nullable=True,
        field=f.id,
        element=f.element,
        sensitive=f.sensitive,
        source=f.source or None,
        renamed_from=tuple(f.renamed_from),
    )


def _reserved(fields: Iterable[FieldIR], reserved: Sequence[str], where: str) -> list[str]:
    return [
        f"{f.source}: field id '{f.id}' of {where} is reserved for the table's own column "
        f"'{f.id}' (reserved: {', '.join(reserved)}); give the field another 'id'"
        for f in fields
        if f.id in reserved
    ]


def form_table(form: FormIR) -> TableSpec:
    name = form_table_name(form.id)
    return TableSpec(
        name,
        "form",
        (_application_key(name, primary_key=True), *(_field_column(f) for f in form.fields)),
        form=form.id,
        renamed_from=tuple(form_table_name(old) for old in form.renamed_from),
        source=form.source or None,
    )


def group_table(form: FormIR, group: GroupIR) -> TableSpec:
    name = group_table_name(form.id, group.id)
    previous = [
        group_table_name(f, g)
        for f in (form.id, *form.renamed_from)
        for g in (group.id, *group.renamed_from)
    ]
    return TableSpec(
        name,
        "group",
        (
            ColumnSpec("id", INTEGER, nullable=False, primary_key=True),
            _application_key(name),
            ColumnSpec("position", INTEGER, nullable=False),
            *(_field_column(f) for f in group.fields),
        ),
        (IndexSpec(index_name(name, ("application_id",)), ("application_id",)),),
        form=form.id,
        group=group.id,
        renamed_from=tuple(dict.fromkeys(p for p in previous if p != name)),
        source=group.source or None,
    )


def build_tables(pkg: PackageIR) -> tuple[TableSpec, ...]:
    """Every table of the package: core tables, then each form's table and group tables."""
    problems: list[str] = []
    tables = list(core_tables())
    for form in pkg.forms:
        problems += _reserved(form.fields, (FORM_KEY,), f"form '{form.id}'")
        tables.append(form_table(form))
        for group in form.groups:
            where = f"group '{group.id}' of form '{form.id}'"
            problems += _reserved(group.fields, GROUP_KEYS, where)
            tables.append(group_table(form, group))
    seen: dict[str, TableSpec] = {}
    for t in tables:
        if t.name in seen:
            problems.append(
                f"{t.source or t.name}: {t.describe()} and {seen[t.name].describe()} both make "
                f"table {t.name}; rename one of them"
            )
        seen[t.name] = t
    if problems:
        raise GenerateError(problems)
    return tuple(tables)
