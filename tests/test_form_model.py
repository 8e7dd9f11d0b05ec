"""runtime.formmodel: a form's pydantic model, and the package's JSON Schema agreeing with it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runtime.formmodel import Invalid, core_pattern
from runtime.formspec import FieldSpec, FormSpec
from runtime.package import load_package
from runtime.validation import validate_submission
from tests.helpers import GENERATED

PACKAGES = sorted(p.name for p in GENERATED.iterdir() if (p / "package.json").exists())


def _value(schema: dict[str, Any]) -> dict[str, Any]:
    """The non-null branch of a nullable schema."""
    for branch in schema.get("anyOf", ()):
        if branch.get("type") != "null":
            return dict(branch)
    return schema


def _same_constraints(
    fields: tuple[FieldSpec, ...], model: dict[str, Any], package: dict[str, Any]
) -> None:
    assert set(model["properties"]) >= {f.id for f in fields}
    assert model["additionalProperties"] is False
    assert package["additionalProperties"] is False
    for f in fields:
        ours, theirs = _value(model["properties"][f.id]), package["properties"][f.id]
        for key in ("maxLength", "minimum", "maximum"):
            assert ours.get(key) == theirs.get(key), (f.id, key)
        if f.min_length is not None:
            assert ours["minLength"] == theirs["minLength"] == f.min_length, f.id
        anchored = {f"^(?:{p})$" for p in f.patterns}
        if "pattern" in ours:  # pydantic's engine matches it: the first pattern, anchored
            assert ours["pattern"] == f"^(?:{f.patterns[0]})$", f.id
        if "pattern" in theirs and f.type in {"string", "text", "code"}:
            assert theirs["pattern"] in anchored, f.id


@pytest.mark.parametrize("region", PACKAGES)
def test_the_model_and_the_package_schema_state_the_same_constraints(region: str) -> None:
    """Every form of every bundled package: the same keys, no others, and the same
    lengths, ranges and patterns in the form's schema (``schemas/<h>.jsonl``) as in
    ``FORM.model``."""
    pkg = load_package(GENERATED / region)
    assert pkg.forms
    for form_id, form in pkg.forms.items():
        model = form.model.json_schema()
        package = json.loads(pkg.form_schema(form_id) or b"null")
        assert set(model["properties"]) == set(package["properties"]), form_id
        _same_constraints(form.fields, model, package)
        for g in form.groups:
            row = model["$defs"][_value(model["properties"][g.id])["items"]["$ref"].split("/")[-1]]
            _same_constraints(g.fields, row, package["properties"][g.id]["items"])


def _form(*fields: FieldSpec) -> FormSpec:
    return FormSpec(id="probe", name={"zh": "探针", "en": "Probe"}, fields=fields)


def _field(**kwargs: Any) -> FieldSpec:
    return FieldSpec(**{"id": "x", "element": "x", "label": {"zh": "值", "en": "Value"}, **kwargs})


def test_the_model_keeps_valid_values_and_puts_an_error_in_place_of_an_invalid_one() -> None:
    form = _form(
        _field(type="string", max_length=3),
        FieldSpec("n", "n", {"zh": "数"}, "integer"),
        FieldSpec("d", "d", {"zh": "日"}, "date"),
    )
    values = form.model.validate_python({"x": " ab ", "n": "3", "d": "2026-02-30"})
    assert values["x"] == "ab"
    assert isinstance(values["n"], Invalid) and values["n"].error["type"] == "int_type"
    assert isinstance(values["d"], Invalid) and values["d"].error["type"] == "date"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("4403051990030700", "gb11643.length"),  # the check first, though also too short
        ("44030519900307001４", "gb11643.charset"),  # before the pattern
        ("440305199003070014", None),
    ],
)
def test_the_identifier_check_comes_before_lengths_and_patterns(value: str, code: str) -> None:
    form = _form(
        _field(type="string", check="gb11643", min_length=18, max_length=18, patterns=("[0-9]*",))
    )
    _, errors = validate_submission(form, {"x": value})
    assert [e.code for e in errors] == ([code] if code else [])


@pytest.mark.parametrize("pattern", [r"\d+", "[0-9]+"])
def test_patterns_mean_what_re2_means_in_either_engine(pattern: str) -> None:
    """``\\d`` is ASCII in RE2 and Unicode in pydantic's Rust engine: such a pattern stays
    with RE2, so Arabic-Indic or full-width digits are refused either way."""
    form = _form(_field(type="string", patterns=(pattern,)))
    assert validate_submission(form, {"x": "123"})[1] == []
    for digits in ("١٢٣", "１２３"):
        assert [e.code for e in validate_submission(form, {"x": digits})[1]] == ["pattern"]


def test_core_pattern_only_takes_what_means_the_same_in_both_engines() -> None:
    assert core_pattern("[0-9]{6}") == "^(?:[0-9]{6})$"
    assert core_pattern(r"[\p{L}\p{N}]*") == r"^(?:[\p{L}\p{N}]*)$"
    assert core_pattern(r"a\\d") == r"^(?:a\\d)$"  # an escaped backslash, then d
    for unlike in (r"\d{4}", r"\w+", r"\s", r"\bx", r"\Qa.b\E", r"\C"):
        assert core_pattern(unlike) is None, unlike
