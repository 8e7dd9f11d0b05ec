"""The banners' fingerprints: a stable hash of content, which any change to it changes.

Form module reuse (generator/reuse.py) takes a form's file over when its banner is the one
its ``FormIR`` would get: a change the fingerprint missed would leave a stale form."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import pytest

from generator.ir import FieldIR, FormIR, GroupIR, RuleIR, SectionIR, fingerprint
from generator.render.openapi import openapi_document, render_openapi
from tests.test_schemas import EVERYTHING, pkg  # noqa: F401 (a fixture)


def _other(value: Any) -> list[Any]:
    """Values a field holding ``value`` could hold instead, close to it."""
    if value is None:
        return ["", 0, False, (), {}]
    if isinstance(value, bool):
        return [not value, int(value), str(value).lower(), None]
    if isinstance(value, int):
        return [value + 1, float(value), str(value), None, value == 1]
    if isinstance(value, float):
        return [value + 0.5, int(value) if value == int(value) else value * 2, None]
    if isinstance(value, str):
        return [value + "x", value[:-1], value.upper() if value != value.upper() else "a", None]
    if isinstance(value, tuple):
        return [(), (*value, value[-1]) if value else ("",), value[:-1] if value else None]
    if isinstance(value, dict):
        extra = {**value, "en": "other"} if value.get("en") != "other" else {**value, "en": ""}
        reordered = dict(reversed(value.items()))
        return [{}, extra, *([reordered] if list(reordered) != list(value) else []), None]
    raise AssertionError(type(value))


def _variants(obj: Any) -> list[Any]:
    """``obj`` with one attribute changed, for every attribute, nested dataclasses too."""
    out = []
    for f in dataclasses.fields(obj):
        current = getattr(obj, f.name)
        if dataclasses.is_dataclass(current):
            out += [dataclasses.replace(obj, **{f.name: v}) for v in _variants(current)]
        elif isinstance(current, tuple) and current and dataclasses.is_dataclass(current[0]):
            for i, item in enumerate(current):
                for v in _variants(item):
                    items = (*current[:i], v, *current[i + 1 :])
                    out.append(dataclasses.replace(obj, **{f.name: items}))
        else:
            out += [dataclasses.replace(obj, **{f.name: v}) for v in _other(current)]
    return out


def test_every_change_to_a_form_changes_its_fingerprint() -> None:
    form = dataclasses.replace(
        EVERYTHING,
        groups=(
            GroupIR("g", {"zh": "组"}, 0, 3, None, (FieldIR("x", "x", {"zh": "X"}, "string"),)),
        ),
        sections=(SectionIR("s", {"zh": "节"}, ("name",)),),
        rules=(RuleIR("r", "name != ''", {"zh": "必填"}),),
        renamed_from=("old",),
    )
    variants = [v for v in _variants(form) if repr(v) != repr(form)]
    assert len(variants) > 200
    prints = [fingerprint(v) for v in variants]
    assert fingerprint(form) not in prints
    distinct = {fingerprint(v): v for v in variants}
    # variants equal as values (a repeated change) share a fingerprint; no other two do
    assert len(distinct) == len({repr(v) for v in variants})


def test_the_fingerprint_is_stable() -> None:
    field = FieldIR("a", "e", {"zh": "甲", "en": "A"}, "decimal", minimum=0.5, codes=("1",))
    assert fingerprint(field) == fingerprint(dataclasses.replace(field))
    assert fingerprint(field) == fingerprint(FieldIR(**json.loads(json.dumps(_plain(field)))))
    assert len(fingerprint(field)) == 16


def _plain(field: FieldIR) -> dict[str, Any]:
    return {
        f.name: tuple(v) if isinstance(v := getattr(field, f.name), tuple) else v
        for f in dataclasses.fields(field)
    }


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({1: "a"}, {"1": "a"}),  # not JSON: hashed by repr
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
        ([1, 2], [2, 1]),
        (2**70, 2**70 + 1),
        ("", None),
        (True, 1),
        (1, 1.0),
    ],
)
def test_values_that_differ_have_different_fingerprints(a: Any, b: Any) -> None:
    assert fingerprint(a) != fingerprint(b)


def test_openapi_version_names_the_content(pkg: FormIR) -> None:  # noqa: F811
    doc = openapi_document(pkg)  # type: ignore[arg-type]
    data = render_openapi(pkg)[0].data  # type: ignore[arg-type]
    assert json.loads(data) == doc
    version = doc["info"]["version"]
    unversioned = data.replace(version.encode(), b"1.0.0+unversioned")
    assert version == "1.0.0+" + hashlib.sha256(unversioned).hexdigest()[:12]
