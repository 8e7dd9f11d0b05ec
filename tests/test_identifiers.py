"""Tests for runtime.identifiers, with the vectors of /work/shared/domain.md."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime import identifiers as ids

GB11643_VALID = [
    "11010519491231002X",
    "440524188001010014",
    "440882198503293017",
    "53010219200508011X",
    "440305199003070014",
    "310115197806150038",
]
GB11643_INVALID = ["110105194912310021"]
GB11643_ALPHABET = "0123456789X"

GB32100_VALID = [
    "91350100M000100Y43",
    "9135052155323005XL",
    "11100000000013127D",
    "11650000010183859F",
    "92440300L83529307M",
    "12330000727183266J",
    "11440300MB2D072246",
    "914403001318609160",
]
GB32100_INVALID = ["91350100M000100Y44"]
GB32100_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

GB2260_KNOWN = {
    "110000", "310000", "310115", "330000", "330100",
    "440000", "440300", "440305", "440600",
}  # fmt: skip


def reference_gb11643_check(first17: str) -> str:
    """Independent MOD 11-2: weight of position i (from the right, check = 1) is 2**(i-1)."""
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(first17))
    return "10X98765432"[total % 11]


def reference_gb32100_check(first17: str) -> str:
    total = sum(GB32100_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return GB32100_ALPHABET[(31 - total % 31) % 31]


def substitutions(value: str, alphabet: str) -> list[str]:
    return [
        value[:i] + c + value[i + 1 :]
        for i in range(len(value))
        for c in alphabet
        if c != value[i].upper()
    ]


# --- GB 11643 --------------------------------------------------------------


def test_gb11643_weights_match_domain() -> None:
    domain = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    assert domain == ids.GB11643_WEIGHTS
    assert domain == tuple(pow(2, 17 - i, 11) for i in range(17))


@pytest.mark.parametrize(
    ("value", "code"),
    [
        *((value, None) for value in GB11643_VALID),
        *((value, "gb11643.checksum") for value in GB11643_INVALID),
        ("", "gb11643.length"),
        ("11010519491231002", "gb11643.length"),
        ("11010519491231002XX", "gb11643.length"),
        ("1101051949123100X2", "gb11643.charset"),
        ("11010519491231002Y", "gb11643.charset"),
        ("１１０１０５１９４９１２３１００２Ｘ", "gb11643.charset"),  # full-width
        ("11010519491231002 ", "gb11643.charset"),
        ("110105194902300021", "gb11643.birth_date"),  # 30 February
        ("110105194913010021", "gb11643.birth_date"),  # month 13
        ("110105179912310021", "gb11643.birth_date"),  # before 1800
    ],
)
def test_gb11643(value: str, code: str | None) -> None:
    assert ids.check_gb11643(value) == code


def test_gb11643_birth_date_not_in_future() -> None:
    first17 = "11010520300101001"
    value = first17 + reference_gb11643_check(first17)
    assert ids.check_gb11643(value, today=date(2029, 12, 31)) == "gb11643.birth_date"
    assert ids.check_gb11643(value, today=date(2030, 1, 1)) is None


def test_gb11643_lower_case_x_accepted_and_normalized() -> None:
    assert ids.check_gb11643("11010519491231002x") is None
    assert ids.normalize_gb11643("11010519491231002x") == "11010519491231002X"
    assert ids.normalize_gb11643("440305199003070014") == "440305199003070014"


@pytest.mark.parametrize("value", GB11643_VALID)
def test_gb11643_every_single_substitution_rejected(value: str) -> None:
    changed = substitutions(value, GB11643_ALPHABET)
    assert len(changed) == 18 * 10
    accepted = [v for v in changed if ids.check_gb11643(v) is None]
    assert accepted == []


@st.composite
def gb11643_ids(draw: st.DrawFn) -> str:
    address = draw(st.text("0123456789", min_size=6, max_size=6))
    born = draw(st.dates(min_value=date(1800, 1, 1), max_value=date.today()))
    sequence = draw(st.integers(0, 999))
    first17 = f"{address}{born:%Y%m%d}{sequence:03d}"
    return first17 + reference_gb11643_check(first17)


@given(gb11643_ids())
def test_generated_gb11643_accepted(value: str) -> None:
    assert ids.check_gb11643(value) is None
    assert ids.check_gb11643(value.lower()) is None
    assert ids.normalize_gb11643(value.lower()) == value


@given(gb11643_ids(), st.integers(0, 17), st.sampled_from(GB11643_ALPHABET))
def test_generated_gb11643_substitution_rejected(value: str, pos: int, char: str) -> None:
    if char == value[pos]:
        return
    assert ids.check_gb11643(value[:pos] + char + value[pos + 1 :]) is not None


# --- GB 32100 --------------------------------------------------------------


def test_gb32100_check_value_31_becomes_0() -> None:
    assert ids.gb32100_check_char("91440300131860916") == "0"


def test_gb32100_weights_match_domain() -> None:
    domain = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    assert domain == ids.GB32100_WEIGHTS
    assert domain == tuple(pow(3, i, 31) for i in range(17))


@pytest.mark.parametrize(
    ("value", "code"),
    [
        *((value, None) for value in GB32100_VALID),
        *((value, "gb32100.checksum") for value in GB32100_INVALID),
        ("", "gb32100.length"),
        ("91350100M000100Y4", "gb32100.length"),
        ("91350100I000100Y43", "gb32100.charset"),
        ("91350100O000100Y43", "gb32100.charset"),
        ("91350100Z000100Y43", "gb32100.charset"),
        ("91350100S000100Y43", "gb32100.charset"),
        ("91350100V000100Y43", "gb32100.charset"),
        ("91350100m000100y43", "gb32100.charset"),
        ("91350100-000100Y43", "gb32100.charset"),
    ],
)
def test_gb32100(value: str, code: str | None) -> None:
    assert ids.check_gb32100(value) == code


@pytest.mark.parametrize("value", GB32100_VALID)
def test_gb32100_every_single_substitution_rejected(value: str) -> None:
    changed = substitutions(value, GB32100_ALPHABET)
    assert len(changed) == 18 * 30
    accepted = [v for v in changed if ids.check_gb32100(v) is None]
    assert accepted == []


@given(st.text(GB32100_ALPHABET, min_size=17, max_size=17))
def test_generated_gb32100_accepted(first17: str) -> None:
    assert ids.check_gb32100(first17 + reference_gb32100_check(first17)) is None


# --- other checks ----------------------------------------------------------


def test_gb2260() -> None:
    assert ids.check_gb2260("440305") is None
    assert ids.check_gb2260("440305", GB2260_KNOWN) is None
    assert ids.check_gb2260("440399", GB2260_KNOWN) == "gb2260.unknown"
    for bad in ["", "44030", "4403051", "44030a", "４４０３０５"]:
        assert ids.check_gb2260(bad, GB2260_KNOWN) == "gb2260.format"


@pytest.mark.parametrize("value", ["13812345678", "19912345678", "15000000000"])
def test_mobile_valid(value: str) -> None:
    assert ids.check_mobile_cn(value) is None


@pytest.mark.parametrize(
    "value",
    ["", "1381234567", "138123456789", "12812345678", "23812345678", "+8613812345678",
     "138 1234 5678", "1381234567８", "13812345678\n"],
)  # fmt: skip
def test_mobile_invalid(value: str) -> None:
    assert ids.check_mobile_cn(value) == "mobile_cn.format"


def test_postal_code() -> None:
    assert ids.check_postal_code_cn("518000") is None
    for bad in ["", "51800", "5180000", "51800a", "５１８０００"]:
        assert ids.check_postal_code_cn(bad) == "postal_code_cn.format"


@pytest.mark.parametrize(
    "value", ["zhang.san@example.com", "a@b.cn", "x+tag@mail.gov.cn", "张三@例子.中国"]
)
def test_email_valid(value: str) -> None:
    assert ids.check_email(value) is None


@pytest.mark.parametrize(
    "value",
    ["", "example.com", "@example.com", "a@example", "a@@example.com", "a@b@example.com",
     "a b@example.com", "a@example.com ", "a@.com", "a@example.", "a@example..com",
     "a@exa\tmple.com"],
)  # fmt: skip
def test_email_invalid(value: str) -> None:
    assert ids.check_email(value) == "email.format"


def test_email_length() -> None:
    domain = "@example.com"
    assert ids.check_email("a" * (254 - len(domain)) + domain) is None
    assert ids.check_email("a" * (255 - len(domain)) + domain) == "email.length"


# --- registry and messages -------------------------------------------------


def test_registry_names() -> None:
    assert set(ids.CHECKS) == {
        "gb11643", "gb32100", "gb2260", "mobile_cn", "postal_code_cn", "email",
    }  # fmt: skip


def test_every_error_code_has_messages() -> None:
    produced = {
        ids.check_gb11643(""), ids.check_gb11643("1101051949123100X2"),
        ids.check_gb11643("110105194902300021"), ids.check_gb11643("110105194912310021"),
        ids.check_gb32100(""), ids.check_gb32100("91350100I000100Y43"),
        ids.check_gb32100("91350100M000100Y44"), ids.check_gb2260("x"),
        ids.check_gb2260("440399", GB2260_KNOWN), ids.check_mobile_cn(""),
        ids.check_postal_code_cn(""), ids.check_email(""), ids.check_email("a" * 255),
    }  # fmt: skip
    assert produced == set(ids.MESSAGES)
    for code, texts in ids.MESSAGES.items():
        assert list(texts) == ["zh-CN", "en"], code
        assert all(texts.values()), code
        assert code.split(".")[0] in ids.CHECKS
    assert ids.message("gb11643.checksum") == "公民身份号码校验位不正确"
    assert ids.message("gb11643.checksum", "en") == "citizen ID number check character is wrong"


# --- masking ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("440305199003070014", "4403**********0014"),
        ("91350100M000100Y43", "9135**********0Y43"),
        ("13812345678", "138****5678"),
        ("张三", "*三"),
        ("张三丰", "张*丰"),
        ("a", "*"),
        ("", ""),
    ],
)
def test_mask_examples(value: str, masked: str) -> None:
    assert ids.mask(value) == masked


@given(st.text(min_size=18, max_size=18))
def test_mask_reveals_at_most_8_of_18(value: str) -> None:
    masked = ids.mask(value)
    assert len(masked) == 18
    assert sum(c != "*" for c in masked) <= 8


@given(st.text(st.characters(blacklist_characters="*"), max_size=40))
def test_mask_never_reveals_whole_value(value: str) -> None:
    masked = ids.mask(value)
    assert len(masked) == len(value)
    hidden = sum(c == "*" for c in masked)
    assert hidden >= min(len(value), max(1, len(value) // 3))
    assert all(m in ("*", v) for m, v in zip(masked, value, strict=True))
