"""Renderers of forms/*.py, schemas/*.json and openapi.json."""

from __future__ import annotations

import dataclasses
import importlib
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

import runtime.formspec
from generator.build import build_package
from generator.ir import FieldIR, FormIR, GroupIR, PackageIR, RuleIR, SectionIR, fingerprint
from generator.pipeline import check_tree
from generator.render import GeneratedFile, json_line, python_banner, width
from generator.render.forms import form_literal, form_spec, python_literal, render_forms
from generator.render.openapi import openapi_document, render_openapi
from generator.render.rules import current
from generator.render.schemas import form_schema, portable, render_schemas
from generator.writer import format_python, mark_long_lines
from runtime.formspec import FieldSpec, FormSpec
from runtime.packs import SCHEMAS, pack_name, unpack
from runtime.rules import rules_document, rules_hash
from runtime.validation import validate_submission
from tests.helpers import FIXTURE

ID_OK = "11010519491231002X"
ID_OK_2 = "440524188001010014"


@pytest.fixture(scope="module")
def pkg() -> PackageIR:
    tree, diagnostics, resolved = check_tree([FIXTURE])
    assert not diagnostics.has_errors()
    return build_package(tree, resolved, "a")


def _ibr(pkg: PackageIR) -> FormIR:
    return next(f for f in pkg.forms if f.id == "ibr_form")


def _field(fid: str, type_: str, **kwargs: Any) -> FieldIR:
    return FieldIR(id=fid, element=fid, label={"zh": fid, "en": fid.title()}, type=type_, **kwargs)


# Every type and annotation, by hand.
EVERYTHING = FormIR(
    id="everything",
    name={"zh": "全部类型", "en": "Everything"},
    version="1",
    fields=(
        _field("name", "string", min_length=2, max_length=5, patterns=("[A-Z].*", "[^\\W_]*")),
        _field("code", "string", patterns=("[0-9]{6}", "[1-9].*"), required=False),
        _field("note", "text", required=False, help={"zh": "说明"}),
        _field("count", "integer", minimum=1, maximum=10),
        _field(
            "amount",
            "decimal",
            minimum=0,
            digits=6,
            fraction_digits=2,
            unit={"zh": "元", "en": "yuan"},
        ),
        _field("flag", "boolean"),
        _field("day", "date"),
        _field("at", "datetime", required=False),
        _field("colors", "code", multiple=True, codeset="c", codes=("r", "g"), required=False),
        _field("area", "code", codeset="d", codes=("440300", "440305"), check="gb2260"),
        _field("doc", "file", required=False),
        _field("id_number", "string", check="gb11643", sensitive=True, prefill="identity.id"),
        _field("reason", "string", when="flag"),
        _field("details", "string", required="count > 5"),
    ),
    groups=(
        GroupIR(
            id="items",
            name={"zh": "明细"},
            min=1,
            max=2,
            when=None,
            fields=(_field("item", "string"), _field("qty", "integer", required=False)),
        ),
    ),
    sections=(
        SectionIR("main", {"zh": "主要"}, ("name", "code", "note", "count", "amount")),
        SectionIR("items", {"zh": "明细"}, ("item", "qty"), group=True),
    ),
    rules=(RuleIR("r1", "count < 8 || amount >= 100.0", {"zh": "金额不足"}),),
)

EVERYTHING_VALID: dict[str, Any] = {
    "name": "Abc",
    "count": 3,
    "amount": "12.50",
    "flag": False,
    "day": "2024-02-29",
    "area": "440305",
    "id_number": ID_OK,
    "colors": ["r", "g"],
    "at": "2026-03-01T08:30:00+08:00",
    "note": None,
    "items": [{"item": "书", "qty": 1}],
}

# Each is refused by the schema and by the server.
EVERYTHING_INVALID: list[dict[str, Any]] = [
    {"extra": 1},
    {"name": "abc"},
    {"name": "Abcdefg"},
    {"name": ""},
    {"name": None},
    {"code": "12345"},
    {"code": "012345"},
    {"count": True},
    {"count": "3"},
    {"count": 11},
    {"amount": "1.2.3"},
    {"amount": 12345.5},
    {"amount": -1},
    {"flag": "no"},
    {"day": "20240229"},
    {"at": "2026-03-01 08:30"},
    {"colors": ["r", "x"]},
    {"colors": ["r", "r"]},
    {"area": "110000"},
    {"items": []},
    {"items": [{"item": "a"}] * 3},
    {"items": [{"item": "a", "price": 1}]},
    {"items": [{"qty": 1}]},
]


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


# --- JSON Schemas ---------------------------------------------------------------------


def test_rendered_schemas_are_valid_2020_12(pkg: PackageIR) -> None:
    files = render_schemas(pkg)
    packed = sorted({pack_name(SCHEMAS, form.id) for form in pkg.forms})
    assert [f.path for f in files] == packed + [f"schemas/bundles/{b.id}.json" for b in pkg.bundles]
    documents: dict[str, bytes] = {}
    for file in files[: len(packed)]:
        documents.update(unpack(file.data, file.path))
    assert sorted(documents) == sorted(form.id for form in pkg.forms)
    for raw in documents.values():
        schema = json.loads(raw)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)
        assert raw == orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)  # compact, one line
    for file in files[len(packed) :]:
        assert isinstance(file.content, str) and file.content.endswith("}\n")
        schema = json.loads(file.content)
        Draft202012Validator.check_schema(schema)
        assert (
            file.content == json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        )


def test_schema_accepts_a_valid_submission_and_refuses_invalid_ones(pkg: PackageIR) -> None:
    schema = dict(form_schema(next(f for f in pkg.forms if f.id == "ibr_form")))
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    valid: dict[str, Any] = {
        "person_name": "张三",
        "citizen_id_number": ID_OK,
        "operator_phone": "13812345678",
        "sex": "1",
        "agent_used": False,
        "organization_form": "2",
        "registered_capital": 10.5,
        "business_scope": "餐饮服务",
        "employees": None,
        "members": [{"person_name": "李四", "citizen_id_number": ID_OK_2, "sex": None}],
    }
    assert list(validator.iter_errors(valid)) == []
    changes: list[dict[str, Any]] = [
        {"extra": 1},
        {"sex": "9"},
        {"agent_used": "false"},
        {"employees": True},
        {"operator_phone": "1381234567a"},
        {"business_scope": "x" * 201},
        {"members": [{"person_name": "李四"}]},
        {"members": [{"person_name": "李四", "citizen_id_number": ID_OK_2, "x": 1}]},
        {"members": [{"person_name": "a", "citizen_id_number": ID_OK_2}] * 11},
    ]
    for change in changes:
        assert not validator.is_valid({**valid, **change}), change


def test_schema_and_server_agree_on_samples() -> None:
    schema = form_schema(EVERYTHING)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    spec = form_spec(EVERYTHING)
    assert list(validator.iter_errors(EVERYTHING_VALID)) == []
    assert validate_submission(spec, EVERYTHING_VALID)[1] == []
    for change in EVERYTHING_INVALID:
        data = _drop_none({**EVERYTHING_VALID, **change})
        if "name" in change and change["name"] is None:
            data["name"] = None
        assert not validator.is_valid(data), change
        assert validate_submission(spec, data)[1], change


def test_schema_keywords() -> None:
    props = form_schema(EVERYTHING)["properties"]
    assert props["name"]["pattern"] == "^(?:[A-Z].*)$"  # \\W is not portable
    assert props["name"]["x-govstd-patterns"] == ["[A-Z].*", "[^\\W_]*"]
    assert props["code"]["allOf"] == [{"pattern": "^(?:[0-9]{6})$"}, {"pattern": "^(?:[1-9].*)$"}]
    assert props["code"]["type"] == ["string", "null"]
    assert props["amount"]["exclusiveMaximum"] == 10**4
    assert props["amount"]["x-govstd-fraction-digits"] == 2
    assert props["amount"]["x-govstd-unit"] == "元"  # as before units were localized
    assert props["amount"]["x-govstd-unit-label"] == {"zh": "元", "en": "yuan"}
    assert props["day"]["format"] == "date"
    assert props["colors"]["items"]["enum"] == ["r", "g"]
    assert props["colors"]["uniqueItems"] is True
    assert props["id_number"]["x-govstd-sensitive"] is True
    assert props["id_number"]["x-govstd-check"] == "gb11643"
    assert props["reason"]["x-govstd-when"] == "flag"
    assert props["details"]["x-govstd-required"] == "count > 5"
    assert props["items"]["minItems"] == 1 and props["items"]["maxItems"] == 2
    assert props["items"]["items"]["additionalProperties"] is False
    schema = form_schema(EVERYTHING)
    assert schema["additionalProperties"] is False
    assert "reason" not in schema["required"] and "details" not in schema["required"]
    assert {"name", "count", "items"} <= set(schema["required"])
    assert schema["title"] == "全部类型"
    assert schema["x-govstd-rules"][0]["assert"] == "count < 8 || amount >= 100.0"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[0-9]*", True),
        ("[A-Z]{2}\\.[a-z]+", True),
        ("\\d{6}", False),
        ("[^\\W_]*", False),
        ("(?P<x>a)", False),
        ("(?:a|b)", True),
        ("(?i)abc", False),
        ("a\\\\d", True),
    ],
)
def test_portable_patterns(pattern: str, expected: bool) -> None:
    assert portable(pattern) is expected


# --- OpenAPI ----------------------------------------------------------------------------

INTERFACE_PATHS = {
    ("get", "/healthz"),
    ("get", "/openapi.json"),
    ("get", "/docs"),
    ("get", "/api/matters"),
    ("get", "/api/matters/{matter}"),
    ("get", "/api/forms/{form}/schema"),
    ("get", "/api/codesets/{codeset}"),
    ("post", "/api/matters/{matter}/applications"),
    ("get", "/api/applications"),
    ("get", "/api/applications/{id}"),
    ("put", "/api/applications/{id}/materials/{material}"),
    ("get", "/api/applications/{id}/materials/{material}"),
    ("post", "/api/applications/{id}/actions/{transition}"),
    ("post", "/api/applications/{id}/evaluation"),
    ("get", "/api/staff/applications"),
    ("get", "/api/staff/stats"),
}


def test_openapi_is_valid_3_1(pkg: PackageIR) -> None:
    (file,) = render_openapi(pkg)
    assert file.path == "openapi.json"
    doc = json.loads(file.data)
    validate_openapi(doc)
    assert doc["openapi"].startswith("3.1")
    assert doc["info"]["title"] == "甲省政务服务接口"
    operations = {(m, p) for p, item in doc["paths"].items() for m in item}
    assert operations >= INTERFACE_PATHS
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_openapi_forms_errors_and_security(pkg: PackageIR) -> None:
    doc = openapi_document(pkg)
    schemas = doc["components"]["schemas"]
    for form in pkg.forms:
        assert schemas[f"form_{form.id}"] == form_schema(form)
        Draft202012Validator.check_schema(schemas[f"form_{form.id}"])
    submit = doc["paths"]["/api/matters/{matter}/applications"]["post"]
    forms = submit["x-govstd-forms"]
    matters = {m.id: m.form for r in pkg.regions for m in r.matters}
    assert forms == {m: {"$ref": f"#/components/schemas/form_{f}"} for m, f in matters.items()}
    assert set(submit["responses"]) >= {"201", "401", "403", "404", "409", "413", "415", "422"}
    assert submit["security"] == [{"bearer": []}]
    assert doc["paths"]["/healthz"]["get"]["security"] == []
    bearer = doc["components"]["securitySchemes"]["bearer"]
    assert bearer == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    error = schemas["Error"]["properties"]["error"]
    assert error["required"] == ["code", "message"]
    assert error["properties"]["fields"]["items"] == {"$ref": "#/components/schemas/FieldProblem"}
    invalid = doc["components"]["responses"]["Invalid"]["content"]["application/json"]
    assert invalid["schema"] == {"$ref": "#/components/schemas/Error"}
    body = submit["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Submission"}
    assert schemas["Submission"]["required"] == ["region", "data"]
    # data is typed: one of the matters' forms (issue 14 item 5), each a component schema
    data = schemas["Submission"]["properties"]["data"]
    refs = [ref["$ref"] for ref in data["anyOf"]]
    assert refs == sorted({ref["$ref"] for ref in forms.values()})
    assert all(ref.rpartition("/")[2] in schemas for ref in refs)
    matter = doc["components"]["parameters"]["matter"]["schema"]
    assert matter["enum"] == sorted(matters)


# --- determinism ------------------------------------------------------------------------


def _render_all(pkg: PackageIR) -> list[GeneratedFile]:
    return [*render_forms(pkg), *render_schemas(pkg), *render_openapi(pkg)]


def test_rendering_twice_gives_identical_output(pkg: PackageIR) -> None:
    assert _render_all(pkg) == _render_all(pkg)


# --- forms/*.py ----------------------------------------------------------------------


@pytest.fixture
def written(tmp_path: Path, pkg: PackageIR) -> Iterator[tuple[str, Path]]:
    """The rendered forms written as a package importable under a fresh name."""
    name = f"govstd_test_pkg_{uuid.uuid4().hex[:8]}"
    base = tmp_path / name
    (base / "forms").mkdir(parents=True)
    (base / "__init__.py").write_text("")
    for file in render_forms(pkg):
        (base / file.path).write_text(file.content, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        yield name, base
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]


def test_rendered_forms_import_and_equal_the_ir(pkg: PackageIR, written: tuple[str, Path]) -> None:
    name, _ = written
    forms = importlib.import_module(f"{name}.forms").FORMS
    assert list(forms) == [f.id for f in pkg.forms]
    for form in pkg.forms:
        spec = forms[form.id]
        assert isinstance(spec, FormSpec)
        assert spec == form_spec(form)
        assert [f.id for f in spec.fields] == [f.id for f in form.fields]


def test_form_literal_is_the_spec_literal(pkg: PackageIR) -> None:
    """Written from the IR, the literal is the one of the runtime spec it maps to."""
    for form in (*pkg.forms, EVERYTHING):
        assert form_literal(form) == python_literal(form_spec(form))
        assert eval(form_literal(form), vars(runtime.formspec)) == form_spec(form)


def test_rules_documents_are_the_runtimes(pkg: PackageIR) -> None:
    """generator/render/rules.py writes each form once into its matters' documents: each
    document is runtime.rules' of the matter's form spec, keyed by its rules_hash, and its
    line in the pack is the compact JSON that hash is of."""
    everything = dataclasses.replace(EVERYTHING, id="ibr_form")
    odd = dataclasses.replace(
        pkg, forms=tuple(everything if f.id == "ibr_form" else f for f in pkg.forms)
    )
    for package in (pkg, odd):
        specs = {f.id: form_spec(f) for f in package.forms}
        expected = {}
        for region in package.regions:
            for m in region.matters:
                plain = json.loads(json.dumps(dataclasses.asdict(region)))  # matters as data
                matter = next(x for x in plain["matters"] if x["id"] == m.id)
                doc = rules_document(specs[m.form], matter["materials"], matter["promised"])
                expected[rules_hash(doc)] = json_line(doc)
        assert current(package) == expected
        assert len(expected) > 3


def test_rendered_forms_have_banners(pkg: PackageIR) -> None:
    files = {f.path: f.content for f in render_forms(pkg)}
    for form in pkg.forms:
        first = files[f"forms/{form.id}.py"].splitlines(keepends=True)[0]
        assert first == python_banner(fingerprint(form))
    assert files["forms/__init__.py"].startswith("# Generated by govstd")


def test_only_changed_forms_files_change(pkg: PackageIR) -> None:
    before = {f.path: f.content for f in render_forms(pkg)}
    ibr = _ibr(pkg)
    changed_form = dataclasses.replace(ibr, name={"zh": "新名称"})
    forms = tuple(changed_form if f.id == ibr.id else f for f in pkg.forms)
    after = {f.path: f.content for f in render_forms(dataclasses.replace(pkg, forms=forms))}
    assert [p for p in before if before[p] != after[p]] == ["forms/ibr_form.py"]


@pytest.mark.skipif(
    shutil.which("ruff", path=str(Path(sys.executable).parent)) is None
    and shutil.which("ruff") is None,
    reason="ruff is not installed",
)
def test_rendered_forms_are_lint_clean_once_formatted(pkg: PackageIR, tmp_path: Path) -> None:
    """As the writer leaves them (``ruff format``, long lines marked), ``ruff check`` passes."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff is not None
    for file in format_python(list(render_forms(pkg))):
        (tmp_path / file.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / file.path).write_text(file.content, encoding="utf-8")
    select = "E,F,W,I,UP"
    lint = subprocess.run(
        [ruff, "check", "--isolated", "--line-length", "100", "--select", select, str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_long_lines_are_marked_only_where_ruff_check_would_flag_them() -> None:
    rule = "    expression=" + repr("a != '2' || b.exists(i, i in ['05', '06', '07'])" * 2) + ","
    assert mark_long_lines(rule + "\n") == rule + "  # noqa: E501\n"
    one_word = "    name=" + repr("x" * 120) + ","  # E501 leaves a line of one word alone
    docstring = '"""' + "word " * 30 + "\n" + "word " * 30 + '\n"""\n'  # the mark would be text
    short = "x = 1\n"
    for text in (one_word, docstring, short):
        assert mark_long_lines(text) == text


@pytest.mark.parametrize(
    "wide", ["长", "\U00020000", "！", "가"]
)  # CJK, plane 2, fullwidth, Hangul
def test_lines_of_wide_characters_are_marked_by_their_columns(wide: str) -> None:
    """Near 100 columns: a line is marked when it is wider, whatever its bytes and length."""
    for n in range(30, 60):
        for narrow in ("", "a", "é"):
            line = f'    x = "{wide * n}{narrow}"'
            marked = mark_long_lines(f"a = 1\n{line}\n")
            assert marked.endswith("  # noqa: E501\n") == (width(line) > 100), (n, narrow)


@pytest.mark.parametrize(
    "value",
    [
        {"zh": "短", "en": 'it\'s "quoted"'},
        ("a",),
        ["a" * 60, "b" * 60],
        "a\\d\n\t\x00\u2028",
        (None, True, 3, 2.5e20, -1),
        FieldSpec(id="x", element="x", label={"zh": "长" * 90}, type="string", codes=("1", "2")),
    ],
)
def test_python_literal_evaluates_to_the_value(value: object) -> None:
    text = python_literal(value)
    assert "\n" not in text  # one line: ruff format lays it out
    assert eval(text, {"FieldSpec": FieldSpec}) == value


def test_keyword_form_id_is_imported_by_module_name(tmp_path: Path, pkg: PackageIR) -> None:
    ibr = _ibr(pkg)
    odd = dataclasses.replace(pkg, forms=(dataclasses.replace(ibr, id="class"), ibr))
    name = f"govstd_test_kw_{uuid.uuid4().hex[:8]}"
    (tmp_path / name / "forms").mkdir(parents=True)
    (tmp_path / name / "__init__.py").write_text("")
    for file in render_forms(odd):
        (tmp_path / name / file.path).write_text(file.content, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        forms = importlib.import_module(f"{name}.forms").FORMS
        assert forms["class"].id == "class" and forms["ibr_form"].id == "ibr_form"
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m.startswith(name)]:
            del sys.modules[module]


def test_an_elements_unit_is_localized_text_or_a_plain_string() -> None:
    from generator.kinds.element import DataElement

    def unit_of(value: Any) -> Any:
        base = {"kind": "DataElement", "id": "x", "name": {"zh": "x"}, "type": "integer"}
        return DataElement.model_validate({**base, "unit": value}).unit

    assert unit_of("人") == {"zh": "人"}  # a plain string stays valid: the Chinese unit
    assert unit_of({"zh": "人", "en": "people"}) == {"zh": "人", "en": "people"}
