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
import keyword
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from generator.ir import FieldIR, FormIR, GroupIR, PackageIR, fingerprint
from generator.render import LINE_LENGTH, GeneratedFile, python_banner, width
from generator.render.templating import render
from generator.reuse import Previous
from runtime.formspec import FieldSpec, FormSpec, GroupSpec, RuleSpec, SectionSpec

__all__ = ["form_spec", "python_literal", "render_forms"]

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


# --- Python literals ---------------------------------------------------------------------


def python_literal(value: Any) -> str:
    """``value`` as Python source on one line; ``ruff format`` lays it out when the package
    is written. Dataclasses are calls without their default-valued arguments."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        args = (
            f"{name}={python_literal(current)}"
            for name, default in _arguments(type(value))
            if (current := getattr(value, name)) != default  # MISSING equals no value
        )
        return f"{type(value).__name__}({', '.join(args)})"
    if isinstance(value, Mapping):
        pairs = (f"{python_literal(str(k))}: {python_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, tuple | list):
        items = [python_literal(v) for v in value]
        if isinstance(value, list):
            return "[" + ", ".join(items) + "]"
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if value is None or isinstance(value, bool | int | float | str):
        return repr(value)
    raise TypeError(f"cannot write {type(value).__name__} as a Python literal")


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


def _module_names(form_ids: Sequence[str]) -> list[tuple[str, bool]]:
    """Each form id, and whether it can be imported by name (Python keywords cannot)."""
    return [(form_id, not keyword.iskeyword(form_id)) for form_id in form_ids]


def _import_line(names: Sequence[str]) -> str:
    return "from . import " + ", ".join(names) if names else ""


def render_forms(pkg: PackageIR, previous: Previous | None = None) -> Iterator[GeneratedFile]:
    """``forms/<form id>.py`` per form and ``forms/__init__.py`` with ``FORMS``, one by one."""
    for form in pkg.forms:
        yield render_form(form, previous)
    form_ids = [form.id for form in pkg.forms]
    modules = _module_names(form_ids)
    init = render(
        "forms_init.py.jinja",
        banner=python_banner(fingerprint(form_ids)),
        import_line=_import_line([name for name, plain in modules if plain]),
        keywords=[name for name, plain in modules if not plain],
        modules=modules,
    )
    yield GeneratedFile("forms/__init__.py", init)
