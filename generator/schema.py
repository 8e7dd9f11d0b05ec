"""JSON Schemas of the kinds, for editors (``govstd schema``) and the format reference.

Made from the pydantic kind models (``generator/kinds/``), so they never drift from
what ``govstd validate`` accepts: every key with its description in Chinese and
English (the fields' docstrings), an example, enums for closed values and
``additionalProperties: false``. ``standards.schema.json`` takes any document and
checks it against the schema of its ``kind``, for a whole tree in one mapping.
"""

from __future__ import annotations

import ast
import datetime
import functools
import inspect
import itertools
import json
import re
import sys
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic.json_schema import models_json_schema

from generator.kinds import KINDS, Model
from generator.tree import KIND_WORDS, KIND_WORDS_ZH

SCHEMA_URI = "http://json-schema.org/draft-07/schema#"
COMBINED = "standards.schema.json"
_EXAMPLE = re.compile(r"\s*e\.g\.\s+`(?P<example>.*)`\s*\Z", re.S)


@dataclass(frozen=True)
class Description:
    """A field's docstring, split: ``中文 / English e.g. `example` ``."""

    zh: str
    en: str
    example: str

    @property
    def text(self) -> str:
        return f"{self.zh} / {self.en}"


def _split(docstring: str) -> Description:
    match = _EXAMPLE.search(docstring)
    example = match.group("example") if match else ""
    body = docstring[: match.start()] if match else docstring
    zh, _, en = body.partition("\n/ ")
    return Description(" ".join(zh.split()), " ".join(en.split()), example)


@functools.cache
def _module_docstrings(module: str) -> dict[str, dict[str, str]]:
    """Class → field → the docstring written under the field, read from the source."""
    source = inspect.getsource(sys.modules[module])
    found: dict[str, dict[str, str]] = {}
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields = found.setdefault(node.name, {})
        for before, after in itertools.pairwise(node.body):
            if (
                isinstance(before, ast.AnnAssign)
                and isinstance(before.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                fields[before.target.id] = inspect.cleandoc(after.value.value)
    return found


def field_descriptions(model: type[Model]) -> dict[str, Description]:
    """Field name → description of every field of ``model`` (inherited ones too)."""
    descriptions: dict[str, Description] = {}
    for cls in reversed(model.__mro__):
        if isinstance(cls, type) and issubclass(cls, Model) and cls is not Model:
            for name, text in _module_docstrings(cls.__module__).get(cls.__name__, {}).items():
                descriptions[name] = _split(text)
    return descriptions


def kind_models() -> dict[str, type[Model]]:
    """Every model class reachable from the kinds, by class name (as in ``$defs``)."""
    found: dict[str, type[Model]] = {}
    pending: list[type[Model]] = list(KINDS.values())
    while pending:
        model = pending.pop()
        if model.__name__ in found:
            continue
        found[model.__name__] = model
        for info in model.model_fields.values():
            pending.extend(_models_in(info.annotation))
    return found


def _models_in(annotation: object) -> list[type[Model]]:
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def example_value(example: str) -> Any:
    """An example as data (it is written as YAML), with dates as ISO text as in JSON."""
    try:
        value = yaml.safe_load(example)
    except yaml.YAMLError:
        return example
    return json.loads(json.dumps(value, default=_iso))


def _iso(value: object) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def kind_file(kind: str) -> str:
    """``Matter`` → ``matter.schema.json``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower() + ".schema.json"


def _polish(schema: dict[str, Any], name: str) -> None:
    """Each model of ``schema`` (``name`` at the top) with its fields' descriptions, in
    ``中文 / English``, and their examples; no generated titles."""
    models = kind_models()
    for model_name, model in [(name, schema), *schema.get("$defs", {}).items()]:
        descriptions = field_descriptions(models[model_name])
        aliases = {
            info.alias or field: field for field, info in models[model_name].model_fields.items()
        }
        for key, prop in model.get("properties", {}).items():
            if prop.get("title") != "Localized":  # the doc's tables name it
                prop.pop("title", None)
            description = descriptions.get(aliases.get(key, key))
            if description is not None:
                prop["description"] = description.text
                if description.example:
                    prop["examples"] = [example_value(description.example)]


def _kind_property(kind: str) -> dict[str, Any]:
    zh, en = KIND_WORDS_ZH[kind], KIND_WORDS[kind]
    return {"const": kind, "description": f"文档种类：{zh} / Kind of document: {en}"}


def kind_schemas() -> dict[str, dict[str, Any]]:
    """One self-contained JSON Schema per kind, by kind name."""
    schemas: dict[str, dict[str, Any]] = {}
    for kind, model in KINDS.items():
        schema = model.model_json_schema(mode="validation")
        _polish(schema, kind)
        schema["properties"]["kind"] = _kind_property(kind)
        schema["required"] = ["kind", *[k for k in schema.get("required", []) if k != "kind"]]
        zh, en = KIND_WORDS_ZH[kind], KIND_WORDS[kind]
        schemas[kind] = {
            "$schema": SCHEMA_URI,
            "$id": kind_file(kind),
            **schema,
            "title": f"{kind}（{zh}）",
            "description": f"govstd 标准格式第 1 版：{zh} / govstd standards format v1: {en}",
        }
    return schemas


def combined_schema() -> dict[str, Any]:
    """One schema for any document of a tree: the schema of its ``kind``."""
    _, top = models_json_schema(
        [(model, "validation") for model in KINDS.values()],
        ref_template="#/$defs/{model}",
    )
    definitions: dict[str, Any] = top["$defs"]
    for name, definition in definitions.items():
        _polish(definition, name)
    for kind in KINDS:
        definition = definitions[kind]
        definition["properties"]["kind"] = _kind_property(kind)
        definition["required"] = [
            "kind",
            *[k for k in definition.get("required", []) if k != "kind"],
        ]
    return {
        "$schema": SCHEMA_URI,
        "$id": COMBINED,
        "title": "govstd standards tree",
        "description": "govstd 标准格式第 1 版的任一文档 / Any document of govstd standards "
        "format v1",
        "type": "object",
        "required": ["kind"],
        "properties": {
            "kind": {
                "enum": list(KINDS),
                "description": "文档种类 / Kind of document",
            }
        },
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": {"$ref": f"#/$defs/{kind}"},
            }
            for kind in KINDS
        ],
        "$defs": definitions,
    }


def schema_files() -> dict[str, str]:
    """File name → JSON text of every schema ``govstd schema`` writes."""
    files = {kind_file(kind): schema for kind, schema in kind_schemas().items()}
    files[COMBINED] = combined_schema()
    return {
        name: json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
        for name, schema in files.items()
    }


def write_schemas(out: Path) -> tuple[list[Path], int]:
    """Write every schema to ``out``: the files that changed, and how many there are."""
    out.mkdir(parents=True, exist_ok=True)
    files = schema_files()
    changed = []
    for name, text in files.items():
        path = out / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed, len(files)
