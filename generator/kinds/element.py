"""DataElement (数据元, after GB/T 19488.1 / ISO/IEC 11179)."""

from __future__ import annotations

from typing import Literal

from generator.kinds.common import Id, Item, Localized, Number, empty

ElementType = Literal[
    "string", "text", "integer", "decimal", "boolean", "date", "datetime", "code", "file"
]
CheckName = Literal["gb11643", "gb32100", "gb2260", "mobile_cn", "postal_code_cn", "email"]


class DataElement(Item):
    kind: str = "DataElement"
    identifier: str | None = None
    definition: Localized | None = None
    synonyms: list[str] = empty()
    type: ElementType
    format: str | None = None
    check: CheckName | None = None
    sensitive: bool = False
    unit: str | None = None
    codeset: Id | None = None
    multiple: bool = False
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    minimum: Number | None = None
    maximum: Number | None = None
