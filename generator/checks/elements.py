"""Checks of code sets and data elements, and the effective constraints of an element."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from generator.checks.context import Checker, Where, locate
from generator.diagnostics import Location
from generator.kinds import CodeSet, DataElement
from runtime.formats import CLASS_NAMES, Format, FormatError, parse_format
from runtime.patterns import pattern_problem
from runtime.types import DATE_TYPES, NUMBER_TYPES, TEXT_TYPES, bilingual

CHECK_TYPES = {
    "gb11643": TEXT_TYPES,
    "gb32100": TEXT_TYPES,
    "gb2260": TEXT_TYPES,
    "mobile_cn": TEXT_TYPES,
    "postal_code_cn": TEXT_TYPES,
    "email": TEXT_TYPES,
}


@dataclass(frozen=True)
class Constraints:
    """The constraints in force for a value: the element's, narrowed by a field."""

    min_length: int | None = None
    max_length: int | None = None
    patterns: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    choices: frozenset[str] | None = None
    format: Format | None = None


def check_codeset(c: Checker, codeset: CodeSet) -> None:
    values = codeset.all_values()
    if not values:
        c.error(
            codeset.at(),
            bilingual(
                f"代码集 '{codeset.id}' 没有代码值（请给出 values 或 values_file）",
                f"code set '{codeset.id}' has no values (give values or values_file)",
            ),
        )
    seen: dict[str, object] = {}
    for value in values:
        if value.code in seen:
            first = seen[value.code]
            c.error(
                value.where(),
                bilingual(
                    f"代码集 '{codeset.id}' 中的代码 '{value.code}' 重复（首次出现于 {first}）",
                    f"duplicate code '{value.code}' in code set '{codeset.id}' (first at {first})",
                ),
            )
        else:
            seen[value.code] = value.where()
    extended = c.tree.codesets.get(codeset.extends) if codeset.extends else None
    parents = set(seen) | (set(extended.codes()) if extended is not None else set())
    for value in values:
        if value.parent is not None and value.parent not in parents:
            where = value._row or value.at("parent")
            c.error(
                where,
                bilingual(
                    f"代码 '{value.code}' 的上级代码 '{value.parent}' "
                    f"不是代码集 '{codeset.id}' 中的代码",
                    f"parent '{value.parent}' of code '{value.code}' "
                    f"is not a code of '{codeset.id}'",
                ),
            )


def parsed_format(c: Checker | None, element: DataElement) -> Format | None:
    if element.format is None:
        return None
    try:
        return parse_format(element.format)
    except FormatError as exc:
        if c is not None:
            c.error(element.at("format"), bilingual(f"表示格式 '{element.format}' 无效", str(exc)))
        return None


def check_element(c: Checker, e: DataElement) -> None:
    if e.type == "code":
        if e.codeset is None:
            c.error(
                e.at("type"),
                bilingual(
                    f"数据元 '{e.id}' 的类型为 code，但未给出 'codeset'",
                    f"element '{e.id}' has type code but no 'codeset'",
                ),
            )
        else:
            c.ref(CodeSet, e.codeset, lambda: e.at("codeset"))
    elif e.codeset is not None:
        c.error(
            e.at("codeset"),
            bilingual(
                f"'codeset' 只用于 code 类型，不用于 {e.type}",
                f"'codeset' goes with type code, not {e.type}",
            ),
        )
    if e.multiple and e.type != "code":
        c.error(
            e.at("multiple"),
            bilingual(
                "'multiple: true' 只用于 code 类型", "'multiple: true' goes with type code only"
            ),
        )
    if e.check and e.type not in CHECK_TYPES[e.check]:
        c.error(
            e.at("check"),
            bilingual(
                f"校验 {e.check} 只适用于文本，不适用于类型 {e.type}",
                f"check {e.check} applies to text, not to type {e.type}",
            ),
        )
    if e.sensitive and e.share == "unconditional":
        c.error(
            e.at("share"),
            bilingual(
                f"敏感数据元 '{e.id}' 不得无条件共享（share 可为 conditional 或 none）",
                f"sensitive element '{e.id}' cannot be shared unconditionally "
                "(share: conditional or none)",
            ),
        )
    length_keys = ("min_length", "max_length", "pattern")
    for key in length_keys:
        if getattr(e, key) is not None and e.type not in TEXT_TYPES:
            c.error(e.at(key), text_only(key, e.type))
    for key in ("minimum", "maximum"):
        if getattr(e, key) is not None and e.type not in NUMBER_TYPES:
            c.error(
                e.at(key),
                bilingual(
                    f"'{key}' 只适用于 integer 或 decimal，不适用于类型 {e.type}",
                    f"'{key}' applies to integer or decimal, not to type {e.type}",
                ),
            )
    if e.pattern is not None:
        check_pattern(c, e.pattern, e.at("pattern"))
    _check_bounds(c, e.min_length, e.max_length, lambda: e.at("max_length"), "length", "长度")
    _check_bounds(c, e.minimum, e.maximum, lambda: e.at("maximum"), "value", "值")
    fmt = parsed_format(c, e)
    if fmt is not None:
        _check_format(c, e, fmt)


def check_identifiers(c: Checker, elements: list[DataElement]) -> None:
    """A registry identifier (GB/T 19488 内部标识符) names one data element only."""
    first: dict[str, DataElement] = {}
    for e in elements:
        if e.identifier is None:
            continue
        other = first.setdefault(e.identifier, e)
        if other is not e:
            at = other.at("identifier")
            c.error(
                e.at("identifier"),
                bilingual(
                    f"数据元 '{e.id}' 的标识符 '{e.identifier}' "
                    f"已由数据元 '{other.id}' 使用（{at}）",
                    f"element '{e.id}' has identifier '{e.identifier}', already used by "
                    f"element '{other.id}' at {at}",
                ),
            )


def text_only(key: str, type_: str) -> str:
    """The message for a text-only key given to a value of another type."""
    return bilingual(
        f"'{key}' 只适用于文本，不适用于类型 {type_}",
        f"'{key}' applies to text, not to type {type_}",
    )


def _check_bounds(
    c: Checker, low: float | None, high: float | None, where: Where, what: str, what_zh: str
) -> None:
    if low is not None and high is not None and low > high:
        c.error(
            locate(where),
            bilingual(
                f"最小{what_zh} {low} 大于最大{what_zh} {high}",
                f"minimum {what} {low} is above the maximum {high}",
            ),
        )


def check_pattern(c: Checker, pattern: str, where: Location) -> None:
    """A pattern must compile with RE2, the engine that matches it at run time."""
    problem = pattern_problem(pattern)
    if problem is not None:
        c.error(
            where,
            bilingual(
                f"pattern {pattern!r} 不是有效的 RE2 正则表达式（不支持反向引用和环视）：{problem}",
                f"pattern {pattern!r} is not a valid RE2 regular expression "
                f"(no backreferences or lookaround): {problem}",
            ),
        )


def _check_format(c: Checker, e: DataElement, fmt: Format) -> None:
    def where() -> Location:  # only when there is an error: locating is not free
        return e.at("format")

    if fmt.is_date:
        if e.type not in DATE_TYPES:
            c.error(
                where(),
                bilingual(
                    f"格式 {fmt.notation} 是日期格式，但类型为 {e.type}",
                    f"format {fmt.notation} is a date format, but the type is {e.type}",
                ),
            )
        return
    if e.type in DATE_TYPES | {"boolean", "file"}:
        c.error(
            where(),
            bilingual(
                f"格式 {fmt.notation} 不适用于类型 {e.type}",
                f"format {fmt.notation} does not apply to type {e.type}",
            ),
        )
        return
    if e.type in NUMBER_TYPES and fmt.cls != "n":
        c.error(
            where(),
            bilingual(
                f"类型 {e.type} 需要 n 格式，不能用 {fmt.notation}",
                f"type {e.type} needs an n format, not {fmt.notation} ({CLASS_NAMES[fmt.cls]})",
            ),
        )
    if fmt.fraction_digits is not None and e.type != "decimal":
        c.error(
            where(),
            bilingual(
                f"格式 {fmt.notation} 带小数位，但类型为 {e.type}",
                f"format {fmt.notation} has decimal places, but the type is {e.type}",
            ),
        )
    if e.type in TEXT_TYPES:
        if (
            e.max_length is not None
            and fmt.max_length is not None
            and e.max_length > fmt.max_length
        ):
            c.error(e.at("max_length"), _format_conflict("max_length", e.max_length, fmt))
        if (
            e.min_length is not None
            and fmt.max_length is not None
            and e.min_length > fmt.max_length
        ):
            c.error(e.at("min_length"), _format_conflict("min_length", e.min_length, fmt))


def _format_conflict(key: str, length: int, fmt: Format) -> str:
    """The message for a length the element's format does not allow."""
    return bilingual(
        f"{key} {length} 与格式 {fmt.notation} 冲突（最多 {fmt.max_length} 个字符）",
        f"{key} {length} conflicts with format "
        f"{fmt.notation} (at most {fmt.max_length} characters)",
    )


def element_constraints(e: DataElement) -> Constraints:
    """What the element itself allows, its format's implications included."""
    return _constraints(
        e.type, parsed_format(None, e), e.min_length, e.max_length, e.pattern, e.minimum, e.maximum
    )


@functools.lru_cache(maxsize=4096, typed=True)  # typed: a maximum of 5 is not one of 5.0
def _constraints(
    type_: str,
    fmt: Format | None,
    min_length: int | None,
    max_length: int | None,
    pattern: str | None,
    minimum: float | None,
    maximum: float | None,
) -> Constraints:
    """element_constraints, once per distinct element: a province's forms share their
    elements (checking and building asked 240,000 times for 10,000 forms of 12 fields)."""
    patterns: tuple[str, ...] = (pattern,) if pattern else ()
    if fmt is not None and not fmt.is_date and type_ in TEXT_TYPES:
        if fmt.min_length is not None:
            min_length = max(min_length or 0, fmt.min_length)
        if fmt.max_length is not None:
            max_length = min(max_length or fmt.max_length, fmt.max_length)
        if fmt.pattern:
            patterns += (fmt.pattern,)
    return Constraints(
        min_length=min_length,
        max_length=max_length,
        patterns=patterns,
        minimum=minimum,
        maximum=maximum,
        format=fmt,
    )
