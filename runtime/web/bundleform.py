"""A bundle's combined form (一件事一次办) as the page draws it, and its conditions.

The generator derives the combined form and writes it as ``schemas/bundles/<id>.json``
(keys, sections in order, the narrowest codes, ``x-govstd-when``/``x-govstd-required``);
each key's field as people see it (label, help, type, unit, code set, prefill) is the
member field that the catalog's shares map to it, first member first, as the generator
took it. :func:`combined_form` puts both into a :class:`~runtime.formspec.FormSpec` so
the matter form's renderer (:mod:`runtime.web.formview`, ``_fields.jinja``) draws it
unchanged. It is used for drawing and reading posted answers only: validation and
filing stay :func:`runtime.bundles.validate_bundle` and the API's ``file_bundle``.

:func:`bundle_conditions` asks each member's form what its share of the answers hides
and requires (the server's one CEL engine, as validation does): a part is hidden when
every member asking it hides it, required when any member requires it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from runtime.bundles import share_of
from runtime.formspec import FieldSpec, FormSpec, GroupSpec, SectionSpec
from runtime.package import Bundle, Package, Region
from runtime.validation import Conditions, conditions
from runtime.web.formview import material_conditions


def _codes(prop: Mapping[str, Any]) -> tuple[str, ...] | None:
    enum = prop.get("enum") or (prop.get("items") or {}).get("enum")
    return tuple(c for c in enum if c is not None) if enum else None


def _required(key: str, prop: Mapping[str, Any], always: list[str]) -> bool | str:
    if key in always:
        return True
    said = prop.get("x-govstd-required")
    return said if isinstance(said, str) or said is False else True


def _field(spec: FieldSpec, key: str, prop: Mapping[str, Any], always: list[str]) -> FieldSpec:
    return dataclasses.replace(
        spec,
        id=key,
        required=_required(key, prop, always),
        when=prop.get("x-govstd-when"),
        codes=_codes(prop) if spec.type == "code" else spec.codes,
        min_length=prop.get("minLength", spec.min_length),
        max_length=prop.get("maxLength", spec.max_length),
    )


def _combined(pkg: Package, bundle: Bundle) -> FormSpec:
    raw = pkg.bundle_schema(bundle.id)
    schema: dict[str, Any] = json.loads(raw) if raw else {}
    props: dict[str, Any] = schema.get("properties", {})
    always: list[str] = schema.get("required", [])
    first: dict[str, FieldSpec] = {}
    groups: dict[str, list[GroupSpec]] = {}
    section_names: dict[str, Any] = {}
    for share in bundle.shares:
        form = pkg.forms[share.form]
        for fid, key in share.fields:
            first.setdefault(key, form.field_map[fid])
        for gid, key in share.groups:
            groups.setdefault(key, []).append(form.group_map[gid])
        for s in form.sections:
            section_names.setdefault(s.id, s.name)
    fields: list[FieldSpec] = []
    group_specs: list[GroupSpec] = []
    sections: list[SectionSpec] = []
    for s in schema.get("x-govstd-sections", []):
        name = section_names.get(s["id"], {"zh": s.get("title", s["id"])})
        if s.get("group"):
            prop = props[s["id"]]
            rows = prop.get("items", {})
            row_fields: dict[str, FieldSpec] = {}
            for g in groups.get(s["id"], []):
                for f in g.fields:
                    if f.id in rows.get("properties", {}) and f.id not in row_fields:
                        row_fields[f.id] = _field(
                            f, f.id, rows["properties"][f.id], rows.get("required", [])
                        )
            base = groups[s["id"]][0]
            group_specs.append(
                dataclasses.replace(
                    base,
                    id=s["id"],
                    min=int(prop.get("minItems", base.min)),
                    max=int(prop.get("maxItems", base.max)),
                    when=prop.get("x-govstd-when"),
                    fields=tuple(row_fields.values()),
                )
            )
            sections.append(SectionSpec(s["id"], name, (), True))
            continue
        keys = tuple(k for k in s["fields"] if k in first and k in props)
        fields += [_field(first[k], k, props[k], always) for k in keys]
        sections.append(SectionSpec(s["id"], name, keys))
    return FormSpec(
        id=f"bundle:{bundle.id}",
        name=bundle.name,
        fields=tuple(fields),
        groups=tuple(group_specs),
        sections=tuple(sections),
    )


def combined_form(pkg: Package, bundle: Bundle) -> FormSpec:
    """The combined form of ``bundle`` as a :class:`FormSpec` (see the module), kept per
    package and bundle (a package never changes while the server runs)."""
    key = (pkg.source_hash, bundle.id)
    form = _FORMS.get(key)
    if form is None:
        form = _FORMS[key] = _combined(pkg, bundle)
    return form


_FORMS: dict[tuple[str, str], FormSpec] = {}


def _member_path(keys: Mapping[str, str], path: str) -> str:
    head, dot, rest = path.partition(".")
    name, bracket, index = head.partition("[")
    return keys.get(name, name) + bracket + index + dot + rest


def bundle_conditions(
    pkg: Package,
    bundle: Bundle,
    region: Region,
    data: Mapping[str, Any],
    *,
    identity: Mapping[str, str] | None,
    today: date,
) -> Conditions:
    """What the members' conditions say of the combined answers (see the module); the
    combined materials' conditions are named ``material.<id>``."""
    hidden_votes: dict[str, list[bool]] = {}
    required: set[str] = set()
    for share in bundle.shares:
        matter = region.matters[share.matter]
        form = pkg.forms[share.form]
        keys = dict(share.fields) | dict(share.groups)
        verdict = conditions(
            form,
            share_of(share, data),
            identity=identity,
            today=today,
            extra=material_conditions(list(matter.materials)),
        )
        asked = [f.id for f in form.fields] + [g.id for g in form.groups]
        asked += [f"material.{m['id']}" for m in matter.materials]
        for g in form.groups:
            rows = data.get(keys.get(g.id, g.id))
            count = len(rows) if isinstance(rows, list) else 0
            asked += [f"{g.id}[{i}].{f.id}" for i in range(count) for f in g.fields]
        for part in asked:
            shown = _member_path(keys, part)
            hidden_votes.setdefault(shown, []).append(part in verdict.hidden)
        required |= {_member_path(keys, p) for p in verdict.required}
    hidden = {part for part, votes in hidden_votes.items() if all(votes)}
    return Conditions(frozenset(hidden), frozenset(required - hidden))
