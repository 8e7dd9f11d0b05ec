"""Validate-time checking of CEL expressions against a form's fields.

:func:`check_expression` parses and type-checks an expression with the real
CEL checker of ``cel-expr-python`` (Google's cel-cpp), the engine the runtime
evaluates with (:mod:`runtime.expressions`). The form's fields are declared
variables; a repeating group is ``list(row)`` where the row is a generated
protobuf message type, so ``members.all(m, m.agee > 1)`` is an unknown-field
error too, and row fields are typed.

Strictness (the documented choice): the CEL standard checker has no implicit
int/double conversion, so ``registered_capital > 0`` is a type error when
``registered_capital`` is a double — write ``0.0`` or ``double(x)``/``int(x)``.
Newer CEL runtimes do compare int and double at run time, but JavaScript
(whose numbers do not tell ``1`` from ``1.0``) reproduces an expression most
safely when both sides already have one type, so we keep the checker strict.

Only standard CEL is declared (macros ``has all exists exists_one map filter``,
``size in startsWith endsWith contains matches``, ``int() double() string()``,
operators and the ternary); extension functions are unknown names.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cel_expr_python.cel as _cel  # type: ignore[import-untyped]
from google.protobuf import (  # type: ignore[import-untyped]
    descriptor_pb2,
    descriptor_pool,
    struct_pb2,
)

from runtime.expressions import BOOL, CelType
from runtime.types import bilingual

__all__ = ["ExprProblem", "check_expression"]

_T = _cel.Type
_SCALARS: dict[str, Any] = {
    "string": _T.STRING,
    "int": _T.INT,
    "double": _T.DOUBLE,
    "bool": _T.BOOL,
    "dyn": _T.DYN,
}
_Fd = descriptor_pb2.FieldDescriptorProto
_PROTO_SCALARS = {
    "string": _Fd.TYPE_STRING,
    "int": _Fd.TYPE_INT64,
    "double": _Fd.TYPE_DOUBLE,
    "bool": _Fd.TYPE_BOOL,
}
_PACKAGE = "govstd.rows"


@dataclass(frozen=True)
class ExprProblem:
    """One problem in an expression; ``column`` is a 0-based offset into the source.

    ``en`` and ``zh`` say it in English and in Chinese; ``message`` in both.
    """

    en: str
    column: int = 0
    zh: str = ""

    @property
    def message(self) -> str:
        """``中文 / English``."""
        return bilingual(self.zh, self.en) if self.zh else self.en


@dataclass(frozen=True)
class _CheckEnv:
    env: Any  # cel_expr_python.cel.Env
    names: tuple[str, ...]
    rows: dict[str, tuple[str, tuple[str, ...]]]  # message name -> (group path, field ids)


def _build(items: tuple[tuple[str, CelType], ...]) -> _CheckEnv:
    file = descriptor_pb2.FileDescriptorProto(
        name="govstd_rows.proto", package=_PACKAGE, syntax="proto3"
    )
    file.dependency.append("google/protobuf/struct.proto")
    rows: dict[str, tuple[str, tuple[str, ...]]] = {}

    def message(path: str, typ: CelType) -> str:
        name = re.sub(r"\W", "_", path) + f"_{len(rows)}"
        rows[f"{_PACKAGE}.{name}"] = (path, tuple(k for k, _ in typ.fields))
        msg = file.message_type.add(name=name)
        for number, (fid, ftyp) in enumerate(typ.fields, start=1):
            fld = msg.field.add(name=fid, number=number, label=_Fd.LABEL_OPTIONAL)
            if ftyp.kind == "list" and ftyp.elem is not None:
                fld.label = _Fd.LABEL_REPEATED
                ftyp = ftyp.elem
            if ftyp.kind in _PROTO_SCALARS:
                fld.type = _PROTO_SCALARS[ftyp.kind]
            else:
                fld.type = _Fd.TYPE_MESSAGE
                fld.type_name = (
                    "." + message(f"{path}.{fid}", ftyp)
                    if ftyp.kind == "record"
                    else ".google.protobuf.Value"  # dyn, or a list of lists
                )
        return f"{_PACKAGE}.{name}"

    def cel_type(path: str, typ: CelType) -> Any:
        if typ.kind == "list" and typ.elem is not None:
            return _T.List(cel_type(path, typ.elem))
        if typ.kind == "record":
            return _T(message(path, typ))
        return _SCALARS.get(typ.kind, _T.DYN)

    variables = {name: cel_type(name, typ) for name, typ in items}
    pool = descriptor_pool.DescriptorPool()
    struct_file = descriptor_pb2.FileDescriptorProto()
    struct_pb2.DESCRIPTOR.CopyToProto(struct_file)
    pool.Add(struct_file)
    pool.Add(file)
    env = _cel.NewEnv(descriptor_pool=pool, variables=variables)
    return _CheckEnv(env, tuple(name for name, _ in items), rows)


@lru_cache(maxsize=4096)  # one per form: a large tree has thousands
def _check_env(items: tuple[tuple[str, CelType], ...]) -> _CheckEnv:
    return _build(items)


_ERROR = re.compile(r"ERROR: <input>:(\d+):(\d+): (.*)")
_OPERATORS = {
    "_==_": "==",
    "_!=_": "!=",
    "_<_": "<",
    "_<=_": "<=",
    "_>_": ">",
    "_>=_": ">=",
    "_+_": "+",
    "_-_": "-",
    "_*_": "*",
    "_/_": "/",
    "_%_": "%",
    "_&&_": "&&",
    "_||_": "||",
    "!_": "!",
    "-_": "unary -",
    "_?_:_": "?:",
    "_[_]": "[]",
    "@in": "in",
}


def _offset(source: str, line: int, column: int) -> int:
    lines = source.split("\n")
    before = sum(len(text) + 1 for text in lines[: line - 1])
    return min(max(before + column - 1, 0), len(source))


def _known(names: tuple[str, ...]) -> str:
    return ", ".join(sorted(names)) or "none"


def _suggest(name: str, names: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, names, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


_SYNTAX_ZH = {
    "unexpected end of expression": "：表达式意外结束",
    "unterminated string": "：字符串没有闭合",
    "unexpected text": "：出现了无法识别的文本",
}


def _rewrite(text: str, source: str, column: int, ctx: _CheckEnv) -> tuple[str, str]:
    """A message of the CEL checker, rewritten for a form's author: (Chinese, English)."""
    if text.startswith("Syntax error: "):
        detail = text.removeprefix("Syntax error: ")
        detail = detail.replace("mismatched input '<EOF>'", "unexpected end of expression")
        detail = re.sub(r" expecting \{.*\}$", "", detail)
        detail = re.sub(
            r"token recognition error at: '([\"'].*)'$", r"unterminated string \1", detail
        )
        detail = re.sub(r"token recognition error at: '(.*)'$", r"unexpected text \1", detail)
        what = next((zh for en, zh in _SYNTAX_ZH.items() if detail.startswith(en)), "")
        return (
            f"位置 {column} 处有语法错误{what}",
            f"syntax error at column {column}: {detail}",
        )
    if m := re.match(r"undeclared reference to '([^']*)'", text):
        name = m.group(1)
        if source[column : column + 1] == "(":  # cel-cpp points at the call's "("
            return (
                f"未知的函数 '{name}'（只能使用标准 CEL 函数）",
                f"unknown function '{name}' (only standard CEL functions are available)",
            )
        return (
            f"未知的名称 '{name}'",
            f"unknown name '{name}' (known fields: {_known(ctx.names)}){_suggest(name, ctx.names)}",
        )
    if m := re.match(r"undefined field '([^']*)' not found in struct '([^']*)'", text):
        name, (group, fields) = m.group(1), ctx.rows.get(m.group(2), (m.group(2), ()))
        return (
            f"'{group}' 的行中没有字段 '{name}'",
            f"unknown field '{name}' in a row of '{group}' "
            f"(known fields: {_known(fields)}){_suggest(name, fields)}",
        )
    if m := re.match(r"found no matching overload for '([^']*)' applied to '\((.*)\)'", text):
        op, args = m.group(1), m.group(2).lower()
        shown = _OPERATORS.get(op, f"{op}()")
        hint = hint_zh = ""
        if "int" in args and "double" in args and "list" not in args:
            hint = " (CEL has no implicit int/double conversion: write 0.0 or use double()/int())"
            hint_zh = "（CEL 不会在 int 与 double 之间隐式转换：请写 0.0 或用 double()/int()）"
        return (
            f"类型错误：`{shown}` 不能用于（{args}）{hint_zh}",
            f"type error: `{shown}` cannot be applied to ({args}){hint}",
        )
    if text.startswith("has() argument must be a field selection"):
        return (
            "has() 的参数须是字段选择，如 has(row.field)；检查表单字段请用 != ''",
            "has() needs a field selection such as has(row.field); test a form field with != ''",
        )
    return "表达式有误", f"error: {text}"


def _type_name(typ: Any) -> str:
    name: str = typ.name()
    return name.lower() if not typ.is_message() else "record"


def _to_cel(typ: CelType) -> Any:
    if typ.kind == "list" and typ.elem is not None:
        return _T.List(_to_cel(typ.elem))
    return _SCALARS.get(typ.kind, _T.DYN)


def check_expression(
    source: str, env: Mapping[str, CelType], expected: CelType | None = BOOL
) -> list[ExprProblem]:
    """Parse and type-check ``source`` with ``env`` (field id -> type) as its variables.

    Returns the problems (empty when fine). ``expected`` is the required result
    type (``None`` or DYN: any); a result of type dyn is accepted.
    """
    return list(_checked(source, tuple(sorted(env.items())), expected))


@lru_cache(maxsize=4096)
def _checked(
    source: str, items: tuple[tuple[str, CelType], ...], expected: CelType | None
) -> tuple[ExprProblem, ...]:
    """check_expression, once per expression and environment: the forms of a province
    repeat their conditions over the same shared fields (19,000 compilations of a
    handful of distinct expressions for 10,000 forms)."""
    return tuple(_check(source, items, expected))


def _check(
    source: str, items: tuple[tuple[str, CelType], ...], expected: CelType | None
) -> list[ExprProblem]:
    if not source.strip():
        return [ExprProblem("syntax error at column 0: empty expression", 0, "表达式为空")]
    ctx = _check_env(items)
    try:
        checked = ctx.env.compile(source)
    except RuntimeError as exc:
        problems: list[ExprProblem] = []
        for m in _ERROR.finditer(str(exc)):
            column = _offset(source, int(m.group(1)), int(m.group(2)))
            zh, en = _rewrite(m.group(3), source, column, ctx)
            if en.startswith("unknown function '"):
                column = max(column - len(en.split("'")[1]), 0)
            if en.startswith("syntax error") and problems:
                continue  # later syntax errors are mostly knock-on effects of the first
            problems.append(ExprProblem(en, column, zh))
        return problems or [ExprProblem(f"error: {exc}", 0, "表达式有误")]
    if expected is None or expected.kind == "dyn":
        return []
    actual = checked.return_type()
    if actual == _T.DYN or _to_cel(expected) == actual:
        return []
    if expected.kind == "record" and actual.is_message():
        return []
    actual_name = _type_name(actual)
    return [
        ExprProblem(
            f"the expression must be {expected}, but it is {actual_name}",
            0,
            f"表达式的结果必须是 {expected}，但它是 {actual_name}",
        )
    ]
