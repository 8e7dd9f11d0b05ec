"""Patterns of the standards (``pattern:`` of elements and fields), matched in linear time.

A pattern is written by an implementer and run on citizens' input, so it is matched
with RE2 (``google-re2``), whose time grows linearly with the input whatever the
pattern: ``([a-z]+)+@x`` cannot pin a worker (Python's backtracking ``re`` takes
seconds on 25 characters, doubling with each one more). The dialect is RE2's:
no backreferences or lookaround, which is also the part of ECMA-262 that the JSON
Schemas of a package can use, so the server and a form's schema agree on what a
pattern means. ``govstd validate`` refuses a pattern RE2 cannot compile
(:func:`pattern_problem`), at its location.

Unlike Python's ``re``, RE2's ``\\w``, ``\\d`` and ``\\s`` are ASCII only; write
``\\pL`` (any letter, Chinese characters included) or ``\\p{Han}`` for more.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

import re2  # type: ignore[import-untyped]

from runtime.types import GovstdError

__all__ = ["Pattern", "PatternError", "compile_pattern", "pattern_problem"]

MAX_MEMORY = 8 << 20
"""Memory RE2 may use for one compiled pattern (its default); a bigger one is refused."""


class Pattern(Protocol):
    def fullmatch(self, text: str) -> object | None: ...


class PatternError(GovstdError, ValueError):
    """A pattern RE2 cannot compile; the message says why (in RE2's words)."""


def _options() -> object:
    options = re2.Options()
    options.log_errors = False  # the error is raised (and reported), not printed to stderr
    options.max_mem = MAX_MEMORY
    return options


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> Pattern:
    """``pattern`` compiled once per text; it must match the *whole* value (``fullmatch``)."""
    try:
        compiled: Pattern = re2.compile(pattern, _options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(str(reason)) from None
    return compiled


def pattern_problem(pattern: str) -> str | None:
    """Why RE2 cannot compile ``pattern`` (None: it can)."""
    try:
        compile_pattern(pattern)
    except PatternError as exc:
        return str(exc)
    return None
