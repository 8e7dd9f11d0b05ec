"""Benchmark of the CEL candidates for govstd's form expressions.

Run: ``.venv/bin/python bench/cel_bench.py`` (about 15 s).

Candidates (each skipped when not importable):

* ``celpy``            — cel-python, pure Python, lark parser
* ``cel``              — common-expression-language, Rust bindings (cel-interpreter)
* ``cel_expr_python``  — cel-expr-python, Google's cel-cpp bindings

Measured: (a) correctness on a table of expressions (CEL spec results),
(b) type-checking with declared variable types, (c) compile and evaluation speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ERR = object()  # expected: an evaluation error (or a compile error)

MEMBERS = [
    {"name": "张三", "age": 40, "relation": "01"},
    {"name": "李四", "age": 17, "relation": "02"},
]
VARS: dict[str, Any] = {
    "organization_form": "2",
    "registered_capital": 50000.0,
    "employees": 5,
    "established_days": 400,
    "agent_used": True,
    "person_name": "张三丰",
    "citizen_id_number": "44030519900101123X",
    "operator_phone": "13800138000",
    "members": MEMBERS,
}

# (expression, variables override or None for VARS, expected result)
CASES: list[tuple[str, dict[str, Any] | None, Any]] = [
    ("organization_form == '2'", None, True),
    ("size(members) >= 1", None, True),
    ("registered_capital > 0.0", None, True),
    ("employees >= 3 && established_days <= 1095", None, True),
    ("agent_used", None, True),
    ("!agent_used || employees > 100", None, False),
    ("operator_phone.startsWith('138')", None, True),
    ("citizen_id_number.endsWith('X')", None, True),
    ("person_name.contains('三')", None, True),
    ("operator_phone.matches('^1[3-9][0-9]{9}$')", None, True),
    ("size(person_name) == 3", None, True),  # code points, not bytes
    ("organization_form in ['1', '2']", None, True),
    ("employees in [1, 2, 3]", None, False),
    ("members.all(m, m.age >= 18)", None, False),
    ("members.exists(m, m.relation == '01')", None, True),
    ("members.exists_one(m, m.age < 18)", None, True),
    ("members.filter(m, m.age >= 18).size() == 1", None, True),
    ("members.map(m, m.age) == [40, 17]", None, True),
    ("has(members[0].relation)", None, True),
    ("has(members[0].email)", None, False),
    ("employees > 3 ? 'big' : 'small'", None, "big"),
    ("double(employees) / 2.0", None, 2.5),
    ("employees / 2", None, 2),  # integer division
    ("-7 % 3", None, -1),  # truncated modulo
    ("int('12') + 1", None, 13),
    ("string(employees) == '5'", None, True),
    ("registered_capital * 2.0 >= 100000.0", None, True),
    ("1 == 1.0", None, True),  # heterogeneous equality (CEL spec 2023+)
    ("registered_capital > 0", None, True),  # heterogeneous ordering at run time
    ("employees + 0.5", None, ERR),  # no implicit int/double arithmetic
    ("9223372036854775807 + 1", None, ERR),  # int64 overflow is an error
    ("employees / 0", None, ERR),
    ("missing_field == '1'", None, ERR),
    ("missing_field == '1' || agent_used", None, True),  # error absorbed by ||
    ("missing_field == '1' && !agent_used", None, False),  # error absorbed by &&
    ("members.all(m, m.nope == 1)", None, ERR),
    ("organization_form == '2'", {"organization_form": "1"}, False),
]

STR, INT, DBL, BOOL = "string", "int", "double", "bool"
ENV: dict[str, Any] = {
    "organization_form": STR,
    "registered_capital": DBL,
    "employees": INT,
    "established_days": INT,
    "agent_used": BOOL,
    "person_name": STR,
    "citizen_id_number": STR,
    "operator_phone": STR,
    "members": ("list_of_map",),
}
# (expression, should the checker reject it?)
CHECKS: list[tuple[str, bool]] = [
    ("organization_form == '2'", False),
    ("employees >= 3 && established_days <= 1095", False),
    ("members.all(m, m.age >= 18)", False),
    ("organisation_form == '2'", True),  # unknown name
    ("organization_form > 3", True),  # string vs int
    ("registered_capital > 0", True),  # double vs int literal (strict checker)
    ("employees + 'x'", True),
    ("agent_used && employees", True),  # int operand of &&
    ("size(employees) > 0", True),
    ("organization_form.startsWith(1)", True),
    ("employees == 3 ? 'a' : 1", True),
    ("employees >", True),  # syntax error
]


@dataclass
class Candidate:
    name: str
    compile: Callable[[str], Any]
    run: Callable[[Any, Mapping[str, Any]], Any]
    check: Callable[[str], str | None] | None  # returns an error message or None


def _celpy() -> Candidate:
    import celpy  # type: ignore[import-untyped]

    env = celpy.Environment()

    def comp(src: str) -> Any:
        return env.program(env.compile(src))

    def run(prog: Any, data: Mapping[str, Any]) -> Any:
        act = {k: celpy.json_to_cel(v) for k, v in data.items()}
        out = prog.evaluate(act)
        if isinstance(out, Exception):
            raise out
        return _plain(out)

    def _plain(v: Any) -> Any:  # celtypes -> Python values, so results compare fairly
        ct = celpy.celtypes
        if isinstance(v, ct.BoolType):
            return bool(v)
        if isinstance(v, ct.IntType):
            return int(v)
        if isinstance(v, ct.DoubleType):
            return float(v)
        if isinstance(v, ct.StringType):
            return str(v)
        if isinstance(v, ct.ListType):
            return [_plain(x) for x in v]
        if isinstance(v, ct.MapType):
            return {_plain(k): _plain(x) for k, x in v.items()}
        return v

    def check(src: str) -> str | None:
        # celpy has no checker: annotations only steer value conversion; parse only.
        try:
            env.compile(src)
        except Exception as exc:
            return str(exc).splitlines()[0]
        return None

    return Candidate("cel-python 0.5 (celpy)", comp, run, check)


def _rust() -> Candidate:
    import cel  # type: ignore[import-untyped]

    def comp(src: str) -> Any:
        return cel.compile(src)

    def run(prog: Any, data: Mapping[str, Any]) -> Any:
        return prog.execute(dict(data))

    def check(src: str) -> str | None:
        try:
            cel.compile(src)  # parse only: no declared-variable checker
        except Exception as exc:
            return str(exc).splitlines()[0]
        return None

    return Candidate("common-expression-language 0.10 (cel)", comp, run, check)


def _cpp() -> Candidate:
    import cel_expr_python.cel as c  # type: ignore[import-untyped]

    t = c.Type
    types = {STR: t.STRING, INT: t.INT, DBL: t.DOUBLE, BOOL: t.BOOL}
    decl = {
        k: types[v] if isinstance(v, str) else t.List(t.Map(t.STRING, t.DYN))
        for k, v in ENV.items()
    }
    checked_env = c.NewEnv(variables=decl)
    plain_env = c.NewEnv()

    def comp(src: str) -> Any:
        return plain_env.compile(src, disable_check=True)

    def run(prog: Any, data: Mapping[str, Any]) -> Any:
        out = prog.eval(data=data)
        if out.type() == t.ERROR:
            raise RuntimeError(out.plain_value())
        return out.plain_value()

    def check(src: str) -> str | None:
        try:
            expr = checked_env.compile(src)
        except Exception as exc:
            return str(exc).splitlines()[0]
        if expr.return_type() != t.BOOL:
            return f"result is {expr.return_type().name()}"
        return None

    return Candidate("cel-expr-python 0.1.3 (cel-cpp)", comp, run, check)


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return type(got) is type(want) and got == want
    if isinstance(want, list):
        return isinstance(got, list) and [int(x) for x in got] == want
    return bool(got == want) and type(got) is type(want)


def correctness(cand: Candidate) -> tuple[int, list[str]]:
    ok, bad = 0, []
    for src, override, want in CASES:
        data = VARS if override is None else {**VARS, **override}
        try:
            got: Any = cand.run(cand.compile(src), data)
        except Exception:
            got = ERR
        if (want is ERR and got is ERR) or (
            want is not ERR and got is not ERR and _same(got, want)
        ):
            ok += 1
        else:
            shown = "error" if got is ERR else repr(got)
            bad.append(f"{src} -> {shown}")
    return ok, bad


def checking(cand: Candidate) -> tuple[int, list[str]]:
    ok, bad = 0, []
    assert cand.check is not None
    for src, reject in CHECKS:
        err = cand.check(src)
        if (err is not None) == reject:
            ok += 1
        else:
            bad.append(f"{src} -> {'rejected: ' + err if err else 'accepted'}")
    return ok, bad


def rate(fn: Callable[[], Any], budget: float = 0.4) -> float:
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(50):
            fn()
        n += 50
        elapsed = time.perf_counter() - start
        if elapsed >= budget:
            return n / elapsed


SPEED_EXPR = "employees >= 3 && established_days <= 1095 && members.exists(m, m.relation == '01')"


def main() -> None:
    cands: list[Candidate] = []
    for make in (_celpy, _rust, _cpp):
        try:
            cands.append(make())
        except ImportError as exc:
            print(f"skipped: {exc}")
    rows = []
    for cand in cands:
        ok, bad = correctness(cand)
        cok, cbad = checking(cand)
        prog = cand.compile(SPEED_EXPR)
        evals = rate(lambda prog=prog, cand=cand: cand.run(prog, VARS))
        comps = rate(lambda cand=cand: cand.compile(SPEED_EXPR))
        check = cand.check
        assert check is not None
        checks = rate(lambda check=check: check(SPEED_EXPR))
        rows.append((cand.name, ok, cok, evals, comps, checks))
        for line in bad:
            print(f"  [{cand.name}] eval mismatch: {line}")
        for line in cbad:
            print(f"  [{cand.name}] check mismatch: {line}")
    print()
    head = (
        f"{'candidate':40} {'eval ok':>9} {'check ok':>9} {'evals/s':>10}"
        f" {'compiles/s':>11} {'checks/s':>9}"
    )
    print(head)
    print("-" * len(head))
    for name, ok, cok, evals, comps, checks in rows:
        print(
            f"{name:40} {ok:>4}/{len(CASES):<4} {cok:>4}/{len(CHECKS):<4}"
            f" {evals:>10,.0f} {comps:>11,.0f} {checks:>9,.0f}"
        )
    print("\ncompiles/s: parse only (run time); checks/s: parse + type-check where the")
    print("candidate has a checker (cel-python and the Rust bindings only parse).")


if __name__ == "__main__":
    main()
