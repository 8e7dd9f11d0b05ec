"""One-stop bundles (一件事一次办): where a bundle is offered, its materials, and its data.

The combined form is derived at generate time (``generator/bundles.py``); the
catalog gives each member's *share*: which of its form's fields each key of the
combined data fills. Validation is the members' own: each member's share is
validated against the member form exactly as a filing of that matter would be,
and every problem is reported at the combined form's path (the narrowest
constraints therefore hold by construction). Pure: no database here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from runtime.extensions import NONE, Extensions
from runtime.package import Bundle, Package, Region, Share
from runtime.types import FieldProblem
from runtime.validation import message, validate_submission

_HEAD = re.compile(r"^([^.\[]+)(.*)$", re.S)
_NECESSITY = {"required": 0, "deferrable": 1, "optional": 2}


def offered(bundle: Bundle, region: Region) -> bool:
    """Whether ``region`` offers every member, each with the form the bundle combined."""
    return all(
        s.matter in region.matters and region.matters[s.matter].form == s.form
        for s in bundle.shares
    )


def offered_in(pkg: Package, bundle: Bundle) -> list[str]:
    return [r.id for r in pkg.regions.values() if offered(bundle, r)]


def materials(bundle: Bundle, region: Region) -> list[dict[str, Any]]:
    """The members' materials, each id once: the strictest necessity, the types every member
    accepts, the smallest size cap, and the members (``matters``) that ask it."""
    combined: dict[str, dict[str, Any]] = {}
    for share in bundle.shares:
        for m in region.matters[share.matter].materials:
            entry = combined.get(m["id"])
            if entry is None:
                combined[m["id"]] = {**m, "matters": [share.matter]}
                continue
            entry["matters"].append(share.matter)
            if _NECESSITY.get(m.get("necessity", ""), 9) < _NECESSITY.get(entry["necessity"], 9):
                entry["necessity"] = m["necessity"]
            if m.get("accept"):
                mine = set(m["accept"])
                entry["accept"] = [a for a in entry.get("accept") or m["accept"] if a in mine]
            if m.get("max_size_mb"):
                entry["max_size_mb"] = min(entry.get("max_size_mb") or 10**6, m["max_size_mb"])
    return list(combined.values())


def share_of(share: Share, data: Mapping[str, Any]) -> dict[str, Any]:
    """The member's part of the combined data, under the member form's own ids."""
    part = {fid: data[key] for fid, key in share.fields if key in data}
    part.update({gid: data[key] for gid, key in share.groups if key in data})
    return part


def _combined_path(share: Share, path: str) -> str:
    """A member form's error path as a path of the combined form."""
    match = _HEAD.match(path)
    if match is None:
        return path
    head, rest = match.groups()
    keys = dict(share.fields) | dict(share.groups)
    return keys.get(head, head) + rest


def validate_bundle(
    pkg: Package,
    bundle: Bundle,
    data: object,
    *,
    lang: str,
    identity: Mapping[str, str] | None,
    today: date,
    extensions: Extensions = NONE,
) -> tuple[dict[str, dict[str, object]], list[FieldProblem]]:
    """Each member's cleaned data and the problems, at the combined form's paths, each once."""
    if not isinstance(data, Mapping):
        return {}, [FieldProblem("", "type", message("data_type", lang))]
    problems: dict[tuple[str, str], FieldProblem] = {}  # first member's words win
    for key in data:
        if key not in bundle.keys:
            name = str(key)[:64]
            text = message("unknown_field", lang, name=name)
            problems[(name, "unknown_field")] = FieldProblem(name, "unknown_field", text)
    cleaned: dict[str, dict[str, object]] = {}
    for share in bundle.shares:
        form = pkg.forms[share.form]
        mine, errors = validate_submission(
            form, share_of(share, data), lang=lang, identity=identity, today=today
        )
        errors = errors or extensions.problems(form.id, mine, lang)
        cleaned[share.matter] = mine
        for e in errors:
            problem = _problem(share, e)
            problems.setdefault((problem.path, problem.code), problem)
    return cleaned, list(problems.values())


def _problem(share: Share, e: FieldProblem) -> FieldProblem:
    fields = None if e.fields is None else tuple(_combined_path(share, f) for f in e.fields)
    return FieldProblem(_combined_path(share, e.path), e.code, e.message, fields)
