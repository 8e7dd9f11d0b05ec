"""``forms/<form>.py`` and ``forms/__init__.py``: one :class:`~runtime.formspec.FormSpec` per form.

:func:`form_spec` maps a ``FormIR`` to the runtime's ``FormSpec`` (what the
generated module will evaluate to); :func:`python_literal` writes such a value
as Python source on one line, default-valued arguments left out, and ``ruff
format`` lays it out when the package is written (:mod:`generator.writer`).
Each form's file carries the fingerprint of its own ``FormIR``, so only the files
of changed forms change.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping
from operator import attrgetter
from typing import Any, TypeVar, cast

from generator.ir import FieldIR, FormIR, PackageIR, fingerprint
from generator.render import LINE_LENGTH, GeneratedFile, python_banner, width
from generator.render.templating import render
from generator.reuse import Previous
from runtime.formspec import FieldSpec, FormSpec, GroupSpec, RuleSpec, SectionSpec

__all__ = ["form_spec", "python_literal", "render_forms"]

# --- IR -> runtime spec ----------------------------------------------------------------

S = TypeVar("S")
_GETTERS: dict[type, tuple[tuple[str, ...], attrgetter[Any]]] = {}


def _spec(cls: type[S], value: object, **parts: object) -> S:
    """``value`` (an IR dataclass) as the runtime's ``cls``: every field of ``cls`` has its
    namesake in the IR (which also has ``renamed_from`` and ``source``), or is in ``parts``.
    The getter is made once per class: a province's forms have 100,000s of fields."""
    got = _GETTERS.get(cls)
    if got is None:
        names = tuple(f.name for f in dataclasses.fields(cast(Any, cls)))
        got = _GETTERS[cls] = names, attrgetter(*names)
    names, get = got
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


def python_literal(value: Any) -> str:
    """``value`` as Python source on one line; ``ruff format`` lays it out when the package
    is written. Dataclasses are calls without their default-valued arguments."""
    write = _WRITERS.get(type(value))
    if write is None:
        write = _WRITERS[type(value)] = _writer(type(value))
    return write(value)


def _writer(cls: type) -> Callable[[Any], str]:
    """How :func:`python_literal` writes a value of ``cls`` (found once per type: the
    forms of a province are 100,000s of values of a few types)."""
    if dataclasses.is_dataclass(cls):
        name, arguments = cls.__name__, _arguments(cls)

        def call(value: Any) -> str:
            args = [
                f"{field}={python_literal(current)}"
                for field, default in arguments
                if (current := getattr(value, field)) != default  # MISSING equals no value
            ]
            return f"{name}({', '.join(args)})"

        return call
    if issubclass(cls, Mapping):
        return _mapping
    if issubclass(cls, list):
        return lambda value: "[" + ", ".join([python_literal(v) for v in value]) + "]"
    if issubclass(cls, tuple):
        return _tuple
    if cls is type(None) or issubclass(cls, bool | int | float | str):
        return repr
    raise TypeError(f"cannot write {cls.__name__} as a Python literal")


def _mapping(value: Mapping[Any, Any]) -> str:
    pairs = [f"{python_literal(str(k))}: {python_literal(v)}" for k, v in value.items()]
    return "{" + ", ".join(pairs) + "}"


def _tuple(value: tuple[Any, ...]) -> str:
    items = [python_literal(v) for v in value]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


_WRITERS: dict[type, Callable[[Any], str]] = {str: repr, int: repr, bool: repr}


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
        literal=python_literal(spec),
    )
    return GeneratedFile(path, content)


def render_forms(pkg: PackageIR, previous: Previous | None = None) -> Iterator[GeneratedFile]:
    """``forms/<form id>.py`` per form, one by one, and ``forms/__init__.py`` listing them."""
    for form in pkg.forms:
        yield render_form(form, previous)
    form_ids = [form.id for form in pkg.forms]
    init = render("forms_init.py.jinja", banner=python_banner(fingerprint(form_ids)), ids=form_ids)
    yield GeneratedFile("forms/__init__.py", init)
