"""The runtime's view of a form: what a submission must look like.

A deployment package holds one :class:`FormSpec` constant per form
(``forms/<form id>.py``, written by ``generator/render/forms.py`` from the
intermediate model's ``FormIR``); :func:`runtime.validation.validate_submission`
checks a submission's ``data`` against it. The runtime never imports the
generator: these classes mirror ``FieldIR``, ``GroupIR``, ``SectionIR`` and
``RuleIR`` without the generator-only data (source locations, previous ids).

Everything is plain, frozen data. What validation needs precompiled (regular
expressions, code sets as frozensets, CEL programs, lookup maps) is derived once
per object on first use (``functools.cached_property``) and then reused.

Localized text (:data:`Text`) maps a locale (``zh``, ``en``) to a string; ``zh``
is always present. :func:`localized` picks one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from runtime.expressions import Compiled, compile_expression, names_read
from runtime.patterns import Pattern, compile_pattern
from runtime.types import FIELD_TYPES, FieldType, Text

if TYPE_CHECKING:
    from runtime.formmodel import FormModel

__all__ = [
    "FIELD_TYPES",
    "FieldSpec",
    "FieldType",
    "FormSpec",
    "GroupSpec",
    "RuleSpec",
    "SectionSpec",
    "Text",
    "expression_names",
    "localized",
]


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def localized(text: Text | None, lang: str = "zh") -> str:
    """``text`` in ``lang`` (``zh`` or ``en``, ``zh-CN`` and ``en-US`` too), else in Chinese."""
    if not text:
        return ""
    if lang.startswith("en") and "en" in text:
        return text["en"]
    return text.get("zh") or next(iter(text.values()))


@lru_cache(maxsize=4096)
def expression_names(source: str) -> frozenset[str]:
    """Every name an expression may read: each identifier-like word of its text.

    An over-approximation (function names, macro variables and words inside
    string literals are included), so evaluating with only these variables
    bound gives the same result as with every field bound, and is much faster
    (the CEL engine converts each bound variable on every evaluation). For the
    names an expression really reads (to report them), see :func:`names_read`.
    """
    return frozenset(_NAME.findall(source))


def _compile(source: str | None) -> Compiled | None:
    return compile_expression(source) if source else None


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form or of a repeating group."""

    id: str
    element: str
    label: Text
    type: FieldType
    required: bool | str = True  # True/False or a CEL expression
    when: str | None = None  # CEL; false: the field is hidden, its value discarded
    multiple: bool = False  # code only: a list of codes
    codeset: str | None = None
    codes: tuple[str, ...] | None = None  # codes allowed in new submissions
    min_length: int | None = None
    max_length: int | None = None
    patterns: tuple[str, ...] = ()  # each must match the whole value
    minimum: int | float | None = None
    maximum: int | float | None = None
    digits: int | None = None  # decimal: total digits
    fraction_digits: int | None = None  # decimal: digits after the point
    check: str | None = None  # gb11643 | gb32100 | gb2260 | mobile_cn | postal_code_cn | email
    sensitive: bool = False
    unit: Text | str | None = None  # a string in packages made before units were localized
    prefill: str | None = None  # e.g. identity.id_number
    help: Text | None = None

    @cached_property
    def regexes(self) -> tuple[Pattern, ...]:
        """The patterns compiled by RE2 (linear time: see :mod:`runtime.patterns`)."""
        return tuple(compile_pattern(p) for p in self.patterns)

    @cached_property
    def code_set(self) -> frozenset[str] | None:
        return frozenset(self.codes) if self.codes is not None else None

    @cached_property
    def required_expression(self) -> Compiled | None:
        return _compile(self.required) if isinstance(self.required, str) else None

    @cached_property
    def when_expression(self) -> Compiled | None:
        return _compile(self.when)

    @cached_property
    def prefill_key(self) -> str | None:
        """The identity attribute the field is prefilled from (``identity.X`` → ``X``)."""
        if self.prefill and self.prefill.startswith("identity."):
            return self.prefill.removeprefix("identity.")
        return None


@dataclass(frozen=True)
class GroupSpec:
    """A repeating group (a section with ``repeat``): a list of rows of ``fields``."""

    id: str
    name: Text
    min: int
    max: int
    fields: tuple[FieldSpec, ...]
    when: str | None = None

    @cached_property
    def field_map(self) -> dict[str, FieldSpec]:
        return {f.id: f for f in self.fields}

    @cached_property
    def when_expression(self) -> Compiled | None:
        return _compile(self.when)


@dataclass(frozen=True)
class SectionSpec:
    """A section as shown to people: its name and its field ids (or its group's)."""

    id: str
    name: Text
    fields: tuple[str, ...]
    group: bool = False


@dataclass(frozen=True)
class RuleSpec:
    """A cross-field rule: ``expression`` must hold, else ``message``."""

    id: str
    expression: str
    message: Text

    @cached_property
    def compiled(self) -> Compiled:
        return compile_expression(self.expression)


@dataclass(frozen=True)
class FormSpec:
    """A form: its non-repeating fields, repeating groups, sections and rules."""

    id: str
    name: Text
    fields: tuple[FieldSpec, ...]
    groups: tuple[GroupSpec, ...] = ()
    sections: tuple[SectionSpec, ...] = ()
    rules: tuple[RuleSpec, ...] = ()
    version: str | None = None

    @cached_property
    def field_map(self) -> dict[str, FieldSpec]:
        return {f.id: f for f in self.fields}

    @cached_property
    def group_map(self) -> dict[str, GroupSpec]:
        return {g.id: g for g in self.groups}

    @cached_property
    def keys(self) -> frozenset[str]:
        """The top-level keys a submission's ``data`` may have."""
        return frozenset(self.field_map) | frozenset(self.group_map)

    @cached_property
    def rule_fields(self) -> dict[str, tuple[str, ...]]:
        """Rule id -> the paths of the fields its expression reads, in form order.

        A field by its id, a repeating group by its id (a rule covers the whole form, so
        a group it reads is named whole, not ``group[i].field``). Worked out once per
        form; a rule's 422 problem names them in ``fields``.
        """
        order = [*self.field_map, *self.group_map]
        out: dict[str, tuple[str, ...]] = {}
        for rule in self.rules:
            read = set(names_read(rule.expression))
            out[rule.id] = tuple(k for k in order if k in read)
        return out

    @cached_property
    def model(self) -> FormModel:
        """The pydantic model of the form's values (:mod:`runtime.formmodel`), built once."""
        from runtime.formmodel import form_model  # it builds on these classes

        return form_model(self)

    @cached_property
    def prefilled(self) -> tuple[FieldSpec, ...]:
        """The fields a signed-in applicant's attribute fills when left empty."""
        return tuple(f for f in self.fields if f.prefill_key is not None)
