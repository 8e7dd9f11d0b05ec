"""``schema.json`` and the Alembic migrations of a package.

Decide first, render second:

1. the new schema is :func:`generator.render.tables.build_tables` of the IR, its
   sensitive columns sealed as the columns they continue (:func:`package_tables`; the
   same table model ``models.py`` is rendered from, :func:`render_database`); the old
   one is the previous ``schema.json`` of the package folder
   (:mod:`generator.render.snapshot`, read by :mod:`generator.previous`; none on the
   first run);
2. :func:`generator.render.plan.plan` compares them and decides alembic operation objects
   (``alembic.operations.ops``) for the upgrade and their inverses for the downgrade,
   and lists every step that would lose data;
3. :func:`render_database` refuses lossy steps (:class:`GenerateError`, one line per
   step) unless ``allow_data_loss``, and renders one new revision with
   ``alembic.autogenerate.render_python_code`` in ``migrations_revision.py.jinja``.

Lossy steps: dropping a table or a column, narrowing a string, replacing a
column whose type cannot be converted, and changing whether a field is sensitive
(stored values are not re-encrypted or decrypted).
"""

from __future__ import annotations

import contextlib
import hashlib
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from alembic.autogenerate import render as alembic_render
from alembic.autogenerate import render_python_code, renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops

from generator.ir import PackageIR, fingerprint
from generator.previous import VERSIONS, PreviousPackage
from generator.render import GeneratedFile, GenerateError, python_banner
from generator.render.models import render_models
from generator.render.plan import CreateSpecIndexOp, CreateSpecTableOp, Plan, plan
from generator.render.sealing import carry_sealing
from generator.render.snapshot import SNAPSHOT, Snapshot, snapshot_json
from generator.render.tables import ColumnSpec, SqlType, TableSpec, build_tables, pk_name, to_column
from generator.render.templating import render

ENV = "migrations/env.py"
DOC_WIDTH = 96


# ---------------------------------------------------------------- rendering


def _render_rename_table(autogen_context: AutogenContext, op: ops.RenameTableOp) -> str:
    # Alembic has the operation but no autogenerate renderer for it.
    return f"op.rename_table({op.table_name!r}, {op.new_table_name!r})"


with contextlib.suppress(ValueError):  # a later alembic may render it itself
    renderers.dispatch_for(ops.RenameTableOp)(_render_rename_table)


# A new table is rendered from its spec, in the very text alembic's renderer gives
# (tests/test_plan.py compares the two on every table of the bundled trees):
# alembic's builds a SQLAlchemy Table for each (``op.to_table()``), ~1 ms a table,
# and a province's first revision creates 11,000 tables. A column's text is alembic's
# own, rendered once for each distinct column (forms share their data elements).
MAX_PYTHON_ARGS = 255  # alembic's: more arguments than this go in a starred list


@renderers.dispatch_for(CreateSpecTableOp)
def _render_create_table(autogen_context: AutogenContext, op: CreateSpecTableOp) -> str:
    spec = op.spec
    constraints = []
    if spec.primary_key:
        constraints.append(
            f"sa.PrimaryKeyConstraint({_args(spec.primary_key, name=pk_name(spec.name))})"
        )
    for c in spec.columns:
        if c.foreign_key is not None:
            fk = c.foreign_key
            refers = f"{fk.table}.{fk.column}"
            options = {"name": fk.name, "ondelete": fk.ondelete}
            constraints.append(
                f"sa.ForeignKeyConstraint([{c.name!r}], [{refers!r}], {_args((), **options)})"
            )
    constraints += [
        f"sa.UniqueConstraint({_args(ix.columns, name=ix.name)})"
        for ix in spec.indexes
        if ix.unique
    ]
    args = [_column_text(c, autogen_context) for c in spec.columns] + sorted(constraints)
    listed = "*[" + ",\n".join(args) + "]" if len(args) > MAX_PYTHON_ARGS else ",\n".join(args)
    return f"op.create_table({spec.name!r},\n{listed}\n)"


@renderers.dispatch_for(CreateSpecIndexOp)
def _render_create_index(autogen_context: AutogenContext, op: CreateSpecIndexOp) -> str:
    columns = ", ".join(repr(c) for c in op.columns)
    return f"op.create_index({op.index_name!r}, {op.table_name!r}, [{columns}], unique=False)"


def _args(positional: Sequence[str], **options: str | None) -> str:
    named = [f"{key}={value!r}" for key, value in options.items() if value]
    return ", ".join([*(repr(p) for p in positional), *named])


def _column_text(c: ColumnSpec, autogen_context: AutogenContext) -> str:
    key = (c.name, c.type, c.nullable, c.server_default)
    text = _COLUMNS.get(key)
    if text is None:
        text = _COLUMNS[key] = alembic_render._render_column(to_column(c), autogen_context)
    return text


_COLUMNS: dict[tuple[str, SqlType, bool, str | None], str] = {}


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
    data_loss: str  # a Python literal: a tuple of the lossy steps' descriptions
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
        data_loss=repr(tuple(the_plan.losses)),
        upgrade=upgrade,
        downgrade=downgrade,
    )
    return GeneratedFile(
        f"{VERSIONS}/{revision}.py", render("migrations_revision.py.jinja", r=model)
    )


def env_file() -> GeneratedFile:
    return GeneratedFile(
        ENV,
        render(
            "migrations_env.py.jinja", banner=python_banner(fingerprint("runtime.migrate.run_env"))
        ),
    )


def package_tables(pkg: PackageIR, previous: Snapshot | None) -> tuple[TableSpec, ...]:
    """The table model of ``pkg`` continuing ``previous``: sensitive columns keep the
    encryption context they were created with (:mod:`generator.render.sealing`)."""
    return carry_sealing(previous.tables if previous else (), build_tables(pkg))


def render_database(
    pkg: PackageIR, previous: PreviousPackage, allow_data_loss: bool = False
) -> list[GeneratedFile]:
    """``models.py``, ``tables/`` and :func:`render_migrations`' files, continuing the
    ``previous`` package."""
    snapshot = previous.snapshot
    tables = package_tables(pkg, snapshot)
    the_plan = plan(snapshot.tables if snapshot else (), tables)
    if the_plan.unsupported:
        raise GenerateError(the_plan.unsupported)
    if the_plan.losses and not allow_data_loss:
        raise GenerateError(the_plan.loss_messages)
    files = [GeneratedFile(r.path, r.content, formatted=True) for r in previous.revisions]
    head = snapshot.revision if snapshot else None
    if the_plan.up:
        new = revision_file(pkg, the_plan, len(files) + 1, head, fingerprint(tables))
        files.append(new)
        head = new.path.rsplit("/", 1)[1].removesuffix(".py")
    schema = GeneratedFile(SNAPSHOT, snapshot_json(Snapshot(head, tables)))
    return [
        *render_models(pkg, tables),
        schema,
        env_file(),
        *sorted(files, key=lambda f: f.path),
    ]


def render_migrations(
    pkg: PackageIR, previous: PreviousPackage, allow_data_loss: bool = False
) -> list[GeneratedFile]:
    """``schema.json``, ``migrations/env.py``, the existing revisions unchanged, and one new
    revision when the schema changed since the ``previous`` package was generated.

    Raises :class:`GenerateError` listing every step that would lose data (unless
    ``allow_data_loss``) and every change generated migrations cannot make.
    """
    files = render_database(pkg, previous, allow_data_loss)
    return [f for f in files if f.path != "models.py" and not f.path.startswith("tables/")]
