"""``rules/<hash>.json``: every version of the case rules the package has served.

Each (region, matter) has a rules document (``runtime/rules.py``: its form spec,
materials list and promised limit) named by its hash; a case records the hash it
was filed under. Regenerating into a package folder carries forward every
``rules/*.json`` its ``package.json`` lists, so a case filed under an earlier
version keeps its form, materials and limit (``../shared/spec/services.md`` §1).
A carried file must be as that manifest recorded it: one missing or edited
would silently hand old cases someone else's rules, so generation stops.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import orjson

from generator.ir import PackageIR
from generator.render import GeneratedFile, GenerateError, json_text
from generator.render.forms import form_spec
from runtime.rules import form_document, rules_document, rules_hash
from runtime.types import bilingual

__all__ = ["RULES_DIR", "render_rules"]

RULES_DIR = "rules"
MANIFEST = "package.json"


def _plain(value: Any) -> Any:
    """IR dataclasses as the catalog has them (the runtime hashes the catalog's values)."""
    return orjson.loads(orjson.dumps(value))


def current(pkg: PackageIR) -> dict[str, str]:
    """The documents of this package's (region, matter) pairs: path -> text."""
    forms = {f.id: form_document(form_spec(f)) for f in pkg.forms}
    out: dict[str, str] = {}
    for region in pkg.regions:
        for matter in region.matters:
            if matter.form not in forms:
                continue
            doc = rules_document(
                forms[matter.form], _plain(matter.materials), _plain(matter.promised)
            )
            out[f"{RULES_DIR}/{rules_hash(doc)}.json"] = json_text(doc)
    return out


def carried(out_dir: Path | None) -> dict[str, str]:
    """The rules documents of the package in ``out_dir`` (none for a new folder)."""
    if out_dir is None:
        return {}
    try:
        files = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError, AttributeError):
        return {}
    out: dict[str, str] = {}
    wrong: list[str] = []
    for name, sha in sorted(files.items()) if isinstance(files, dict) else ():
        if not (name.startswith(f"{RULES_DIR}/") and name.endswith(".json")):
            continue
        try:
            text = (out_dir / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            wrong.append(f"{name} (missing)")
            continue
        if hashlib.sha256(text.encode()).hexdigest() != sha:
            wrong.append(f"{name} (changed)")
            continue
        out[name] = text
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


def render_rules(pkg: PackageIR, out_dir: Path | None) -> list[GeneratedFile]:
    files = {**carried(out_dir), **current(pkg)}
    return [GeneratedFile(path, text) for path, text in sorted(files.items())]
