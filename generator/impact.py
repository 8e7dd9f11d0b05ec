"""``govstd impact``: everything in a tree that uses a data element, a code set or a form.

Before changing a data element, a code set or a form, an implementer asks what it
touches: the forms whose fields are built on it, the matters filed with those forms,
the bundles joining those matters, the policies whose profile form asks it (and
whether their ``eligible`` reads it) and the regions that implement those matters
after inheritance — each with its ``file:line:col``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from generator.checks.context import did_you_mean, did_you_mean_zh, known
from generator.diagnostics import Diagnostics, Location
from generator.kinds import Item
from generator.pipeline import check_regions
from generator.tree import StandardsTree, load_tree
from runtime.formspec import expression_names
from runtime.types import GovstdError, bilingual

TargetKind = Literal["element", "codeset", "form"]
WORDS = {  # kind → (zh, en), in the order uses are listed
    "element": ("数据元", "data element"),
    "codeset": ("代码集", "code set"),
    "form": ("表单", "form"),
    "matter": ("事项", "matter"),
    "bundle": ("一件事", "bundle"),
    "policy": ("惠企政策", "policy"),
    "region": ("区域", "region"),
}
# code sets a matter's own keys take codes of (see generator/checks/matters.py)
MATTER_CODESETS = {
    "matter_type": "type",
    "service_object": "service_objects",
    "exercise_level": "exercise_level",
    "online_depth": "online_depth",
    "result_type": "result.type",
    "material_type": "materials[].type",
}


@dataclass(frozen=True)
class Use:
    kind: str  # a key of WORDS
    id: str
    location: Location
    via_zh: str
    via_en: str

    def as_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "id": self.id,
            "location": str(self.location),
            "via": bilingual(self.via_zh, self.via_en),
        }

    def __str__(self) -> str:
        zh, en = WORDS[self.kind]
        said = bilingual(f"{zh} {self.id}：{self.via_zh}", f"{en} {self.id}: {self.via_en}")
        return f"{self.location}: {said}"


@dataclass
class Impact:
    kind: TargetKind
    id: str
    location: Location
    uses: list[Use] = field(default_factory=list)

    def add(self, use: Use) -> None:
        if use not in self.uses:
            self.uses.append(use)

    def of(self, kind: str) -> list[Use]:
        return [u for u in self.uses if u.kind == kind]

    def ordered(self) -> list[Use]:
        order = list(WORDS)
        return sorted(self.uses, key=lambda u: (order.index(u.kind), u.id, u.location))

    def summary(self) -> str:
        counts = {kind: len({u.id for u in self.of(kind)}) for kind in WORDS}
        shown = [(k, n) for k, n in counts.items() if n]
        zh = "、".join(f"{n} 个{WORDS[k][0]}" for k, n in shown) or "没有任何使用"
        en = ", ".join(f"{n} {WORDS[k][1]}(s)" for k, n in shown) or "nothing uses it"
        return bilingual(zh, en)

    def as_json(self) -> dict[str, object]:
        return {
            "target": {"kind": self.kind, "id": self.id, "location": str(self.location)},
            "uses": [u.as_json() for u in self.ordered()],
            "counts": {k: len({u.id for u in self.of(k)}) for k in WORDS if self.of(k)},
        }

    def text(self) -> str:
        zh, en = WORDS[self.kind]
        head = bilingual(
            f"{zh} '{self.id}'（{self.location}）的使用情况",
            f"what uses {en} '{self.id}' ({self.location})",
        )
        return "\n".join([head, *(str(u) for u in self.ordered()), self.summary()])


class ImpactError(GovstdError):
    """The tree cannot be read, or the target is not in it."""


def impact(roots: Sequence[str | Path], kind: TargetKind, target: str) -> Impact:
    diagnostics = Diagnostics()
    tree = load_tree(roots, diagnostics)
    if not tree.files:
        raise ImpactError("\n".join(str(d) for d in diagnostics))
    tables: dict[str, Mapping[str, Item]] = {
        "element": tree.elements,
        "codeset": tree.codesets,
        "form": tree.forms,
    }
    table = tables[kind]
    if target not in table:
        zh, en = WORDS[kind]
        raise ImpactError(
            f"未知的{zh} '{target}'{did_you_mean_zh(target, table)}",
            f"unknown {en} '{target}'{did_you_mean(target, table)} (known: {known(table)})",
        )
    result = Impact(kind, target, table[target].at())
    elements: set[str] = set()
    if kind == "codeset":
        for element in tree.elements.values():
            if element.codeset == target:
                elements.add(element.id)
                result.add(
                    _use("element", element, "codeset", f"代码集 {target}", f"code set {target}")
                )
        _matters_by_codeset(tree, target, result)
    elif kind == "element":
        elements.add(target)
    forms: dict[str, list[str]] = {}  # form id → its field ids built on the elements
    if kind == "form":
        forms[target] = []
    for form in tree.forms.values():
        for section in form.sections:
            for index, f in enumerate(section.fields):
                if f.element in elements:
                    forms.setdefault(form.id, []).append(f.field_id)
                    where = section.at("fields", index)
                    result.add(
                        Use(
                            "form",
                            form.id,
                            where,
                            f"字段 {f.field_id}（数据元 {f.element}）",
                            f"field {f.field_id} (element {f.element})",
                        )
                    )
    matters = {m.id for m in tree.matters.values() if m.form in forms}
    for matter_id in sorted(matters):
        m = tree.matters[matter_id]
        result.add(_use("matter", m, "form", f"申请表单 {m.form}", f"form {m.form}"))
    for bundle in tree.bundles.values():
        for index, matter_id in enumerate(bundle.matters):
            if matter_id in matters:
                where = bundle.at("matters", index)
                result.add(
                    Use("bundle", bundle.id, where, f"事项 {matter_id}", f"matter {matter_id}")
                )
    for policy in tree.policies.values():
        if policy.profile in forms:
            read = sorted(set(forms[policy.profile]) & expression_names(policy.eligible))
            zh = f"画像表单 {policy.profile}" + (
                f"，eligible 读取 {', '.join(read)}" if read else ""
            )
            en = f"profile form {policy.profile}" + (
                f"; eligible reads {', '.join(read)}" if read else ""
            )
            result.add(Use("policy", policy.id, policy.at("profile"), zh, en))
        if policy.apply in matters:
            result.add(
                _use(
                    "policy",
                    policy,
                    "apply",
                    f"申领事项 {policy.apply}",
                    f"claimed through matter {policy.apply}",
                )
            )
    _regions(tree, matters, result)
    return result


def _use(kind: str, item: Item, key: str, zh: str, en: str) -> Use:
    return Use(kind, item.id, item.at(key), zh, en)


def _matters_by_codeset(tree: StandardsTree, codeset: str, result: Impact) -> None:
    key = MATTER_CODESETS.get(codeset)
    if key is not None:
        top = key.split(".")[0].split("[")[0]
        for m in tree.matters.values():
            result.add(_use("matter", m, top, f"{key} 取其代码", f"{key} takes its codes"))
    if codeset == "service_object":
        for policy in tree.policies.values():
            if policy.audience:
                result.add(
                    _use(
                        "policy",
                        policy,
                        "audience",
                        "audience 取其代码",
                        "audience takes its codes",
                    )
                )
    if codeset == "admin_division":
        for region in tree.regions.values():
            result.add(
                _use(
                    "region",
                    region,
                    "code",
                    f"区划代码 {region.code}",
                    f"division code {region.code}",
                )
            )


def _regions(tree: StandardsTree, matters: set[str], result: Impact) -> None:
    if not matters:
        return
    resolved = check_regions(tree, Diagnostics())
    for _, region in sorted(resolved.items()):
        implemented = sorted(matters & set(region.matters))
        if implemented:
            names = ", ".join(implemented)
            result.add(
                _use("region", region.region, "id", f"实施事项 {names}", f"implements {names}")
            )


def render(result: Impact, format: str) -> str:
    if format == "json":
        return json.dumps(result.as_json(), ensure_ascii=False, indent=2) + "\n"
    return result.text() + "\n"
