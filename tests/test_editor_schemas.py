"""``govstd schema``: JSON Schemas of the kinds, for editors, made from the kind models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from typer.testing import CliRunner

from generator.cli import app
from generator.diagnostics import Diagnostics
from generator.kinds import KINDS
from generator.schema import COMBINED, kind_file, schema_files
from generator.tree import yaml_files
from generator.yamlsource import load_file
from tests.helpers import ROOT

COMMITTED = ROOT / "docs" / "schemas"
TREES = [ROOT / "standards", ROOT / "tests" / "fixtures" / "mini"]


def _documents(root: Path) -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for path in yaml_files(root):
        diagnostics = Diagnostics()
        for document in load_file(path, str(path.relative_to(ROOT)), diagnostics):
            documents.append((document.file, document.data))
        assert not diagnostics.has_errors(), list(diagnostics)
    return documents


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    return {name: json.loads(text) for name, text in schema_files().items()}


def test_the_committed_schemas_are_current() -> None:
    """docs/schemas is what ``govstd schema --out docs/schemas`` writes today."""
    for name, text in schema_files().items():
        path = COMMITTED / name
        assert path.exists() and path.read_text(encoding="utf-8") == text, (
            f"{path} is stale: run govstd schema --out docs/schemas"
        )
    assert sorted(p.name for p in COMMITTED.glob("*.json")) == sorted(schema_files())


@pytest.mark.parametrize("root", TREES, ids=lambda p: p.name)
def test_the_bundled_trees_validate_against_the_schemas(
    root: Path, schemas: dict[str, dict[str, Any]]
) -> None:
    combined = Draft7Validator(schemas[COMBINED])
    documents = _documents(root)
    assert len(documents) > 10
    kinds = set()
    for file, data in documents:
        kind = data["kind"]
        kinds.add(kind)
        for validator in (combined, Draft7Validator(schemas[kind_file(kind)])):
            errors = validator.iter_errors(data)
            problems = [f"{list(e.absolute_path)}: {e.message}" for e in errors]
            assert not problems, f"{file}: {problems}"
    if root.name == "standards":
        assert kinds == set(KINDS)


def _problems(schema: dict[str, Any], data: dict[str, Any]) -> list[str]:
    return [e.message for e in Draft7Validator(schema).iter_errors(data)]


def test_the_schemas_refuse_what_validate_refuses(schemas: dict[str, dict[str, Any]]) -> None:
    combined = schemas[COMBINED]
    bundle = {"kind": "Bundle", "id": "b", "name": "一件事", "matters": ["ibr"]}
    assert _problems(combined, bundle) == []
    assert _problems(combined, {**bundle, "matter": ["x"]}) != []  # additionalProperties: false
    assert _problems(combined, {**bundle, "id": "Bad-Id"}) != []
    assert _problems(combined, {**bundle, "name": {"en": "no zh"}}) != []
    assert _problems(combined, {k: v for k, v in bundle.items() if k != "matters"}) != []
    assert _problems(combined, {"kind": "Bundel", "id": "b"}) != []
    assert _problems(combined, {"id": "b"}) != []
    workflow = schemas[kind_file("Workflow")]
    state = {"id": "s", "name": "s", "clock": "stopped"}
    flow = {"kind": "Workflow", "id": "w", "name": "w", "initial": "s", "transitions": []}
    assert any("stopped" in p for p in _problems(workflow, {**flow, "states": [state]}))


def test_every_key_has_a_bilingual_description_and_an_example(
    schemas: dict[str, dict[str, Any]],
) -> None:
    for name, schema in schemas.items():
        for model_name, model in [(name, schema), *schema.get("$defs", {}).items()]:
            for key, prop in model.get("properties", {}).items():
                where = f"{name}: {model_name}.{key}"
                zh, _, en = prop.get("description", "").partition(" / ")
                assert zh and en, f"{where} has no description in both languages"
                assert key == "kind" or prop.get("examples"), f"{where} has no example"
    closed = schemas[kind_file("Matter")]["$defs"]["Material"]["properties"]["necessity"]
    assert closed["enum"] == ["required", "optional", "deferrable"]


def test_govstd_schema_writes_one_per_kind(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["schema", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert written == sorted([*(kind_file(k) for k in KINDS), COMBINED])
    assert "10 JSON Schemas, 10 written" in result.stderr
    again = CliRunner().invoke(app, ["schema", "--out", str(tmp_path / "s")])
    assert "0 written" in again.stderr
    printed = CliRunner().invoke(app, ["schema"])
    assert json.loads(printed.stdout)["$id"] == COMBINED
