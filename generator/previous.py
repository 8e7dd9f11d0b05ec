"""The package being regenerated, read once before rendering (renderers never touch disk).

A package folder carries its own history: ``schema.json`` (the table model its newest
revision leaves), ``migrations/versions/*.py`` (every revision, kept unchanged), the
rules packs (``rules/<h>.jsonl``) that filed cases follow, and form modules that can be taken over
unchanged (:class:`generator.reuse.Previous`). :func:`read_previous` reads and checks
them; the renderers get the result.

Revisions are read with two regular expressions (``revision = "…"``, ``down_revision =
…``), not alembic's ``ScriptDirectory``: that one imports every revision module, and the
first revision of a province creates every table — 2.6 s to compile the 5.6 MB revision of
4,000 matters (bench/synth.py ``--shared``), against milliseconds here. The revisions are
govstd's own files, checked below to form one line ending at the snapshot's revision.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from generator.render import GenerateError
from generator.render.snapshot import SNAPSHOT, Snapshot, load_snapshot
from generator.reuse import MANIFEST, Previous
from runtime.packs import RULES, SUFFIX, PackFormatError, unpack
from runtime.types import bilingual

VERSIONS = "migrations/versions"

_REVISION = re.compile(r"""^revision(?:\s*:\s*str)?\s*=\s*["']([^"']+)["']""", re.M)
_DOWN = re.compile(r"""^down_revision(?:\s*:[^=]+)?\s*=\s*(?:None|["']([^"']+)["'])""", re.M)


@dataclass(frozen=True)
class ExistingRevision:
    path: str
    revision: str
    down_revision: str | None
    content: str


@dataclass(frozen=True)
class PreviousPackage:
    """What generating into a folder continues from (nothing, for a new folder)."""

    snapshot: Snapshot | None = None
    revisions: tuple[ExistingRevision, ...] = ()  # in path order
    rules: dict[str, bytes] = field(default_factory=dict)  # hash -> document, as recorded
    forms: Previous = field(default_factory=lambda: Previous(None))


def read_previous(out_dir: Path | None) -> PreviousPackage:
    """Read and check the package in ``out_dir``. Raises :class:`GenerateError` when its
    history is broken (a missing or edited rules file, revisions that are not one line
    ending at the snapshot's revision)."""
    if out_dir is None:
        return PreviousPackage()
    snapshot, revisions = _schema_history(out_dir)
    return PreviousPackage(snapshot, tuple(revisions), _carried_rules(out_dir), Previous(out_dir))


def existing_revisions(out_dir: Path) -> list[ExistingRevision]:
    if not (out_dir / VERSIONS).is_dir():
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


def _schema_history(out_dir: Path) -> tuple[Snapshot | None, list[ExistingRevision]]:
    revisions = existing_revisions(out_dir)
    path = out_dir / SNAPSHOT
    if not path.is_file():
        if revisions:
            raise GenerateError(
                [
                    bilingual(
                        f"{path}: 文件缺失，但 {out_dir / VERSIONS} 中已有修订版本；"
                        "请从上一版部署包中恢复 schema.json",
                        f"{path}: missing, but {out_dir / VERSIONS} has "
                        "revisions; restore schema.json from the previous package",
                    )
                ]
            )
        return None, []
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


_LEGACY_RULES = re.compile(RULES + r"/([0-9a-f]{64})\.json")  # before packs: one file each


def _carried_rules(out_dir: Path) -> dict[str, bytes]:
    """The rules documents of the packs the package's ``package.json`` lists (hash ->
    compact JSON), each pack as recorded there; a package written before packs has a file
    ``rules/<hash>.json`` per document, carried into the packs the same way.

    A carried pack must be as that manifest recorded it: one missing or edited would
    silently hand old cases someone else's rules, so generation stops."""
    try:
        files = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError, AttributeError):
        return {}
    out: dict[str, bytes] = {}
    wrong: list[str] = []
    for name, sha in sorted(files.items()) if isinstance(files, dict) else ():
        legacy = _LEGACY_RULES.fullmatch(name)
        if not (legacy or (name.startswith(f"{RULES}/") and name.endswith(SUFFIX))):
            continue
        try:
            data = (out_dir / name).read_bytes()
        except OSError:
            wrong.append(f"{name} (missing)")
            continue
        if hashlib.sha256(data).hexdigest() != sha:
            wrong.append(f"{name} (changed)")
            continue
        try:
            if legacy:
                out[legacy.group(1)] = orjson.dumps(orjson.loads(data), option=orjson.OPT_SORT_KEYS)
            else:
                out.update(unpack(data, name))
        except (ValueError, PackFormatError):
            wrong.append(f"{name} (not readable)")
    if wrong:
        listed = ", ".join(wrong)
        raise GenerateError(
            [
                bilingual(
                    f"{out_dir}: 已受理案件所依据的规则文件缺失或被修改，请从备份恢复：{listed}",
                    f"{out_dir}: rules files that filed cases follow are missing or changed "
                    f"(restore them from a backup of the package): {listed}",
                )
            ]
        )
    return out
