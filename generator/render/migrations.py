"""``schema.json`` and the Alembic migrations of a package.

Decide first, render second:

1. the new schema is :func:`generator.render.tables.build_tables` of the IR (the same
   table model ``models.py`` is rendered from); the old one is the previous
   ``schema.json`` of the package folder (none on the first run);
2. :func:`plan` compares them and decides alembic operation objects
   (``alembic.operations.ops``) for the upgrade and their inverses for the downgrade,
   and lists every step that would lose data;
3. :func:`render_migrations` refuses lossy steps (:class:`GenerateError`, one line per
   step) unless ``allow_data_loss``, and renders one new revision with
   ``alembic.autogenerate.render_python_code`` in ``migrations_revision.py.jinja``.

Identity: a table is its form (``form_<form>``) or group (``form_<form>__<group>``); a
column its field id. ``renamed_from`` of a form, a group or a field turns what would be
a drop and an add into a rename, keeping the data. Table and column renames and type
changes go through ``batch_alter_table`` so that SQLite (which cannot alter columns)
works too. Lossy steps: dropping a table or a column, narrowing a string, replacing a
column whose type cannot be converted, and changing whether a field is sensitive
(stored values are not re-encrypted or decrypted).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from alembic.autogenerate import render_python_code, renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops

from generator.ir import PackageIR, fingerprint
from generator.render import GeneratedFile, GenerateError, json_text, python_banner
from generator.render.tables import (
    ColumnSpec,
    ForeignKeySpec,
    IndexSpec,
    SqlType,
    TableSpec,
    build_tables,
    table_items,
    to_column,
)
from generator.render.templating import render

SNAPSHOT = "schema.json"
ENV = "migrations/env.py"
VERSIONS = "migrations/versions"
SNAPSHOT_FORMAT = 1
DOC_WIDTH = 96
ALLOW = "pass --allow-data-loss to"


# ---------------------------------------------------------------- snapshot


@dataclass(frozen=True)
class Snapshot:
    """The schema the package's migrations lead to, and the revision that makes it."""

    revision: str | None
    tables: tuple[TableSpec, ...]


def _column_json(c: ColumnSpec) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": c.name,
        "type": c.type.kind,
        "length": c.type.length,
        "precision": c.type.precision,
        "scale": c.type.scale,
        "nullable": c.nullable,
        "primary_key": c.primary_key,
        "default": c.default,
        "server_default": c.server_default,
        "foreign_key": None,
        "field": c.field,
        "element": c.element,
        "sensitive": c.sensitive,
        "source": c.source,
        "renamed_from": list(c.renamed_from),
    }
    if c.foreign_key is not None:
        fk = c.foreign_key
        data["foreign_key"] = {
            "table": fk.table,
            "column": fk.column,
            "name": fk.name,
            "ondelete": fk.ondelete,
        }
    # Only what is set, so the file reads easily; "nullable" always.
    return {k: v for k, v in data.items() if k == "nullable" or v not in (None, False, [])}


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


def snapshot_text(snapshot: Snapshot) -> str:
    """``schema.json``: tables in creation order, keys sorted, one stable text."""
    data = {
        "format": SNAPSHOT_FORMAT,
        "revision": snapshot.revision,
        "tables": [_table_json(t) for t in snapshot.tables],
    }
    return json_text(data)


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
                f"{where}: not a schema snapshot written by govstd ({exc}); restore it from the "
                "previous package"
            ]
        ) from None


# ---------------------------------------------------------------- the plan


@dataclass
class Plan:
    """Operations of one revision: ``up`` in order; ``down[i]`` undoes ``up[i]``."""

    up: list[ops.MigrateOperation] = field(default_factory=list)
    down: list[list[ops.MigrateOperation]] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)

    def add(
        self, up: ops.MigrateOperation, down: Sequence[ops.MigrateOperation], step: str = ""
    ) -> None:
        self.up.append(up)
        self.down.append(list(down))
        if step:
            self.steps.append(step)

    def downgrade(self) -> list[ops.MigrateOperation]:
        return [op for undo in reversed(self.down) for op in undo]


@dataclass
class _TablePlan:
    """Operations inside one ``batch_alter_table`` block, and statements to run before it."""

    before: list[ops.MigrateOperation] = field(default_factory=list)
    up: list[ops.MigrateOperation] = field(default_factory=list)
    down: list[list[ops.MigrateOperation]] = field(default_factory=list)

    def add(self, up: ops.MigrateOperation, *down: ops.MigrateOperation) -> None:
        self.up.append(up)
        self.down.append(list(down))


def _create_table(spec: TableSpec) -> list[ops.MigrateOperation]:
    # Built from the columns and constraints directly: alembic makes the one Table
    # it renders from (a Table built here first would be copied, at twice the cost).
    items = table_items(spec)
    result: list[ops.MigrateOperation] = [ops.CreateTableOp(spec.name, items)]
    indexes = sorted((ix for ix in spec.indexes if not ix.unique), key=lambda ix: ix.name)
    result += [ops.CreateIndexOp(ix.name, spec.name, list(ix.columns)) for ix in indexes]
    return result


def _index_op(table: str, ix: IndexSpec) -> ops.MigrateOperation:
    if ix.unique:
        return ops.CreateUniqueConstraintOp(ix.name, table, list(ix.columns))
    return ops.CreateIndexOp(ix.name, table, list(ix.columns))


def _drop_index_op(table: str, ix: IndexSpec) -> ops.MigrateOperation:
    if ix.unique:
        return ops.DropConstraintOp(ix.name, table, type_="unique")
    return ops.DropIndexOp(ix.name, table_name=table)


def _field_words(c: ColumnSpec, table: TableSpec) -> str:
    if c.field:
        return f"{c.source or table.name}: field '{c.field}' (element {c.element}) of " + (
            table.describe()
        )
    return f"{table.source or table.name}: column {table.name}.{c.name}"


def _type_change(old: SqlType, new: SqlType) -> str:
    """``same``, ``widen`` (every value fits), ``narrow`` (strings may be cut) or ``replace``
    (the values cannot be converted in place)."""
    if old == new:
        return "same"
    o, n = old.kind, new.kind
    if o == n == "string":
        return "widen" if (new.length or 0) >= (old.length or 0) else "narrow"
    if o == "string" and n == "text":
        return "widen"
    if o == "text" and n == "string":
        return "narrow"
    if o == "integer" and n == "biginteger":
        return "widen"
    if n == "numeric" and o in ("integer", "biginteger", "numeric"):
        if new.precision is None:
            return "widen"
        if o == "numeric":
            if old.precision is None:
                return "replace"
            whole = new.precision - (new.scale or 0) >= old.precision - (old.scale or 0)
            return "widen" if whole and (new.scale or 0) >= (old.scale or 0) else "replace"
        return "widen" if new.precision - (new.scale or 0) >= 19 else "replace"
    return "replace"


def _fk_key(fk: ForeignKeySpec | None) -> tuple[str, str, str | None] | None:
    return None if fk is None else (fk.table, fk.column, fk.ondelete)


def _match_columns(old: TableSpec, new: TableSpec) -> dict[str, ColumnSpec]:
    """New column name → the old column it continues (same name, else ``renamed_from``)."""
    old_columns = {c.name: c for c in old.columns}
    new_names = {c.name for c in new.columns}
    pairs = {c.name: old_columns[c.name] for c in new.columns if c.name in old_columns}
    claimed = set(pairs)
    for c in new.columns:
        if c.name in pairs:
            continue
        for previous in c.renamed_from:
            if previous in old_columns and previous not in claimed and previous not in new_names:
                pairs[c.name] = old_columns[previous]
                claimed.add(previous)
                break
    return pairs


def _alter(table: str, old: ColumnSpec, **kw: Any) -> ops.AlterColumnOp:
    existing_default: sa.TextClause | Literal[False] = (
        sa.text(old.server_default) if old.server_default is not None else False
    )
    return ops.AlterColumnOp(
        table,
        old.name,
        existing_type=old.type.sqlalchemy(),
        existing_nullable=old.nullable,
        existing_server_default=existing_default,
        **kw,
    )


def _modify_table(plan: Plan, old: TableSpec, new: TableSpec) -> None:
    name = new.name
    tp = _TablePlan()
    old_ix = {ix.name: ix for ix in old.indexes}
    new_ix = {ix.name: ix for ix in new.indexes}
    for ix in old.indexes:
        if new_ix.get(ix.name) != ix:
            tp.add(_drop_index_op(name, ix), _index_op(name, ix))

    pairs = _match_columns(old, new)
    kept = {o.name for o in pairs.values()}
    for c in new.columns:
        o = pairs.get(c.name)
        if o is None:
            if not c.nullable and c.server_default is None and c.default is None:
                plan.unsupported.append(
                    f"{_field_words(c, new)}: a required column cannot be added to existing "
                    f"rows of {name} without a default"
                )
            tp.add(ops.AddColumnOp(name, to_column(c)), ops.DropColumnOp(name, c.name))
            plan.steps.append(f"add column {name}.{c.name}")
            continue
        _modify_column(plan, tp, new, o, c)
    for o in old.columns:
        if o.name not in kept:
            where = _field_words(o, old)
            plan.losses.append(
                f"{where} was removed: dropping column {name}.{o.name} loses its data; "
                f"{ALLOW} drop it"
            )
            tp.add(ops.DropColumnOp(name, o.name), ops.AddColumnOp(name, to_column(o)))
            plan.steps.append(f"drop column {name}.{o.name}")
    for ix in new.indexes:
        if old_ix.get(ix.name) != ix:
            tp.add(_index_op(name, ix), _drop_index_op(name, ix))

    for statement in tp.before:
        plan.add(statement, ())
    if tp.up:
        undo = [step for part in reversed(tp.down) for step in part]
        plan.add(ops.ModifyTableOps(name, tp.up), [ops.ModifyTableOps(name, undo)])


def _modify_column(
    plan: Plan, tp: _TablePlan, table: TableSpec, o: ColumnSpec, c: ColumnSpec
) -> None:
    name = table.name
    if o.primary_key != c.primary_key or _fk_key(o.foreign_key) != _fk_key(c.foreign_key):
        plan.unsupported.append(
            f"{_field_words(c, table)}: changing the primary or foreign key of column "
            f"{name}.{c.name} is not supported by generated migrations"
        )
        return
    where = _field_words(c, table)
    if o.sensitive != c.sensitive:
        state = "became sensitive" if c.sensitive else "is no longer sensitive"
        stored = "in clear" if c.sensitive else "encrypted"
        plan.losses.append(
            f"{where} {state}: the values stored in column {name}.{o.name} were written "
            f"{stored} and the migration does not convert them; {ALLOW} accept that"
        )
    change = _type_change(o.type, c.type)
    if change == "replace":
        plan.losses.append(
            f"{where} changed type from {o.type} to {c.type}: the values of column "
            f"{name}.{o.name} cannot be converted, replacing the column loses them; "
            f"{ALLOW} replace it"
        )
        tp.add(ops.DropColumnOp(name, o.name), ops.AddColumnOp(name, to_column(o)))
        tp.add(ops.AddColumnOp(name, to_column(c)), ops.DropColumnOp(name, c.name))
        plan.steps.append(f"replace column {name}.{o.name} ({o.type}) by {c.name} ({c.type})")
        return
    kw: dict[str, Any] = {}
    back: dict[str, Any] = {}
    words = []
    if o.name != c.name:
        kw["modify_name"] = c.name
        back["modify_name"] = o.name
        words.append(f"rename column {name}.{o.name} to {c.name}")
    if change != "same":
        kw["modify_type"] = c.type.sqlalchemy()
        back["modify_type"] = o.type.sqlalchemy()
        words.append(f"{change} column {name}.{c.name} from {o.type} to {c.type}")
        if change == "narrow":
            length = c.type.length or 0
            plan.losses.append(
                f"{where} changed type from {o.type} to {c.type}: narrowing column "
                f"{name}.{o.name} cuts longer values to {length} characters; "
                f"{ALLOW} narrow it"
            )
            tp.before.append(
                ops.ExecuteSQLOp(
                    f'UPDATE "{name}" SET "{o.name}" = substr("{o.name}", 1, {length}) '
                    f'WHERE length("{o.name}") > {length}'
                )
            )
    if o.nullable != c.nullable:
        kw["modify_nullable"] = c.nullable
        back["modify_nullable"] = o.nullable
        words.append(f"make column {name}.{c.name} {'nullable' if c.nullable else 'required'}")
    if o.server_default != c.server_default:
        kw["modify_server_default"] = (
            sa.text(c.server_default) if c.server_default is not None else None
        )
        back["modify_server_default"] = (
            sa.text(o.server_default) if o.server_default is not None else None
        )
        words.append(f"change the default of column {name}.{c.name}")
    if kw:
        tp.add(_alter(name, o, **kw), _alter(name, c, **back))
        plan.steps.extend(words)


def _match_tables(old: Sequence[TableSpec], new: Sequence[TableSpec]) -> dict[str, TableSpec]:
    """New table name → the old table it continues (same name, else ``renamed_from``)."""
    old_by_name = {t.name: t for t in old}
    new_names = {t.name for t in new}
    pairs = {t.name: old_by_name[t.name] for t in new if t.name in old_by_name}
    claimed = set(pairs)
    for t in new:
        if t.name in pairs:
            continue
        for previous in t.renamed_from:
            if previous in old_by_name and previous not in claimed and previous not in new_names:
                pairs[t.name] = old_by_name[previous]
                claimed.add(previous)
                break
    return pairs


def _set_form(old: str, new: str) -> ops.ExecuteSQLOp:
    # Form ids are [a-z][a-z0-9_]*: safe as SQL literals.
    return ops.ExecuteSQLOp(f"UPDATE applications SET form = '{new}' WHERE form = '{old}'")


def plan(old: Sequence[TableSpec], new: Sequence[TableSpec]) -> Plan:
    """Decide the operations that turn schema ``old`` into ``new`` (and back)."""
    result = Plan()
    pairs = _match_tables(old, new)
    for t in new:  # 1. renames, so that later steps use the new names
        previous = pairs.get(t.name)
        if previous is not None and previous.name != t.name:
            result.add(
                ops.RenameTableOp(previous.name, t.name),
                [ops.RenameTableOp(t.name, previous.name)],
                f"rename table {previous.name} to {t.name}",
            )
    for t in new:  # applications filed under a renamed form follow it
        previous = pairs.get(t.name)
        if t.kind == "form" and previous is not None and previous.form != t.form:
            assert t.form is not None and previous.form is not None
            result.add(
                _set_form(previous.form, t.form),
                [_set_form(t.form, previous.form)],
                f"set applications.form '{previous.form}' to '{t.form}'",
            )
    for t in new:  # 2. new tables, parents first
        if t.name not in pairs:
            first, *indexes = _create_table(t)
            result.add(first, [ops.DropTableOp(t.name)], f"create table {t.name}")
            for ix in indexes:
                result.add(ix, ())
    for t in new:  # 3. changes inside kept tables
        previous = pairs.get(t.name)
        if previous is not None:
            _modify_table(result, previous, t)
    kept = {t.name for t in pairs.values()}
    for t in reversed(old):  # 4. removed tables, children first
        if t.name not in kept:
            result.losses.append(
                f"{t.source or t.name}: {t.describe()} was removed: dropping table {t.name} "
                f"loses its data; {ALLOW} drop it"
            )
            result.add(ops.DropTableOp(t.name), _create_table(t), f"drop table {t.name}")
    return result


# ---------------------------------------------------------------- rendering


def _render_rename_table(autogen_context: AutogenContext, op: ops.RenameTableOp) -> str:
    # Alembic has the operation but no autogenerate renderer for it.
    return f"op.rename_table({op.table_name!r}, {op.new_table_name!r})"


with contextlib.suppress(ValueError):  # a later alembic may render it itself
    renderers.dispatch_for(ops.RenameTableOp)(_render_rename_table)


def render_ops(operations: Sequence[ops.MigrateOperation], *, downgrade: bool = False) -> str:
    """The body of ``upgrade()`` / ``downgrade()`` for ``operations``, rendered by alembic."""
    container: ops.OpContainer = (
        ops.DowngradeOps(ops=list(operations))
        if downgrade
        else ops.UpgradeOps(ops=list(operations))
    )
    text = render_python_code(container, render_as_batch=True)  # type: ignore[arg-type]
    lines = [line.rstrip() for line in text.splitlines() if not line.lstrip().startswith("# ###")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(line if line else "" for line in lines) or "    pass"


@dataclass(frozen=True)
class Revision:
    """What the revision template needs."""

    banner: str
    revision: str
    down_revision: str | None
    doc: str
    uses_sa: bool
    destructive: bool
    upgrade: str
    downgrade: str


def _bullets(title: str, items: Sequence[str]) -> list[str]:
    lines = [title]
    for item in items:
        lines += textwrap.wrap(
            item,
            DOC_WIDTH,
            initial_indent="- ",
            subsequent_indent="  ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    return lines


def revision_file(
    pkg: PackageIR, the_plan: Plan, number: int, down_revision: str | None, digest: str
) -> GeneratedFile:
    upgrade = render_ops(the_plan.up)
    downgrade = render_ops(the_plan.downgrade(), downgrade=True)
    token = hashlib.sha256(f"{down_revision}\n{upgrade}".encode()).hexdigest()[:8]
    revision = f"{number:04d}_{token}"
    title = (
        f"Create the tables of the package for region '{pkg.region}'"
        if down_revision is None
        else f"Change the tables of the package for region '{pkg.region}'"
    )
    doc = [title, "", f"Revision ID: {revision}", f"Revises: {down_revision or '(none)'}", ""]
    doc += _bullets("Steps:", the_plan.steps)
    if the_plan.losses:
        doc += ["", *_bullets("Data loss (allowed with --allow-data-loss):", the_plan.losses)]
    model = Revision(
        banner=python_banner(digest),
        revision=revision,
        down_revision=down_revision,
        doc="\n".join(doc).replace("\\", "/").replace('"""', "'''"),
        uses_sa="sa." in upgrade or "sa." in downgrade,
        destructive=bool(the_plan.losses),
        upgrade=upgrade,
        downgrade=downgrade,
    )
    return GeneratedFile(
        f"{VERSIONS}/{revision}.py", render("migrations_revision.py.jinja", r=model)
    )


# ---------------------------------------------------------------- existing revisions

_REVISION = re.compile(r"""^revision(?:\s*:\s*str)?\s*=\s*["']([^"']+)["']""", re.M)
_DOWN = re.compile(r"""^down_revision(?:\s*:[^=]+)?\s*=\s*(?:None|["']([^"']+)["'])""", re.M)


@dataclass(frozen=True)
class ExistingRevision:
    path: str
    revision: str
    down_revision: str | None
    content: str


def existing_revisions(out_dir: Path | None) -> list[ExistingRevision]:
    if out_dir is None or not (out_dir / VERSIONS).is_dir():
        return []
    found = []
    for path in sorted((out_dir / VERSIONS).glob("*.py")):
        content = path.read_text(encoding="utf-8")
        rev, down = _REVISION.search(content), _DOWN.search(content)
        rel = f"{VERSIONS}/{path.name}"
        if rev is None or down is None:
            raise GenerateError(
                [f"{out_dir / rel}: not an Alembic revision (no 'revision' and 'down_revision')"]
            )
        found.append(ExistingRevision(rel, rev.group(1), down.group(1), content))
    return found


def head_of(revisions: Sequence[ExistingRevision], out_dir: Path) -> str | None:
    if not revisions:
        return None
    parents = {r.down_revision for r in revisions}
    heads = [r.revision for r in revisions if r.revision not in parents]
    if len(heads) != 1:
        raise GenerateError(
            [
                f"{out_dir / VERSIONS}: the revisions must form one line, found heads "
                f"{', '.join(heads) or '(none: a cycle)'}"
            ]
        )
    return heads[0]


def _previous(out_dir: Path | None) -> tuple[Snapshot | None, list[ExistingRevision]]:
    revisions = existing_revisions(out_dir)
    path = out_dir / SNAPSHOT if out_dir is not None else None
    if path is None or not path.is_file():
        if revisions:
            raise GenerateError(
                [
                    f"{path}: missing, but {out_dir / VERSIONS if out_dir else VERSIONS} has "
                    "revisions; restore schema.json from the previous package"
                ]
            )
        return None, []
    assert out_dir is not None
    snapshot = load_snapshot(path.read_text(encoding="utf-8"), str(path))
    head = head_of(revisions, out_dir)
    if snapshot.revision != head:
        raise GenerateError(
            [
                f"{path}: records revision {snapshot.revision} but the head of "
                f"{out_dir / VERSIONS} is {head}; the package folder was changed by hand"
            ]
        )
    return snapshot, revisions


def env_file() -> GeneratedFile:
    return GeneratedFile(
        ENV,
        render(
            "migrations_env.py.jinja", banner=python_banner(fingerprint("runtime.migrate.run_env"))
        ),
    )


def render_migrations(
    pkg: PackageIR, out_dir: Path | None, allow_data_loss: bool = False
) -> list[GeneratedFile]:
    """``schema.json``, ``migrations/env.py``, the existing revisions unchanged, and one new
    revision when the schema changed since the package in ``out_dir`` was generated.

    Raises :class:`GenerateError` listing every step that would lose data (unless
    ``allow_data_loss``) and every change generated migrations cannot make.
    """
    tables = build_tables(pkg)
    previous, revisions = _previous(out_dir)
    the_plan = plan(previous.tables if previous else (), tables)
    if the_plan.unsupported:
        raise GenerateError(the_plan.unsupported)
    if the_plan.losses and not allow_data_loss:
        raise GenerateError(the_plan.losses)
    files = [GeneratedFile(r.path, r.content, formatted=True) for r in revisions]  # history
    head = previous.revision if previous else None
    if the_plan.up:
        new = revision_file(pkg, the_plan, len(revisions) + 1, head, fingerprint(tables))
        files.append(new)
        head = new.path.rsplit("/", 1)[1].removesuffix(".py")
    snapshot = GeneratedFile(SNAPSHOT, snapshot_text(Snapshot(head, tables)))
    return [snapshot, env_file(), *sorted(files, key=lambda f: f.path)]
