"""runtime.validation: cleaned data and errors of a submission against a FormSpec."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from generator.build import build_package
from generator.pipeline import check_tree
from generator.render.forms import form_spec
from runtime.formspec import FieldSpec, FormSpec, GroupSpec, RuleSpec, expression_names, localized
from runtime.identifiers import MESSAGES as ID_MESSAGES
from runtime.types import FieldProblem
from runtime.validation import MESSAGES, message, validate_submission
from tests.helpers import FIXTURE

TODAY = date(2026, 3, 1)
ID_OK = "11010519491231002X"
ID_OK_LOWER = "11010519491231002x"
ID_OK_2 = "440524188001010014"
ID_BAD_CHECKSUM = "110105194912310021"
USC_OK = "91350100M000100Y43"


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


def _field(fid: str, zh: str, en: str, type_: str, **kwargs: Any) -> FieldSpec:
    """A field named after its data element."""
    return FieldSpec(fid, fid, _label(zh, en), type_, **kwargs)  # type: ignore[arg-type]


# A form by hand with every type and constraint.
FORM = FormSpec(
    id="everything",
    name=_label("全部类型", "Everything"),
    fields=(
        _field("name", "名称", "Name", "string", min_length=2, max_length=5,
               patterns=("[A-Z].*", ".*[a-z]")),
        _field("note", "备注", "Note", "text", required=False),
        _field("count", "数量", "Count", "integer", minimum=1, maximum=10),
        _field("amount", "金额", "Amount", "decimal", minimum=0.1, maximum=5000, digits=6,
               fraction_digits=2, unit="元"),
        _field("flag", "标志", "Flag", "boolean"),
        _field("day", "日期", "Day", "date"),
        _field("at", "时间", "Time", "datetime", required=False),
        _field("colors", "颜色", "Colors", "code", required=False, multiple=True,
               codeset="color", codes=("r", "g", "b")),
        _field("area", "区划", "Area", "code", codeset="admin_division",
               codes=("440300", "440305"), check="gb2260"),
        _field("usc", "信用代码", "USC code", "string", required=False, check="gb32100"),
        _field("postal", "邮编", "Postal code", "string", required=False, check="postal_code_cn"),
        _field("mail", "邮箱", "Email", "string", required=False, check="email"),
        _field("phone", "手机", "Mobile", "string", required=False, check="mobile_cn"),
        _field("doc", "文件", "File", "file", required=False),
        _field("id_number", "身份证号", "ID number", "string", required=False, check="gb11643",
               sensitive=True, prefill="identity.id_number"),
        _field("reason", "原因", "Reason", "string", when="flag"),
        _field("details", "详情", "Details", "string", required="count > 5"),
    ),
    groups=(
        GroupSpec(
            id="items",
            name=_label("明细", "Items"),
            min=1,
            max=2,
            fields=(
                _field("item", "品名", "Item", "string"),
                _field("qty", "件数", "Quantity", "integer", required=False),
                _field("why", "说明", "Why", "string", when="qty > 1"),
                _field("holder", "持有人", "Holder", "string", required=False, check="gb11643"),
            ),
        ),
    ),
    rules=(
        RuleSpec(
            "big_count_big_amount",
            "count < 8 || amount >= 100.0",
            _label("数量大时金额须不少于100", "a big count needs an amount of 100 or more"),
        ),
    ),
)  # fmt: skip

VALID: dict[str, Any] = {
    "name": "Abc",
    "count": 3,
    "amount": "12.50",
    "flag": False,
    "day": "2024-02-29",
    "area": "440305",
    "items": [{"item": "书", "qty": 1}],
}


def validate(data: object, **kwargs: Any) -> tuple[dict[str, object], list[FieldProblem]]:
    kwargs.setdefault("today", TODAY)
    return validate_submission(FORM, data, **kwargs)


def codes(errors: list[FieldProblem]) -> list[tuple[str, str]]:
    return [(e.path, e.code) for e in errors]


def with_(**changes: Any) -> dict[str, Any]:
    data = dict(VALID)
    for key, value in changes.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    return data


# --- valid submissions and cleaning ---------------------------------------------------


def test_valid_submission_is_cleaned() -> None:
    cleaned, errors = validate(VALID)
    assert errors == []
    assert cleaned == {
        "name": "Abc",
        "count": 3,
        "amount": Decimal("12.50"),
        "flag": False,
        "day": date(2024, 2, 29),
        "area": "440305",
        "items": [{"item": "书", "qty": 1}],
    }
    assert isinstance(cleaned["amount"], Decimal)


def test_values_are_normalized() -> None:
    cleaned, errors = validate(
        with_(
            name="  Abc ",
            amount=7,
            at="2026-03-01T08:30:00",
            colors=["r", " b"],
            id_number=ID_OK_LOWER,
            usc=USC_OK,
            postal="518000",
            mail="a@example.cn",
            phone="13812345678",
            doc="upload-1",
            note="  两行\n文字 ",
        )
    )
    assert errors == []
    assert cleaned["name"] == "Abc"
    assert cleaned["amount"] == Decimal(7)
    assert cleaned["at"] == datetime(2026, 3, 1, 8, 30, tzinfo=timezone(timedelta(hours=8)))
    assert cleaned["colors"] == ["r", "b"]
    assert cleaned["id_number"] == ID_OK  # upper-case X
    assert cleaned["note"] == "  两行\n文字 "  # text is kept as written


def test_aware_datetime_and_float_decimal() -> None:
    cleaned, errors = validate(with_(at="2026-03-01T08:30:00Z", amount=0.1))
    assert errors == []
    assert cleaned["at"] == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    assert cleaned["amount"] == Decimal("0.1")  # not 0.1000000000000000055…, and == minimum


def test_empty_values_count_as_missing_and_are_left_out() -> None:
    cleaned, errors = validate(with_(note="", at=None, colors=[], usc="   ", doc=""))
    assert errors == []
    for key in ("note", "at", "colors", "usc", "doc"):
        assert key not in cleaned


def test_integral_float_is_an_integer() -> None:
    cleaned, errors = validate(with_(count=4.0))
    assert errors == []
    assert cleaned["count"] == 4 and isinstance(cleaned["count"], int)


# --- error codes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": ...}, ("name", "required")),
        ({"name": ""}, ("name", "required")),
        ({"name": None}, ("name", "required")),
        ({"name": 5}, ("name", "type")),
        ({"name": "Abcdef"}, ("name", "max_length")),
        ({"name": "A"}, ("name", "min_length")),
        ({"name": "abc"}, ("name", "pattern")),
        ({"name": "ABC"}, ("name", "pattern")),  # the second pattern
        ({"count": True}, ("count", "type")),  # bool is not an integer
        ({"count": "3"}, ("count", "type")),
        ({"count": 3.5}, ("count", "type")),
        ({"count": 0}, ("count", "minimum")),
        ({"count": 11}, ("count", "maximum")),
        ({"count": 2**64}, ("count", "maximum")),
        ({"amount": "1.234"}, ("amount", "digits")),
        ({"amount": 12345.5}, ("amount", "digits")),
        ({"amount": "0.05"}, ("amount", "minimum")),
        ({"amount": "5000.01"}, ("amount", "maximum")),
        ({"amount": "1e3"}, ("amount", "type")),
        ({"amount": float("nan")}, ("amount", "type")),
        ({"amount": False}, ("amount", "type")),
        ({"flag": "false"}, ("flag", "type")),
        ({"flag": 0}, ("flag", "type")),
        ({"day": "2023-02-29"}, ("day", "date")),
        ({"day": "20240229"}, ("day", "date")),
        ({"day": "2024-2-9"}, ("day", "date")),
        ({"day": 20240229}, ("day", "type")),
        ({"at": "2026-03-01 08:30"}, ("at", "datetime")),
        ({"at": "2026-02-30T08:30"}, ("at", "datetime")),
        ({"colors": ["r", "x"]}, ("colors", "choices")),
        ({"colors": ["r", "r"]}, ("colors", "duplicate")),
        ({"colors": "r"}, ("colors", "type")),
        ({"colors": ["r", 1]}, ("colors", "type")),
        ({"area": "440399"}, ("area", "gb2260.unknown")),
        ({"area": "4403"}, ("area", "gb2260.format")),
        ({"usc": "91350100M000100Y44"}, ("usc", "gb32100.checksum")),
        ({"postal": "51800"}, ("postal", "postal_code_cn.format")),
        ({"mail": "a@b"}, ("mail", "email.format")),
        ({"phone": "12812345678"}, ("phone", "mobile_cn.format")),
        ({"id_number": ID_BAD_CHECKSUM}, ("id_number", "gb11643.checksum")),
        ({"id_number": "110105300012310020"}, ("id_number", "gb11643.birth_date")),
        ({"doc": 1}, ("doc", "type")),
        ({"items": []}, ("items", "min_rows")),
        ({"items": ...}, ("items", "min_rows")),
        ({"items": [{"item": "a"}] * 3}, ("items", "max_rows")),
        ({"items": {"item": "a"}}, ("items", "type")),
        ({"items": ["a"]}, ("items[0]", "type")),
        ({"items": [{"item": "a", "qty": "1"}]}, ("items[0].qty", "type")),
        ({"items": [{}]}, ("items[0].item", "required")),
        ({"extra": 1}, ("extra", "unknown_field")),
        ({"count": 9, "details": "x"}, ("big_count_big_amount", "rule")),
    ],
)
def test_error_codes(changes: dict[str, Any], expected: tuple[str, str]) -> None:
    _, errors = validate(with_(**changes))
    assert codes(errors) == [expected]


def test_every_message_code_has_zh_and_en() -> None:
    for code, (zh, en) in MESSAGES.items():
        assert zh and en and zh != en, code
    assert message("required", "en", label="Name") == "Name is required"
    assert message("gb11643.checksum") == ID_MESSAGES["gb11643.checksum"]["zh-CN"]


def test_data_must_be_an_object() -> None:
    assert codes(validate(["a"])[1]) == [("", "type")]
    assert codes(validate(None)[1]) == [("", "type")]


def test_unknown_fields_are_refused_even_with_valid_data() -> None:
    cleaned, errors = validate(with_(is_admin=True, **{"items": [{"item": "a", "price": 1}]}))
    assert codes(errors) == [("is_admin", "unknown_field"), ("items[0].price", "unknown_field")]
    assert "is_admin" not in cleaned
    assert cleaned["items"] == [{"item": "a"}]


def test_paths_in_rows() -> None:
    rows = [
        {"item": "a", "holder": ID_OK_2},
        {"item": "b", "holder": ID_BAD_CHECKSUM},
    ]
    _, errors = validate(with_(items=rows))
    assert codes(errors) == [("items[1].holder", "gb11643.checksum")]


def test_errors_are_in_form_order_and_one_per_field() -> None:
    _, errors = validate(with_(name="a", count=True, extra=1, day="x", items=[{"qty": 0}]))
    assert codes(errors) == [
        ("extra", "unknown_field"),
        ("name", "min_length"),
        ("count", "type"),
        ("day", "date"),
        ("items[0].item", "required"),
    ]


# --- conditions -------------------------------------------------------------------------


def test_when_false_discards_the_value_and_its_errors() -> None:
    cleaned, errors = validate(with_(flag=False, reason=12345))
    assert errors == []
    assert "reason" not in cleaned


def test_when_true_makes_the_field_required() -> None:
    _, errors = validate(with_(flag=True))
    assert codes(errors) == [("reason", "required")]
    cleaned, errors = validate(with_(flag=True, reason="因为"))
    assert errors == [] and cleaned["reason"] == "因为"


def test_when_in_a_row_sees_the_row() -> None:
    cleaned, errors = validate(with_(items=[{"item": "a", "qty": 1, "why": "x"}]))
    assert errors == [] and cleaned["items"] == [{"item": "a", "qty": 1}]
    _, errors = validate(with_(items=[{"item": "a", "qty": 1}, {"item": "b", "qty": 2}]))
    assert codes(errors) == [("items[1].why", "required")]


def test_required_expression() -> None:
    assert validate(with_(count=5))[1] == []
    assert codes(validate(with_(count=6))[1]) == [("details", "required")]
    assert validate(with_(count=6, details="d"))[1] == []


def test_rule_holds_over_empty_fields() -> None:
    _, errors = validate(with_(count=9, details="d", amount=...))
    assert codes(errors) == [("amount", "required")]  # not also the rule


def test_prefill_from_identity() -> None:
    identity = {"id_number": ID_OK_LOWER, "name": "张三"}
    cleaned, errors = validate(VALID, identity=identity)
    assert errors == [] and cleaned["id_number"] == ID_OK
    cleaned, _ = validate(with_(id_number=ID_OK_2), identity=identity)
    assert cleaned["id_number"] == ID_OK_2  # a submitted value is kept


def test_birth_date_is_checked_against_today() -> None:
    born_2026 = "110105202603010012"  # born on TODAY
    assert validate(with_(id_number=born_2026))[1] == []
    _, errors = validate(with_(id_number=born_2026), today=date(2026, 2, 28))
    assert codes(errors) == [("id_number", "gb11643.birth_date")]


# --- messages -----------------------------------------------------------------------------


def test_messages_zh_by_default_and_en_on_request() -> None:
    data = with_(name=..., count=True, items=[{"item": "a", "holder": ID_BAD_CHECKSUM}])
    _, zh = validate(data)
    _, en = validate(data, lang="en")
    _, en_us = validate(data, lang="en-US")
    assert [e.message for e in zh] == [
        "名称不能为空",
        "数量应为整数",
        "公民身份号码校验位不正确",
    ]
    assert [e.message for e in en] == [
        "Name is required",
        "Count must be an integer",
        "citizen ID number check character is wrong",
    ]
    assert en_us == en
    _, errors = validate(with_(count=9, details="d", amount="1"), lang="en")
    assert errors == [
        FieldProblem(
            "big_count_big_amount",
            "rule",
            "a big count needs an amount of 100 or more",
            ("count", "amount"),
        )
    ]
    _, errors = validate(with_(count=9, details="d", amount="1"))
    assert errors[0].message == "数量大时金额须不少于100"


def test_messages_never_repeat_the_value() -> None:
    secret = "1101051949123100"
    _, errors = validate(with_(id_number=secret + "21", items=[{"item": secret}] * 3))
    assert errors and all(secret not in e.message for e in errors)


# --- helpers of formspec ---------------------------------------------------------------


def test_localized_and_expression_names() -> None:
    assert localized({"zh": "中", "en": "en"}, "en") == "en"
    assert localized({"zh": "中"}, "en") == "中"
    assert localized(None) == ""
    assert {"a", "b", "size", "members"} <= expression_names("a == 'x' && size(members) > b")


# --- a form from the pipeline: the mini tree's ibr_form ----------------------------------


@pytest.fixture(scope="module")
def ibr() -> FormSpec:
    tree, diagnostics, resolved = check_tree([FIXTURE])
    assert not diagnostics.has_errors()
    pkg = build_package(tree, resolved, "a")
    return form_spec(next(f for f in pkg.forms if f.id == "ibr_form"))


IBR_VALID: dict[str, Any] = {
    "person_name": "张三",
    "citizen_id_number": ID_OK,
    "operator_phone": "13812345678",
    "sex": "1",
    "agent_used": False,
    "organization_form": "2",
    "registered_capital": 10.5,
    "business_scope": "餐饮服务",
    "employees": 3,
    "members": [
        {"person_name": "李四", "citizen_id_number": ID_OK_2},
        {"person_name": "王五", "citizen_id_number": ID_OK_2, "sex": "2"},
    ],
}


def test_pipeline_form_valid(ibr: FormSpec) -> None:
    cleaned, errors = validate_submission(ibr, IBR_VALID, today=TODAY)
    assert errors == []
    assert cleaned["registered_capital"] == Decimal("10.5")
    assert cleaned["members"] == IBR_VALID["members"]


def test_pipeline_form_member_path(ibr: FormSpec) -> None:
    members = [
        {"person_name": "李四", "citizen_id_number": ID_OK_2},
        {"person_name": "王五", "citizen_id_number": ID_BAD_CHECKSUM},
    ]
    _, errors = validate_submission(ibr, {**IBR_VALID, "members": members}, today=TODAY)
    assert codes(errors) == [("members[1].citizen_id_number", "gb11643.checksum")]


def test_pipeline_group_discarded_when_its_section_is_hidden(ibr: FormSpec) -> None:
    bad_members = [{"person_name": "x" * 80, "extra": 1}]
    data = {**IBR_VALID, "organization_form": "1", "members": bad_members}
    cleaned, errors = validate_submission(ibr, data, today=TODAY)
    assert errors == []
    assert "members" not in cleaned


def test_pipeline_required_expression_and_rules(ibr: FormSpec) -> None:
    individual = {**IBR_VALID, "organization_form": "1", "employees": None}
    individual.pop("members")
    assert validate_submission(ibr, individual, today=TODAY)[1] == []
    partnership = {**individual, "organization_form": "3"}
    assert codes(validate_submission(ibr, partnership, today=TODAY)[1]) == [
        ("employees", "required")
    ]
    family = {**IBR_VALID}
    family.pop("members")  # absent group: an empty list for the rule
    _, errors = validate_submission(ibr, family, today=TODAY, lang="en")
    fields = ("organization_form", "members")  # a group the rule reads is named whole
    assert errors == [FieldProblem("family_members", "rule", "家庭经营须填写家庭成员", fields)]
    _, errors = validate_submission(ibr, {**IBR_VALID, "registered_capital": 0}, lang="en")
    positive = FieldProblem(
        "capital_positive", "rule", "Capital must be positive", ("registered_capital",)
    )
    assert errors == [positive]


def test_pipeline_choices_narrowed_by_the_field(ibr: FormSpec) -> None:
    _, errors = validate_submission(ibr, {**IBR_VALID, "sex": "9"}, today=TODAY)
    assert codes(errors) == [("sex", "choices")]
    rows = [{"person_name": "李四", "citizen_id_number": ID_OK_2, "sex": "9"}]
    assert validate_submission(ibr, {**IBR_VALID, "members": rows}, today=TODAY)[1] == []


def test_repeated_calls_give_the_same_result(ibr: FormSpec) -> None:
    first = validate_submission(ibr, IBR_VALID, today=TODAY)
    for _ in range(3):
        assert validate_submission(ibr, IBR_VALID, today=TODAY) == first


def test_a_rule_error_names_the_fields_its_expression_reads() -> None:
    """Issue 12 item 7: end date after start date names both dates (not a word in a literal,
    not a field the rule does not read), in form order."""
    leave = FormSpec(
        id="leave",
        name=_label("请假", "Leave"),
        fields=(
            FieldSpec("start_date", "start", _label("开始日期", "Start"), "date"),
            FieldSpec("end_date", "end", _label("结束日期", "End"), "date"),
            FieldSpec("kind", "kind", _label("类别", "Kind"), "string", required=False),
            FieldSpec("amount", "amount", _label("金额", "Amount"), "string", required=False),
        ),
        rules=(
            RuleSpec(
                "end_after_start",
                'end_date > start_date || kind == "amount\'s"',
                _label("结束日期须晚于开始日期", "the end date must be after the start date"),
            ),
        ),
    )
    data = {"start_date": "2024-03-02", "end_date": "2024-03-01", "kind": "a", "amount": "x"}
    _, errors = validate_submission(leave, data, lang="en")
    assert errors == [
        FieldProblem(
            "end_after_start",
            "rule",
            "the end date must be after the start date",
            ("start_date", "end_date", "kind"),
        )
    ]
    _, errors = validate(with_(amount=...))
    assert [(e.path, e.fields) for e in errors] == [("amount", None)]  # only a rule names fields
