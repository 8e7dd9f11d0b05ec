"""Policy conditions: top-level && parts, undecided parts, words, and the fast path of
string methods giving the CEL engine's results."""

from __future__ import annotations

import pytest

from runtime.expressions import ExpressionError, compile_expression, evaluate
from runtime.fastcel import ERROR, fast_condition
from runtime.policies import conditions, decide, parts


def test_parts_split_only_at_the_top() -> None:
    assert parts("a >= 3 && (b || c) && d == 'x && y'") == ("a >= 3", "b || c", "d == 'x && y'")
    assert parts("((a && b))") == ("a", "b")
    assert parts("(a || b) && (c)") == ("a || b", "c")
    assert parts("f(a && b, c) && [1, 2].size() > 0") == ("f(a && b, c)", "[1, 2].size() > 0")


def test_unanswered_is_undecided_never_false() -> None:
    fields = ["employees", "region"]
    first, second = conditions("employees >= 3 && region.startsWith('44')")
    assert decide(first, {}, fields) is None
    assert decide(first, {"employees": 2}, fields) is False
    assert decide(second, {"region": "440305"}, fields) is True
    either = conditions("employees >= 3 || region.startsWith('44')")[0]
    assert decide(either, {"region": "440305"}, fields) is True  # decided without employees
    wrong = conditions("employees.startsWith('4')")[0]  # answered, but of the wrong type
    assert decide(wrong, {"employees": 4}, fields) is False


@pytest.mark.parametrize(
    ("source", "variables"),
    [
        ("a.startsWith('44')", {"a": "440305"}),
        ("a.startsWith('44')", {"a": "330106"}),
        ("a.startsWith('')", {"a": ""}),
        ("a.endsWith('05')", {"a": "440305"}),
        ("a.contains('03')", {"a": "440305"}),
        ("a.contains('南山')", {"a": "深圳市南山区"}),
        ("a.startsWith('44')", {}),
        ("a.startsWith('44') || b", {"b": True}),
        ("!a.startsWith('44') && b", {"a": "44", "b": True}),
    ],
)
def test_fast_string_methods_match_the_engine(source: str, variables: dict[str, object]) -> None:
    fast = fast_condition(source)
    assert fast is not None
    try:
        expected: object = evaluate(compile_expression(source), variables)
    except ExpressionError:
        expected = ERROR
    assert fast(variables) == expected


def test_methods_outside_the_subset_go_to_the_engine() -> None:
    assert fast_condition("a.matches('^44')") is None
    assert fast_condition("a.startsWith(b)") is None
    assert fast_condition("a.b") is None
