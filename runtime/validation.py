"""Validation of a submission's ``data`` against a form: errors, and the cleaned data.

:func:`validate_submission` is what the submit endpoint runs. It returns the
*cleaned* data — what is stored — and a list of :class:`FieldError`; the data
is acceptable when the list is empty.

Values (JSON in -> cleaned Python value)
    - string: a string, surrounding spaces removed -> ``str`` (GB 11643 check
      character upper case)
    - text: a string, kept as written -> ``str``
    - integer: a JSON integer (or an integral number), never ``true``/``false``
      -> ``int`` (64-bit range)
    - decimal: a number, or a string such as ``"-12.50"`` (keeps its digits)
      -> ``decimal.Decimal``
    - boolean: ``true`` / ``false`` -> ``bool``
    - date: ``"YYYY-MM-DD"``, a real date -> ``datetime.date``
    - datetime: ``"YYYY-MM-DDThh:mm[:ss[.ffffff]][Z|±hh:mm]"`` -> an aware
      ``datetime`` (without an offset: China time, +08:00)
    - code: a string among the allowed codes -> ``str``; with ``multiple``, a
      list of them without repeats -> ``list[str]``
    - file: a string (an upload's reference) -> ``str``

Empty
    A key that is absent, ``null``, an empty (or, except for ``text``, all-space)
    string or, for ``multiple`` codes, an empty list counts as *missing*. A
    missing value is left out of the cleaned data; it is an error (``required``)
    only when the field is required. A field with ``prefill: identity.X`` that
    is missing takes ``identity[X]`` (the signed-in applicant's attribute).

Conditions (CEL, see :mod:`runtime.expressions`)
    ``when`` conditions — of fields, of repeating groups, of fields in a group's
    rows (where the row's fields are in scope and win) — are evaluated on the
    values as submitted (after type conversion; invalid values are unbound). A
    field or group whose ``when`` is false is *discarded*: its value is left out
    of the cleaned data and its errors are not reported. ``required``
    expressions and rules are then evaluated on the data as it will be stored
    (without discarded values). An evaluation error (e.g. an unanswered field)
    makes a condition false, ``required`` false, and a rule hold.

    The CEL view of a value: decimals are doubles, dates and date-times ISO
    strings, a repeating group a list of row maps; a repeating group that is
    present (its ``when`` holds) but not submitted is an empty list, so
    ``size(members) >= 1`` sees it.

Errors
    A :class:`FieldError` has a ``path`` (``citizen_id_number``,
    ``members[1].citizen_id_number``, ``members``, a rule's id, or ``""`` for
    the data as a whole), a ``code`` and a ``message`` in Chinese (``lang="zh"``,
    the default) or English (``lang="en"``; ``zh-CN``/``en-US`` are accepted).
    One error per field: the first of type, identifier check, length, pattern,
    range. Codes: see :data:`MESSAGES`, plus the identifier checks' codes
    (``gb11643.checksum`` …, :data:`runtime.identifiers.MESSAGES`) and ``rule``
    (the rule's own message). Messages never repeat the submitted value
    (it may be personal information). Rows past a group's maximum are refused
    (``max_rows``) without being examined.

Speed: everything derivable from the form is computed once per
:class:`~runtime.formspec.FormSpec` (cached properties); each CEL expression
is evaluated with only the variables it names bound; the simplest ones run in
Python (:mod:`runtime.fastcel`, with the engine's semantics), and the engine's
results over scalar inputs are memoized (CEL is pure; the memo is bounded).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final

from runtime import identifiers
from runtime.expressions import Compiled, compile_expression
from runtime.fastcel import Fallback, fast_condition
from runtime.formspec import FieldSpec, FormSpec, GroupSpec, expression_names, localized

__all__ = [
    "CHINA_TIME",
    "MESSAGES",
    "Conditions",
    "FieldError",
    "conditions",
    "message",
    "stored_value_problem",
    "validate_submission",
]

CHINA_TIME: Final = timezone(timedelta(hours=8), "CST")
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

# code -> (zh, en); ``{label}`` is the field's (or group's) label, other names per code.
# ``row_type`` and ``data_type`` are the messages of code ``type`` for a row / the data.
MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "required": ("{label}不能为空", "{label} is required"),
    "type": ("{label}应为{expected}", "{label} must be {expected}"),
    "max_length": ("{label}不能超过{limit}个字符", "{label} must have at most {limit} characters"),
    "min_length": ("{label}不能少于{limit}个字符", "{label} must have at least {limit} characters"),
    "pattern": ("{label}的格式不正确", "{label} is not in the expected format"),
    "minimum": ("{label}不能小于{limit}", "{label} must be at least {limit}"),
    "maximum": ("{label}不能大于{limit}", "{label} must be at most {limit}"),
    "choices": ("{label}不是允许的代码", "{label} is not one of the allowed codes"),
    "duplicate": ("{label}中有重复的代码", "{label} lists a code more than once"),
    "digits": (
        "{label}最多{whole}位整数、{fraction}位小数",
        "{label} may have at most {whole} digits before the point and {fraction} after it",
    ),
    "date": ("{label}应为有效日期（YYYY-MM-DD）", "{label} must be a real date (YYYY-MM-DD)"),
    "datetime": (
        "{label}应为有效的日期时间（YYYY-MM-DDThh:mm:ss）",
        "{label} must be a real date and time (YYYY-MM-DDThh:mm:ss)",
    ),
    "unknown_field": ("表单中没有字段“{name}”", "the form has no field '{name}'"),
    "min_rows": ("{label}至少应填写{limit}行", "{label} needs at least {limit} rows"),
    "max_rows": ("{label}最多可填写{limit}行", "{label} may have at most {limit} rows"),
    "row_type": ("{label}的每一行应为对象", "each row of {label} must be an object"),
    "data_type": ("提交的数据应为对象", "the submitted data must be an object"),
}
# Expected values in "type" messages: (zh, en).
TYPE_NAMES: Final[dict[str, tuple[str, str]]] = {
    "string": ("文本", "text"),
    "text": ("文本", "text"),
    "integer": ("整数", "an integer"),
    "decimal": ("数值", "a number"),
    "boolean": ("是或否（true 或 false）", "true or false"),
    "date": ("日期文本（YYYY-MM-DD）", "a date string (YYYY-MM-DD)"),
    "datetime": ("日期时间文本", "a date-time string"),
    "code": ("代码文本", "a code string"),
    "codes": ("代码列表", "a list of code strings"),
    "file": ("文件标识文本", "a file reference string"),
    "rows": ("列表", "a list"),
}


def message(code: str, lang: str = "zh", **params: object) -> str:
    """The message of an error ``code`` in ``lang``, with its parameters filled in."""
    en = lang.startswith("en")
    if code in MESSAGES:
        return MESSAGES[code][en].format(**params)
    return identifiers.MESSAGES[code]["en" if en else "zh-CN"]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem of a submission: where, which (a stable code), and what to do."""

    path: str
    code: str
    message: str
    fields: tuple[str, ...] | None = None  # a rule's: the paths of the fields it reads


class _Invalid(Exception):
    """A value is unacceptable; raised by the parsers, reported by the caller."""

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        self.params = params


_MISSING: Final = object()
_Parsed = tuple[object, object]  # (cleaned value, CEL value)

_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- values ----------------------------------------------------------------------------


def _text_checks(f: FieldSpec, value: str, today: date | None) -> str:
    """Identifier check, lengths and patterns of a text value; returns the stored text."""
    check = f.check
    if check is not None:
        if check == "gb11643":
            problem = identifiers.check_gb11643(value, today=today)
            if problem is None:
                value = identifiers.normalize_gb11643(value)
        elif check == "gb2260":
            problem = identifiers.check_gb2260(value, f.code_set)
        else:
            problem = identifiers.CHECKS[check](value)
        if problem is not None:
            raise _Invalid(problem)
    if f.max_length is not None and len(value) > f.max_length:
        raise _Invalid("max_length", limit=f.max_length)
    if f.min_length is not None and len(value) < f.min_length:
        raise _Invalid("min_length", limit=f.min_length)
    for regex in f.regexes:
        if regex.fullmatch(value) is None:
            raise _Invalid("pattern")
    return value


def _parse_string(f: FieldSpec, raw: object, today: date | None) -> _Parsed | object:
    if not isinstance(raw, str):
        raise _Invalid("type", expected="string")
    value = raw.strip()
    if not value:
        return _MISSING
    value = _text_checks(f, value, today)
    return value, value


def _parse_text(f: FieldSpec, raw: object, today: date | None) -> _Parsed | object:
    if not isinstance(raw, str):
        raise _Invalid("type", expected="text")
    if not raw or raw.isspace():
        return _MISSING
    value = _text_checks(f, raw, today)
    return value, value


def _code(f: FieldSpec, value: str, today: date | None) -> str:
    allowed = f.code_set
    if f.check == "gb2260" and allowed is not None:
        problem = identifiers.check_gb2260(value, allowed)
        if problem is not None:
            raise _Invalid(problem)
    elif allowed is not None and value not in allowed:
        raise _Invalid("choices")
    if f.regexes or f.max_length is not None or f.min_length is not None:
        return _text_checks(f, value, today)
    return value


def _parse_code(f: FieldSpec, raw: object, today: date | None) -> _Parsed | object:
    if f.multiple:
        if not isinstance(raw, list):
            raise _Invalid("type", expected="codes")
        codes: list[str] = []
        for item in raw:
            if not isinstance(item, str):
                raise _Invalid("type", expected="codes")
            item = item.strip()
            if not item:
                continue
            if item in codes:
                raise _Invalid("duplicate")
            codes.append(_code(f, item, today))
        if not codes:
            return _MISSING
        return codes, codes
    if not isinstance(raw, str):
        raise _Invalid("type", expected="code")
    value = raw.strip()
    if not value:
        return _MISSING
    value = _code(f, value, today)
    return value, value


def _range(f: FieldSpec, value: int | Decimal, low: object, high: object) -> None:
    if low is not None and value < low:  # type: ignore[operator]
        raise _Invalid("minimum", limit=_number(f.minimum))
    if high is not None and value > high:  # type: ignore[operator]
        raise _Invalid("maximum", limit=_number(f.maximum))


def _parse_integer(f: FieldSpec, raw: object, today: date | None) -> _Parsed | object:
    if type(raw) is int:
        value = raw
    elif type(raw) is float and raw.is_integer():
        value = int(raw)
    else:  # bool is an int subclass: refused here
        raise _Invalid("type", expected="integer")
    if value < INT64_MIN:
        raise _Invalid("minimum", limit=INT64_MIN)
    if value > INT64_MAX:
        raise _Invalid("maximum", limit=INT64_MAX)
    _range(f, value, f.minimum, f.maximum)
    return value, value


@lru_cache(maxsize=1024)
def _decimal_bound(bound: int | float | None) -> Decimal | None:
    return None if bound is None else Decimal(repr(bound))


def _parse_decimal(f: FieldSpec, raw: object, today: date | None) -> _Parsed | object:
    kind = type(raw)
    if kind is int:
        value = Decimal(raw)  # type: ignore[arg-type]
    elif kind is float:
        if not math.isfinite(raw):  # type: ignore[arg-type]
            raise _Invalid("type", expected="decimal")
        value = Decimal(repr(raw))
    elif isinstance(raw, str):
        text = raw.strip()
        if not text:
            return _MISSING
        if _DECIMAL.fullmatch(text) is None:
            raise _Invalid("type", expected="decimal")
        value = Decimal(text)
    else:
        raise _Invalid("type", expected="decimal")
    if f.digits is not None:
        whole, _, fraction = format(value, "f").lstrip("-").partition(".")
        places = f.fraction_digits or 0
        if (f.fraction_digits is not None and len(fraction.rstrip("0")) > places) or len(
            whole.lstrip("0")
        ) + places > f.digits:
            raise _Invalid("digits", whole=f.digits - places, fraction=places)
    if f.minimum is not None or f.maximum is not None:
        _range(f, value, _decimal_bound(f.minimum), _decimal_bound(f.maximum))
    return value, float(value)


def _parse_boolean(f: FieldSpec, raw: object, today: date | None) -> _Parsed | object:
    if raw is True or raw is False:
        return raw, raw
    raise _Invalid("type", expected="boolean")


def _parse_date(f: FieldSpec, raw: object, today: date | None) -> _Parsed | object:
    if not isinstance(raw, str):
        raise _Invalid("type", expected="date")
    text = raw.strip()
    if not text:
        return _MISSING
    if _DATE.fullmatch(text) is None:
        raise _Invalid("date")
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise _Invalid("date") from None
    return value, text


def _parse_datetime(f: FieldSpec, raw: object, today: date | None) -> _Parsed | object:
    if not isinstance(raw, str):
        raise _Invalid("type", expected="datetime")
    text = raw.strip()
    if not text:
        return _MISSING
    if _DATETIME.fullmatch(text) is None:
        raise _Invalid("datetime")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _Invalid("datetime") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=CHINA_TIME)
    return value, value.isoformat()


def _parse_file(f: FieldSpec, raw: object, today: date | None) -> _Parsed | object:
    if not isinstance(raw, str):
        raise _Invalid("type", expected="file")
    value = raw.strip()
    if not value:
        return _MISSING
    return value, value


_PARSERS: Final[dict[str, Callable[[FieldSpec, object, date | None], Any]]] = {
    "string": _parse_string,
    "text": _parse_text,
    "integer": _parse_integer,
    "decimal": _parse_decimal,
    "boolean": _parse_boolean,
    "date": _parse_date,
    "datetime": _parse_datetime,
    "code": _parse_code,
    "file": _parse_file,
}


def _parse(
    f: FieldSpec, raw: object, identity: Mapping[str, str] | None, today: date | None
) -> Any:
    """(cleaned, CEL value), or ``_MISSING``; raises :class:`_Invalid`."""
    result = _MISSING if raw is None else _PARSERS[f.type](f, raw, today)
    if result is _MISSING and identity and f.prefill_key is not None:
        given = identity.get(f.prefill_key)
        if given is not None:
            result = _PARSERS[f.type](f, given, today)
    return result


def stored_value_problem(f: FieldSpec, value: object) -> str | None:
    """The code of the first check a stored value fails under the field's current rules
    (a check added or tightened after it was filed), or ``None``. ``value`` as
    :func:`runtime.records.json_value` gives it; the data quality report
    (runtime/quality.py) runs it on every stored value."""
    if value is None:
        return None
    try:
        _PARSERS[f.type](f, value, None)
    except _Invalid as exc:
        return exc.code
    return None


# --- conditions ------------------------------------------------------------------------


_MEMO: dict[tuple[str, tuple[tuple[str, type, object], ...]], bool | None] = {}
_MEMO_LIMIT: Final = 50_000
_MEMO_TYPES: Final = frozenset({str, int, float, bool})
_MEMO_MAX_TEXT: Final = 200


def _outcome(compiled: Compiled, variables: dict[str, object]) -> bool | None:
    """True, False, or None for an error or a non-boolean result."""
    try:
        value = compiled.program.eval(data=variables).plain_value()
    except (RuntimeError, TypeError, ValueError, OverflowError):
        return None
    if value is True or value is False:
        return bool(value)
    return None  # an error result (its text) or a non-boolean


def _holds(
    compiled: Compiled,
    outer: Mapping[str, object],
    inner: Mapping[str, object] | None = None,
    *,
    on_error: bool = False,
) -> bool:
    """Evaluate a condition with only the variables it names (``inner`` wins over ``outer``).

    The simplest expressions run in Python (:mod:`runtime.fastcel`, same
    results); the engine's results over scalar values are memoized (CEL is
    pure, and conditions see few distinct inputs).
    """
    variables: dict[str, object] = {}
    for name in expression_names(compiled.source):
        if inner is not None and name in inner:
            variables[name] = inner[name]
        elif name in outer:
            variables[name] = outer[name]
    fast = fast_condition(compiled.source)
    if fast is not None:
        try:
            value = fast(variables)
        except Fallback:
            pass
        else:
            return value if value is True or value is False else on_error
    key: tuple[str, tuple[tuple[str, type, object], ...]] | None = None
    for value in variables.values():
        kind = type(value)
        if kind not in _MEMO_TYPES or (kind is str and len(value) > _MEMO_MAX_TEXT):  # type: ignore[arg-type]
            break
    else:
        key = (compiled.source, tuple((k, type(v), v) for k, v in variables.items()))
        if key in _MEMO:
            result = _MEMO[key]
            return on_error if result is None else result
    result = _outcome(compiled, variables)
    if key is not None:
        if len(_MEMO) >= _MEMO_LIMIT:
            _MEMO.clear()
        _MEMO[key] = result
    return on_error if result is None else result


def _required(
    f: FieldSpec, stored: Mapping[str, object], row: Mapping[str, object] | None = None
) -> bool:
    if f.required is True:
        return True
    expr = f.required_expression
    return expr is not None and _holds(expr, stored, row)


# --- the submission --------------------------------------------------------------------


class _Report:
    __slots__ = ("en", "errors", "lang")

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.en = lang.startswith("en")
        self.errors: list[FieldError] = []

    def add(self, path: str, code: str, label: object = "", **params: object) -> None:
        """Report ``code`` at ``path``; the message is ``MESSAGES[code]``."""
        self.add_as(path, code, code, label, params)

    def add_as(
        self, path: str, code: str, key: str, label: object, params: Mapping[str, object]
    ) -> None:
        """Report ``code`` at ``path`` with the message ``MESSAGES[key]``."""
        if key in MESSAGES:
            text = MESSAGES[key][self.en].format(label=label, **params)
        else:
            text = identifiers.MESSAGES[code]["en" if self.en else "zh-CN"]
        self.errors.append(FieldError(path, code, text))

    def invalid(self, path: str, f: FieldSpec, exc: _Invalid) -> None:
        params = exc.params
        if exc.code == "type":
            params = {"expected": TYPE_NAMES[str(params["expected"])][self.en]}
        self.add_as(path, exc.code, exc.code, localized(f.label, self.lang), params)


class _Row:
    """A row of a repeating group while it is validated."""

    __slots__ = ("cleaned", "invalid", "missing", "unknown", "valid", "view")

    def __init__(self) -> None:
        self.unknown: list[str] = []
        self.cleaned: dict[str, object] = {}
        self.view: dict[str, object] = {}
        self.invalid: dict[str, _Invalid] = {}
        self.missing: set[str] = set()
        self.valid = True  # False: the row is not an object


def _parse_row(g: GroupSpec, raw: Mapping[str, object], today: date | None) -> _Row:
    row = _Row()
    fields = g.field_map
    for key in raw:
        if key not in fields:
            row.unknown.append(str(key))
    for f in g.fields:
        try:
            result = _parse(f, raw.get(f.id), None, today)
        except _Invalid as exc:
            row.invalid[f.id] = exc
            continue
        if result is _MISSING:
            row.missing.add(f.id)
        else:
            row.cleaned[f.id], row.view[f.id] = result
    return row


class _Submission:
    """A submission parsed, with its ``when`` conditions applied (see the module)."""

    __slots__ = (
        "cleaned",
        "group_rows",
        "hidden",
        "hidden_in_rows",
        "invalid",
        "missing",
        "row_counts",
        "stored",
    )

    def __init__(self) -> None:
        self.cleaned: dict[str, object] = {}
        self.stored: dict[str, object] = {}  # CEL values of what is kept
        self.invalid: dict[str, _Invalid] = {}
        self.missing: set[str] = set()
        self.hidden: set[str] = set()  # fields and groups whose ``when`` is false
        self.hidden_in_rows: set[str] = set()  # ``group[i].field`` whose ``when`` is false
        self.group_rows: dict[str, list[_Row] | None] = {}  # None: not a list
        self.row_counts: dict[str, int] = {}


def _parse_submission(
    form: FormSpec,
    data: Mapping[str, object],
    identity: Mapping[str, str] | None,
    today: date | None,
) -> _Submission:
    """Parse every field and row, then discard what a false ``when`` hides."""
    out = _Submission()
    cleaned, invalid, missing = out.cleaned, out.invalid, out.missing
    view: dict[str, object] = {}  # CEL values of every field and group, as submitted
    for f in form.fields:
        try:
            result = _parse(f, data.get(f.id), identity, today)
        except _Invalid as exc:
            invalid[f.id] = exc
            continue
        if result is _MISSING:
            missing.add(f.id)
        else:
            cleaned[f.id], view[f.id] = result

    # Repeating groups: parse the rows.
    group_rows = out.group_rows
    for g in form.groups:
        raw = data.get(g.id)
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            group_rows[g.id] = None
            continue
        out.row_counts[g.id] = len(raw)
        rows: list[_Row] = []
        for item in raw[: g.max]:  # rows past the maximum are refused, not examined
            if isinstance(item, Mapping):
                rows.append(_parse_row(g, item, today))
            else:
                bad = _Row()
                bad.valid = False
                rows.append(bad)
        group_rows[g.id] = rows
        view[g.id] = [r.view for r in rows]

    # Conditions on the submitted values: discard what is hidden.
    hidden = out.hidden
    for f in form.fields:
        expr = f.when_expression
        if expr is not None and not _holds(expr, view):
            hidden.add(f.id)
    for g in form.groups:
        expr = g.when_expression
        if expr is not None and not _holds(expr, view):
            hidden.add(g.id)
    for g in form.groups:
        rows_or_none = group_rows[g.id]
        if g.id in hidden or not rows_or_none:
            continue
        for i, row in enumerate(rows_or_none):
            for f in g.fields:
                expr = f.when_expression
                if expr is not None and not _holds(expr, view, row.view):
                    out.hidden_in_rows.add(f"{g.id}[{i}].{f.id}")
                    row.cleaned.pop(f.id, None)
                    row.view.pop(f.id, None)
                    row.invalid.pop(f.id, None)
                    row.missing.discard(f.id)
    out.stored = view
    if hidden:
        out.stored = {k: v for k, v in view.items() if k not in hidden}
        for key in hidden:
            cleaned.pop(key, None)
    return out


@dataclass(frozen=True)
class Conditions:
    """What a form's conditions say of some answers: the parts shown and required."""

    hidden: frozenset[str]  # field ids, group ids, ``group[i].field`` and ``extra`` names
    required: frozenset[str]  # fields (``group[i].field`` in rows) required now


def conditions(
    form: FormSpec,
    data: object,
    *,
    identity: Mapping[str, str] | None = None,
    today: date | None = None,
    extra: Mapping[str, str] | None = None,
) -> Conditions:
    """Which fields, groups and row fields of ``form`` a false ``when`` hides for ``data``,
    and which fields are required, decided exactly as :func:`validate_submission`
    decides them (the web form asks this as answers change). ``extra`` names more
    conditions over the same data (e.g. a material's ``when``): a name is hidden when
    its condition is false."""
    if not isinstance(data, Mapping):
        data = {}
    parsed = _parse_submission(form, data, identity, today or date.today())
    hidden = set(parsed.hidden) | parsed.hidden_in_rows
    for name, source in (extra or {}).items():
        if not _holds(compile_expression(source), parsed.stored):
            hidden.add(name)
    required = {f.id for f in form.fields if f.id not in hidden and _required(f, parsed.stored)}
    for g in form.groups:
        rows = parsed.group_rows.get(g.id)
        if g.id in hidden or not rows:
            continue
        for i, row in enumerate(rows):
            for f in g.fields:
                path = f"{g.id}[{i}].{f.id}"
                if path not in hidden and _required(f, parsed.stored, row.view):
                    required.add(path)
    return Conditions(frozenset(hidden), frozenset(required))


def validate_submission(
    form: FormSpec,
    data: object,
    *,
    lang: str = "zh",
    identity: Mapping[str, str] | None = None,
    today: date | None = None,
) -> tuple[dict[str, object], list[FieldError]]:
    """Check ``data`` (a submission's JSON object) against ``form``.

    Returns the cleaned data (see the module documentation) and the errors, in
    form order: unknown keys, fields, repeating groups, rules. ``identity``
    holds the signed-in applicant's attributes for ``prefill: identity.X``;
    ``today`` is the date that birth dates in citizen ID numbers must not pass
    (default: the current date).
    """
    report = _Report(lang)
    today = today or date.today()
    if not isinstance(data, Mapping):
        report.add_as("", "type", "data_type", "", {})
        return {}, report.errors
    keys = form.keys
    for key in data:
        if key not in keys:
            name = str(key)
            report.add(name, "unknown_field", name=name[:64])

    parsed = _parse_submission(form, data, identity, today)
    cleaned, stored, hidden = parsed.cleaned, parsed.stored, parsed.hidden
    invalid, missing = parsed.invalid, parsed.missing
    group_rows, row_counts = parsed.group_rows, parsed.row_counts

    # Fields, in form order.
    for f in form.fields:
        if f.id in hidden:
            continue
        problem = invalid.get(f.id)
        if problem is not None:
            report.invalid(f.id, f, problem)
        elif f.id in missing and _required(f, stored):
            report.add(f.id, "required", localized(f.label, lang))

    # Repeating groups.
    for g in form.groups:
        if g.id in hidden:
            continue
        rows_or_none = group_rows[g.id]
        label = localized(g.name, lang)
        if rows_or_none is None:
            report.add(g.id, "type", label, expected=TYPE_NAMES["rows"][report.en])
            continue
        count = row_counts[g.id]
        if count < g.min:
            report.add(g.id, "min_rows", label, limit=g.min)
        elif count > g.max:
            report.add(g.id, "max_rows", label, limit=g.max)
        for i, row in enumerate(rows_or_none):
            path = f"{g.id}[{i}]"
            if not row.valid:
                report.add_as(path, "type", "row_type", label, {})
                continue
            for name in row.unknown:
                report.add(f"{path}.{name}", "unknown_field", name=name[:64])
            for f in g.fields:
                problem = row.invalid.get(f.id)
                if problem is not None:
                    report.invalid(f"{path}.{f.id}", f, problem)
                elif f.id in row.missing and _required(f, stored, row.view):
                    report.add(f"{path}.{f.id}", "required", localized(f.label, lang))
        cleaned[g.id] = [row.cleaned for row in rows_or_none]

    # Rules, on the data as stored.
    for rule in form.rules:
        if not _holds(rule.compiled, stored, on_error=True):
            text = localized(rule.message, lang)
            report.errors.append(FieldError(rule.id, "rule", text, form.rule_fields[rule.id]))
    return cleaned, report.errors


def condition_holds(source: str, data: Mapping[str, object]) -> bool:
    """A condition over a case's stored data (a material's ``when``); an error makes it false."""
    return _holds(compile_expression(source), data)
