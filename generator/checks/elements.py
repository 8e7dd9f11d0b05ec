"""Checks of code sets and data elements, and the effective constraints of an element."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from generator.checks.context import Checker, Where, locate
from generator.diagnostics import Location
from generator.kinds import CodeSet, DataElement
from runtime.formats import CLASS_NAMES, Format, FormatError, parse_format

TEXT_TYPES = {"string", "text", "code"}
NUMBER_TYPES = {"integer", "decimal"}
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
        c.error(codeset.at(), f"code set '{codeset.id}' has no values (give values or values_file)")
    seen: dict[str, object] = {}
    for value in values:
        if value.code in seen:
            c.error(
                value.where(),
                f"duplicate code '{value.code}' in code set '{codeset.id}'"
                f" (first at {seen[value.code]})",
            )
        else:
            seen[value.code] = value.where()
    for value in values:
        if value.parent is not None and value.parent not in seen:
            where = value._row or value.at("parent")
            c.error(
                where,
                f"parent '{value.parent}' of code '{value.code}' is not a code of '{codeset.id}'",
            )


def parsed_format(c: Checker | None, element: DataElement) -> Format | None:
    if element.format is None:
        return None
    try:
        return parse_format(element.format)
    except FormatError as exc:
        if c is not None:
            c.error(element.at("format"), str(exc))
        return None


def check_element(c: Checker, e: DataElement) -> None:
    if e.type == "code":
        if e.codeset is None:
            c.error(e.at("type"), f"element '{e.id}' has type code but no 'codeset'")
        else:
            c.ref(CodeSet, e.codeset, lambda: e.at("codeset"))
    elif e.codeset is not None:
        c.error(e.at("codeset"), f"'codeset' goes with type code, not {e.type}")
    if e.multiple and e.type != "code":
        c.error(e.at("multiple"), "'multiple: true' goes with type code only")
    if e.check and e.type not in CHECK_TYPES[e.check]:
        c.error(e.at("check"), f"check {e.check} applies to text, not to type {e.type}")
    length_keys = ("min_length", "max_length", "pattern")
    for key in length_keys:
        if getattr(e, key) is not None and e.type not in TEXT_TYPES:
            c.error(e.at(key), f"'{key}' applies to text, not to type {e.type}")
    for key in ("minimum", "maximum"):
        if getattr(e, key) is not None and e.type not in NUMBER_TYPES:
            c.error(e.at(key), f"'{key}' applies to integer or decimal, not to type {e.type}")
    if e.pattern is not None:
        check_pattern(c, e.pattern, e.at("pattern"))
    _check_bounds(c, e.min_length, e.max_length, lambda: e.at("max_length"), "length")
    _check_bounds(c, e.minimum, e.maximum, lambda: e.at("maximum"), "value")
    fmt = parsed_format(c, e)
    if fmt is not None:
        _check_format(c, e, fmt)


def _check_bounds(
    c: Checker, low: float | None, high: float | None, where: Where, what: str
) -> None:
    if low is not None and high is not None and low > high:
        c.error(locate(where), f"minimum {what} {low} is above the maximum {high}")


def check_pattern(c: Checker, pattern: str, where: Location) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        c.error(where, f"pattern {pattern!r} is not a valid regular expression: {exc}")


def _check_format(c: Checker, e: DataElement, fmt: Format) -> None:
    def where() -> Location:  # only when there is an error: locating is not free
        return e.at("format")

    if fmt.is_date:
        if e.type not in {"date", "datetime"}:
            c.error(where(), f"format {fmt.notation} is a date format, but the type is {e.type}")
        return
    if e.type in {"date", "datetime", "boolean", "file"}:
        c.error(where(), f"format {fmt.notation} does not apply to type {e.type}")
        return
    if e.type in NUMBER_TYPES and fmt.cls != "n":
        c.error(
            where(), f"type {e.type} needs an n format, not {fmt.notation} ({CLASS_NAMES[fmt.cls]})"
        )
    if fmt.fraction_digits is not None and e.type != "decimal":
        c.error(where(), f"format {fmt.notation} has decimal places, but the type is {e.type}")
    if e.type in TEXT_TYPES:
        if (
            e.max_length is not None
            and fmt.max_length is not None
            and e.max_length > fmt.max_length
        ):
            c.error(
                e.at("max_length"),
                f"max_length {e.max_length} conflicts with format "
                f"{fmt.notation} (at most {fmt.max_length} characters)",
            )
        if (
            e.min_length is not None
            and fmt.max_length is not None
            and e.min_length > fmt.max_length
        ):
            c.error(
                e.at("min_length"),
                f"min_length {e.min_length} conflicts with format "
                f"{fmt.notation} (at most {fmt.max_length} characters)",
            )


def element_constraints(e: DataElement) -> Constraints:
    """What the element itself allows, its format's implications included."""
    fmt = parsed_format(None, e)
    min_length, max_length = e.min_length, e.max_length
    patterns: tuple[str, ...] = (e.pattern,) if e.pattern else ()
    if fmt is not None and not fmt.is_date and e.type in TEXT_TYPES:
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
        minimum=e.minimum,
        maximum=e.maximum,
        format=fmt,
    )


def narrow(base: Constraints, **overrides: object) -> Constraints:
    return replace(base, **overrides)  # type: ignore[arg-type]
