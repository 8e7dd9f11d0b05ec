"""Checks of calendars, bundles and policies."""

from __future__ import annotations

from generator.bundles import combine
from generator.checks.context import Checker
from generator.checks.expressions import check_expr, form_env
from generator.ir import FormIR
from generator.kinds import Bundle, Calendar, Field, Form, Matter, Policy, Region
from runtime.types import bilingual

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


def _members(c: Checker, bundle: Bundle) -> tuple[list[tuple[str, FormIR]], dict[str, Form]]:
    """The member forms that resolve completely (the others are reported where they are)."""
    from generator.build import build_form  # build imports the checks' element constraints

    members: list[tuple[str, FormIR]] = []
    forms: dict[str, Form] = {}
    for matter_id in bundle.matters:
        matter = c.tree.matters.get(matter_id)
        form = c.tree.forms.get(matter.form) if matter else None
        if form is None:
            continue
        try:
            members.append((matter_id, build_form(c.tree, form)))
        except KeyError:  # an undefined element or code set, reported at the form
            continue
        forms[form.id] = form
    return members, forms


def _field(form: Form, field_id: str) -> Field | None:
    return next((f for s in form.sections for f in s.fields if f.field_id == field_id), None)


def combine_bundle(c: Checker, bundle: Bundle) -> None:
    """Derive the bundle's combined form; each conflict is an error at the later field."""
    members, forms = _members(c, bundle)
    at = bundle.at("id")
    for conflict in combine(bundle.id, dict(bundle.name), members).conflicts:
        form = forms[conflict.form]
        f = _field(form, conflict.field)
        where = f.at() if f is not None else form.at()
        others = ", ".join(
            f"{other} ({_where(forms[other], field_id)})" for other, field_id in conflict.earlier
        )
        what = f"element '{conflict.element}'" if conflict.element else f"'{conflict.key}'"
        what_zh = f"数据元 '{conflict.element}'" if conflict.element else f"'{conflict.key}'"
        c.error(
            where,
            bilingual(
                f"一件事 '{bundle.id}'（{at}）对{what_zh}只询问一次，"
                f"但各表单的约束相互矛盾：{conflict.problem_zh}",
                f"bundle '{bundle.id}' ({at}) asks {what} once, but the forms contradict "
                f"each other: {conflict.problem}" + (f"; also asked by {others}" if others else ""),
            ),
        )


def _where(form: Form, field_id: str) -> object:
    f = _field(form, field_id)
    return f.at() if f is not None else form.at()


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
