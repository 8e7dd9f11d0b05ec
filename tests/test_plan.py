"""The migration planner on pairs of table specs, without a database (issue 14 item 8).

Each test hands :func:`generator.render.plan.plan` an old and a new list of
:class:`~generator.render.tables.TableSpec` and reads the plan: its operations (alembic
op objects), their inverses, its steps in words, the steps that lose data and what it
cannot do. The database tests (tests/test_migrations.py, tests/test_migration_safety.py)
then show that such plans run.
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic.operations import ops

from generator.build import build_package
from generator.pipeline import check_tree
from generator.render.migrations import render_ops
from generator.render.plan import Plan, create_table_ops, match, plan
from generator.render.tables import (
    ColumnSpec,
    ForeignKeySpec,
    IndexSpec,
    SqlType,
    TableSpec,
    build_tables,
    string,
    table_items,
)
from tests.helpers import REGIONS, ROOT, STANDARDS

ID = ColumnSpec("id", SqlType("biginteger"), nullable=False, primary_key=True)
APP = ColumnSpec(
    "application_id",
    string(36),
    nullable=False,
    foreign_key=ForeignKeySpec("applications", "id", "fk_app", "CASCADE"),
)


def _field(name: str, type_: SqlType | None = None, **kw: object) -> ColumnSpec:
    return ColumnSpec(name, type_ or string(50), field=name, element=name, **kw)  # type: ignore[arg-type]


def _form(form: str, *columns: ColumnSpec, **kw: object) -> TableSpec:
    return TableSpec(f"form_{form}", "form", (ID, APP, *columns), form=form, source="f.yaml", **kw)  # type: ignore[arg-type]


def _batch(p: Plan, table: str) -> list[ops.MigrateOperation]:
    """The operations inside the ``batch_alter_table`` of ``table``."""
    found = [op for op in p.up if isinstance(op, ops.ModifyTableOps) and op.table_name == table]
    assert len(found) == 1
    return list(found[0].ops)


def test_no_change_plans_nothing() -> None:
    tables = [_form("a", _field("name"))]
    p = plan(tables, list(tables))
    assert (p.up, p.steps, p.lost, p.unsupported) == ([], [], [], [])


def test_a_new_form_creates_its_table_and_its_downgrade_drops_it() -> None:
    new = _form("a", _field("name"), indexes=(IndexSpec("ix_a_name", ("name",)),))
    p = plan([], [new])
    assert p.steps == ["create table form_a"]
    create, index = p.up
    assert isinstance(create, ops.CreateTableOp) and create.table_name == "form_a"
    assert isinstance(index, ops.CreateIndexOp) and index.index_name == "ix_a_name"
    assert [type(op) for op in p.downgrade()] == [ops.DropTableOp]
    assert p.lost == []


def test_an_added_optional_field_adds_a_column_and_loses_nothing() -> None:
    p = plan([_form("a", _field("name"))], [_form("a", _field("name"), _field("phone"))])
    assert p.steps == ["add column form_a.phone"]
    [add] = _batch(p, "form_a")
    assert isinstance(add, ops.AddColumnOp) and add.column.name == "phone"
    [undo] = p.downgrade()
    assert isinstance(undo, ops.ModifyTableOps)
    assert [type(op) for op in undo.ops] == [ops.DropColumnOp]
    assert p.lost == [] and p.unsupported == []


def test_a_required_column_without_a_default_cannot_be_added() -> None:
    p = plan([_form("a")], [_form("a", _field("name", nullable=False))])
    assert len(p.unsupported) == 1
    assert "form_a" in p.unsupported[0] and "without a default" in p.unsupported[0]


def test_a_removed_field_loses_data_in_both_languages() -> None:
    p = plan([_form("a", _field("name"), _field("phone"))], [_form("a", _field("name"))])
    assert p.steps == ["drop column form_a.phone"]
    [(zh, en)] = p.lost
    assert "删除列 form_a.phone 会丢失其数据" in zh and "--allow-data-loss" in zh
    assert "dropping column form_a.phone loses its data" in en
    assert p.losses == [en] and p.loss_messages == [f"{zh} / {en}"]
    [undo] = p.downgrade()
    assert isinstance(undo.ops[0], ops.AddColumnOp)  # type: ignore[attr-defined]


def test_renamed_from_renames_the_column_and_keeps_its_data() -> None:
    p = plan(
        [_form("a", _field("phone"))],
        [_form("a", _field("mobile", renamed_from=("phone",)))],
    )
    assert p.steps == ["rename column form_a.phone to mobile"]
    assert p.lost == []
    [alter] = _batch(p, "form_a")
    assert isinstance(alter, ops.AlterColumnOp)
    assert (alter.column_name, alter.modify_name) == ("phone", "mobile")
    [undo] = p.downgrade()
    assert undo.ops[0].modify_name == "phone"  # type: ignore[attr-defined]


def test_a_renamed_form_renames_its_table_and_moves_its_applications() -> None:
    p = plan([_form("old")], [_form("new", renamed_from=("form_old",))])
    assert p.steps == [
        "rename table form_old to form_new",
        "set applications.form 'old' to 'new'",
    ]
    rename, move = p.up
    assert isinstance(rename, ops.RenameTableOp) and rename.new_table_name == "form_new"
    assert isinstance(move, ops.ExecuteSQLOp)
    assert move.sqltext == "UPDATE applications SET form = 'new' WHERE form = 'old'"
    back = p.downgrade()
    assert isinstance(back[0], ops.ExecuteSQLOp)
    assert back[0].sqltext == "UPDATE applications SET form = 'old' WHERE form = 'new'"
    assert isinstance(back[1], ops.RenameTableOp) and back[1].new_table_name == "form_old"


def test_a_widened_string_loses_nothing_and_a_narrowed_one_cuts_first() -> None:
    wide = plan([_form("a", _field("name", string(50)))], [_form("a", _field("name", string(100)))])
    assert wide.steps == ["widen column form_a.name from String(50) to String(100)"]
    assert wide.lost == []

    narrow = plan(
        [_form("a", _field("name", string(50)))], [_form("a", _field("name", string(20)))]
    )
    assert narrow.steps == ["narrow column form_a.name from String(50) to String(20)"]
    [(zh, en)] = narrow.lost
    assert "cuts longer values to 20 characters" in en and "截断为 20 个字符" in zh
    cut = narrow.up[0]  # before the batch: the long values are cut, so the ALTER succeeds
    assert isinstance(cut, ops.ExecuteSQLOp)
    assert cut.sqltext == (
        'UPDATE "form_a" SET "name" = substr("name", 1, 20) WHERE length("name") > 20'
    )
    assert isinstance(narrow.up[1], ops.ModifyTableOps)


def test_a_type_that_cannot_be_converted_is_replaced_with_its_loss_said() -> None:
    p = plan(
        [_form("a", _field("count", SqlType("biginteger")))],
        [_form("a", _field("count", SqlType("date")))],
    )
    assert p.steps == ["replace column form_a.count (BigInteger()) by count (Date())"]
    [(_, en)] = p.lost
    assert "cannot be converted" in en
    assert [type(op) for op in _batch(p, "form_a")] == [ops.DropColumnOp, ops.AddColumnOp]


def test_a_field_that_becomes_sensitive_says_its_stored_values_stay_in_clear() -> None:
    p = plan(
        [_form("a", _field("name", SqlType("text")))],
        [_form("a", _field("name", SqlType("text"), sensitive=True))],
    )
    [(zh, en)] = p.lost
    assert "became sensitive" in en and "in clear" in en and "明文" in zh
    assert p.up == []  # the column itself does not change


def test_a_changed_foreign_key_is_not_supported() -> None:
    other = ColumnSpec(
        "application_id",
        string(36),
        nullable=False,
        foreign_key=ForeignKeySpec("cases", "id", "fk_case", "CASCADE"),
    )
    old = _form("a")
    new = TableSpec("form_a", "form", (ID, other), form="a")
    p = plan([old], [new])
    assert len(p.unsupported) == 1 and "foreign key" in p.unsupported[0]


def test_a_removed_form_drops_its_tables_children_first() -> None:
    form = _form("a")
    group = TableSpec("form_a__members", "group", (ID,), form="a", group="members")
    p = plan([form, group], [])
    assert p.steps == ["drop table form_a__members", "drop table form_a"]
    assert [en for _, en in p.lost] == [
        "form_a__members: group 'members' of form 'a' was removed: dropping table "
        "form_a__members loses its data; pass --allow-data-loss to drop it",
        "f.yaml: form 'a' was removed: dropping table form_a loses its data; "
        "pass --allow-data-loss to drop it",
    ]
    first = p.downgrade()[0]  # the parent comes back first
    assert isinstance(first, ops.CreateTableOp) and first.table_name == "form_a"


def test_match_takes_a_renamed_item_once_and_never_one_kept_under_its_name() -> None:
    old = [_field("a"), _field("b")]
    new = [
        _field("a"),  # kept: "a" cannot also be taken by a rename
        _field("x", renamed_from=("a", "b")),
        _field("y", renamed_from=("b",)),  # "b" already taken by x
    ]
    pairs = match(old, new)
    assert {k: v.name for k, v in pairs.items()} == {"a": "a", "x": "b"}


def _alembic_create(spec: TableSpec) -> list[ops.MigrateOperation]:
    """What alembic itself renders a new table from: a CreateTableOp of SQLAlchemy items."""
    plain = sorted((ix for ix in spec.indexes if not ix.unique), key=lambda ix: ix.name)
    return [
        ops.CreateTableOp(spec.name, table_items(spec)),
        *(ops.CreateIndexOp(ix.name, spec.name, list(ix.columns)) for ix in plain),
    ]


def test_new_tables_render_as_alembic_renders_them(tmp_path: Path) -> None:
    """Every table of the bundled regions and of a synthetic tree (every field type,
    sensitive fields, groups, 300 fields in one form: a starred list): the text of the
    spec-rendered ``create_table`` and ``create_index`` is alembic's, character for
    character, upgrade and downgrade."""
    sys.path.insert(0, str(ROOT / "bench"))
    from synth import write_tree

    write_tree(tmp_path / "synth", 12)
    tables: dict[str, TableSpec] = {}
    for roots, region in [([STANDARDS], r) for r in REGIONS] + [([tmp_path / "synth"], "province")]:
        tree, diagnostics, resolved = check_tree(roots)
        assert not diagnostics.has_errors()
        tables.update((t.name, t) for t in build_tables(build_package(tree, resolved, region)))
    wide = _form("wide", *(_field(f"f{i}", nullable=bool(i % 2)) for i in range(300)))
    specs = [*tables.values(), wide]
    assert len(specs) > 40 and any(ix.unique for t in specs for ix in t.indexes)
    ours = [op for t in specs for op in create_table_ops(t)]
    theirs = [op for t in specs for op in _alembic_create(t)]
    assert render_ops(ours) == render_ops(theirs)
    table = ours[0].to_table()  # what alembic's own uses of the operation get
    assert isinstance(ours[0], ops.CreateTableOp) and table.name == specs[0].name
    assert [c.name for c in table.columns] == [c.name for c in specs[0].columns]
    dropped = plan([*specs], [])
    assert render_ops(dropped.downgrade(), downgrade=True) == render_ops(
        [op for t in specs for op in _alembic_create(t)], downgrade=True
    )
