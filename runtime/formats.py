"""GB/T 19488 representation formats (表示格式) such as ``an18``, ``c..50``, ``n..12,2``.

``a`` letters (any Unicode letter, so Chinese characters count), ``n`` digits 0-9,
``an`` letters or digits, ``c`` any characters. ``an18`` is exactly 18,
``c..50`` at most 50, ``n2..6`` from 2 to 6, ``n..12,2`` a decimal with 12 digits of
which 2 after the point. Upper case means the same. Dates: ``YYYY-MM-DD``,
``YYYYMMDD``; date-times ``YYYY-MM-DDThh:mm:ss``. Lengths count characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from runtime.types import DATE_TYPES, GovstdError

_NOTATION = re.compile(
    r"(?P<cls>an|a|n|c)(?P<min>\d+)?(?P<range>\.\.)?(?P<max>\d+)?(?:,(?P<frac>\d+))?\Z"
)
DATE_FORMATS = {"YYYY-MM-DD": "date", "YYYYMMDD": "date", "YYYY-MM-DDTHH:MM:SS": "datetime"}

CHARACTER_CLASSES = {
    "n": r"[0-9]",
    "a": r"\p{L}",  # RE2 (runtime.patterns): Unicode classes by name, its \w is ASCII only
    "an": r"[\p{L}\p{N}]",
    "c": r"[\s\S]",
}
CLASS_NAMES = {
    "n": "digits 0-9",
    "a": "letters",
    "an": "letters or digits",
    "c": "any characters",
}


@dataclass(frozen=True)
class Format:
    """A parsed representation format."""

    notation: str
    cls: str  # n | a | an | c | date | datetime
    min_length: int | None = None
    max_length: int | None = None
    fraction_digits: int | None = None

    @property
    def is_date(self) -> bool:
        return self.cls in DATE_TYPES

    @property
    def pattern(self) -> str | None:
        """A regular expression for the whole value (None for dates and decimals)."""
        if self.is_date or self.fraction_digits is not None or self.cls == "c":
            return None
        return f"{CHARACTER_CLASSES[self.cls]}*"


class FormatError(GovstdError, ValueError):
    pass


@lru_cache(maxsize=1024)
def parse_format(notation: str) -> Format:
    """Parse a GB/T 19488 notation; raises :class:`FormatError` with what was expected."""
    text = notation.strip()
    upper = text.upper()
    if upper in DATE_FORMATS:
        return Format(notation, DATE_FORMATS[upper])
    match = _NOTATION.match(text.lower())
    if not match:
        raise FormatError(
            f"'{notation}' is not a GB/T 19488 format; expected e.g. an18, c..50, n2..6, "
            f"n..12,2, YYYY-MM-DD"
        )
    cls, low, ranged, high, frac = match.group("cls", "min", "range", "max", "frac")
    if ranged:
        if high is None:
            raise FormatError(f"'{notation}': a range needs its maximum, e.g. {cls}..50")
        min_length, max_length = (int(low) if low else None), int(high)
    else:
        if low is None or high is not None:
            raise FormatError(f"'{notation}': give a length, e.g. {cls}18 or {cls}..50")
        min_length = max_length = int(low)
    if max_length < 1 or (min_length is not None and min_length > max_length):
        raise FormatError(f"'{notation}': the length range is empty")
    fraction = int(frac) if frac is not None else None
    if fraction is not None and (cls != "n" or fraction >= max_length):
        raise FormatError(
            f"'{notation}': decimal places go with n and must be fewer than the digits"
        )
    return Format(notation, cls, min_length, max_length, fraction)
