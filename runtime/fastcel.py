"""A fast path for the simplest CEL conditions, evaluated in Python with CEL's semantics.

Most conditions in forms are tiny: ``organization_form == '2'``, ``agent_used``,
``employees >= 3 && !agent_used``, ``size(members) >= 1``. Handing each to the
CEL engine costs 5-30 µs (the engine converts the variables on every call);
validating a submission evaluates several. :func:`fast_condition` compiles
such an expression into a Python closure that gives the engine's result in
well under a microsecond, and returns ``None`` for anything outside the subset,
which then goes to the engine (:mod:`runtime.expressions`) as before.

The subset: identifiers; ``true``/``false``, decimal ``int`` and ``double``
literals (``-`` allowed in front), string literals without escapes; ``==``
``!=`` ``<`` ``<=`` ``>`` ``>=`` (not chained); ``x in [literal, …]``;
``!``, ``&&``, ``||``, parentheses; ``size(x)``; ``x.startsWith('…')``,
``x.endsWith('…')``, ``x.contains('…')`` with a string literal. No arithmetic, other
member access, macros, ternaries or other functions.

Semantics (CEL's): an unbound identifier is an error; ``&&``/``||`` absorb an
error when the other side decides (``false && error`` is false, ``true ||
error`` true, in either order); ``!`` and comparisons propagate errors. Where
the operand types are anything but the plain same-type cases (``str``/``str``,
``int``/``int``, ``float``/``float``, ``bool``/``bool`` for equality), the
closure raises :class:`Fallback` and the caller asks the engine, so no
type-mixing rule of CEL is re-implemented here. ``tests/test_fastcel.py``
compares the two on generated expressions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Final

__all__ = ["ERROR", "Fallback", "FastCondition", "fast_condition"]


class _Error:
    __slots__ = ()

    def __repr__(self) -> str:
        return "ERROR"


ERROR: Final = _Error()  # a CEL error value (e.g. an unbound identifier)

Value = object
FastCondition = Callable[[Mapping[str, object]], Value]


class Fallback(Exception):
    """The operands are outside the fast path's cases: ask the CEL engine."""


class _Unsupported(Exception):
    pass


_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<double>[0-9]+\.[0-9]+(?![0-9A-Za-z_.]))"
    r"|(?P<int>[0-9]+(?![0-9A-Za-z_.]))"
    r"|(?P<string>'[^'\\\n]*'|\"[^\"\\\n]*\")"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|<|>|!|\(|\)|\[|\]|,|-|\.)"
    r")"
)
_RESERVED = frozenset(
    {
        "as", "break", "const", "continue", "else", "false", "for", "function", "if", "import",
        "in", "let", "loop", "package", "namespace", "null", "return", "true", "var", "void",
        "while",
    }
)  # fmt: skip
_INT64 = (-(2**63), 2**63 - 1)
_COMPARE = ("==", "!=", "<", "<=", ">", ">=")


def _tokens(source: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos, end = 0, len(source.rstrip())
    while pos < end:
        m = _TOKEN.match(source, pos)
        if m is None or m.end() == pos:
            raise _Unsupported
        kind = m.lastgroup
        assert kind is not None
        text = m.group(kind)
        if kind == "name" and text in ("true", "false", "in"):
            kind = text
        elif kind == "name" and text in _RESERVED:
            raise _Unsupported
        out.append((kind, text))
        pos = m.end()
    return out


# --- evaluation helpers (CEL semantics) ----------------------------------------------------


def _and(left: FastCondition, right: FastCondition) -> FastCondition:
    def run(v: Mapping[str, object]) -> Value:
        a = left(v)
        if a is False:
            return False
        b = right(v)
        if b is False:
            return False
        if a is True and b is True:
            return True
        if (a is True or a is ERROR) and (b is True or b is ERROR):
            return ERROR
        raise Fallback

    return run


def _or(left: FastCondition, right: FastCondition) -> FastCondition:
    def run(v: Mapping[str, object]) -> Value:
        a = left(v)
        if a is True:
            return True
        b = right(v)
        if b is True:
            return True
        if a is False and b is False:
            return False
        if (a is False or a is ERROR) and (b is False or b is ERROR):
            return ERROR
        raise Fallback

    return run


def _not(operand: FastCondition) -> FastCondition:
    def run(v: Mapping[str, object]) -> Value:
        a = operand(v)
        if a is True:
            return False
        if a is False:
            return True
        if a is ERROR:
            return ERROR
        raise Fallback

    return run


_ORDERED = (str, int, float)


def _compare(op: str, left: FastCondition, right: FastCondition) -> FastCondition:
    def run(v: Mapping[str, object]) -> Value:
        a = left(v)
        b = right(v)
        if a is ERROR or b is ERROR:
            return ERROR
        kind = type(a)
        if kind is not type(b) or not (kind in _ORDERED or (kind is bool and op in ("==", "!="))):
            raise Fallback
        if kind is int and not (_INT64[0] <= a <= _INT64[1] and _INT64[0] <= b <= _INT64[1]):  # type: ignore[operator]
            raise Fallback  # the engine refuses such a value
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        if op == "<":
            return a < b  # type: ignore[operator]
        if op == "<=":
            return a <= b  # type: ignore[operator]
        if op == ">":
            return a > b  # type: ignore[operator]
        return a >= b  # type: ignore[operator]

    return run


def _member(item: FastCondition, options: tuple[object, ...]) -> FastCondition:
    kinds = {type(o) for o in options}
    kind = kinds.pop() if len(kinds) == 1 else None
    if kind not in (str, int, float) and options:
        raise _Unsupported
    values = frozenset(options)

    def run(v: Mapping[str, object]) -> Value:
        a = item(v)
        if a is ERROR:
            return ERROR
        if not options:
            raise Fallback
        if type(a) is not kind:
            raise Fallback
        return a in values

    return run


def _size(operand: FastCondition) -> FastCondition:
    def run(v: Mapping[str, object]) -> Value:
        a = operand(v)
        if a is ERROR:
            return ERROR
        if type(a) in (str, list, dict):
            return len(a)  # type: ignore[arg-type]  # code points for strings, like CEL
        raise Fallback

    return run


_STRING_METHODS: Final = {
    "startsWith": str.startswith,
    "endsWith": str.endswith,
    "contains": str.__contains__,
}


def _string_method(receiver: FastCondition, method: str, argument: str) -> FastCondition:
    test = _STRING_METHODS[method]

    def run(v: Mapping[str, object]) -> Value:
        a = receiver(v)
        if a is ERROR:
            return ERROR
        if type(a) is not str:
            raise Fallback
        return test(a, argument)

    return run


def _name(name: str) -> FastCondition:
    def run(v: Mapping[str, object]) -> Value:
        return v.get(name, ERROR)

    return run


def _constant(value: object) -> FastCondition:
    def run(v: Mapping[str, object]) -> Value:
        return value

    return run


# --- parser ------------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self, text: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end" or (text is not None and token[1] != text):
            raise _Unsupported
        self.pos += 1
        return token

    def parse(self) -> FastCondition:
        node = self.disjunction()
        if self.peek()[0] != "end":
            raise _Unsupported
        return node

    def disjunction(self) -> FastCondition:
        node = self.conjunction()
        while self.peek()[1] == "||":
            self.take()
            node = _or(node, self.conjunction())
        return node

    def conjunction(self) -> FastCondition:
        node = self.relation()
        while self.peek()[1] == "&&":
            self.take()
            node = _and(node, self.relation())
        return node

    def relation(self) -> FastCondition:
        node = self.unary()
        kind, text = self.peek()
        if kind == "op" and text in _COMPARE:
            self.take()
            node = _compare(text, node, self.unary())
        elif kind == "in":
            self.take()
            node = _member(node, self.literal_list())
        kind, text = self.peek()
        if (kind == "op" and text in _COMPARE) or kind == "in":
            raise _Unsupported  # chained relations
        return node

    def unary(self) -> FastCondition:
        text = self.peek()[1]
        if text == "!":
            self.take()
            return _not(self.unary())
        if text == "-":
            return _constant(self.literal())
        return self.primary()

    def primary(self) -> FastCondition:
        kind, text = self.peek()
        if text == "(":
            self.take()
            node = self.disjunction()
            self.take(")")
            return node
        if kind == "name":
            self.take()
            if self.peek()[1] == "(":
                if text != "size":
                    raise _Unsupported
                self.take("(")
                node = _size(self.disjunction())
                self.take(")")
                return node
            if self.peek()[1] == ".":  # name.startsWith('…') and the like, a literal argument
                self.take(".")
                method = self.take()[1]
                if method not in _STRING_METHODS:
                    raise _Unsupported
                self.take("(")
                kind, argument = self.take()
                if kind != "string":
                    raise _Unsupported
                self.take(")")
                return _string_method(_name(text), method, argument[1:-1])
            return _name(text)
        return _constant(self.literal())

    def literal(self) -> object:
        kind, text = self.take()
        sign = 1
        if text == "-":
            sign = -1
            kind, text = self.take()
            if kind not in ("int", "double"):
                raise _Unsupported
        if kind == "int":
            if len(text) > 1 and text.startswith("0"):
                raise _Unsupported
            value = sign * int(text)
            if not _INT64[0] <= value <= _INT64[1]:
                raise _Unsupported
            return value
        if kind == "double":
            return sign * float(text)
        if kind == "string":
            return text[1:-1]
        if kind == "true":
            return True
        if kind == "false":
            return False
        raise _Unsupported

    def literal_list(self) -> tuple[object, ...]:
        self.take("[")
        values: list[object] = []
        if self.peek()[1] != "]":
            values.append(self.literal())
            while self.peek()[1] == ",":
                self.take()
                if self.peek()[1] == "]":
                    break
                values.append(self.literal())
        self.take("]")
        return tuple(values)


@lru_cache(maxsize=4096)
def fast_condition(source: str) -> FastCondition | None:
    """A Python closure computing ``source`` like the CEL engine, or ``None`` (not in the subset).

    The closure takes the variables and returns ``True``, ``False``, another
    value, or :data:`ERROR`; it raises :class:`Fallback` when the engine must decide.
    """
    try:
        return _Parser(_tokens(source)).parse()
    except (_Unsupported, ValueError, RecursionError):
        return None
