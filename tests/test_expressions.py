"""CEL expressions: validate-time checking and run-time evaluation."""

from __future__ import annotations

from typing import Any

import pytest

from generator.expressions import ExprProblem, check_expression
from runtime.expressions import (
    BOOL,
    DOUBLE,
    DYN,
    INT,
    STRING,
    CelType,
    ExpressionError,
    bind_variables,
    compile_expression,
    evaluate,
    evaluate_condition,
    list_of,
    record,
)

ROW = record({"person_name": STRING, "age": INT, "relation": STRING, "tags": list_of(STRING)})
ENV: dict[str, CelType] = {
    "organization_form": STRING,
    "registered_capital": DOUBLE,
    "employees": INT,
    "established_days": INT,
    "agent_used": BOOL,
    "operator_phone": STRING,
    "extra": DYN,
    "members": list_of(ROW),
}

GOOD = [
    "organization_form == '2'",
    "size(members) >= 1",
    "registered_capital > 0.0",
    "employees >= 3 && established_days <= 1095",
    "agent_used",
    "!agent_used || employees > 100",
    "operator_phone.startsWith('138') && operator_phone.endsWith('0')",
    "operator_phone.contains('00') && operator_phone.matches('^1[3-9][0-9]{9}$')",
    "organization_form in ['1', '2']",
    "employees in [1, 2, 3]",
    "members.all(m, m.age >= 18)",
    "members.exists(m, m.relation == '01')",
    "members.exists_one(m, m.age < 18)",
    "members.filter(m, m.age >= 18).size() == 1",
    "members.map(m, m.age).exists(a, a > 60)",
    "members.exists(m, m.tags.exists(t, t == 'x'))",
    "has(members[0].relation)",
    "(employees > 3 ? 'big' : 'small') == 'big'",
    "double(employees) / 2.0 > registered_capital",
    "int(registered_capital) % 2 == 0 && string(employees) == '5'",
    "extra == 1 || extra == 'a'",  # dyn field
    "organization_form == '2' &&\n  size(members) > 0",  # multi-line (YAML block scalar)
]


@pytest.mark.parametrize("source", GOOD)
def test_checker_accepts(source: str) -> None:
    assert check_expression(source, ENV) == []


def _one(source: str, expected: CelType | None = BOOL) -> ExprProblem:
    problems = check_expression(source, ENV, expected)
    assert len(problems) == 1, problems
    return problems[0]


@pytest.mark.parametrize(
    ("source", "column", "words"),
    [
        ("organisation_form == '2'", 0, ["unknown name 'organisation_form'", "organization_form"]),
        (
            "employees > 3 && agnt_used",
            17,
            ["unknown name 'agnt_used'", "did you mean 'agent_used'"],
        ),
        ("members.all(m, m.agee >= 18)", 16, ["unknown field 'agee'", "'members'", "age"]),
        ("organization_form.lowerAscii() == 'a'", 18, ["unknown function 'lowerAscii'"]),
        ("organization_form > 3", 18, ["type error", "`>`", "string, int"]),
        ("registered_capital > 0", 19, ["type error", "double, int", "implicit int/double"]),
        ("employees + 'x' == 'a'", 10, ["type error", "`+`"]),
        ("agent_used && employees", 11, ["type error", "`&&`"]),
        ("size(employees) > 0", 4, ["type error", "size"]),
        ("members.exists(m, m.age == '18')", 24, ["type error", "int, string"]),
        ("employees == 3 ? 'a' : 1", 15, ["type error", "?:"]),
        ("employees >", 11, ["syntax error at column 11", "end of expression"]),
        ("organization_form == '2", 21, ["syntax error"]),
        ("", 0, ["syntax error", "empty"]),
        ("has(members)", 4, ["has()"]),
        ("organization_form == '2' &&\n  employees > 'x'", 40, ["type error"]),
    ],
)
def test_checker_rejects(source: str, column: int, words: list[str]) -> None:
    problem = _one(source)
    for word in words:
        assert word in problem.message, problem
    assert problem.column == column, problem


def test_several_problems_are_all_reported() -> None:
    problems = check_expression("xx == 1 && yy == 2", ENV)
    assert [p.column for p in problems] == [0, 11]


def test_column_counts_characters_not_bytes() -> None:
    assert _one("'中文中文' == organization_form && employees > 'x'").column == 41


@pytest.mark.parametrize(
    ("source", "expected", "ok"),
    [
        ("employees", BOOL, False),
        ("employees", INT, True),
        ("employees", DOUBLE, False),
        ("employees", None, True),
        ("members.map(m, m.age)", list_of(INT), True),
        ("members.map(m, m.age)", BOOL, False),
        ("extra", BOOL, True),  # dyn is accepted, decided at run time
    ],
)
def test_result_type(source: str, expected: CelType | None, ok: bool) -> None:
    problems = check_expression(source, ENV, expected)
    assert (problems == []) == ok, problems
    if not ok:
        assert "must be" in problems[0].message


MEMBERS = [
    {"person_name": "张三", "age": 40, "relation": "01"},
    {"person_name": "李四", "age": 17, "relation": "02"},
]
DATA: dict[str, Any] = {
    "organization_form": "2",
    "registered_capital": 50000,  # an int in JSON; bind_variables makes it 50000.0
    "employees": 5,
    "established_days": 400,
    "agent_used": True,
    "operator_phone": "13800138000",
    "members": MEMBERS,
}


@pytest.mark.parametrize(
    ("source", "result"),
    [
        ("organization_form == '2'", True),
        ("size(members) >= 1", True),
        ("registered_capital > 0.0", True),
        ("registered_capital * 2.0", 100000.0),
        ("employees >= 3 && established_days <= 1095", True),
        ("agent_used", True),
        ("operator_phone.startsWith('138')", True),
        ("operator_phone.matches('^1[3-9][0-9]{9}$')", True),
        ("size('中文')", 2),
        ("organization_form in ['1', '2']", True),
        ("employees in [1, 2, 3]", False),
        ("members.all(m, m.age >= 18)", False),
        ("members.exists(m, m.relation == '01')", True),
        ("members.exists_one(m, m.age < 18)", True),
        ("members.filter(m, m.age >= 18).map(m, m.person_name)", ["张三"]),
        ("has(members[0].relation) && !has(members[0].email)", True),
        ("employees > 3 ? 'big' : 'small'", "big"),
        ("employees / 2", 2),
        ("-7 % 3", -1),
        ("double(employees) / 2.0", 2.5),
        ("int('12') + 1", 13),
        ("1 == 1.0", True),
    ],
)
def test_evaluate(source: str, result: object) -> None:
    value = evaluate(compile_expression(source), bind_variables(DATA, ENV))
    assert value == result
    assert type(value) is type(result)


@pytest.mark.parametrize(
    ("source", "data", "when", "holds"),
    [
        ("organization_form == '2'", {}, False, True),
        ("employees < 3", {"employees": None}, False, True),  # not a zero value
        ("organization_form == '1' || agent_used", {"agent_used": True}, True, True),
        ("organization_form == '1' && agent_used", {"agent_used": False}, False, False),
        ("members.all(m, m.age >= 18)", {"members": [{"age": 20}, {"age": None}]}, False, True),
        ("size(members) == 0", {"members": []}, True, True),
        ("employees / 0 == 1", {"employees": 1}, False, True),
    ],
)
def test_absent_fields(source: str, data: dict[str, Any], when: bool, holds: bool) -> None:
    compiled = compile_expression(source)
    assert evaluate_condition(compiled, data) is when
    assert evaluate_condition(compiled, data, on_error=True) is holds


def test_evaluate_raises_on_error_result() -> None:
    with pytest.raises(ExpressionError, match="organization_form"):
        evaluate(compile_expression("organization_form == '2'"), {})
    with pytest.raises(ExpressionError):
        evaluate(compile_expression("9223372036854775807 + 1"), {})


def test_compile() -> None:
    assert compile_expression("employees > 1") is compile_expression("employees > 1")
    with pytest.raises(ExpressionError, match="cannot compile"):
        compile_expression("employees >")


def test_bind_variables() -> None:
    bound = bind_variables(
        {"registered_capital": 3, "employees": 3, "agent_used": None, "members": [{"age": None}]},
        {
            "registered_capital": DOUBLE,
            "employees": INT,
            "members": list_of(record({"age": DOUBLE})),
        },
    )
    assert bound == {"registered_capital": 3.0, "employees": 3, "members": [{}]}
    assert type(bound["registered_capital"]) is float
    assert str(list_of(ROW)).startswith("list(record{age: int")
