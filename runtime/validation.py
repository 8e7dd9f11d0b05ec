"""Validation of a submission's ``data`` against a form: errors, and the cleaned data.

:func:`validate_submission` is what the submit endpoint runs. It returns the
*cleaned* data — what is stored — and a list of :class:`FieldProblem`; the data
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
    A :class:`FieldProblem` has a ``path`` (``citizen_id_number``,
    ``members[1].citizen_id_number``, ``members``, a rule's id, or ``""`` for
    the data as a whole), a ``code`` and a ``message`` in Chinese (``lang="zh"``,
    the default) or English (``lang="en"``; ``zh-CN``/``en-US`` are accepted).
    One error per field: the first of type, identifier check, length, pattern,
    range. Codes: see :data:`MESSAGES`, plus the identifier checks' codes
    (``gb11643.checksum`` …, :data:`runtime.identifiers.MESSAGES`) and ``rule``
    (the rule's own message). Messages never repeat the submitted value
    (it may be personal information). Rows past a group's maximum are refused
    (``max_rows``) without being examined.

Two passes
    The values are checked by the form's pydantic model (``FormSpec.model``,
    :mod:`runtime.formmodel`: types, identifier checks, codes, lengths,
    patterns, ranges, rows) in one pass that keeps every valid value (conditions
    see them) and puts pydantic's error in place of an invalid one; those
    errors are translated here into the codes and messages above. Conditions,
    ``required`` and rules are CEL over the whole submission: a pass of their
    own, each expression evaluated with only the variables it names bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from pydantic_core import ErrorDetails

from runtime import identifiers
from runtime.expressions import Compiled, compile_expression, run
from runtime.formmodel import Invalid, blank
from runtime.formspec import FieldSpec, FormSpec, GroupSpec, expression_names, localized
from runtime.types import FieldProblem

__all__ = [
    "MESSAGES",
    "Conditions",
    "conditions",
    "message",
    "stored_problems",
    "validate_submission",
]

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


class _Invalid:
    """Why a value is unacceptable: a code and its message's parameters."""

    __slots__ = ("code", "params")

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        self.params = params


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- values: the form's pydantic model -------------------------------------------------


def _invalid(f: FieldSpec, error: ErrorDetails) -> _Invalid:
    """A pydantic error of ``f``'s value as one of the form's codes."""
    kind = error["type"]
    if kind == "string_too_long":
        return _Invalid("max_length", limit=f.max_length)
    if kind == "string_too_short":
        return _Invalid("min_length", limit=f.min_length)
    if kind == "string_pattern_mismatch":
        return _Invalid("pattern")
    if kind == "greater_than_equal":
        return _Invalid("minimum", limit=_number(f.minimum))
    if kind == "less_than_equal":
        return _Invalid("maximum", limit=_number(f.maximum))
    if kind != "type" and (kind in MESSAGES or kind in identifiers.MESSAGES):
        return _Invalid(kind, **error.get("ctx", {}))
    return _Invalid("type", expected="codes" if f.multiple else f.type)  # int_type, …


def _cel(value: object) -> object:
    """The CEL view of a cleaned value: decimals as doubles, dates as ISO text."""
    kind = type(value)
    if kind is Decimal:
        return float(value)  # type: ignore[arg-type]
    if kind is date or kind is datetime:
        return value.isoformat()  # type: ignore[attr-defined]
    return value


def _payload(
    form: FormSpec, data: Mapping[str, object], identity: Mapping[str, str] | None
) -> dict[str, object]:
    """What the model validates: ``data`` with prefills, and rows past a group's maximum
    cut off (they are refused, not examined); copied only when something changes."""
    payload: dict[str, object] = data if type(data) is dict else dict(data)
    copied = payload is not data
    if identity:
        for f in form.prefilled:
            given = identity.get(f.prefill_key or "")
            if given is not None and blank(f, payload.get(f.id)):
                if not copied:
                    payload, copied = dict(payload), True
                payload[f.id] = given
    for g in form.groups:
        rows = payload.get(g.id)
        if type(rows) is list and len(rows) > g.max:
            if not copied:
                payload, copied = dict(payload), True
            payload[g.id] = rows[: g.max]
    return payload


def stored_problems(
    form: FormSpec, values: Mapping[str, object], group: GroupSpec | None = None
) -> dict[str, str]:
    """Field id -> the code of the check its stored value fails under the form's current
    model (a check added or tightened after it was filed), for one stored row of the form
    (``group``: one row of that repeating group); values as
    :func:`runtime.records.json_value` gives them. The data quality report
    (runtime/quality.py) runs it on every stored row."""
    present = {k: v for k, v in values.items() if v is not None}
    payload: dict[str, object] = {group.id: [present]} if group is not None else present
    checked = form.model.validate_python(payload, context={"today": None})
    if group is not None:
        rows = checked.get(group.id) or [None]
        checked = rows[0] if isinstance(rows[0], dict) else {}
    fields = group.fields if group is not None else form.fields
    out: dict[str, str] = {}
    for f in fields:
        value = checked.get(f.id)
        if type(value) is Invalid:
            out[f.id] = _invalid(f, value.error).code
    return out


# --- conditions ------------------------------------------------------------------------


def _outcome(compiled: Compiled, variables: dict[str, object]) -> bool | None:
    """True, False, or None for an error or a non-boolean result."""
    try:
        value, _ = run(compiled, variables)
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
    """Evaluate a condition with only the variables it names (``inner`` wins over ``outer``)."""
    variables: dict[str, object] = {}
    for name in expression_names(compiled.source):
        if inner is not None and name in inner:
            variables[name] = inner[name]
        elif name in outer:
            variables[name] = outer[name]
    result = _outcome(compiled, variables)
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
        self.errors: list[FieldProblem] = []

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
        self.errors.append(FieldProblem(path, code, text))

    def invalid(self, path: str, f: FieldSpec, problem: _Invalid) -> None:
        params = problem.params
        if problem.code == "type":
            params = {"expected": TYPE_NAMES[str(params["expected"])][self.en]}
        self.add_as(path, problem.code, problem.code, localized(f.label, self.lang), params)


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


class _Submission:
    """A submission validated by the form's model, with its ``when`` conditions applied."""

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
    """Validate every field and row with the form's model, then discard what a false
    ``when`` hides."""
    out = _Submission()
    cleaned, invalid, missing = out.cleaned, out.invalid, out.missing
    payload = _payload(form, data, identity)
    values = form.model.validate_python(payload, context={"today": today})
    view: dict[str, object] = {}  # CEL values of every field and group, as submitted
    for f in form.fields:
        value = values.get(f.id)
        if value is None:
            missing.add(f.id)
        elif type(value) is Invalid:
            invalid[f.id] = _invalid(f, value.error)
        else:
            cleaned[f.id] = value
            view[f.id] = _cel(value)

    # Repeating groups: their rows.
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
        for submitted, checked in zip(raw, values.get(g.id) or (), strict=False):
            row = _Row()
            rows.append(row)
            if type(checked) is Invalid:  # not an object
                row.valid = False
                continue
            row.unknown = [str(k) for k in submitted if k not in g.field_map]
            for f in g.fields:
                value = checked.get(f.id)
                if value is None:
                    row.missing.add(f.id)
                elif type(value) is Invalid:
                    row.invalid[f.id] = _invalid(f, value.error)
                else:
                    row.cleaned[f.id] = value
                    row.view[f.id] = _cel(value)
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
) -> tuple[dict[str, object], list[FieldProblem]]:
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
            report.errors.append(FieldProblem(rule.id, "rule", text, form.rule_fields[rule.id]))
    return cleaned, report.errors


def condition_holds(source: str, data: Mapping[str, object]) -> bool:
    """A condition over a case's stored data (a material's ``when``); an error makes it false."""
    return _holds(compile_expression(source), data)
