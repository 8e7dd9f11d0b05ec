"""runtime.fastcel gives the CEL engine's results on the expressions it accepts."""

from __future__ import annotations

from typing import Any

import cel_expr_python.cel as cel  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.expressions import compile_expression
from runtime.fastcel import ERROR, Fallback, fast_condition

NAMES = ["s", "t", "n", "m", "d", "b", "c", "rows", "unbound"]

strings = st.sampled_from(["'1'", "'2'", "''", "'a'", '"中文"', "'b c'"])
ints = st.sampled_from(["0", "1", "3", "-2", "100000", "9223372036854775807"])
doubles = st.sampled_from(["0.0", "1.5", "-2.25", "100.0"])
bools = st.sampled_from(["true", "false"])
literals = st.one_of(strings, ints, doubles, bools)
names = st.sampled_from(NAMES)
atoms = st.one_of(
    names,
    literals,
    st.sampled_from(["size(s)", "size(rows)", "size(t)", "size(n)"]),
)
relations = st.one_of(
    st.builds(
        lambda a, op, b: f"{a} {op} {b}",
        atoms,
        st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
        atoms,
    ),
    st.builds(
        lambda a, items: f"{a} in [{', '.join(items)}]",
        atoms,
        st.one_of(
            st.lists(strings, min_size=1, max_size=3), st.lists(ints, min_size=1, max_size=3)
        ),
    ),
    names,
)


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda a: f"!{a}", inner),
        st.builds(lambda a: f"({a})", inner),
        st.builds(lambda a, b: f"{a} && {b}", inner, inner),
        st.builds(lambda a, b: f"{a} || {b}", inner, inner),
    )


expressions = st.recursive(relations, _extend, max_leaves=6)

values: dict[str, st.SearchStrategy[Any]] = {
    "s": st.sampled_from(["1", "2", "", "a", "中文"]),
    "t": st.sampled_from(["1", "b c", "z"]),
    "n": st.sampled_from([0, 1, 3, -2, 100000]),
    "m": st.sampled_from([0, 7]),
    "d": st.sampled_from([0.0, 1.5, -2.25, 100.0]),
    "b": st.booleans(),
    "c": st.booleans(),
    "rows": st.lists(st.fixed_dictionaries({"x": st.sampled_from(["1", "2"])}), max_size=2),
}
bindings = st.fixed_dictionaries({}, optional={name: strategy for name, strategy in values.items()})


def _engine(source: str, variables: dict[str, Any]) -> Any:
    result = compile_expression(source).program.eval(data=variables)
    if result.type() == cel.Type.ERROR:
        return ERROR
    return result.plain_value()


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions, bindings)
def test_fast_path_agrees_with_the_engine(source: str, variables: dict[str, Any]) -> None:
    fast = fast_condition(source)
    assert fast is not None, source
    try:
        got = fast(variables)
    except Fallback:
        return
    expected = _engine(source, variables)
    assert got is expected or (type(got) is type(expected) and got == expected), (
        source,
        variables,
        got,
        expected,
    )


@pytest.mark.parametrize(
    ("source", "variables", "expected"),
    [
        ("organization_form == '2'", {"organization_form": "2"}, True),
        ("organization_form == '2'", {}, ERROR),
        ("a && b", {"a": False}, False),
        ("b && a", {"a": False}, False),
        ("a || b", {"b": True}, True),
        ("a || b", {"a": False}, ERROR),
        ("!a", {}, ERROR),
        (
            "employees >= 3 && established_days <= 1095",
            {"employees": 3, "established_days": 5},
            True,
        ),
        ("registered_capital > 0.0", {"registered_capital": 0.5}, True),
        (
            "organization_form != '2' || size(members) >= 1",
            {"organization_form": "2", "members": []},
            False,
        ),
        ("x in ['1', '2']", {"x": "2"}, True),
        ("x in [1, 2]", {"x": 3}, False),
        ("-1 < x", {"x": 0}, True),
    ],
)
def test_examples(source: str, variables: dict[str, Any], expected: object) -> None:
    fast = fast_condition(source)
    assert fast is not None
    assert fast(variables) is expected or fast(variables) == expected
    assert _engine(source, variables) == expected or expected is ERROR


@pytest.mark.parametrize(
    "source",
    [
        "members.all(m, m.x == '1')",
        "a + 1 > 2",
        "a ? b : c",
        "has(a.b)",
        "a == 'it\\'s'",
        "a == 1u",
        "a == 1e3",
        "a < b < c",
        "matches(a, '^1')",
        "a == null",
        "a.size() > 1",
        "007 == a",
        "99999999999999999999 == a",
        "",
        "a ==",
    ],
)
def test_outside_the_subset(source: str) -> None:
    assert fast_condition(source) is None


def test_mixed_types_fall_back_to_the_engine() -> None:
    for source, variables in [
        ("a == b", {"a": 1, "b": 1.0}),
        ("a < b", {"a": True, "b": False}),
        ("!a", {"a": "x"}),
        ("size(a) > 0", {"a": 1}),
        ("a == b", {"a": [1], "b": [1]}),
        ("a > 0", {"a": 2**70}),
    ]:
        fast = fast_condition(source)
        assert fast is not None
        with pytest.raises(Fallback):
            fast(variables)
