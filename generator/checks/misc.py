"""Checks of calendars, bundles and policies."""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.checks.context import Checker
from generator.checks.elements import element_constraints
from generator.checks.expressions import check_expr, form_env
from generator.diagnostics import bilingual
from generator.kinds import Bundle, Calendar, Field, Form, Matter, Policy, Region

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def check_calendar(c: Checker, cal: Calendar) -> None:
    holidays = set(cal.holidays)
    for index, day in enumerate(cal.workdays):
        if day in holidays:
            c.error(
                cal.at("workdays", index),
                bilingual(
                    f"{day} 既是节假日又是调休工作日",
                    f"{day} is both a holiday and a make-up working day",
                ),
            )
        elif WEEKDAYS[day.weekday()] not in cal.weekend:
            c.warning(
                cal.at("workdays", index),
                bilingual(
                    f"调休工作日 {day} 不是周末",
                    f"make-up working day {day} is not a weekend day",
                ),
            )
    for what, days in (("holidays", cal.holidays), ("workdays", cal.workdays)):
        seen: set[object] = set()
        for index, day in enumerate(days):
            if day in seen:
                c.warning(
                    cal.at(what, index),
                    bilingual(f"{day} 在 {what} 中重复列出", f"{day} is listed twice in {what}"),
                )
            seen.add(day)


@dataclass
class CombinedField:
    """One element asked once in a bundle's combined form, constraints combined."""

    element: str
    sources: list[tuple[str, Field]] = field(default_factory=list)
    min_length: int | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: frozenset[str] | None = None


def _low(a: float | None, b: float | None) -> float | None:
    """The tighter of two upper bounds (None: no bound)."""
    return b if a is None else a if b is None else min(a, b)


def _high(a: float | None, b: float | None) -> float | None:
    """The tighter of two lower bounds (None: no bound)."""
    return b if a is None else a if b is None else max(a, b)


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def combine_bundle(c: Checker, bundle: Bundle) -> dict[str, CombinedField]:
    """Derive the bundle's combined form; a contradiction is an error at the later field."""
    combined: dict[str, CombinedField] = {}
    for matter_id in bundle.matters:
        matter = c.tree.matters.get(matter_id)
        form = c.tree.forms.get(matter.form) if matter else None
        if form is None:
            continue
        for section in form.sections:
            if section.repeat is not None:
                continue
            for f in section.fields:
                element = c.tree.elements.get(f.element)
                if element is None:
                    continue
                base = element_constraints(element)
                entry = combined.setdefault(f.element, CombinedField(f.element))
                entry.min_length = _int(_high(entry.min_length, f.min_length or base.min_length))
                entry.max_length = _int(_low(entry.max_length, f.max_length or base.max_length))
                entry.minimum = _high(entry.minimum, f.minimum)
                entry.maximum = _low(entry.maximum, f.maximum)
                if f.choices is not None:
                    mine = frozenset(f.choices)
                    entry.choices = mine if entry.choices is None else entry.choices & mine
                entry.sources.append((form.id, f))
                _report_contradiction(c, bundle, entry, f)
    return combined


def _report_contradiction(c: Checker, bundle: Bundle, entry: CombinedField, f: Field) -> None:
    problem = problem_zh = ""
    if entry.choices is not None and not entry.choices:
        problem = "their choices have no code in common"
        problem_zh = "各表单的选项没有共同的代码"
    elif (
        entry.min_length is not None
        and entry.max_length is not None
        and (entry.min_length > entry.max_length)
    ):
        problem = problem_zh = f"min_length {entry.min_length} > max_length {entry.max_length}"
    elif entry.minimum is not None and entry.maximum is not None and entry.minimum > entry.maximum:
        problem = problem_zh = f"minimum {entry.minimum} > maximum {entry.maximum}"
    if problem:
        others = ", ".join(f"{form} ({fld.at()})" for form, fld in entry.sources[:-1])
        at = bundle.at("id")
        c.error(
            f.at(),
            bilingual(
                f"一件事 '{bundle.id}'（{at}）对数据元 '{entry.element}' 只询问一次，"
                f"但各表单的约束相互矛盾：{problem_zh}",
                f"bundle '{bundle.id}' ({at}) asks element '{entry.element}' "
                f"once, but the forms contradict each other: {problem}; also asked by {others}",
            ),
        )
        entry.choices = None if entry.choices is not None and not entry.choices else entry.choices


def check_bundle(c: Checker, bundle: Bundle) -> None:
    if len(bundle.matters) < 2:
        c.error(
            bundle.at("matters"),
            bilingual("一件事至少包含两个事项", "a bundle joins at least two matters"),
        )
    seen: set[str] = set()
    for index, matter_id in enumerate(bundle.matters):
        if matter_id in seen:
            c.error(
                bundle.at("matters", index),
                bilingual(f"事项 '{matter_id}' 重复列出", f"matter '{matter_id}' is listed twice"),
            )
        seen.add(matter_id)
        c.ref(Matter, matter_id, bundle.at("matters", index))
    combine_bundle(c, bundle)


def check_policy(c: Checker, p: Policy) -> None:
    for index, region_id in enumerate(p.regions):
        c.ref(Region, region_id, p.at("regions", index))
    for index, obj in enumerate(p.audience):
        c.code("service_object", obj, p.at("audience", index), "audience", "适用对象")
    if p.valid and p.valid.from_ and p.valid.to and p.valid.from_ > p.valid.to:
        c.error(
            p.valid.at("to"),
            bilingual(
                f"valid.to {p.valid.to} 早于 valid.from {p.valid.from_}",
                f"valid.to {p.valid.to} is before valid.from {p.valid.from_}",
            ),
        )
    c.ref(Matter, p.apply, p.at("apply"))
    profile = c.ref(Form, p.profile, p.at("profile"), "profile form", "画像表单")
    if profile is not None:
        check_expr(c, p.eligible, form_env(c.tree, profile), p, "eligible")
