"""Checks of forms: elements, unique field ids, narrowing (never widening), expressions."""

from __future__ import annotations

from generator.checks.context import Checker, known
from generator.checks.elements import check_pattern, element_constraints, text_only
from generator.checks.expressions import check_expr, form_env, group_env
from generator.kinds import DataElement, Field, Form
from runtime.types import NUMBER_TYPES, TEXT_TYPES, bilingual

PREFILL_SOURCES = {
    "identity.id_number": "the applicant's citizen ID number",
    "identity.name": "the applicant's name",
    "identity.mobile": "the applicant's mobile phone",
    "identity.email": "the applicant's e-mail",
    "identity.enterprise_name": "the enterprise's name",
    "identity.enterprise_code": "the enterprise's unified social credit code",
}


def check_form(c: Checker, form: Form) -> None:
    c.unique(form.sections, "id", "section id", "段落 id")
    c.unique(form.rules, "id", "rule id", "规则 id")
    top: dict[str, Field] = {}
    for section in form.sections:
        if section.repeat is not None:
            if section.repeat.min > section.repeat.max:
                c.error(
                    section.at("repeat"),
                    bilingual(
                        f"repeat 的 min {section.repeat.min} 大于 max {section.repeat.max}",
                        f"repeat min {section.repeat.min} is above max {section.repeat.max}",
                    ),
                )
            c.unique(
                section.fields,
                "field_id",
                f"field id in group '{section.id}'",
                f"分组 '{section.id}' 中的字段 id",
            )
        else:
            for field in section.fields:
                first = top.get(field.field_id)
                if first is not None:
                    at = first.at("id" if first.id else "element")
                    c.error(
                        field.at("id" if field.id else "element"),
                        bilingual(
                            f"字段 id '{field.field_id}' 重复（首次出现于 {at}）；"
                            "请为其中一个明确给出 'id'",
                            f"duplicate field id '{field.field_id}' (first at {at}); "
                            "give one of them an explicit 'id'",
                        ),
                    )
                else:
                    top[field.field_id] = field
        for field in section.fields:
            check_field(c, field)
    for section in form.sections:
        if section.repeat is not None and section.id in top:
            at = top[section.id].at()
            c.error(
                section.at("id"),
                bilingual(
                    f"分组 id '{section.id}' 同时也是字段 id（{at}）",
                    f"group id '{section.id}' is also a field id ({at})",
                ),
            )
    _check_expressions(c, form)


def check_field(c: Checker, field: Field) -> None:
    element = c.ref(DataElement, field.element, lambda: field.at("element"))
    if field.prefill is not None and field.prefill not in PREFILL_SOURCES:
        c.error(
            field.at("prefill"),
            bilingual(
                f"预填来源 '{field.prefill}' 未定义",
                f"unknown prefill source '{field.prefill}' (known: {known(PREFILL_SOURCES)})",
            ),
        )
    if field.pattern is not None:
        check_pattern(c, field.pattern, field.at("pattern"))
    if element is None:
        return
    base = element_constraints(element)
    fid = field.field_id

    def widen(detail: str) -> str:  # only when there is an error: locating is not free
        at = element.at()
        return bilingual(
            f"字段 '{fid}' 放宽了数据元 '{element.id}'（{at}）的约束：{detail}",
            f"field '{fid}' widens element '{element.id}' ({at}): {detail}",
        )

    for key in ("min_length", "max_length", "pattern", "choices"):
        if getattr(field, key) is not None and element.type not in TEXT_TYPES:
            c.error(field.at(key), text_only(key, element.type))
            return
    for key in ("minimum", "maximum"):
        if getattr(field, key) is not None and element.type not in NUMBER_TYPES:
            c.error(
                field.at(key),
                bilingual(
                    f"'{key}' 只适用于数值，不适用于类型 {element.type}",
                    f"'{key}' applies to numbers, not to type {element.type}",
                ),
            )
            return
    if field.max_length is not None and base.max_length is not None:  # noqa: SIM102
        if field.max_length > base.max_length:
            c.error(
                field.at("max_length"),
                widen(f"max_length {field.max_length} > {base.max_length}"),
            )
    if field.min_length is not None and base.min_length is not None:  # noqa: SIM102
        if field.min_length < base.min_length:
            c.error(
                field.at("min_length"),
                widen(f"min_length {field.min_length} < {base.min_length}"),
            )
    if field.maximum is not None and base.maximum is not None and field.maximum > base.maximum:
        c.error(field.at("maximum"), widen(f"maximum {field.maximum} > {base.maximum}"))
    if field.minimum is not None and base.minimum is not None and field.minimum < base.minimum:
        c.error(field.at("minimum"), widen(f"minimum {field.minimum} < {base.minimum}"))
    if field.choices is not None:
        _check_choices(c, field, element)


def _check_choices(c: Checker, field: Field, element: DataElement) -> None:
    if element.type != "code" or element.codeset is None:
        c.error(
            field.at("choices"),
            bilingual(
                f"'choices' 用于收窄 code 类型的数据元；'{element.id}' 的类型为 {element.type}",
                f"'choices' narrows a code element; '{element.id}' has type {element.type}",
            ),
        )
        return
    codeset = c.tree.codesets.get(element.codeset)
    if codeset is None:
        return
    codes = codeset.codes()
    for index, choice in enumerate(field.choices or []):
        if choice not in codes:
            c.error(
                field.at("choices", index),
                bilingual(
                    f"字段 '{field.field_id}' 放宽了数据元 '{element.id}' 的约束："
                    f"选项 '{choice}' 不是代码集 '{codeset.id}' 中的代码",
                    f"field '{field.field_id}' widens element '{element.id}': choice "
                    f"'{choice}' is not a code of '{codeset.id}' (codes: {known(codes)})",
                ),
            )


def _check_expressions(c: Checker, form: Form) -> None:
    env = form_env(c.tree, form)
    for section in form.sections:
        if section.when is not None:
            check_expr(c, section.when, env, section, "when")
        row_env = group_env(c.tree, form, section) if section.repeat else env
        for field in section.fields:
            scope = row_env if section.repeat else env
            if field.when is not None:
                check_expr(c, field.when, scope, field, "when")
            if isinstance(field.required, str):
                check_expr(c, field.required, scope, field, "required")
    for rule in form.rules:
        check_expr(c, rule.assert_, env, rule, "assert")
