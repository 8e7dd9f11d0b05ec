"""The JSON Schema (2020-12) of a submission's ``data`` per form: a document of the packs
``schemas/<h>.jsonl`` keyed by the form id (``runtime/packs.py``; compact JSON), and a
bundle's combined form in ``schemas/bundles/<bundle>.json`` (pretty-printed).

The schema describes what :func:`runtime.validation.validate_submission`
accepts, as far as JSON Schema can say it; the server stays the judge. Where the
schema is silent or stricter:

- Conditions (``when``), ``required`` expressions, rules and identifier checks
  are CEL or code, so they travel as annotations: ``x-govstd-when``,
  ``x-govstd-required``, ``x-govstd-rules``, ``x-govstd-check``. Only fields
  required without condition are in ``required``; an optional field may be
  ``null``.
- ``pattern`` is ECMA-262 and unanchored, standards patterns are Python
  regular expressions matched against the whole value: each pattern that means
  the same in both dialects is written anchored, ``^(?:…)$`` (several: under
  ``allOf``); every pattern, in the standards' dialect, is also listed in
  ``x-govstd-patterns``. Patterns with Unicode-dependent classes (``\\w``,
  ``\\d``, the letter classes of GB/T 19488 formats …) are only there.
- The server trims spaces and counts an empty string as absent: a required
  text has ``minLength`` 1 at least; an optional one may be null.
- A decimal is a number or a string (``"12.50"``, to keep its digits); its
  digits become ``exclusiveMinimum``/``exclusiveMaximum`` for numbers and
  ``x-govstd-digits`` / ``x-govstd-fraction-digits``.

Other annotations: ``x-govstd-label`` (all languages), ``x-govstd-unit`` (zh) and
``x-govstd-unit-label`` (all languages),
``x-govstd-sensitive``, ``x-govstd-codeset``, ``x-govstd-prefill``, and on the
form ``x-govstd-form``, ``x-govstd-version``, ``x-govstd-sections`` (the field
order people see; ``properties`` is written with sorted keys).
Keys are sorted (``properties`` too).
"""

from __future__ import annotations

import re
from typing import Any

from generator.ir import BundleIR, FieldIR, FormIR, GroupIR, PackageIR
from generator.render import GeneratedFile, json_line, json_text, packs
from runtime.packs import SCHEMAS

__all__ = [
    "DIALECT",
    "bundle_schema",
    "dump_json",
    "field_schema",
    "form_schema",
    "portable",
    "render_schemas",
]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
DECIMAL_STRING = "^-?[0-9]+(?:\\.[0-9]+)?$"
DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DATETIME_PATTERN = (
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\\.[0-9]{1,6})?)?"
    "(?:Z|[+-][0-9]{2}:[0-9]{2})?$"
)
_PORTABLE_ESCAPES = frozenset("^$\\.*+?()[]{}|/ntrfvxu0123456789")
_GROUP = re.compile(r"\(\?(?!:|=|!|<=|<!)")


def portable(pattern: str) -> bool:
    """Whether ``pattern`` means the same to Python's ``re`` and to ECMA-262 (``u`` flag)."""
    if _GROUP.search(pattern) or "[:" in pattern:  # (?i) and [[:alpha:]] are RE2's only
        return False
    escapes = re.findall(r"\\(.)", pattern.replace("\\\\", ""))
    return all(e in _PORTABLE_ESCAPES for e in escapes)


def _label(text: dict[str, str]) -> str:
    return text.get("zh") or next(iter(text.values()), "")


def _nullable(schema: dict[str, Any]) -> None:
    kind = schema["type"]
    schema["type"] = [*kind, "null"] if isinstance(kind, list) else [kind, "null"]
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]


def _patterns(schema: dict[str, Any], patterns: tuple[str, ...]) -> None:
    if not patterns:
        return
    schema["x-govstd-patterns"] = list(patterns)
    anchored = [f"^(?:{p})$" for p in patterns if portable(p)]
    if len(anchored) == 1:
        schema["pattern"] = anchored[0]
    elif anchored:
        schema["allOf"] = [{"pattern": p} for p in anchored]


def _value_schema(f: FieldIR) -> dict[str, Any]:
    """The schema of a value of ``f`` (without null)."""
    if f.type == "code":
        code: dict[str, Any] = {"type": "string"}
        if f.codes is not None:
            code["enum"] = list(f.codes)
        _lengths(code, f)
        if f.multiple:
            return {"type": "array", "items": code, "uniqueItems": True}
        return code
    if f.type in {"string", "text"}:
        text: dict[str, Any] = {"type": "string"}
        _lengths(text, f)
        return text
    if f.type == "integer":
        number: dict[str, Any] = {"type": "integer"}
        _bounds(number, f)
        return number
    if f.type == "decimal":
        decimal: dict[str, Any] = {"type": ["number", "string"], "pattern": DECIMAL_STRING}
        _bounds(decimal, f)
        if f.digits is not None:
            limit = 10 ** (f.digits - (f.fraction_digits or 0))
            decimal["exclusiveMaximum"] = limit
            decimal["exclusiveMinimum"] = -limit
            decimal["x-govstd-digits"] = f.digits
        if f.fraction_digits is not None:
            decimal["x-govstd-fraction-digits"] = f.fraction_digits
        return decimal
    if f.type == "boolean":
        return {"type": "boolean"}
    if f.type == "date":
        return {"type": "string", "format": "date", "pattern": DATE_PATTERN}
    if f.type == "datetime":
        return {"type": "string", "pattern": DATETIME_PATTERN}
    return {"type": "string", "minLength": 1}  # file: an upload's reference


def _lengths(schema: dict[str, Any], f: FieldIR) -> None:
    if f.min_length is not None:
        schema["minLength"] = f.min_length
    if f.max_length is not None:
        schema["maxLength"] = f.max_length
    _patterns(schema, f.patterns)


def _bounds(schema: dict[str, Any], f: FieldIR) -> None:
    if f.minimum is not None:
        schema["minimum"] = f.minimum
    if f.maximum is not None:
        schema["maximum"] = f.maximum


def _always_required(f: FieldIR) -> bool:
    return f.required is True and f.when is None


def field_schema(f: FieldIR) -> dict[str, Any]:
    """The schema of one field's value, with its annotations."""
    schema = _value_schema(f)
    if not _always_required(f):
        _nullable(schema)
    elif f.type in {"string", "text"} and "minLength" not in schema:
        schema["minLength"] = 1  # the server counts an empty string as absent
    schema["title"] = _label(f.label)
    schema["x-govstd-label"] = dict(f.label)
    # each annotation only when set (no dict built to be filtered: 120,000 fields a province)
    for key, value in (
        ("x-govstd-element", f.element),
        ("x-govstd-when", f.when),
        ("x-govstd-check", f.check),
        ("x-govstd-codeset", f.codeset),
        ("x-govstd-prefill", f.prefill),
    ):
        if value is not None:
            schema[key] = value
    if isinstance(f.required, str):
        schema["x-govstd-required"] = f.required
    if f.unit:
        schema["x-govstd-unit"] = _label(f.unit)
        schema["x-govstd-unit-label"] = dict(f.unit)
    if f.sensitive:
        schema["x-govstd-sensitive"] = True
    if f.help:
        schema["description"] = _label(f.help)
    if f.required is False:
        schema["x-govstd-required"] = False
    return schema


def _object(fields: tuple[FieldIR, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {f.id: field_schema(f) for f in fields},
        "required": [f.id for f in fields if _always_required(f)],
        "additionalProperties": False,
    }


def group_schema(g: GroupIR) -> dict[str, Any]:
    """A repeating group: an array of row objects."""
    schema: dict[str, Any] = {
        "type": "array",
        "items": _object(g.fields),
        "minItems": g.min,
        "maxItems": g.max,
        "title": _label(g.name),
        "x-govstd-label": dict(g.name),
    }
    if g.when is not None:
        schema["x-govstd-when"] = g.when
    if g.when is not None or g.min == 0:
        _nullable(schema)
    return schema


def form_schema(form: FormIR) -> dict[str, Any]:
    """The JSON Schema of a submission's ``data`` for ``form`` (without ``$schema``)."""
    schema = _object(form.fields)
    schema["properties"].update({g.id: group_schema(g) for g in form.groups})
    schema["required"] += [g.id for g in form.groups if g.when is None and g.min > 0]
    schema["title"] = _label(form.name)
    schema["x-govstd-form"] = form.id
    schema["x-govstd-label"] = dict(form.name)
    if form.version is not None:
        schema["x-govstd-version"] = form.version
    schema["x-govstd-sections"] = [
        {"id": s.id, "title": _label(s.name), "fields": list(s.fields), "group": s.group}
        for s in form.sections
    ]
    if form.rules:
        schema["x-govstd-rules"] = [
            {"id": r.id, "assert": r.expression, "message": dict(r.message)} for r in form.rules
        ]
    return schema


dump_json = json_text


def bundle_schema(bundle: BundleIR) -> dict[str, Any]:
    """A bundle's combined form (``x-govstd-bundle``, ``x-govstd-members``: each member
    matter's form and which of its fields each combined key fills)."""
    assert bundle.form is not None
    schema = form_schema(bundle.form)
    del schema["x-govstd-form"]
    schema["x-govstd-bundle"] = bundle.id
    schema["x-govstd-members"] = [
        {"matter": s.matter, "form": s.form, "fields": dict(s.fields), "groups": dict(s.groups)}
        for s in bundle.shares
    ]
    return schema


def render_schemas(pkg: PackageIR) -> list[GeneratedFile]:
    """The packs ``schemas/<h>.jsonl`` of every form's schema (keyed by the form id) and
    ``schemas/bundles/<bundle id>.json`` for every bundle of the package."""
    documents = {
        form.id: json_line({"$schema": DIALECT, **form_schema(form)}) for form in pkg.forms
    }
    files = packs(SCHEMAS, documents)
    files += [
        GeneratedFile(
            f"schemas/bundles/{b.id}.json", dump_json({"$schema": DIALECT, **bundle_schema(b)})
        )
        for b in pkg.bundles
        if b.form is not None
    ]
    return files
