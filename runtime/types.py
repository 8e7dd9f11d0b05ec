"""The words the generator and the runtime share: field types, identifier checks, localized
text, bilingual messages, a submission's problem and the root exception.

Like ``starlette/types.py``: no logic, one home for each word, imported by whoever
spells it (the standards' element kind, the checks, the tables, the schemas, the form
specs, the form models, validation, records).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

__all__ = [
    "CHECK_NAMES",
    "DATE_TYPES",
    "FIELD_TYPES",
    "NUMBER_TYPES",
    "TEXT_TYPES",
    "CheckName",
    "FieldProblem",
    "FieldType",
    "GovstdError",
    "Text",
    "bilingual",
]

FieldType = Literal[
    "string", "text", "integer", "decimal", "boolean", "date", "datetime", "code", "file"
]
"""The type of a data element and of a form field (a ``code`` may be ``multiple``)."""
FIELD_TYPES: Final[tuple[FieldType, ...]] = get_args(FieldType)
TEXT_TYPES: Final[frozenset[str]] = frozenset({"string", "text", "code"})
"""Types whose value is text written by a person: lengths, patterns and checks apply."""
NUMBER_TYPES: Final[frozenset[str]] = frozenset({"integer", "decimal"})
"""Types with a minimum and a maximum."""
DATE_TYPES: Final[frozenset[str]] = frozenset({"date", "datetime"})
"""Types written as ISO 8601 text (``YYYY-MM-DD``, ``YYYY-MM-DDThh:mm:ss``)."""

CheckName = Literal["gb11643", "gb32100", "gb2260", "mobile_cn", "postal_code_cn", "email"]
"""An identifier check (:mod:`runtime.identifiers`)."""
CHECK_NAMES: Final[tuple[CheckName, ...]] = get_args(CheckName)

Text = Mapping[str, str]
"""Localized text: a locale (``zh``, ``en``) to a string; ``zh`` is always present."""


def bilingual(zh: str, en: str) -> str:
    """One message, Chinese first, then English: ``中文 / English``."""
    return f"{zh} / {en}"


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One problem of a submission: where (a field's path), which (a stable code), and
    what to do; the API lists them in its 422's ``fields``."""

    path: str
    code: str
    message: str
    fields: tuple[str, ...] | None = None  # a rule's: the paths of the fields it reads

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "code": self.code, "message": self.message}
        if self.fields is not None:
            out["fields"] = list(self.fields)
        return out


class GovstdError(Exception):
    """The root of govstd's own exceptions: ``except GovstdError`` catches every refusal
    the generator or the runtime raises on purpose (not a bug). Raised with a Chinese and
    an English message, ``raise PackageError(zh, en)``, it keeps both and reads as
    :func:`bilingual` of them."""

    def __str__(self) -> str:
        if len(self.args) == 2 and all(isinstance(a, str) for a in self.args):
            return bilingual(*self.args)
        return super().__str__()
