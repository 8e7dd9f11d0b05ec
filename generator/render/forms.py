"""``forms/<form>.py`` and ``forms/__init__.py``: one :class:`~runtime.formspec.FormSpec` per form.

:func:`form_spec` maps a ``FormIR`` to the runtime's ``FormSpec`` (what the
generated module will evaluate to); :func:`python_literal` writes such a value
as Python source laid out the way ``ruff format`` lays it out (double quotes,
one argument per line with a trailing comma when a call does not fit on a
line of 100 columns, East Asian wide characters counting two), so that
generated files pass ``ruff format --check`` and read like handwritten ones.
Default-valued arguments are left out. Each form's file carries the
fingerprint of its own ``FormIR``, so only the files of changed forms change.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from generator.ir import FieldIR, FormIR, GroupIR, PackageIR, fingerprint
from generator.render import GeneratedFile, python_banner
from generator.render.templating import render
from generator.reuse import Previous
from runtime.formspec import FieldSpec, FormSpec, GroupSpec, RuleSpec, SectionSpec

__all__ = ["form_spec", "python_literal", "render_forms"]

LINE_LENGTH = 100
INDENT = "    "


# --- IR -> runtime spec ----------------------------------------------------------------


def _field(f: FieldIR) -> FieldSpec:
    return FieldSpec(
        id=f.id,
        element=f.element,
        label=dict(f.label),
        type=f.type,  # type: ignore[arg-type]  # checked when the tree was loaded
        required=f.required,
        when=f.when,
        multiple=f.multiple,
        codeset=f.codeset,
        codes=f.codes,
        min_length=f.min_length,
        max_length=f.max_length,
        patterns=f.patterns,
        minimum=f.minimum,
        maximum=f.maximum,
        digits=f.digits,
        fraction_digits=f.fraction_digits,
        check=f.check,
        sensitive=f.sensitive,
        unit=dict(f.unit) if f.unit else None,
        prefill=f.prefill,
        help=dict(f.help) if f.help else None,
    )


def _group(g: GroupIR) -> GroupSpec:
    return GroupSpec(
        id=g.id,
        name=dict(g.name),
        min=g.min,
        max=g.max,
        fields=tuple(_field(f) for f in g.fields),
        when=g.when,
    )


def form_spec(form: FormIR) -> FormSpec:
    """The runtime's view of ``form`` (what ``forms/<form id>.py`` defines as ``FORM``)."""
    return FormSpec(
        id=form.id,
        name=dict(form.name),
        fields=tuple(_field(f) for f in form.fields),
        groups=tuple(_group(g) for g in form.groups),
        sections=tuple(SectionSpec(s.id, dict(s.name), s.fields, s.group) for s in form.sections),
        rules=tuple(RuleSpec(r.id, r.expression, dict(r.message)) for r in form.rules),
        version=form.version,
    )


# --- Python literals, formatted like ruff format -----------------------------------------


@dataclass(slots=True)
class _Atom:
    text: str
    string: str | None = None  # the value of a string literal (it may be split)


@dataclass(slots=True)
class _Seq:
    open: str  # "FieldSpec(", "(", "{"
    items: tuple[tuple[str, _Atom | _Seq], ...]  # (prefix such as 'id=' or '"zh": ', value)
    close: str
    one_tuple: bool = False


_Node = _Atom | _Seq


# East Asian wide and fullwidth ranges (CJK, Hangul, fullwidth forms): 2 columns each.
_WIDE = re.compile(
    "[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf"
    "\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6"
    "\U00020000-\U0003fffd]"
)


def width(text: str) -> int:
    """Columns ``text`` takes in an editor (and for ruff): East Asian wide characters are 2."""
    if text.isascii():
        return len(text)
    return len(text) + len(_WIDE.findall(text))


@functools.lru_cache(maxsize=1 << 16)
def _string(value: str) -> str:
    """A string literal as ruff writes it: double quotes unless that needs more escapes."""
    body = (
        value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    )
    if not body.isprintable():
        body = "".join(
            c if c.isprintable() or c == " " else f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else c
            for c in body
        )
    if body.count('"') > body.count("'"):
        return "'" + body.replace("'", "\\'") + "'"
    return '"' + body.replace('"', '\\"') + '"'


def _node(value: Any) -> _Node:
    if value is None or isinstance(value, bool | int):
        return _Atom(repr(value))
    if isinstance(value, float):
        return _Atom(repr(value).replace("e+", "e"))
    if isinstance(value, str):
        return _Atom(_string(value), value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        items: list[tuple[str, _Node]] = []
        for name, prefix, default in _arguments(type(value)):
            current = getattr(value, name)
            if default is not dataclasses.MISSING and current == default:
                continue
            items.append((prefix, _node(current)))
        return _Seq(f"{type(value).__name__}(", tuple(items), ")")
    if isinstance(value, Mapping):
        return _Seq("{", tuple((f"{_string(str(k))}: ", _node(v)) for k, v in value.items()), "}")
    if isinstance(value, tuple | list):
        opening, closing = ("(", ")") if isinstance(value, tuple) else ("[", "]")
        items = [("", _node(v)) for v in value]
        one_tuple = isinstance(value, tuple) and len(items) == 1
        return _Seq(opening, tuple(items), closing, one_tuple=one_tuple)
    raise TypeError(f"cannot write {type(value).__name__} as a Python literal")


@functools.cache
def _arguments(cls: type) -> tuple[tuple[str, str, object], ...]:
    """Each field of a dataclass: name, ``name=`` and its default (or MISSING)."""
    return tuple((f.name, f"{f.name}=", f.default) for f in dataclasses.fields(cls))


_PIECES = re.compile(r"\S+\s*|\s+")


def _split_string(value: str, indent: int) -> list[str]:
    """``value`` as string literals that each fit on a line after ``indent`` columns.

    They are written one per line inside parentheses (implicit concatenation;
    a single part when the string fits on a line of its own), which is what
    ``ruff format`` keeps; parts break after spaces where possible.
    """
    room = LINE_LENGTH - indent
    parts: list[str] = []
    current = ""
    for piece in _PIECES.findall(value):
        if width(_string(current + piece)) <= room:
            current += piece
            continue
        if current:
            parts.append(current)
            current = ""
        while width(_string(piece)) > room:  # a long word: break it where it must
            cut = 1
            while cut < len(piece) and width(_string(piece[: cut + 1])) <= room:
                cut += 1
            parts.append(piece[:cut])
            piece = piece[cut:]
        current = piece
    if current:
        parts.append(current)
    return [_string(part) for part in parts]


def _flat(node: _Node, memo: dict[int, str]) -> str:
    """``node`` on one line (memoized per node: each subtree is flattened once)."""
    if isinstance(node, _Atom):
        return node.text
    known = memo.get(id(node))
    if known is None:
        body = ", ".join(prefix + _flat(value, memo) for prefix, value in node.items)
        known = memo[id(node)] = node.open + body + ("," if node.one_tuple else "") + node.close
    return known


def _fits(text: str) -> bool:
    # Far too long in characters is too wide in columns (save the width count).
    return len(text) <= 3 * LINE_LENGTH and width(text) <= LINE_LENGTH


def _lines(node: _Node, depth: int, head: str, tail: str, memo: dict[int, str]) -> list[str]:
    """``head + node + tail`` at ``depth`` indents, split the way ruff format splits."""
    indent = INDENT * depth
    flat = indent + head + _flat(node, memo) + tail
    if _fits(flat):
        return [flat]
    if isinstance(node, _Atom):
        parts = _split_string(node.string, width(indent + INDENT)) if node.string else []
        if not parts:
            return [flat]  # a number: nothing to split
        inner = indent + INDENT
        return [indent + head + "(", *(inner + p for p in parts), indent + ")" + tail]
    if not node.items:
        return [flat]
    opening, closing = indent + head + node.open, indent + node.close + tail
    if len(node.items) == 1 and not node.one_tuple:
        prefix, value = node.items[0]
        return [opening, *_lines(value, depth + 1, prefix, "", memo), closing]
    lines = [opening]
    for prefix, value in node.items:
        lines.extend(_lines(value, depth + 1, prefix, ",", memo))
    lines.append(closing)
    return lines


def python_literal(value: Any, head: str = "", depth: int = 0) -> str:
    """``head`` followed by ``value`` as Python source, laid out like ``ruff format``."""
    return "\n".join(_lines(_node(value), depth, head, "", {}))


# --- files ---------------------------------------------------------------------------


def _docstring_text(text: str, room: int) -> str:
    """``text`` fit for a one-line docstring of at most ``room`` columns."""
    cleaned = " ".join(
        "".join(c if c.isprintable() and c not in '\\"' else " " for c in text).split()
    )
    while width(cleaned) > room:
        cleaned = cleaned[:-2] + "…"
    return cleaned


def _classes(spec: FormSpec) -> list[str]:
    used = {"FormSpec", "FieldSpec"}
    if spec.groups:
        used.add("GroupSpec")
    if spec.sections:
        used.add("SectionSpec")
    if spec.rules:
        used.add("RuleSpec")
    return sorted(used)


def render_form(form: FormIR, previous: Previous | None = None) -> GeneratedFile:
    """``forms/<form id>.py``; taken from ``previous`` when it is there unchanged."""
    path, banner = f"forms/{form.id}.py", python_banner(fingerprint(form))
    taken = previous.text(path, banner) if previous is not None else None
    if taken is not None:
        return GeneratedFile(path, taken, formatted=True)
    spec = form_spec(form)
    content = render(
        "form.py.jinja",
        banner=banner,
        form_id=form.id,
        title=_docstring_text(
            form.name.get("zh", ""), LINE_LENGTH - len(f'"""Form {form.id}: ."""')
        ),
        classes=", ".join(_classes(spec)),
        literal=python_literal(spec, head="FORM = "),
    )
    return GeneratedFile(path, content)


def render_forms(pkg: PackageIR, previous: Previous | None = None) -> Iterator[GeneratedFile]:
    """``forms/<form id>.py`` per form, one by one, and ``forms/__init__.py`` listing them."""
    for form in pkg.forms:
        yield render_form(form, previous)
    form_ids = [form.id for form in pkg.forms]
    init = render("forms_init.py.jinja", banner=python_banner(fingerprint(form_ids)), ids=form_ids)
    yield GeneratedFile("forms/__init__.py", init)
