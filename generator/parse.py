"""Turn YAML nodes into kind models, mapping pydantic's errors back to ``file:line:col``."""

from __future__ import annotations

import difflib
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from generator.diagnostics import Diagnostics, Location
from generator.kinds.common import Model
from generator.yamlsource import child, descend, is_plain, key_node, location

M = TypeVar("M", bound=Model)

_YES_NO = {"yes", "no", "on", "off", "y", "n"}
_NUMBER_WORD = {bool: "a boolean (true/false)", int: "a number", float: "a number"}


def build(cls: type[M], node: yaml.Node, data: Any, diagnostics: Diagnostics) -> M | None:
    """Validate ``data`` (read from ``node``) as ``cls``; None when it has errors."""
    try:
        model = cls.model_validate(data)
    except ValidationError as exc:
        seen: set[Location] = set()
        for error in exc.errors(include_url=False):
            where, message = _explain(cls, node, error)
            if where not in seen:
                seen.add(where)
                diagnostics.error(where, message)
        return None
    model.attach(node)
    return model


def _field_path(loc: tuple[Any, ...], node: yaml.Node) -> list[Any]:
    """The steps of a pydantic error location that exist in the YAML (drops union tags)."""
    path: list[Any] = []
    current: yaml.Node | None = node
    for step in loc:
        nxt = child(current, step) if current is not None else None
        if nxt is not None:
            path.append(step)
            current = nxt
        elif (
            isinstance(step, str)
            and not any(c in step for c in "[]-")
            and step
            not in {
                "str",
                "int",
                "float",
                "bool",
                "list",
                "dict",
            }
        ):
            path.append(step)
            current = None
    return path


def _explain(cls: type[Model], node: yaml.Node, error: Any) -> tuple[Location, str]:
    kind: str = error["type"]
    path = _field_path(tuple(error["loc"]), node)
    value = error.get("input")
    target = descend(node, path)
    if error["loc"] and error["loc"][-1] == "[key]":  # a mapping key, e.g. of 'overrides'
        target = key_node(descend(node, path[:-1]), str(path[-1])) or target
        path = path[:-1]
    where = location(target)
    name = _name(path) if path else cls.__name__
    if kind == "missing":
        return location(descend(node, path[:-1])), f"missing required key '{name}'"
    if kind == "extra_forbidden":
        parent = descend(node, path[:-1])
        key = key_node(parent, name)
        allowed = _allowed_keys(cls, path[:-1])
        hint = difflib.get_close_matches(name, allowed, n=1)
        tip = f"; did you mean '{hint[0]}'?" if hint else ""
        shown = ", ".join(sorted(allowed)) if allowed else "none"
        return location(key or target), f"unknown key '{name}'{tip} (allowed keys: {shown})"
    if kind == "string_type" and type(value) in _NUMBER_WORD and is_plain(target):
        src = target.value
        return where, (
            f"'{name}' is text but {src} is read as {_NUMBER_WORD[type(value)]}; "
            f'quote it ("{src}") to keep it exactly as written'
        )
    if kind == "string_pattern_mismatch" and "a-z" in str(error.get("ctx", {}).get("pattern")):
        return where, (
            f"'{value}' is not a valid id for '{name}': use lower-case letters, digits and '_', "
            "starting with a letter, at most 63 characters"
        )
    if kind == "bool_type" and isinstance(value, str) and is_plain(target):
        why = " (YAML 1.2 reads yes/no/on/off as text)" if value.lower() in _YES_NO else ""
        return where, f"'{name}' must be true or false, not {value}{why}"
    if value is None and kind.endswith("_type"):
        parent = descend(node, path[:-1])
        comma = ""
        if getattr(parent, "flow_style", False):
            comma = "; in a {…} mapping a comma ends the entry, so quote text that has commas"
        return where, f"'{name}' has no value{comma}"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return where, f"'{name}' is {value!r}; expected {expected}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind.endswith("_type") or kind in {"int_parsing", "date_from_datetime_parsing"}:
        message = f"{message} (got {_short(value)})"
    return where, f"'{name}': {message}"


def _name(path: list[Any]) -> str:
    """The key an error is about; a list item is named with its index: ``holidays[3]``."""
    index = ""
    for step in reversed(path):
        if not isinstance(step, int):
            return f"{step}{index}"
        index = f"[{step}]{index}"
    return index


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(cls: type[Model], path: list[Any]) -> list[str]:
    """Allowed keys of the model found at ``path`` below ``cls`` (best effort)."""
    current: Any = cls
    for step in path:
        if isinstance(step, int):
            continue
        if not (isinstance(current, type) and issubclass(current, Model)):
            return []
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == step), None)
        if field is None:
            return []
        current = _model_in(field.annotation)
    if isinstance(current, type) and issubclass(current, Model):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _model_in(annotation: Any) -> Any:
    """The first Model class mentioned in a type annotation, if any."""
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
