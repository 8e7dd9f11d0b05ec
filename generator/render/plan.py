"""The plan of a migration: alembic operations from the old table model to the new one.

:func:`plan` compares two table models (:mod:`generator.render.tables`) and decides
alembic operation objects (``alembic.operations.ops``) for the upgrade and their
inverses for the downgrade, and lists every step that would lose data.
Identity: a table is its form (``form_<form>``) or group (``form_<form>__<group>``); a
column its field id. ``renamed_from`` turns what would be a drop and an add into a
rename, keeping the data. Table and column renames and type changes go through
``batch_alter_table`` so that SQLite (which cannot alter columns) works too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

import sqlalchemy as sa
from alembic.operations import ops

from generator.render.tables import (
    ColumnSpec,
    ForeignKeySpec,
    IndexSpec,
    SqlType,
    TableSpec,
    table_items,
    to_column,
)
from runtime.types import bilingual

ALLOW = "pass --allow-data-loss to"
ALLOW_ZH = "请加 --allow-data-loss"


@dataclass
class Plan:
    """Operations of one revision: ``up`` in order; ``down[i]`` undoes ``up[i]``."""

    up: list[ops.MigrateOperation] = field(default_factory=list)
    down: list[list[ops.MigrateOperation]] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    lost: list[tuple[str, str]] = field(default_factory=list)
    """Each step that loses data, in Chinese and in English."""
    unsupported: list[str] = field(default_factory=list)

    @property
    def losses(self) -> list[str]:
        """The steps that lose data in English (the revision's docstring lists them)."""
        return [en for _, en in self.lost]

    @property
    def loss_messages(self) -> list[str]:
        """The same in Chinese and English: why ``generate`` refuses the revision."""
        return [bilingual(zh, en) for zh, en in self.lost]

    def add(
        self, up: ops.MigrateOperation, down: Sequence[ops.MigrateOperation], step: str = ""
    ) -> None:
        self.up.append(up)
        self.down.append(list(down))
        if step:
            self.steps.append(step)

    def lose(self, zh: str, en: str) -> None:
        """A step that loses data, said in Chinese (``zh``) and English (``en``)."""
        self.lost.append((zh, en))

    def downgrade(self) -> list[ops.MigrateOperation]:
        return [op for undo in reversed(self.down) for op in undo]


@dataclass
class _TablePlan:
    """Operations inside one ``batch_alter_table`` block, and statements to run before it."""

    before: list[ops.MigrateOperation] = field(default_factory=list)
    up: list[ops.MigrateOperation] = field(default_factory=list)
    down: list[list[ops.MigrateOperation]] = field(default_factory=list)

    def add(self, up: ops.MigrateOperation, *down: ops.MigrateOperation) -> None:
        """``up``, undone by ``down`` (by default, by what alembic's ``up.reverse()`` says)."""
        self.up.append(up)
        self.down.append(list(down) if down else [up.reverse()])


class CreateSpecTableOp(ops.CreateTableOp):
    """``CREATE TABLE`` of a table of the model: an alembic ``CreateTableOp`` that keeps
    its :class:`TableSpec` and builds its SQLAlchemy ``Table`` only when asked
    (:meth:`to_table`). Rendered from the spec by :mod:`generator.render.migrations`:
    alembic's renderer builds a ``Table`` per table, ~1 ms each — 10 s of the first
    revision of a province's 11,000 tables."""

    def __init__(self, spec: TableSpec) -> None:
        super().__init__(spec.name, [])
        self.spec = spec

    def to_table(self, migration_context: Any = None) -> sa.Table:
        plain = ops.CreateTableOp(self.spec.name, table_items(self.spec))
        return plain.to_table(migration_context)


class CreateSpecIndexOp(ops.CreateIndexOp):
    """``CREATE INDEX`` of a new table's plain index (rendered without a ``Table`` too)."""


def create_table_ops(spec: TableSpec) -> list[ops.MigrateOperation]:
    result: list[ops.MigrateOperation] = [CreateSpecTableOp(spec)]
    indexes = sorted((ix for ix in spec.indexes if not ix.unique), key=lambda ix: ix.name)
    result += [CreateSpecIndexOp(ix.name, spec.name, list(ix.columns)) for ix in indexes]
    return result


def _drop_column(table: str, column: ColumnSpec) -> ops.DropColumnOp:
    """Dropping ``column``, knowing the column (so that ``reverse()`` can add it back)."""
    return ops.DropColumnOp.from_column_and_tablename(None, table, to_column(column))


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


def _field_words_zh(c: ColumnSpec, table: TableSpec) -> str:
    """:func:`_field_words` in Chinese (the file stays in front, as in the English)."""
    if c.field:
        return (
            f"{c.source or table.name}: {table.describe(zh=True)} 的字段 '{c.field}'"
            f"（数据元 {c.element}）"
        )
    return f"{table.source or table.name}: 列 {table.name}.{c.name}"


def _then(words: str, rest: str) -> str:
    """Chinese ``words`` and ``rest``: spaced after a name, not after a full-width bracket."""
    return f"{words}{'' if words.endswith('）') else ' '}{rest}"


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


class _Named(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def renamed_from(self) -> tuple[str, ...]: ...


N = TypeVar("N", bound=_Named)


def match(old: Sequence[N], new: Sequence[N]) -> dict[str, N]:
    """New name → the old item (table or column) it continues: same name, else the first
    of its ``renamed_from`` that is in ``old``, not kept under its own name and not taken."""
    old_by_name = {o.name: o for o in old}
    new_names = {n.name for n in new}
    pairs = {n.name: old_by_name[n.name] for n in new if n.name in old_by_name}
    claimed = set(pairs)
    for n in new:
        if n.name in pairs:
            continue
        for previous in n.renamed_from:
            if previous in old_by_name and previous not in claimed and previous not in new_names:
                pairs[n.name] = old_by_name[previous]
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

    pairs = match(old.columns, new.columns)
    kept = {o.name for o in pairs.values()}
    for c in new.columns:
        o = pairs.get(c.name)
        if o is None:
            if not c.nullable and c.server_default is None and c.default is None:
                plan.unsupported.append(
                    bilingual(
                        f"{_field_words_zh(c, new)}：没有默认值的必填列不能加到 {name} 的已有行上",
                        f"{_field_words(c, new)}: a required column cannot be added to existing "
                        f"rows of {name} without a default",
                    )
                )
            tp.add(ops.AddColumnOp(name, to_column(c)))
            plan.steps.append(f"add column {name}.{c.name}")
            continue
        _modify_column(plan, tp, new, o, c)
    for o in old.columns:
        if o.name not in kept:
            where = _field_words(o, old)
            plan.lose(
                _then(
                    _field_words_zh(o, old),
                    f"已删除：删除列 {name}.{o.name} 会丢失其数据；如确需删除，{ALLOW_ZH}",
                ),
                f"{where} was removed: dropping column {name}.{o.name} loses its data; "
                f"{ALLOW} drop it",
            )
            tp.add(_drop_column(name, o))
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
            bilingual(
                f"{_field_words_zh(c, table)}：生成的迁移不支持修改列 {name}.{c.name} 的主键或外键",
                f"{_field_words(c, table)}: changing the primary or foreign key of column "
                f"{name}.{c.name} is not supported by generated migrations",
            )
        )
        return
    where = _field_words(c, table)
    where_zh = _field_words_zh(c, table)
    if o.sensitive != c.sensitive:
        state = "became sensitive" if c.sensitive else "is no longer sensitive"
        stored = "in clear" if c.sensitive else "encrypted"
        state_zh = "变为敏感字段" if c.sensitive else "不再是敏感字段"
        stored_zh = "明文" if c.sensitive else "加密"
        plan.lose(
            _then(
                where_zh,
                f"{state_zh}：列 {name}.{o.name} 中已存的值是以{stored_zh}写入的，"
                f"迁移不会转换它们；如确认接受，{ALLOW_ZH}",
            ),
            f"{where} {state}: the values stored in column {name}.{o.name} were written "
            f"{stored} and the migration does not convert them; {ALLOW} accept that",
        )
    change = _type_change(o.type, c.type)
    if change == "replace":
        plan.lose(
            _then(
                where_zh,
                f"的类型从 {o.type} 改为 {c.type}：列 {name}.{o.name} 的值无法转换，"
                f"替换该列会丢失这些值；如确需替换，{ALLOW_ZH}",
            ),
            f"{where} changed type from {o.type} to {c.type}: the values of column "
            f"{name}.{o.name} cannot be converted, replacing the column loses them; "
            f"{ALLOW} replace it",
        )
        tp.add(_drop_column(name, o))
        tp.add(ops.AddColumnOp(name, to_column(c)))
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
            plan.lose(
                _then(
                    where_zh,
                    f"的类型从 {o.type} 改为 {c.type}：缩短列 {name}.{o.name} "
                    f"会把较长的值截断为 {length} 个字符；如确需缩短，{ALLOW_ZH}",
                ),
                f"{where} changed type from {o.type} to {c.type}: narrowing column "
                f"{name}.{o.name} cuts longer values to {length} characters; "
                f"{ALLOW} narrow it",
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


def _set_form(old: str, new: str) -> ops.ExecuteSQLOp:
    # Form ids are [a-z][a-z0-9_]*: safe as SQL literals.
    return ops.ExecuteSQLOp(f"UPDATE applications SET form = '{new}' WHERE form = '{old}'")


def plan(old: Sequence[TableSpec], new: Sequence[TableSpec]) -> Plan:
    """Decide the operations that turn schema ``old`` into ``new`` (and back)."""
    result = Plan()
    pairs = match(old, new)
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
            first, *indexes = create_table_ops(t)
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
            source = t.source or t.name
            result.lose(
                f"{source}: {t.describe(zh=True)} 已删除：删除表 {t.name} 会丢失其数据；"
                f"如确需删除，{ALLOW_ZH}",
                f"{source}: {t.describe()} was removed: dropping table {t.name} "
                f"loses its data; {ALLOW} drop it",
            )
            result.add(ops.DropTableOp(t.name), create_table_ops(t), f"drop table {t.name}")
    return result
