"""The table model of a package: what tables, columns, keys and indexes it has.

Decide first, render second: :func:`build_tables` turns the intermediate model into
:class:`TableSpec` objects (names, SQL types, keys, indexes, where each column comes
from). ``models.py`` (:mod:`generator.render.models`) is rendered from them; the
migrations and ``schema.json`` (:mod:`generator.render.migrations`) are computed from
the very same objects, so the models and the database the migrations make cannot
disagree.

Naming: ``form_<form>`` and ``form_<form>__<group>`` tables, a column per field named
after the field id, constraint and index names ``pk_``/``fk_``/``ix_``/``uq_`` given
explicitly (never left to a dialect); every name longer than PostgreSQL's 63
characters is shortened with a hash suffix (:func:`identifier`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from generator.ir import FieldIR, FormIR, GroupIR, PackageIR
from generator.render import GenerateError

MAX_IDENTIFIER = 63  # PostgreSQL's limit (NAMEDATALEN - 1)
MAX_CLASS_NAME = 40
LINE_LENGTH = 100
DEFAULT_STRING_LENGTH = 255
MAX_VARCHAR = 10_485_760  # PostgreSQL's varchar limit; longer texts become Text

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

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


def unique_name(table: str, columns: Sequence[str]) -> str:
    return identifier(f"uq_{table}_{'_'.join(columns)}")


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


def string(length: int) -> SqlType:
    return SqlType("string", length=length)


def field_type(f: FieldIR) -> SqlType:
    """The column type of a field (the one place that decides it, see docs/package.md)."""
    if f.sensitive:
        return SqlType("text")  # AES-GCM ciphertext (runtime/crypto.py)
    if f.type == "code" and f.multiple:
        return SqlType("json")
    if f.type in ("string", "code"):
        length = f.max_length or DEFAULT_STRING_LENGTH
        return string(length) if length <= MAX_VARCHAR else SqlType("text")
    if f.type == "file":
        return string(DEFAULT_STRING_LENGTH)
    if f.type == "text":
        return SqlType("text")
    if f.type == "integer":
        return SqlType("biginteger")
    if f.type == "decimal":
        if f.digits is None:
            return SqlType("numeric")
        return SqlType("numeric", precision=f.digits, scale=f.fraction_digits or 0)
    if f.type == "boolean":
        return SqlType("boolean")
    if f.type == "date":
        return SqlType("date")
    if f.type == "datetime":
        return SqlType("datetime")
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


def to_table(spec: TableSpec, metadata: sa.MetaData) -> sa.Table:
    """The SQLAlchemy Core table of a spec (for migration operations)."""
    table = sa.Table(spec.name, metadata, *table_items(spec))
    for ix in spec.indexes:
        if not ix.unique:
            sa.Index(ix.name, *(table.c[name] for name in ix.columns))
    return table


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


def _col(name: str, type_: SqlType, nullable: bool = False, **kw: Any) -> ColumnSpec:
    return ColumnSpec(name, type_, nullable=nullable, **kw)


INTEGER = SqlType("integer")
TEXT = SqlType("text")
DATE = SqlType("date")
DATETIME = SqlType("datetime")
ID = string(36)
ID_COLUMN = _col("id", INTEGER, primary_key=True)


def _application_fk(table: str, ondelete: str | None = "CASCADE") -> ForeignKeySpec:
    return ForeignKeySpec(
        "applications", "id", fk_name(table, "application_id", "applications"), ondelete
    )


def _index(table: str, *columns: str, unique: bool = False) -> IndexSpec:
    name = unique_name(table, columns) if unique else index_name(table, columns)
    return IndexSpec(name, columns, unique)


def core_tables() -> tuple[TableSpec, ...]:
    """The tables every package has (docs/package.md), parents before children."""
    return (
        TableSpec(
            "applications",
            "core",
            (
                _col("id", ID, primary_key=True),
                _col("number", string(40)),
                _col("matter", string(63)),
                _col("form", string(63)),
                _col("region", string(63)),
                _col("applicant_sub", string(128)),
                _col("status", string(63)),
                _col("bundle_id", ID, nullable=True),
                _col("created_at", DATETIME),
                _col("updated_at", DATETIME),
                _col("clock_started_at", DATETIME, nullable=True),
                _col("paused_at", DATETIME, nullable=True),
                _col("finished_at", DATETIME, nullable=True),
                _col("paused_days", INTEGER, default=0, server_default="0"),
                _col("deadline", DATE, nullable=True),
                _col("standards_version", string(63), nullable=True),
                _col("standards_hash", string(64)),
                _col("row_version", INTEGER, default=1, server_default="1"),
                # the rules it was filed under (runtime/rules.py); null: filed before they were kept
                _col("rules", string(64), nullable=True),
                _col("limit_value", INTEGER, nullable=True),
                _col("limit_unit", string(16), nullable=True),
            ),
            (
                _index("applications", "number", unique=True),
                _index("applications", "region"),
                _index("applications", "applicant_sub"),
                _index("applications", "status"),
            ),
        ),
        TableSpec(
            "transitions",
            "core",
            (
                ID_COLUMN,
                _col("application_id", ID, foreign_key=_application_fk("transitions")),
                _col("transition", string(63)),
                _col("from_state", string(63)),
                _col("to_state", string(63)),
                _col("actor_sub", string(128)),
                _col("actor_role", string(32)),
                _col("reason", TEXT, nullable=True),
                _col("at", DATETIME),
            ),
            (_index("transitions", "application_id"),),
        ),
        TableSpec(
            "material_files",
            "core",
            (
                ID_COLUMN,
                _col("application_id", ID, foreign_key=_application_fk("material_files")),
                _col("material", string(63)),
                _col("storage_name", string(128)),
                _col("filename", TEXT),
                _col("content_type", string(127)),
                _col("size", INTEGER),
                _col("sha256", string(64)),
                _col("uploaded_by", string(128)),
                _col("uploaded_at", DATETIME),
            ),
            (_index("material_files", "application_id", "material", unique=True),),
        ),
        TableSpec(
            "evaluations",
            "core",
            (
                ID_COLUMN,
                _col("application_id", ID, foreign_key=_application_fk("evaluations")),
                _col("applicant_sub", string(128)),
                _col("score", INTEGER),
                _col("comment", TEXT, nullable=True),
                _col("created_at", DATETIME),
            ),
            (_index("evaluations", "application_id", unique=True),),
        ),
        TableSpec(
            "audit_log",
            "core",
            (
                ID_COLUMN,
                _col("at", DATETIME),
                _col("actor_sub", string(128), nullable=True),
                _col("actor_role", string(32), nullable=True),
                _col("action", string(63)),
                _col("application_id", ID, nullable=True),  # no FK: the log outlives it
                _col("detail", TEXT),
                _col("request_id", string(64)),
            ),
            (_index("audit_log", "application_id"),),
        ),
        TableSpec(
            "idempotency_keys",
            "core",
            (
                _col("applicant_sub", string(128), primary_key=True),
                _col("key", string(128), primary_key=True),
                _col("request_hash", string(64)),
                _col("application_id", ID, nullable=True),
                _col("status_code", INTEGER),
                _col("response", TEXT),
                _col("created_at", DATETIME),
            ),
        ),
        TableSpec(
            "counters",
            "core",
            (
                _col("name", string(64), primary_key=True),
                _col("value", INTEGER, default=0, server_default="0"),
            ),
        ),
        *service_tables(),
        *data_tables(),
        *sharing_tables(),
    )


def service_tables() -> tuple[TableSpec, ...]:
    """One-stop bundles and policies (docs/bundles.md, docs/policies.md)."""
    claims = "policy_claims"
    return (
        TableSpec(  # one bundle filing; its members' applications.bundle_id name it
            "bundle_filings",
            "core",
            (
                _col("id", ID, primary_key=True),
                _col("bundle", string(63)),
                _col("region", string(63)),
                _col("applicant_sub", string(128)),
                _col("created_at", DATETIME),
            ),
            (_index("bundle_filings", "applicant_sub"),),
        ),
        TableSpec(  # an applicant's stored profile per profile form (sensitive values sealed)
            "profiles",
            "core",
            (
                ID_COLUMN,
                _col("applicant_sub", string(128)),
                _col("form", string(63)),
                _col("region", string(63)),
                _col("data", TEXT),
                _col("updated_at", DATETIME),
            ),
            (_index("profiles", "applicant_sub", "form", unique=True),),
        ),
        TableSpec(  # 精准送达: one per policy and applicant; or an objection's outcome
            "notifications",
            "core",
            (
                ID_COLUMN,
                _col("applicant_sub", string(128)),
                _col("policy", string(63), nullable=True),  # null: an objection's
                _col("objection_id", INTEGER, nullable=True),
                _col("region", string(63)),
                _col("created_at", DATETIME),
                _col("read_at", DATETIME, nullable=True),
            ),
            (
                _index("notifications", "applicant_sub", "policy", unique=True),
                _index("notifications", "policy"),
            ),
        ),
        TableSpec(  # each delivery run: who, when, how many profiles fitted
            "policy_deliveries",
            "core",
            (
                ID_COLUMN,
                _col("policy", string(63)),
                _col("actor_sub", string(128)),
                _col("at", DATETIME),
                _col("profiles", INTEGER),
                _col("eligible", INTEGER),
                _col("notified", INTEGER),
            ),
            (_index("policy_deliveries", "policy"),),
        ),
        TableSpec(  # an application filed to claim a policy
            claims,
            "core",
            (
                _col("application_id", ID, primary_key=True, foreign_key=_application_fk(claims)),
                _col("policy", string(63)),
                _col("created_at", DATETIME),
            ),
            (_index(claims, "policy"),),
        ),
    )


def data_tables() -> tuple[TableSpec, ...]:
    """The data system (docs/data.md): the event outbox and its webhook delivery,
    objections (异议) and fetched government-sourced materials (电子证照)."""
    return (
        TableSpec(  # the outbox: one CloudEvent per change, written in the change's transaction
            "events",
            "core",
            (
                ID_COLUMN,  # the order of events (commit order, runtime/events.py)
                _col("event_id", ID),
                _col("type", string(127)),
                _col("application_id", ID, nullable=True),  # no FK: events outlive cases
                _col("region", string(63)),
                _col("time", DATETIME),
                _col("data", TEXT),
            ),
        ),
        TableSpec(  # one webhook receiver: who delivers to it (a lease) and how far it got
            "event_receivers",
            "core",
            (
                _col("receiver", string(64), primary_key=True),
                _col("url", TEXT),
                _col("cursor", INTEGER, default=0, server_default="0"),
                _col("holder", string(128), nullable=True),
                _col("lease_until", DATETIME, nullable=True),
                _col("delivered", INTEGER, default=0, server_default="0"),
            ),
        ),
        TableSpec(  # an event a receiver has not acknowledged yet (deleted once it has)
            "event_deliveries",
            "core",
            (
                ID_COLUMN,
                _col("receiver", string(64)),
                _col("event", INTEGER),
                _col("attempts", INTEGER, default=0, server_default="0"),
                _col("next_at", DATETIME),
                _col("last_error", string(255), nullable=True),
            ),
            (_index("event_deliveries", "receiver", "event", unique=True),),
        ),
        TableSpec(  # 异议: a disputed value of a case, and how the provider resolved it
            "objections",
            "core",
            (
                ID_COLUMN,
                _col("application_id", ID, foreign_key=_application_fk("objections")),
                _col("region", string(63)),
                _col("element", string(63)),
                _col("field", string(127), nullable=True),  # the path corrected
                _col("objector_sub", string(128)),
                _col("objector_role", string(32)),
                _col("reason", TEXT),
                _col("status", string(16)),  # open | corrected | rejected
                _col("created_at", DATETIME),
                _col("resolved_at", DATETIME, nullable=True),
                _col("resolver_sub", string(128), nullable=True),
                _col("resolution", TEXT, nullable=True),  # the reason of a rejection
                _col("old_value", TEXT, nullable=True),  # encrypted as the field is
                _col("new_value", TEXT, nullable=True),
            ),
            (
                _index("objections", "application_id"),
                _index("objections", "region", "status"),
            ),
        ),
        TableSpec(  # 电子证照: what fetching a government-sourced material at filing gave
            "licence_fetches",
            "core",
            (
                ID_COLUMN,
                _col("application_id", ID, foreign_key=_application_fk("licence_fetches")),
                _col("material", string(63)),
                _col("status", string(16)),  # pending | fetched | missing
                _col("reason", string(255), nullable=True),
                _col("at", DATETIME),
            ),
            (_index("licence_fetches", "application_id", "material", unique=True),),
        ),
    )


def sharing_tables() -> tuple[TableSpec, ...]:
    """Governed data sharing (docs/data.md, runtime/sharing.py): one row per request; its
    reads are audit_log entries ``share_read``."""
    name = "sharing_requests"
    return (
        TableSpec(
            name,
            "core",
            (
                _col("id", ID, primary_key=True),
                _col("resource", string(63)),  # a form id (generator/catalogue.py)
                _col("region", string(63)),  # the provider region, whose steward decides
                _col("requester_sub", string(128)),
                _col("requester_role", string(32)),
                _col("requester_region", string(63)),
                _col("purpose", TEXT),
                _col("basis", TEXT),
                _col("items", TEXT),  # JSON list of element ids asked for
                _col("granted", TEXT),  # JSON list of element ids granted now
                _col("unmasked", INTEGER, default=0, server_default="0"),
                _col("status", string(16)),  # pending | approved | refused | revoked
                _col("expires", DATE),  # the last day (China time) of the grant
                _col("created_at", DATETIME),
                _col("decided_by", string(128), nullable=True),
                _col("decided_at", DATETIME, nullable=True),
                _col("reason", TEXT, nullable=True),  # of a refusal or revocation
            ),
            (_index(name, "region", "status"), _index(name, "requester_sub")),
        ),
    )


CORE_CLASSES = {
    "applications": "Application",
    "transitions": "Transition",
    "material_files": "MaterialFile",
    "evaluations": "Evaluation",
    "audit_log": "AuditEntry",
    "idempotency_keys": "IdempotencyKey",
    "counters": "Counter",
    "bundle_filings": "BundleFiling",
    "profiles": "Profile",
    "notifications": "Notification",
    "policy_deliveries": "PolicyDelivery",
    "policy_claims": "PolicyClaim",
    "events": "Event",
    "event_receivers": "EventReceiver",
    "event_deliveries": "EventDelivery",
    "objections": "Objection",
    "licence_fetches": "LicenceFetch",
    "sharing_requests": "SharingRequest",
}

FORM_KEY = "application_id"
GROUP_KEYS = ("id", "application_id", "position")


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
    key = _col(FORM_KEY, ID, primary_key=True, foreign_key=_application_fk(name))
    return TableSpec(
        name,
        "form",
        (key, *(_field_column(f) for f in form.fields)),
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
            ID_COLUMN,
            _col("application_id", ID, foreign_key=_application_fk(name)),
            _col("position", INTEGER),
            *(_field_column(f) for f in group.fields),
        ),
        (_index(name, "application_id"),),
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
