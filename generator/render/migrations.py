"""``schema.json`` and the Alembic migrations of a package.

Decide first, render second:

1. the new schema is :func:`generator.render.tables.build_tables` of the IR, its
   sensitive columns sealed as the columns they continue (:func:`package_tables`; the
   same table model ``models.py`` is rendered from, :func:`render_database`); the old
   one is the previous ``schema.json`` of the package folder
   (:mod:`generator.render.snapshot`; none on the first run);
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
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from alembic.autogenerate import render_python_code, renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops

from generator.ir import PackageIR, fingerprint
from generator.render import GeneratedFile, GenerateError, python_banner
from generator.render.models import render_models
from generator.render.plan import Plan, plan
from generator.render.sealing import carry_sealing
from generator.render.snapshot import SNAPSHOT, Snapshot, load_snapshot, snapshot_text
from generator.render.tables import TableSpec, build_tables
from generator.render.templating import render
from runtime.types import bilingual

ENV = "migrations/env.py"
VERSIONS = "migrations/versions"
DOC_WIDTH = 96


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
                [
                    bilingual(
                        f"{out_dir / rel}: 不是 Alembic 修订版本"
                        "（没有 'revision' 和 'down_revision'）",
                        f"{out_dir / rel}: not an Alembic revision "
                        "(no 'revision' and 'down_revision')",
                    )
                ]
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
                bilingual(
                    f"{out_dir / VERSIONS}: 修订版本必须连成一条线，"
                    f"但找到的最新修订版本是 {', '.join(heads) or '无（有循环）'}",
                    f"{out_dir / VERSIONS}: the revisions must form one line, found heads "
                    f"{', '.join(heads) or '(none: a cycle)'}",
                )
            ]
        )
    return heads[0]


def _previous(out_dir: Path | None) -> tuple[Snapshot | None, list[ExistingRevision]]:
    revisions = existing_revisions(out_dir)
    path = out_dir / SNAPSHOT if out_dir is not None else None
    if path is None or not path.is_file():
        if revisions:
            versions = out_dir / VERSIONS if out_dir else VERSIONS
            raise GenerateError(
                [
                    bilingual(
                        f"{path}: 文件缺失，但 {versions} 中已有修订版本；"
                        "请从上一版部署包中恢复 schema.json",
                        f"{path}: missing, but {versions} has "
                        "revisions; restore schema.json from the previous package",
                    )
                ]
            )
        return None, []
    assert out_dir is not None
    snapshot = load_snapshot(path.read_text(encoding="utf-8"), str(path))
    head = head_of(revisions, out_dir)
    if snapshot.revision != head:
        raise GenerateError(
            [
                bilingual(
                    f"{path}: 记录的修订版本是 {snapshot.revision}，但 {out_dir / VERSIONS} "
                    f"的最新修订版本是 {head}；部署包文件夹被手工改动过",
                    f"{path}: records revision {snapshot.revision} but the head of "
                    f"{out_dir / VERSIONS} is {head}; the package folder was changed by hand",
                )
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


def package_tables(pkg: PackageIR, previous: Snapshot | None) -> tuple[TableSpec, ...]:
    """The table model of ``pkg`` continuing ``previous``: sensitive columns keep the
    encryption context they were created with (:mod:`generator.render.sealing`)."""
    return carry_sealing(previous.tables if previous else (), build_tables(pkg))


def render_database(
    pkg: PackageIR, out_dir: Path | None, allow_data_loss: bool = False
) -> list[GeneratedFile]:
    """``models.py`` and :func:`render_migrations`' files, from one reading of the
    previous package in ``out_dir``."""
    previous, revisions = _previous(out_dir)
    tables = package_tables(pkg, previous)
    the_plan = plan(previous.tables if previous else (), tables)
    if the_plan.unsupported:
        raise GenerateError(the_plan.unsupported)
    if the_plan.losses and not allow_data_loss:
        raise GenerateError(the_plan.loss_messages)
    files = [GeneratedFile(r.path, r.content, formatted=True) for r in revisions]  # history
    head = previous.revision if previous else None
    if the_plan.up:
        new = revision_file(pkg, the_plan, len(revisions) + 1, head, fingerprint(tables))
        files.append(new)
        head = new.path.rsplit("/", 1)[1].removesuffix(".py")
    snapshot = GeneratedFile(SNAPSHOT, snapshot_text(Snapshot(head, tables)))
    return [
        *render_models(pkg, tables),
        snapshot,
        env_file(),
        *sorted(files, key=lambda f: f.path),
    ]


def render_migrations(
    pkg: PackageIR, out_dir: Path | None, allow_data_loss: bool = False
) -> list[GeneratedFile]:
    """``schema.json``, ``migrations/env.py``, the existing revisions unchanged, and one new
    revision when the schema changed since the package in ``out_dir`` was generated.

    Raises :class:`GenerateError` listing every step that would lose data (unless
    ``allow_data_loss``) and every change generated migrations cannot make.
    """
    files = render_database(pkg, out_dir, allow_data_loss)
    return [f for f in files if f.path != "models.py"]
