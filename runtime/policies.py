"""Policies (政策通): which are in force, their conditions in words, and matching a profile.

Pure: no database here (the routes are :mod:`runtime.routes.policies`).

- **In force**: in a policy's ``regions`` and every region below them, from
  ``valid_from`` to ``valid_to`` inclusive, dates taken in China time.
- **Conditions**: the top-level ``&&`` parts of ``eligible`` (outer parentheses
  removed), each evaluated by the same CEL engine as forms. A part *holds*, does *not hold*, or is
  *undecided* (``None``) when its evaluation fails while it names a profile field
  that is not answered — an unanswered field is never a "no". A policy is
  eligible when every part holds, not eligible when one does not, else undecided.
- **Profiles** are validated like a form, except that unanswered fields are
  allowed (a profile is filled over time; matching says what is missing).
- **Words**: a part rendered for people from the profile form's labels and code
  names — ``employees >= 3`` reads ``从业人数 ≥ 3``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from runtime.clock import local_date
from runtime.expressions import Compiled, ExpressionError, compile_expression, evaluate
from runtime.formspec import FormSpec, expression_names, localized
from runtime.package import Package, Policy
from runtime.types import FieldProblem
from runtime.validation import validate_submission

# --- in force ----------------------------------------------------------------------------


def applies(pkg: Package, policy: Policy, region_id: str) -> bool:
    """Whether ``region_id`` is one of the policy's regions or below one (dates aside).

    A policy region the package does not serve is above the deployment's region (the
    generator keeps only policies of the served regions and their ancestors), so the
    policy applies to every served region."""
    return region_id in pkg.regions and _applies(pkg, policy, pkg.ancestors(region_id))


def _applies(pkg: Package, policy: Policy, chain: tuple[str, ...]) -> bool:
    return any(r not in pkg.regions or r in chain for r in policy.regions)


def _valid(policy: Policy, day: str) -> bool:
    return (policy.valid_from or day) <= day <= (policy.valid_to or day)


def in_force(pkg: Package, policy: Policy, region_id: str, today: date) -> bool:
    """Whether ``policy`` is in force in ``region_id`` on ``today`` (a China date)."""
    return applies(pkg, policy, region_id) and _valid(policy, today.isoformat())


def in_force_in(pkg: Package, region_id: str, now: datetime) -> list[Policy]:
    """The policies in force in ``region_id`` at ``now`` (its date in China)."""
    day = local_date(now).isoformat()
    chain = pkg.ancestors(region_id)
    return [p for p in pkg.policies.values() if _applies(pkg, p, chain) and _valid(p, day)]


def force_regions(pkg: Package, policy: Policy) -> frozenset[str]:
    """The served regions where ``policy`` applies (dates aside): its regions and below."""
    return frozenset(r for r in pkg.regions if applies(pkg, policy, r))


def may_deliver(pkg: Package, policy: Policy, staff_region: str | None) -> bool:
    """Staff of an issuing region, or of a region above one, deliver the policy."""
    return staff_region is not None and any(
        staff_region == r or staff_region in pkg.ancestors(r) for r in policy.regions
    )


# --- conditions --------------------------------------------------------------------------


def _strip(source: str) -> str:
    """``source`` without parentheses enclosing all of it."""
    text = source.strip()
    while text.startswith("(") and text.endswith(")") and _closing(text, 0) == len(text) - 1:
        text = text[1:-1].strip()
    return text


def _closing(text: str, start: int) -> int:
    """The index of the parenthesis closing the one at ``start`` (quotes respected)."""
    depth = 0
    quote = ""
    i = start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1  # the escaped character, a quote too, stays in the string
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


@lru_cache(maxsize=4096)
def parts(source: str) -> tuple[str, ...]:
    """The top-level ``&&`` parts of an expression (outside parentheses and strings)."""
    text = _strip(source)
    out: list[str] = []
    depth, quote, start, i = 0, "", 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and text.startswith("&&", i):
            out.append(_strip(text[start:i]))
            start = i + 2
            i += 1
        i += 1
    out.append(_strip(text[start:]))
    return tuple(p for p in out if p)


@dataclass(frozen=True)
class Condition:
    expression: str
    compiled: Compiled
    names: frozenset[str]


@lru_cache(maxsize=16384)
def conditions(source: str) -> tuple[Condition, ...]:
    return tuple(Condition(p, compile_expression(p), expression_names(p)) for p in parts(source))


def decide(condition: Condition, view: Mapping[str, object], fields: Iterable[str]) -> bool | None:
    """True / False, or None when it fails while naming an unanswered profile field."""
    variables = {n: view[n] for n in condition.names if n in view}
    try:
        result = evaluate(condition.compiled, variables)
    except ExpressionError:
        result = None
    if result is True or result is False:
        return bool(result)
    unanswered = (condition.names & frozenset(fields)) - variables.keys()
    return None if unanswered else False


@dataclass(frozen=True)
class Match:
    policy: Policy
    eligible: bool | None
    held: tuple[tuple[Condition, bool | None], ...]


def match(pkg: Package, policy: Policy, view: Mapping[str, object]) -> Match:
    form = pkg.forms.get(policy.profile)
    fields = form.field_map.keys() if form is not None else ()
    held = tuple((c, decide(c, view, fields)) for c in conditions(policy.eligible))
    outcomes = [h for _, h in held]
    eligible = False if False in outcomes else None if None in outcomes else True
    return Match(policy, eligible, held)


RANK = {True: 0, None: 1, False: 2}


# --- profiles ----------------------------------------------------------------------------


def validate_profile(
    form: FormSpec, data: object, *, lang: str, today: date
) -> tuple[dict[str, object], list[FieldProblem]]:
    """Validated like a form, but unanswered fields are allowed (they stay undecided)."""
    cleaned, errors = validate_submission(form, data, lang=lang, today=today)
    return cleaned, [e for e in errors if e.code != "required"]


def cel_view(form: FormSpec, data: Mapping[str, Any]) -> dict[str, object]:
    """A profile's JSON values as CEL sees a form's (decimals as doubles)."""
    view: dict[str, object] = {}
    for key, value in data.items():
        f = form.field_map.get(key)
        if value is None or f is None:
            continue
        view[key] = float(value) if f.type == "decimal" else value
    return view


# --- words -------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'[^'\\]*'|\"[^\"\\]*\")|(?P<num>[0-9]+(?:\.[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>&&|\|\||>=|<=|==|!=|[<>!()\[\],.]))"
)
_SYMBOLS = {">=": "≥", "<=": "≤", "==": "=", "!=": "≠", "<": "<", ">": ">"}
_WORDS = {
    "zh": {"&&": "且", "||": "或", "!": "非", "true": "是", "false": "否"},
    "en": {"&&": "and", "||": "or", "!": "not", "true": "yes", "false": "no"},
}
_METHODS = {
    "startsWith": ("{label}以“{value}”开头", "{label} starts with '{value}'"),
    "endsWith": ("{label}以“{value}”结尾", "{label} ends with '{value}'"),
    "contains": ("{label}包含“{value}”", "{label} contains '{value}'"),
}


def _tokens(source: str) -> list[tuple[str, str]] | None:
    out: list[tuple[str, str]] = []
    pos = 0
    source = source.rstrip()
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None or m.end() == pos:
            return None
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


_SAID: dict[tuple[str, str, str, str], tuple[tuple[str, str], ...]] = {}
_SAID_LIMIT = 20_000


def explained(pkg: Package, policy: Policy, lang: str) -> tuple[tuple[str, str], ...]:
    """Each condition of ``policy``: (expression, words). Kept per package, policy and
    language (the catalogue never changes while the server runs): matching 1,000
    policies says 4,000 conditions."""
    key = (pkg.source_hash, policy.id, policy.eligible, lang)
    said = _SAID.get(key)
    if said is None:
        if len(_SAID) >= _SAID_LIMIT:
            _SAID.clear()
        form = pkg.forms.get(policy.profile)
        said = tuple(
            (c.expression, words(pkg, form, c.expression, lang))
            for c in conditions(policy.eligible)
        )
        _SAID[key] = said
    return said


def words(pkg: Package, form: FormSpec | None, expression: str, lang: str) -> str:
    """An expression in words: field labels, code names, ≥ ≤ ≠, 且/或 (and/or)."""
    en = lang.startswith("en")
    tokens = _tokens(expression)
    if tokens is None or form is None:
        return expression

    def label(name: str) -> str:
        f = form.field_map.get(name)
        return localized(f.label, lang) if f is not None else name

    def value(field: str | None, literal: str) -> str:
        text = literal[1:-1] if literal[:1] in "'\"" else literal
        f = form.field_map.get(field or "")
        if f is not None and f.codeset:
            for v in pkg.codesets.get(f.codeset, {}).get("values", []):
                if v.get("code") == text:
                    return localized(v.get("name"), lang)
        return text

    out: list[str] = []
    i = 0
    subject: str | None = None  # the field the next literal is compared with
    while i < len(tokens):
        kind, text = tokens[i]
        ahead = [t for _, t in tokens[i + 1 : i + 6]]
        call = len(ahead) == 5 and ahead[0] == "." and ahead[2] == "(" and ahead[4] == ")"
        if kind == "name" and call and ahead[1] in _METHODS:
            template = _METHODS[ahead[1]][en]
            out.append(template.format(label=label(text), value=value(None, ahead[3])))
            i += 6
            continue
        if kind == "name" and ahead[:2] == ["in", "["]:
            end = next((j for j in range(i + 2, len(tokens)) if tokens[j][1] == "]"), None)
            if end is not None:
                items = [value(text, t) for k, t in tokens[i + 3 : end] if k in ("str", "num")]
                joined = ("、" if not en else ", ").join(items)
                out.append(
                    f"{label(text)} is one of {joined}" if en else f"{label(text)}为{joined}之一"
                )
                i = end + 1
                continue
        if kind == "name" and text in form.field_map:
            subject = text
            out.append(label(text))
        elif kind in ("str", "num"):
            out.append(value(subject, text))
        elif kind == "op" and text in _SYMBOLS:
            out.append(_SYMBOLS[text])
        elif text in _WORDS["en" if en else "zh"]:
            out.append(_WORDS["en" if en else "zh"][text])
            subject = None
        else:
            out.append(text)
        i += 1
    return " ".join(out).replace("( ", "(").replace(" )", ")").replace("! ", "!")
