"""Identifier checks shared by the standards validator and the web runtime.

Every ``check_*`` function returns ``None`` when the value is valid and otherwise
an error code such as ``"gb11643.checksum"``; :data:`MESSAGES` maps each code to
a zh-CN and an en message. :data:`CHECKS` looks checks up by
the names used in the standards (``gb11643``, ``gb32100``, ``gb2260``,
``mobile_cn``, ``postal_code_cn``, ``email``). Only ASCII digits count as
digits (``str.isdigit`` would also accept full-width and other Unicode digits).
Checks do not strip whitespace; callers trim input first if they want to.

GB 11643-1999 公民身份号码 (citizen ID number), 18 characters:
6-digit address code (地址码, GB/T 2260 code at the time of issue, so not
checked against the current list) + 8-digit birth date (出生日期码, YYYYMMDD,
must be a real date between 1800-01-01 and today) + 3-digit sequence code
(顺序码, odd for men, even for women) + check character (校验码). The check
character uses ISO 7064 MOD 11-2: with weights ``2**(17 - i) mod 11`` =
7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, it is ``"10X98765432"[Σ mod 11]``.
A lower-case ``x`` is accepted; :func:`normalize_gb11643` stores it upper case.

GB 32100-2015 统一社会信用代码 (unified social credit code), 18 characters
from ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I O Z S V), each worth its index
in that alphabet (0-30): registering authority (登记管理部门码), kind (机构类别码),
6-digit GB/T 2260 code (登记管理机关行政区划码), 9-character organisation
identifier (主体标识码) and check character (校验码). The check uses MOD 31 with
weights ``3**i mod 31`` = 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28: the
check value is ``31 - (Σ mod 31)``, and 31 becomes 0. Only upper-case letters
are accepted.

Both checksums catch every single-character substitution, because the
moduli are prime and no weight is a multiple of them.

Not python-stdnum (``stdnum.cn.ric``, ``stdnum.cn.uscc``, 2.2, compared on the vectors of
tests/test_identifiers.py): it refuses 4 of the 6 valid citizen ID numbers of the domain
notes (its address-code table by year of birth: ``440524188001010014``), checks the check
character before the birth date (so a 30 February reads as a wrong check character), does
not refuse a birth date before 1800 or in the future, refuses valid credit codes whose first
8 characters are not all digits (``N2…``, ``Y1…``: 农业, 其他 registering authorities), and
accepts lower case and spaces in a credit code. Its errors carry no field-level codes for
the messages below.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import date

__all__ = [
    "CHECKS",
    "GB11643_CHECK_CHARS",
    "GB32100_ALPHABET",
    "MESSAGES",
    "check_email",
    "check_gb2260",
    "check_gb11643",
    "check_gb32100",
    "check_mobile_cn",
    "check_postal_code_cn",
    "gb11643_check_char",
    "gb32100_check_char",
    "mask",
    "message",
    "normalize_gb11643",
]

DIGITS = frozenset("0123456789")

GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
GB11643_CHECK_CHARS = "10X98765432"
GB11643_MIN_BIRTH_DATE = date(1800, 1, 1)

GB32100_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
GB32100_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_GB32100_VALUES = {c: i for i, c in enumerate(GB32100_ALPHABET)}

_MOBILE_CN = re.compile(r"1[3-9][0-9]{9}")
EMAIL_MAX_LENGTH = 254

MESSAGES: dict[str, dict[str, str]] = {
    "gb11643.length": {
        "zh-CN": "公民身份号码应为18位",
        "en": "citizen ID number must have 18 characters",
    },
    "gb11643.charset": {
        "zh-CN": "公民身份号码前17位应为数字，最后一位应为数字或X",
        "en": "citizen ID number must be 17 digits followed by a digit or X",
    },
    "gb11643.birth_date": {
        "zh-CN": "公民身份号码中的出生日期无效",
        "en": "citizen ID number contains an invalid birth date",
    },
    "gb11643.checksum": {
        "zh-CN": "公民身份号码校验位不正确",
        "en": "citizen ID number check character is wrong",
    },
    "gb32100.length": {
        "zh-CN": "统一社会信用代码应为18位",
        "en": "unified social credit code must have 18 characters",
    },
    "gb32100.charset": {
        "zh-CN": "统一社会信用代码只能包含数字和除I、O、Z、S、V以外的大写字母",
        "en": "unified social credit code may only contain digits and "
        "upper-case letters other than I, O, Z, S, V",
    },
    "gb32100.checksum": {
        "zh-CN": "统一社会信用代码校验位不正确",
        "en": "unified social credit code check character is wrong",
    },
    "gb2260.format": {
        "zh-CN": "行政区划代码应为6位数字",
        "en": "administrative division code must be 6 digits",
    },
    "gb2260.unknown": {
        "zh-CN": "行政区划代码不存在",
        "en": "unknown administrative division code",
    },
    "mobile_cn.format": {
        "zh-CN": "手机号码应为以1开头的11位数字",
        "en": "mobile number must be 11 digits starting with 1",
    },
    "postal_code_cn.format": {
        "zh-CN": "邮政编码应为6位数字",
        "en": "postal code must be 6 digits",
    },
    "email.length": {
        "zh-CN": "电子邮箱地址过长",
        "en": "email address is too long",
    },
    "email.format": {
        "zh-CN": "电子邮箱地址格式不正确",
        "en": "email address is not valid",
    },
}


def _ascii_digits(value: str) -> bool:
    return all(c in DIGITS for c in value)


def gb11643_check_char(first17: str) -> str:
    """Return the GB 11643 check character for 17 ASCII digits."""
    total = sum(int(c) * w for c, w in zip(first17, GB11643_WEIGHTS, strict=True))
    return GB11643_CHECK_CHARS[total % 11]


def check_gb11643(value: str, *, today: date | None = None) -> str | None:
    """Check a citizen ID number (GB 11643-1999); lower-case x is accepted."""
    if len(value) != 18:
        return "gb11643.length"
    body, last = value[:17], value[17].upper()
    if not _ascii_digits(body) or last not in GB11643_CHECK_CHARS:
        return "gb11643.charset"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "gb11643.birth_date"
    if not GB11643_MIN_BIRTH_DATE <= born <= (today or date.today()):
        return "gb11643.birth_date"
    if gb11643_check_char(body) != last:
        return "gb11643.checksum"
    return None


def normalize_gb11643(value: str) -> str:
    """Return the stored form of a citizen ID number: check character ``X`` upper case."""
    return value.upper()


def gb32100_check_char(first17: str) -> str:
    """Return the GB 32100 check character for 17 characters of :data:`GB32100_ALPHABET`."""
    total = sum(_GB32100_VALUES[c] * w for c, w in zip(first17, GB32100_WEIGHTS, strict=True))
    return GB32100_ALPHABET[(31 - total % 31) % 31]


def check_gb32100(value: str) -> str | None:
    """Check a unified social credit code (GB 32100-2015)."""
    if len(value) != 18:
        return "gb32100.length"
    if any(c not in _GB32100_VALUES for c in value):
        return "gb32100.charset"
    if gb32100_check_char(value[:17]) != value[17]:
        return "gb32100.checksum"
    return None


def check_gb2260(value: str, known_codes: Collection[str] | None = None) -> str | None:
    """Check an administrative division code (GB/T 2260): 6 digits, in ``known_codes`` if given."""
    if len(value) != 6 or not _ascii_digits(value):
        return "gb2260.format"
    if known_codes is not None and value not in known_codes:
        return "gb2260.unknown"
    return None


def check_mobile_cn(value: str) -> str | None:
    """Check a mainland mobile number: ``1[3-9]`` followed by 9 digits."""
    return None if _MOBILE_CN.fullmatch(value) else "mobile_cn.format"


def check_postal_code_cn(value: str) -> str | None:
    """Check a mainland postal code: 6 digits."""
    return None if len(value) == 6 and _ascii_digits(value) else "postal_code_cn.format"


def check_email(value: str) -> str | None:
    """Pragmatic email check: one ``@``, a local part, a dotted domain, no spaces."""
    if len(value) > EMAIL_MAX_LENGTH:
        return "email.length"
    if value.count("@") != 1 or any(c.isspace() for c in value):
        return "email.format"
    local, domain = value.split("@")
    labels = domain.split(".")
    if not local or len(labels) < 2 or not all(labels):
        return "email.format"
    return None


CHECKS: dict[str, Callable[..., str | None]] = {
    "gb11643": check_gb11643,
    "gb32100": check_gb32100,
    "gb2260": check_gb2260,
    "mobile_cn": check_mobile_cn,
    "postal_code_cn": check_postal_code_cn,
    "email": check_email,
}


def message(code: str, lang: str = "zh-CN") -> str:
    """Return the message for an error code in ``lang`` (``zh-CN`` or ``en``)."""
    return MESSAGES[code][lang]


def mask(value: str) -> str:
    """Mask a sensitive value with ``*``, keeping its length.

    - 12 characters or more: keep the first 4 and the last 4
      (``440305199003070014`` -> ``4403**********0014``).
    - 2 to 11 characters: keep the first ``n // 3``, mask the next ``ceil(n / 3)``
      and keep the rest (``13812345678`` -> ``138****5678``, ``张三`` -> ``*三``).
    - 0 or 1 character: every character is masked.

    So at least a third of the characters (and at least one) are always hidden.
    """
    n = len(value)
    if n >= 12:
        return value[:4] + "*" * (n - 8) + value[-4:]
    if n < 2:
        return "*" * n
    head, hidden = n // 3, -(-n // 3)
    return value[:head] + "*" * hidden + value[head + hidden :]
