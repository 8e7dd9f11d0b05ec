"""The intermediate model: what a deployment package contains, target-neutral and frozen.

Built from a checked, resolved tree by :mod:`generator.build`; every renderer reads
only this. Plain data (str, int, float, bool, tuples, dicts of localized text), so
it serializes to JSON deterministically (:func:`to_jsonable`).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

Text = dict[str, str]  # localized: {"zh": ..., "en": ...}


@dataclass(frozen=True, slots=True)
class FieldIR:
    id: str
    element: str
    label: Text
    type: str  # string | text | integer | decimal | boolean | date | datetime | code | file
    required: bool | str = True  # True/False or a CEL expression
    when: str | None = None  # section and field conditions joined with &&
    multiple: bool = False
    codeset: str | None = None
    codes: tuple[str, ...] | None = None  # allowed in new submissions (choices, not deprecated)
    min_length: int | None = None
    max_length: int | None = None
    patterns: tuple[str, ...] = ()
    minimum: int | float | None = None
    maximum: int | float | None = None
    digits: int | None = None  # decimal: total digits
    fraction_digits: int | None = None
    check: str | None = None
    sensitive: bool = False
    unit: Text | None = None  # localized: {"zh": "元", "en": "yuan"}
    prefill: str | None = None
    help: Text | None = None
    renamed_from: tuple[str, ...] = ()
    source: str = ""  # file:line:col of the field, for messages


@dataclass(frozen=True, slots=True)
class ElementIR:
    """A data element a form of the package collects, as the data resource catalogue
    shows it (runtime/catalogue.py)."""

    id: str
    name: Text
    type: str
    sensitive: bool
    share: str  # unconditional | conditional | none
    identifier: str | None = None  # the registry identifier (e.g. DE01001)
    check: str | None = None


@dataclass(frozen=True, slots=True)
class GroupIR:
    """A repeating group: a list of rows stored in a child table."""

    id: str
    name: Text
    min: int
    max: int
    when: str | None
    fields: tuple[FieldIR, ...]
    renamed_from: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True, slots=True)
class SectionIR:
    """A section as shown to people: its name and the ids of its fields or its group."""

    id: str
    name: Text
    fields: tuple[str, ...]
    group: bool = False


@dataclass(frozen=True, slots=True)
class RuleIR:
    id: str
    expression: str
    message: Text


@dataclass(frozen=True, slots=True)
class FormIR:
    id: str
    name: Text
    version: str | None
    fields: tuple[FieldIR, ...]  # the non-repeating fields, in form order
    groups: tuple[GroupIR, ...]
    sections: tuple[SectionIR, ...]
    rules: tuple[RuleIR, ...]
    renamed_from: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True, slots=True)
class MaterialIR:
    id: str
    name: Text
    necessity: str  # required | optional | deferrable
    source: str  # applicant | government
    medium: str
    copies: int
    accept: tuple[str, ...]
    max_size_mb: int
    when: str | None = None
    type: str | None = None
    notes: Text | None = None


@dataclass(frozen=True, slots=True)
class LimitIR:
    value: int
    unit: str  # working_day | calendar_day


@dataclass(frozen=True, slots=True)
class MatterIR:
    """One matter as one region implements it."""

    id: str
    name: Text
    type: str
    form: str
    workflow: str
    case_type: str
    promised: LimitIR
    legal: LimitIR | None
    service_objects: tuple[str, ...]
    materials: tuple[MaterialIR, ...]
    guide: dict[str, Any]  # the complete service guide, as the implementer wrote it (merged)
    version: str | None = None


@dataclass(frozen=True, slots=True)
class StateIR:
    id: str
    name: Text
    clock: str | None = None  # running | paused
    final: bool = False


@dataclass(frozen=True, slots=True)
class TransitionIR:
    id: str
    name: Text
    sources: tuple[str, ...]
    to: str
    by: str
    reason: str | None = None  # required | optional
    not_same_as: str | None = None


@dataclass(frozen=True, slots=True)
class WorkflowIR:
    id: str
    name: Text
    initial: str
    warn_before: int | None
    states: tuple[StateIR, ...]
    transitions: tuple[TransitionIR, ...]


@dataclass(frozen=True, slots=True)
class CodeIR:
    code: str
    name: Text
    parent: str | None = None
    deprecated: bool = False


@dataclass(frozen=True, slots=True)
class CodeSetIR:
    id: str
    name: Text
    values: tuple[CodeIR, ...]


@dataclass(frozen=True, slots=True)
class CalendarIR:
    id: str
    weekend: tuple[str, ...]
    holidays: tuple[str, ...]  # ISO dates
    workdays: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PolicyIR:
    id: str
    name: Text
    issuer: Text
    regions: tuple[str, ...]
    valid_from: str | None
    valid_to: str | None
    audience: tuple[str, ...]
    profile: str
    eligible: str
    benefit: Text
    apply: str
    description: Text | None = None


@dataclass(frozen=True, slots=True)
class ShareIR:
    """What one member's form takes from a bundle's combined data (generator/bundles.py)."""

    matter: str
    form: str
    fields: tuple[tuple[str, str], ...]  # (the member form's field id, the combined key)
    groups: tuple[tuple[str, str], ...]  # (the member form's group id, the combined group)


@dataclass(frozen=True, slots=True)
class BundleIR:
    id: str
    name: Text
    matters: tuple[str, ...]
    description: Text | None = None
    form: FormIR | None = None  # the combined form (schemas/bundles/<id>.json); not in the catalog
    shares: tuple[ShareIR, ...] = ()


@dataclass(frozen=True, slots=True)
class RegionIR:
    id: str
    code: str
    name: Text
    parent: str | None
    calendar: str | None
    matters: tuple[MatterIR, ...]


@dataclass(frozen=True, slots=True)
class PackageIR:
    """Everything one deployment serves: a region and the regions below it."""

    region: str
    regions: tuple[RegionIR, ...]  # the deployment's region first, then its subtree
    forms: tuple[FormIR, ...]
    workflows: tuple[WorkflowIR, ...]
    codesets: tuple[CodeSetIR, ...]
    calendars: tuple[CalendarIR, ...]
    policies: tuple[PolicyIR, ...]
    bundles: tuple[BundleIR, ...]
    source_hash: str
    elements: tuple[ElementIR, ...] = ()  # those the forms collect, by id


def to_jsonable(value: Any) -> Any:
    """Plain JSON data of an IR object (dataclasses become dicts, tuples lists)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


def fingerprint(value: Any) -> str:
    """A short stable hash of an IR object, for the banners of the files made from it.

    The hash of its JSON as orjson writes it in C: dataclasses as their fields in
    definition order, tuples as lists, dicts in insertion order (all deterministic; the
    IR has no sets). Ten times cheaper than ``repr`` (a province's OpenAPI document is
    100 MB of it). A value orjson cannot write (a non-str dict key, an int past 64 bits,
    a set, a Decimal) is hashed by its ``repr`` instead."""
    try:
        data = orjson.dumps(value)
    except orjson.JSONEncodeError:
        data = b"repr\0" + repr(value).encode()
    return bytes_fingerprint(data)


def bytes_fingerprint(data: bytes) -> str:
    """:func:`fingerprint` of content already serialized."""
    return hashlib.sha256(data).hexdigest()[:16]
