"""``govstd diff OLD NEW --region R``: what a standards change does to a region's package.

Before anyone generates: the matters each served region gains or loses, the limits,
case types and materials that change, the fields added, renamed, dropped or changed,
and the migration ``govstd generate`` would write for a package made from OLD — its
steps, and the steps that lose data, which generate refuses without
``--allow-data-loss``. Both trees are checked first; nothing is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from generator.build import build_package
from generator.checks.context import did_you_mean, did_you_mean_zh, known
from generator.diagnostics import Diagnostic
from generator.ir import FieldIR, FormIR, LimitIR, MatterIR, PackageIR
from generator.pipeline import check_tree
from generator.render.plan import plan
from generator.render.tables import build_tables
from runtime.types import GovstdError, bilingual

UNITS = {
    "working_day": ("个工作日", "working day(s)"),
    "calendar_day": ("个自然日", "calendar day(s)"),
}
# field properties whose change is worth saying (type and constraints)
FIELD_KEYS = (
    "type",
    "required",
    "when",
    "codeset",
    "codes",
    "min_length",
    "max_length",
    "patterns",
    "minimum",
    "maximum",
    "digits",
    "fraction_digits",
    "check",
    "sensitive",
)


class DiffError(GovstdError):
    """A tree has errors or does not have the region; ``lines`` say so."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


@dataclass
class Change:
    sign: str  # + added, - removed, ~ changed
    zh: str
    en: str

    def __str__(self) -> str:
        return f"  {self.sign} {bilingual(self.zh, self.en)}"

    def as_json(self) -> dict[str, str]:
        return {
            "change": {"+": "added", "-": "removed", "~": "changed"}[self.sign],
            "zh": self.zh,
            "en": self.en,
        }


@dataclass
class PackageDiff:
    region: str
    matters: list[Change] = field(default_factory=list)
    fields: list[Change] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    data_loss: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.matters or self.fields or self.steps)

    def text(self) -> str:
        lines: list[str] = [
            bilingual(
                f"区域 '{self.region}' 部署包的变化",
                f"what changes in region '{self.region}''s package",
            )
        ]
        if self.empty:
            lines.append(bilingual("  没有变化", "  nothing changes"))
        for title, changes in (
            (bilingual("事项", "matters"), self.matters),
            (bilingual("字段", "fields"), self.fields),
        ):
            if changes:
                lines += [f"{title}:", *(str(c) for c in changes)]
        if self.steps:
            lines.append(bilingual("迁移步骤", "migration steps") + ":")
            lines += [f"  {step}" for step in self.steps]
        if self.data_loss:
            lines.append(
                bilingual(
                    "会丢失数据的步骤（generate 不加 --allow-data-loss 会拒绝）",
                    "steps that lose data (generate refuses them without --allow-data-loss)",
                )
                + ":"
            )
            lines += [f"  {loss}" for loss in self.data_loss]
        if self.unsupported:
            lines.append(
                bilingual("生成的迁移不支持的变化", "changes generated migrations cannot make")
                + ":"
            )
            lines += [f"  {problem}" for problem in self.unsupported]
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, object]:
        return {
            "region": self.region,
            "matters": [c.as_json() for c in self.matters],
            "fields": [c.as_json() for c in self.fields],
            "migration": {
                "steps": self.steps,
                "data_loss": self.data_loss,
                "unsupported": self.unsupported,
            },
        }


def _package(roots: Sequence[str | Path], region_id: str) -> PackageIR:
    tree, diagnostics, resolved = check_tree(roots)
    errors: list[Diagnostic] = [d for d in diagnostics if d.severity == "error"]
    if errors:
        shown = ", ".join(str(r) for r in roots)
        raise DiffError(
            [
                *(str(d) for d in errors),
                bilingual(f"{shown}：{len(errors)} 个错误", f"{shown}: {len(errors)} error(s)"),
            ]
        )
    if region_id not in resolved:
        raise DiffError(
            [
                bilingual(
                    f"{', '.join(str(r) for r in roots)} 中没有区域 '{region_id}'"
                    f"{did_you_mean_zh(region_id, tree.regions)}",
                    f"unknown region '{region_id}' in {', '.join(str(r) for r in roots)}"
                    f"{did_you_mean(region_id, tree.regions)} "
                    f"(known regions: {known(tree.regions)})",
                )
            ]
        )
    return build_package(tree, resolved, region_id)


def diff(old_roots: Sequence[Path], new_roots: Sequence[Path], region_id: str) -> PackageDiff:
    """What changing the tree ``old_roots`` (its folders read as one) into ``new_roots``
    does to ``region_id``'s package."""
    old, new = _package(old_roots, region_id), _package(new_roots, region_id)
    result = PackageDiff(region_id)
    _diff_matters(old, new, result)
    _diff_forms(old, new, result)
    the_plan = plan(build_tables(old), build_tables(new))
    result.steps = list(the_plan.steps)
    # what was removed is located in OLD, anything else in NEW
    result.data_loss = [
        _rooted(m, old_roots, new_roots, removed=" was removed" in m)
        for m in the_plan.loss_messages
    ]
    result.unsupported = [_rooted(m, old_roots, new_roots) for m in the_plan.unsupported]
    result.fields = [
        Change(c.sign, _rooted(c.zh, old_roots, new_roots), _rooted(c.en, old_roots, new_roots))
        for c in result.fields
    ]
    return result


_SOURCE = re.compile(r"(?<![\w/.-])(?P<file>[\w./-]+\.ya?ml)(?=:\d+:\d+)")


def _rooted(
    text: str, old_roots: Sequence[Path], new_roots: Sequence[Path], *, removed: bool = False
) -> str:
    """Root-relative locations (as the package keeps them) with the tree they are in."""

    def where(match: re.Match[str]) -> str:
        rel = match["file"]
        for root in (*old_roots, *new_roots) if removed else (*new_roots, *old_roots):
            if (root / rel).is_file():
                return (root / rel).as_posix()
        return rel

    return _SOURCE.sub(where, text)


def _served(pkg: PackageIR) -> dict[tuple[str, str], MatterIR]:
    return {(r.id, m.id): m for r in pkg.regions for m in r.matters}


def _limit(limit: LimitIR | None) -> tuple[str, str]:
    if limit is None:
        return "无", "none"
    zh, en = UNITS.get(limit.unit, (limit.unit, limit.unit))
    return f"{limit.value} {zh}", f"{limit.value} {en}"


def _diff_matters(old: PackageIR, new: PackageIR, result: PackageDiff) -> None:
    before, after = _served(old), _served(new)
    for key in sorted(after.keys() - before.keys()):
        region, matter = key
        result.matters.append(
            Change("+", f"{region}：实施事项 {matter}", f"{region}: implements matter {matter}")
        )
    for key in sorted(before.keys() - after.keys()):
        region, matter = key
        result.matters.append(
            Change(
                "-",
                f"{region}：不再实施事项 {matter}",
                f"{region}: no longer implements matter {matter}",
            )
        )
    for key in sorted(before.keys() & after.keys()):
        region, matter = key
        o, n = before[key], after[key]
        where = f"{region}：{matter}", f"{region}: {matter}"
        for word_zh, word_en, a, b in (
            ("承诺时限", "promised limit", o.promised, n.promised),
            ("法定时限", "legal limit", o.legal, n.legal),
        ):
            if a != b:
                (az, ae), (bz, be) = _limit(a), _limit(b)
                result.matters.append(
                    Change(
                        "~",
                        f"{where[0]} {word_zh} {az} → {bz}",
                        f"{where[1]} {word_en} {ae} → {be}",
                    )
                )
        for key_name in ("case_type", "form", "workflow"):
            a_value, b_value = getattr(o, key_name), getattr(n, key_name)
            if a_value != b_value:
                result.matters.append(
                    Change(
                        "~",
                        f"{where[0]} {key_name} {a_value} → {b_value}",
                        f"{where[1]} {key_name} {a_value} → {b_value}",
                    )
                )
        old_materials = {m.id for m in o.materials}
        new_materials = {m.id for m in n.materials}
        for material in sorted(new_materials - old_materials):
            result.matters.append(
                Change("+", f"{where[0]} 材料 {material}", f"{where[1]} material {material}")
            )
        for material in sorted(old_materials - new_materials):
            result.matters.append(
                Change("-", f"{where[0]} 材料 {material}", f"{where[1]} material {material}")
            )


def _fields(form: FormIR) -> dict[str, FieldIR]:
    """Field path (``id`` or ``group.id``) → field."""
    found = {f.id: f for f in form.fields}
    for group in form.groups:
        found.update({f"{group.id}.{f.id}": f for f in group.fields})
    return found


def _diff_forms(old: PackageIR, new: PackageIR, result: PackageDiff) -> None:
    old_forms = {f.id: f for f in old.forms}
    for form in new.forms:
        previous = old_forms.pop(form.id, None)
        if previous is None:
            previous = next((old_forms.pop(r) for r in form.renamed_from if r in old_forms), None)
            if previous is None:
                result.fields.append(
                    Change(
                        "+", f"表单 {form.id}（{form.source}）", f"form {form.id} ({form.source})"
                    )
                )
                continue
            result.fields.append(
                Change(
                    "~",
                    f"表单 {previous.id} 改名为 {form.id}",
                    f"form {previous.id} renamed to {form.id}",
                )
            )
        _diff_fields(previous, form, result)
    for form in old_forms.values():
        result.fields.append(Change("-", f"表单 {form.id}", f"form {form.id}"))


def _diff_fields(old: FormIR, new: FormIR, result: PackageDiff) -> None:
    before, after = _fields(old), _fields(new)
    claimed: set[str] = set()
    for path, f in after.items():
        group = path.rpartition(".")[0]
        previous = before.get(path)
        if previous is None:
            names = [f"{group}.{r}" if group else r for r in f.renamed_from]
            renamed = next(
                (r for r in names if r in before and r not in after and r not in claimed), None
            )
            if renamed is None:
                result.fields.append(
                    Change(
                        "+",
                        f"表单 {new.id} 字段 {path}（数据元 {f.element}，{f.source}）",
                        f"form {new.id} field {path} (element {f.element}, {f.source})",
                    )
                )
                continue
            claimed.add(renamed)
            previous = before[renamed]
            result.fields.append(
                Change(
                    "~",
                    f"表单 {new.id} 字段 {renamed} 改名为 {path}",
                    f"form {new.id} field {renamed} renamed to {path}",
                )
            )
        else:
            claimed.add(path)
        changed = [k for k in FIELD_KEYS if getattr(previous, k) != getattr(f, k)]
        for key in changed:
            a, b = getattr(previous, key), getattr(f, key)
            result.fields.append(
                Change(
                    "~",
                    f"表单 {new.id} 字段 {path} 的 {key}：{a} → {b}",
                    f"form {new.id} field {path} {key}: {a} → {b}",
                )
            )
    for path in before.keys() - after.keys() - claimed:
        result.fields.append(
            Change("-", f"表单 {old.id} 字段 {path}", f"form {old.id} field {path}")
        )


def render(result: PackageDiff, format: str) -> str:
    if format == "json":
        return json.dumps(result.as_json(), ensure_ascii=False, indent=2) + "\n"
    return result.text()
