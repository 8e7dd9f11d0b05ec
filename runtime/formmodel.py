"""A form's pydantic model: what each value of a submission must be.

:func:`form_model` turns a :class:`~runtime.formspec.FormSpec` into a pydantic
``TypeAdapter`` over a ``TypedDict`` with one key per field and repeating group
(``FORM.model`` in a package; built on first use and kept). It checks, per
value: the type, the identifier check (GB 11643, GB 32100, GB/T 2260 …), the
allowed codes, lengths, patterns (RE2, :mod:`runtime.patterns`), ranges and
decimal digits, and of a group its rows (each a ``TypedDict`` of its fields);
unknown keys are refused. It does *not* decide what is required, hidden or
consistent: ``when``, ``required`` and rules are CEL over the whole submission,
a pass of their own in :mod:`runtime.validation`, which also turns pydantic's
errors into the form's codes and bilingual messages.

A value that counts as empty (``null``, ``""``, spaces but for ``text``, a list
of empty codes) validates to ``None``. A failing value is reported with its
location and one of the codes of :data:`runtime.validation.MESSAGES` or
:data:`runtime.identifiers.MESSAGES` as its pydantic error type (pydantic's own
types such as ``string_too_long`` for the constraints it checks itself). One
error per value, in this order: type, identifier check or code, length,
pattern, range.

Why a ``TypedDict`` and not a ``BaseModel``: field ids are any identifiers
(``json`` or ``copy`` would shadow ``BaseModel`` attributes), and a dict in, a
dict out is what the caller stores. The validation context carries ``today``
(the date a birth date in a citizen ID number must not pass).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    with_config,
)
from pydantic import ValidationInfo as Info
from pydantic_core import ErrorDetails, PydanticCustomError, SchemaError
from typing_extensions import TypedDict

from runtime import identifiers
from runtime.clock import CHINA_TZ
from runtime.formspec import FieldSpec, FormSpec, GroupSpec
from runtime.patterns import Pattern
from runtime.types import DATE_TYPES, TEXT_TYPES

__all__ = ["INT64_MAX", "INT64_MIN", "FormModel", "Invalid", "blank", "form_model"]

FormModel = TypeAdapter[dict[str, Any]]
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
# Unknown keys are the caller's to report (in the submission's order); the schema refuses them.
_CONFIG: Final = ConfigDict(extra="ignore", json_schema_extra={"additionalProperties": False})
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)
_WRITTEN: Final = TEXT_TYPES | DATE_TYPES | {"decimal", "file"}  # types a blank string may be


def _error(code: str, **params: object) -> PydanticCustomError:
    return PydanticCustomError(code, code, params or None)


def blank(f: FieldSpec, raw: object) -> bool:
    """Whether ``raw`` counts as no answer to ``f`` (then a prefill may take its place)."""
    if raw is None:
        return True
    if isinstance(raw, str):
        return f.type in _WRITTEN and not (f.type == "code" and f.multiple) and not raw.strip()
    if isinstance(raw, list) and f.multiple:
        return all(isinstance(item, str) and not item.strip() for item in raw)
    return False


def _today(info: Info) -> date | None:
    context = info.context
    return context.get("today") if context else None


def _checked(f: FieldSpec, value: str, today: date | None) -> str:
    """``value`` after the field's identifier check (a GB 11643 number upper-cased)."""
    check = f.check
    if check == "gb11643":
        problem = identifiers.check_gb11643(value, today=today)
        if problem is None:
            return identifiers.normalize_gb11643(value)
    elif check == "gb2260":
        problem = identifiers.check_gb2260(value, f.code_set)
    else:
        problem = identifiers.CHECKS[str(check)](value)
    if problem is not None:
        raise _error(problem)
    return value


def _text_rest(f: FieldSpec, value: str) -> str:
    """Lengths and patterns, for the codes of a ``multiple`` field (one at a time)."""
    if f.max_length is not None and len(value) > f.max_length:
        raise _error("max_length", limit=f.max_length)
    if f.min_length is not None and len(value) < f.min_length:
        raise _error("min_length", limit=f.min_length)
    return _match(f.regexes, value)


def _match(regexes: tuple[Pattern, ...], value: str) -> str:
    for regex in regexes:
        if regex.fullmatch(value) is None:
            raise _error("pattern")
    return value


@lru_cache(maxsize=4096)
def core_pattern(pattern: str) -> str | None:
    """``pattern`` anchored for pydantic's own (Rust) regex engine, when it means the same
    there as in RE2; else None (RE2 matches it, :mod:`runtime.patterns`).

    Both engines run in linear time and share their syntax, except that Rust's ``\\d``,
    ``\\w``, ``\\s`` and ``\\b`` are Unicode (RE2's ASCII) and that ``\\Q…\\E`` and
    ``\\C`` are RE2's only. A call of RE2 from Python costs about 3 µs; pydantic's match
    is a fraction of a microsecond.
    """
    escapes = set(re.findall(r"\\(.)", pattern.replace("\\\\", "")))
    if escapes & set("dDwWsSbB"):
        return None
    anchored = f"^(?:{pattern})$"
    try:
        TypeAdapter(Annotated[str, Field(pattern=anchored)])
    except SchemaError:
        return None
    return anchored


def _allowed(f: FieldSpec, value: str, today: date | None) -> str:
    """A code among the field's codes (and its check, as for any text with lengths)."""
    allowed = f.code_set
    if f.check == "gb2260" and allowed is not None:
        problem = identifiers.check_gb2260(value, allowed)
        if problem is not None:
            raise _error(problem)
    elif allowed is not None and value not in allowed:
        raise _error("choices")
    if f.check is not None and (f.regexes or f.max_length is not None or f.min_length is not None):
        return _checked(f, value, today)
    return value


def _text(f: FieldSpec) -> Any:
    """string, text and code: the type, the check or code, then lengths and patterns."""
    keep_spaces, is_code = f.type == "text", f.type == "code"

    def prepare(raw: object, info: Info) -> object:
        if not isinstance(raw, str):
            return raw  # None, or a wrong type (reported by the core)
        value = raw if keep_spaces else raw.strip()
        if not value or (keep_spaces and value.isspace()):
            return None
        if is_code:
            return _allowed(f, value, _today(info))
        return _checked(f, value, _today(info)) if f.check is not None else value

    first = core_pattern(f.patterns[0]) if f.patterns else None
    core: Any = Annotated[
        str, Strict(), Field(min_length=f.min_length, max_length=f.max_length, pattern=first)
    ]
    rest = f.regexes[1:] if first is not None else f.regexes
    if rest:
        core = Annotated[core, AfterValidator(lambda value: _match(rest, value))]
    return Annotated[core | None, BeforeValidator(prepare)]


def _codes(f: FieldSpec) -> Any:
    """A ``multiple`` code: a list of allowed codes without repeats (empty ones dropped)."""

    def prepare(raw: object, info: Info) -> object:
        if not isinstance(raw, list):
            return raw
        codes: list[str] = []
        for item in raw:
            if not isinstance(item, str):
                raise _error("type")
            item = item.strip()
            if not item:
                continue
            if item in codes:
                raise _error("duplicate")
            codes.append(_text_rest(f, _allowed(f, item, _today(info))))
        return codes or None

    return Annotated[Annotated[list[str], Strict()] | None, BeforeValidator(prepare)]


def _integer(f: FieldSpec) -> Any:
    def prepare(raw: object) -> object:
        if type(raw) is float and raw.is_integer():
            raw = int(raw)
        if type(raw) is int:
            if raw < INT64_MIN:
                raise _error("minimum", limit=INT64_MIN)
            if raw > INT64_MAX:
                raise _error("maximum", limit=INT64_MAX)
        return raw  # bool is refused by the (strict) core

    low = None if f.minimum is None else math.ceil(f.minimum)
    high = None if f.maximum is None else math.floor(f.maximum)
    core = Annotated[int, Strict(), Field(ge=low, le=high)]
    return Annotated[core | None, BeforeValidator(prepare)]


def _bound(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value))


def _decimal(f: FieldSpec) -> Any:
    places = f.fraction_digits or 0

    def prepare(raw: object) -> object:
        kind = type(raw)
        if raw is None:
            return None
        if kind is int:
            value = Decimal(raw)  # type: ignore[arg-type]
        elif kind is float and math.isfinite(raw):  # type: ignore[arg-type]
            value = Decimal(repr(raw))
        elif isinstance(raw, str) and (text := raw.strip()) and _DECIMAL.fullmatch(text):
            value = Decimal(text)
        elif isinstance(raw, str) and not raw.strip():
            return None
        else:
            raise _error("type")
        if f.digits is not None:
            whole, _, fraction = format(value, "f").lstrip("-").partition(".")
            if (f.fraction_digits is not None and len(fraction.rstrip("0")) > places) or len(
                whole.lstrip("0")
            ) + places > f.digits:
                raise _error("digits", whole=f.digits - places, fraction=places)
        return value

    core = Annotated[Decimal, Strict(), Field(ge=_bound(f.minimum), le=_bound(f.maximum))]
    return Annotated[core | None, BeforeValidator(prepare)]


def _moment(f: FieldSpec) -> Any:
    """date (``YYYY-MM-DD``) and datetime (an aware ``datetime``, China time by default)."""
    is_date = f.type == "date"
    shape, code = (_DATE, "date") if is_date else (_DATETIME, "datetime")

    def prepare(raw: object) -> object:
        if not isinstance(raw, str):
            return raw
        text = raw.strip()
        if not text:
            return None
        if shape.fullmatch(text) is None:
            raise _error(code)
        try:
            if is_date:
                return date.fromisoformat(text)
            value = datetime.fromisoformat(text)
        except ValueError:
            raise _error(code) from None
        return value if value.tzinfo is not None else value.replace(tzinfo=CHINA_TZ)

    core: Any = Annotated[date if is_date else datetime, Strict()]
    return Annotated[core | None, BeforeValidator(prepare)]


def _file(f: FieldSpec) -> Any:
    def prepare(raw: object) -> object:
        return (raw.strip() or None) if isinstance(raw, str) else raw

    return Annotated[Annotated[str, Strict()] | None, BeforeValidator(prepare)]


def _boolean(f: FieldSpec) -> Any:
    return Annotated[bool, Strict()] | None


_TYPES: Final = {
    "string": _text,
    "text": _text,
    "code": _text,
    "integer": _integer,
    "decimal": _decimal,
    "boolean": _boolean,
    "date": _moment,
    "datetime": _moment,
    "file": _file,
}


class Invalid:
    """A value the model refused, in place of the value: pydantic's error for it."""

    __slots__ = ("error",)

    def __init__(self, error: ErrorDetails) -> None:
        self.error = error


def _kept(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    try:
        return handler(value)
    except ValidationError as exc:
        return Invalid(exc.errors(include_url=False, include_input=False)[0])


_KEEP: Final = WrapValidator(_kept)


def field_type(f: FieldSpec) -> Any:
    """The annotated type of one field's value (``None``: no answer)."""
    return _codes(f) if f.type == "code" and f.multiple else _TYPES[f.type](f)


def _object(name: str, fields: tuple[FieldSpec, ...], groups: tuple[GroupSpec, ...] = ()) -> Any:
    keys = {f.id: Annotated[field_type(f), _KEEP] for f in fields}
    for g in groups:
        row: Any = Annotated[_object(f"{name}.{g.id}", g.fields), _KEEP]
        keys[g.id] = Annotated[Annotated[list[row], Strict()] | None, _KEEP]
    return with_config(_CONFIG)(TypedDict(name, keys, total=False))  # type: ignore[operator]


def form_model(form: FormSpec) -> FormModel:
    """The pydantic model of ``form``'s submissions (see the module)."""
    return TypeAdapter(_object(form.id, form.fields, form.groups))
