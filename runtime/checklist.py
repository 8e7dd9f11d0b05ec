"""A case's materials checklist: what its rules ask for, what was uploaded, what is missing.

A material is required of the applicant when its ``necessity`` is ``required``
(not ``optional``, nor ``deferrable``: 容缺后补, accepted now and handed in
later), it is not obtained by data sharing (``source: government``), and its
``when`` holds on the case's data (an expression that cannot be evaluated, say
over an unanswered field, does not hold). The list is the one of the rules the
case was filed under (runtime/rules.py), never the current package's.

受理 needs every required material (``../shared/spec/services.md`` §1):
:func:`require_materials` refuses the step with 409 ``materials_missing``,
listing the missing ones in ``fields`` (``path`` ``materials.<id>``, the
material's name as ``message``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from runtime.answers import ChecklistItem, Fetch
from runtime.errors import ApiError, FieldProblem
from runtime.formspec import localized
from runtime.rules import CaseRules
from runtime.validation import condition_holds


def asked(material: Mapping[str, Any], data: Mapping[str, object]) -> bool:
    """The applicant must hand the material in for this case."""
    if material.get("necessity", "required") != "required":
        return False
    if material.get("source") == "government":
        return False
    when = material.get("when")
    return not when or condition_holds(when, data)


def missing(
    rules: CaseRules, data: Mapping[str, object], uploaded: Collection[str]
) -> list[dict[str, Any]]:
    """The required materials with no file, in the rules' order."""
    return [m for m in rules.materials if asked(m, data) and m.get("id") not in uploaded]


def checklist(
    rules: CaseRules,
    data: Mapping[str, object],
    uploaded: Collection[str],
    lang: str,
    fetches: Mapping[str, Fetch] | None = None,
) -> list[ChecklistItem]:
    """Every material of the case's rules, for staff: name, whether asked and handed in;
    a government-sourced one fetched at filing (runtime/licences.py) has ``fetch``."""
    out: list[ChecklistItem] = []
    for m in rules.materials:
        required = asked(m, data)
        item: ChecklistItem = {
            "material": m["id"],
            "name": localized(m.get("name"), lang),
            "necessity": m.get("necessity", "required"),
            "source": m.get("source", "applicant"),
            "required": required,
            "uploaded": m.get("id") in uploaded,
            "missing": required and m.get("id") not in uploaded,
        }
        fetch = (fetches or {}).get(str(m["id"]))
        if fetch is not None:
            item["fetch"] = fetch
        out.append(item)
    return out


def require_materials(
    rules: CaseRules, data: Mapping[str, object], uploaded: Collection[str], lang: str
) -> None:
    """409 ``materials_missing`` unless every required material has a file."""
    absent = missing(rules, data, uploaded)
    if absent:
        names = [localized(m.get("name"), lang) for m in absent]
        raise ApiError(
            409,
            "materials_missing",
            {"names": ("、" if lang != "en" else ", ").join(names)},
            fields=[
                FieldProblem(f"materials.{m['id']}", "material_missing", name)
                for m, name in zip(absent, names, strict=True)
            ],
        )
