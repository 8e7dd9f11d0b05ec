"""The rules a case was filed under: its form, materials list and promised time limit.

A case keeps them for life (``../shared/spec/services.md`` §1): a later package
applies to new cases only. A :class:`CaseRules` is named by the sha256 of its
canonical JSON document (:func:`rules_hash`), which each case records in
``applications.rules`` when it is filed. The package holds one document per
version ever served, ``rules/<hash>.json``: the generator writes the current
ones and carries forward those of the package it regenerates
(``generator/render/rules.py``), and :meth:`runtime.package.Package.rules_for`
finds a case's version there. The limit is also copied into the case's row
(``limit_value``, ``limit_unit``), so its deadline depends on nothing else.

The document: ``{"format": 1, "form": <FormSpec as JSON>, "materials": [...],
"promised": {"value", "unit"} | null}``; materials and the limit as in the matter's
``matters/<region>/<id>.json``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson

from runtime.formspec import FieldSpec, FormSpec, GroupSpec, RuleSpec, SectionSpec

__all__ = [
    "FORMAT",
    "CaseRules",
    "form_document",
    "form_from_document",
    "rules_document",
    "rules_hash",
]

FORMAT = 1


@dataclass(frozen=True)
class CaseRules:
    """One version of a matter's rules as a region implements it."""

    hash: str
    form: FormSpec
    materials: tuple[dict[str, Any], ...]
    promised: dict[str, Any] | None

    def material(self, material_id: str) -> dict[str, Any] | None:
        return next((m for m in self.materials if m.get("id") == material_id), None)

    @cached_property
    def fetches_licences(self) -> bool:
        """Whether a material is government-sourced (电子证照, fetched at filing:
        runtime/licences.py); a case filed under rules without one has no fetches."""
        return any(m.get("source") == "government" for m in self.materials)

    @classmethod
    def from_document(cls, digest: str, doc: Mapping[str, Any]) -> CaseRules:
        return cls(
            hash=digest,
            form=form_from_document(doc["form"]),
            materials=tuple(doc.get("materials") or ()),
            promised=doc.get("promised"),
        )


_SPEC_FIELDS: dict[type[Any], tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls))
    for cls in (FieldSpec, GroupSpec, SectionSpec, RuleSpec, FormSpec)
}


def _plain(value: Any) -> Any:
    """Spec objects as JSON data, by exact type (``dataclasses.asdict`` deep-copies and
    ``isinstance`` against ABCs is slow: 2,000 forms of 20 fields took 25 s, now 1 s)."""
    kind = type(value)
    names = _SPEC_FIELDS.get(kind)
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if kind is tuple or kind is list:
        return [_plain(v) for v in value]
    if kind is dict:
        return {k: _plain(v) for k, v in value.items()}
    return value


def form_document(form: FormSpec) -> dict[str, Any]:
    """``form`` as plain JSON data (tuples become lists)."""
    data: dict[str, Any] = _plain(form)
    return data


def rules_document(
    form: FormSpec | Mapping[str, Any],
    materials: Any,
    promised: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The archived document of one version (``form``: a spec or its :func:`form_document`)."""
    return {
        "format": FORMAT,
        "form": form_document(form) if isinstance(form, FormSpec) else dict(form),
        "materials": list(materials),
        "promised": dict(promised) if promised is not None else None,
    }


def rules_hash(doc: Mapping[str, Any]) -> str:
    """sha256 of the document's canonical JSON (orjson: sorted keys, no spaces, UTF-8)."""
    return hashlib.sha256(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _known(cls: type[Any], data: Mapping[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _tuple(value: Any) -> tuple[Any, ...] | None:
    return tuple(value) if value is not None else None


def _field(data: Mapping[str, Any]) -> FieldSpec:
    values = _known(FieldSpec, data)
    values["patterns"] = tuple(values.get("patterns") or ())
    values["codes"] = _tuple(values.get("codes"))
    return FieldSpec(**values)


def form_from_document(data: Mapping[str, Any]) -> FormSpec:
    """The :class:`FormSpec` of a :func:`form_document` (keys a later runtime dropped ignored)."""
    groups = tuple(
        GroupSpec(
            **{
                **_known(GroupSpec, g),
                "fields": tuple(_field(f) for f in g.get("fields", ())),
            }
        )
        for g in data.get("groups", ())
    )
    sections = tuple(
        SectionSpec(**{**_known(SectionSpec, s), "fields": tuple(s.get("fields", ()))})
        for s in data.get("sections", ())
    )
    rules = tuple(RuleSpec(**_known(RuleSpec, r)) for r in data.get("rules", ()))
    return FormSpec(
        **{
            **_known(FormSpec, data),
            "fields": tuple(_field(f) for f in data.get("fields", ())),
            "groups": groups,
            "sections": sections,
            "rules": rules,
        }
    )
