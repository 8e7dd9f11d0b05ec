"""``forms/<form>.py`` and ``forms/__init__.py``: one :class:`~runtime.formspec.FormSpec` per form.

:func:`form_spec` maps a ``FormIR`` to the runtime's ``FormSpec`` (what the
generated module will evaluate to); :func:`python_literal` writes such a value
as Python source on one line, default-valued arguments left out, and ``ruff
format`` lays it out when the package is written (:mod:`generator.writer`).
:func:`form_literal` writes a form's spec so straight from its ``FormIR``.
Each form's file carries the fingerprint of its own ``FormIR``, so only the files
of changed forms change.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping
from operator import attrgetter
from typing import Any, TypeVar, cast

from generator.ir import FieldIR, FormIR, GroupIR, PackageIR, RuleIR, SectionIR, fingerprint
from generator.render import LINE_LENGTH, GeneratedFile, python_banner, width
from generator.render.templating import render
from generator.reuse import Previous
from runtime.formspec import FieldSpec, FormSpec, GroupSpec, RuleSpec, SectionSpec

__all__ = ["form_literal", "form_spec", "python_literal", "render_forms"]

# --- IR -> runtime spec ----------------------------------------------------------------

S = TypeVar("S")


@functools.cache
def field_values(cls: type) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]:
    """A dataclass's field names, and a getter of a value's fields as a tuple; made once per
    class (a province's forms have 100,000s of fields). TypeError for another class."""
    names = tuple(f.name for f in dataclasses.fields(cls))
    return names, _values(list(names))


def _spec(cls: type[S], value: object, **parts: object) -> S:
    """``value`` (an IR dataclass) as the runtime's ``cls``: every field of ``cls`` has its
    namesake in the IR (which also has ``renamed_from`` and ``source``), or is in ``parts``."""
    names, get = field_values(cast(type, cls))
    if not parts:
        return cls(*get(value))
    return cls(**{**dict(zip(names, get(value), strict=True)), **parts})


def _fields(fields: tuple[FieldIR, ...]) -> tuple[FieldSpec, ...]:
    return tuple(_spec(FieldSpec, f) for f in fields)


def form_spec(form: FormIR) -> FormSpec:
    """The runtime's view of ``form`` (what ``forms/<form id>.py`` defines as ``FORM``)."""
    return _spec(
        FormSpec,
        form,
        fields=_fields(form.fields),
        groups=tuple(_spec(GroupSpec, g, fields=_fields(g.fields)) for g in form.groups),
        sections=tuple(_spec(SectionSpec, s) for s in form.sections),
        rules=tuple(_spec(RuleSpec, r) for r in form.rules),
    )


# --- Python literals ---------------------------------------------------------------------


class _Literal:
    """Writes values as Python source on one line; ``as_spec`` maps IR classes to the
    runtime classes they are written as (the IR's own fields the spec lacks left out)."""

    def __init__(self, as_spec: Mapping[type, type]) -> None:
        self.as_spec = as_spec
        self.writers: dict[type, Callable[[Any], str]] = {str: repr, int: repr, bool: repr}

    def __call__(self, value: Any) -> str:
        write = self.writers.get(type(value))
        if write is None:
            write = self.writers[type(value)] = self._writer(type(value))
        return write(value)

    def _writer(self, cls: type) -> Callable[[Any], str]:
        """How a value of ``cls`` is written (found once per type: the forms of a province
        are 100,000s of values of a few types)."""
        if dataclasses.is_dataclass(cls):
            return self._call(cls)
        if issubclass(cls, Mapping):
            return self._mapping
        if issubclass(cls, list):
            return lambda value: "[" + ", ".join([self(v) for v in value]) + "]"
        if issubclass(cls, tuple):
            return self._tuple
        if cls is type(None) or issubclass(cls, bool | int | float | str):
            return repr
        raise TypeError(f"cannot write {cls.__name__} as a Python literal")

    def _call(self, cls: type) -> Callable[[Any], str]:
        spec = self.as_spec.get(cls, cls)
        name, arguments = spec.__name__, _arguments(spec)
        if spec is not cls:
            lacking = {a for a, _ in arguments} - {f.name for f in dataclasses.fields(cls)}
            if lacking:
                raise TypeError(f"{cls.__name__} has no {', '.join(sorted(lacking))} of {name}")

        keywords = tuple((f"{field}=", default) for field, default in arguments)
        get = _values([field for field, _ in arguments])

        def call(value: Any) -> str:
            args = [
                keyword + (repr(current) if type(current) is str else self(current))
                for (keyword, default), current in zip(keywords, get(value), strict=True)
                # "is": most are their default (None); MISSING equals no value
                if current is not default and current != default
            ]
            return f"{name}({', '.join(args)})"

        return call

    def _mapping(self, value: Mapping[Any, Any]) -> str:
        pairs = [
            f"{k!r}: {v!r}" if type(k) is str and type(v) is str else f"{self(str(k))}: {self(v)}"
            for k, v in value.items()
        ]
        return "{" + ", ".join(pairs) + "}"

    def _tuple(self, value: tuple[Any, ...]) -> str:
        items = [repr(v) if type(v) is str else self(v) for v in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


# The runtime spec class each IR class of a form is written as (here and in the rules)
SPEC_CLASSES: dict[type, type] = {
    FormIR: FormSpec,
    FieldIR: FieldSpec,
    GroupIR: GroupSpec,
    SectionIR: SectionSpec,
    RuleIR: RuleSpec,
}
_PYTHON = _Literal({})
_FORM = _Literal(SPEC_CLASSES)


def python_literal(value: Any) -> str:
    """``value`` as Python source on one line; ``ruff format`` lays it out when the package
    is written. Dataclasses are calls without their default-valued arguments."""
    return _PYTHON(value)


def form_literal(form: FormIR) -> str:
    """``python_literal(form_spec(form))``, written from the IR itself: a province's forms
    have 100,000s of fields, and making each a ``FieldSpec`` only to write it cost more
    than writing it."""
    return _FORM(form)


def _values(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """The attributes ``names`` of a value, as a tuple (one C call for two or more)."""
    if len(names) > 1:
        return attrgetter(*names)
    return lambda value: tuple(getattr(value, name) for name in names)


@functools.cache
def _arguments(cls: type) -> tuple[tuple[str, object], ...]:
    """Each field of a dataclass: its name and default (or MISSING)."""
    return tuple((f.name, f.default) for f in dataclasses.fields(cls))


# --- files ---------------------------------------------------------------------------


def _docstring_text(text: str, room: int) -> str:
    """``text`` fit for a one-line docstring of at most ``room`` columns."""
    cleaned = " ".join(
        "".join(c if c.isprintable() and c not in '\\"' else " " for c in text).split()
    )
    while width(cleaned) > room:
        cleaned = cleaned[:-2] + "…"
    return cleaned


def _classes(form: FormIR) -> list[str]:
    used = {"FormSpec", "FieldSpec"}
    if form.groups:
        used.add("GroupSpec")
    if form.sections:
        used.add("SectionSpec")
    if form.rules:
        used.add("RuleSpec")
    return sorted(used)


def render_form(form: FormIR, previous: Previous | None = None) -> GeneratedFile:
    """``forms/<form id>.py``; taken from ``previous`` when it is there unchanged."""
    path, banner = f"forms/{form.id}.py", python_banner(fingerprint(form))
    taken = previous.text(path, banner) if previous is not None else None
    if taken is not None:
        return GeneratedFile(path, taken, formatted=True)
    content = render(
        "form.py.jinja",
        banner=banner,
        form_id=form.id,
        title=_docstring_text(
            form.name.get("zh", ""), LINE_LENGTH - len(f'"""Form {form.id}: ."""')
        ),
        classes=", ".join(_classes(form)),
        literal=form_literal(form),
    )
    return GeneratedFile(path, content)


def render_forms(pkg: PackageIR, previous: Previous | None = None) -> Iterator[GeneratedFile]:
    """``forms/<form id>.py`` per form, one by one, and ``forms/__init__.py`` listing them."""
    for form in pkg.forms:
        yield render_form(form, previous)
    form_ids = [form.id for form in pkg.forms]
    init = render("forms_init.py.jinja", banner=python_banner(fingerprint(form_ids)), ids=form_ids)
    yield GeneratedFile("forms/__init__.py", init)
