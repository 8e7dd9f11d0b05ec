"""Policy conditions: top-level && parts, undecided parts, words."""

from __future__ import annotations

from runtime.policies import conditions, decide, parts


def test_parts_split_only_at_the_top() -> None:
    assert parts("a >= 3 && (b || c) && d == 'x && y'") == ("a >= 3", "b || c", "d == 'x && y'")
    assert parts("((a && b))") == ("a", "b")
    assert parts("(a || b) && (c)") == ("a || b", "c")
    assert parts("f(a && b, c) && [1, 2].size() > 0") == ("f(a && b, c)", "[1, 2].size() > 0")
    # an escaped quote stays inside its string: the parentheses around it still enclose it
    assert parts("(a == 'it\\'s (') && b") == ("a == 'it\\'s ('", "b")


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
