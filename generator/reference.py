"""The generated parts of the format reference, docs/standards-format.md.

The key tables of every kind (from the kind models and their JSON Schemas, see
:mod:`generator.schema`) and the list of every validate message (read from the
checks' source) are written between marker comments; the prose around them is
written by hand. ``python -m generator.reference`` rewrites them and the editor
schemas in docs/schemas; ``--check`` only says whether they are stale.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from generator.kinds import KINDS, Model
from generator.kinds.common import ID_PATTERN
from generator.schema import Description, field_descriptions, kind_models, kind_schemas
from generator.tree import KIND_WORDS, KIND_WORDS_ZH

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "standards-format.md"
SCHEMAS = REPO / "docs" / "schemas"
Lang = str  # "zh" | "en"

_WORDS = {
    "localized": ("多语言文本", "localized text"),
    "id": ("标识", "id"),
    "code": ("代码（文本）", "code (text)"),
    "text": ("文本", "text"),
    "date": ("日期", "date"),
    "integer": ("整数", "integer"),
    "number": ("数字", "number"),
    "boolean": ("布尔值", "boolean"),
    "null": ("空", "null"),
    "mapping": ("映射", "mapping"),
    "any": ("任意值", "any value"),
    "required": ("必填", "required"),
    "or": ("或", "or"),
}


def _word(key: str, lang: Lang) -> str:
    zh, en = _WORDS[key]
    return zh if lang == "zh" else en


def type_text(prop: dict[str, Any], lang: Lang) -> str:
    """How a key's JSON Schema reads in a table: ``标识的列表`` / ``list of id``."""
    if prop.get("title") == "Localized":
        return _word("localized", lang)
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"{_word('mapping', lang)} [{name}](#{_anchor(name, lang)})"
    if "const" in prop:
        return f"`{prop['const']}`"
    if "enum" in prop:
        return " | ".join(f"`{value}`" for value in prop["enum"])
    if "anyOf" in prop:
        arms = [arm for arm in prop["anyOf"] if arm.get("type") != "null"]
        return f" {_word('or', lang)} ".join(type_text(arm, lang) for arm in arms)
    kind = prop.get("type")
    if kind == "array":
        item = type_text(prop.get("items", {}), lang)
        return f"{item}的列表" if lang == "zh" else f"list of {item}"
    if kind == "object":
        values = next(iter(prop.get("patternProperties", {}).values()), None)
        if values is None:
            extra = prop.get("additionalProperties")
            values = extra if isinstance(extra, dict) else {}
        keys = _word("id", lang) if "patternProperties" in prop else _word("text", lang)
        inner = type_text(values, lang) if values else _word("any", lang)
        return (
            f"{_word('mapping', lang)}（{keys} → {inner}）"
            if lang == "zh"
            else (f"{_word('mapping', lang)} ({keys} → {inner})")
        )
    if kind == "string":
        if prop.get("pattern") == ID_PATTERN:
            return _word("id", lang)
        if prop.get("format") == "date":
            return _word("date", lang)
        if prop.get("maxLength") == 64:
            return _word("code", lang)
        return _word("text", lang)
    if kind in {"integer", "number"}:
        bounds = [f"≥ {prop['minimum']}"] if "minimum" in prop else []
        bounds += [f"≤ {prop['maximum']}"] if "maximum" in prop else []
        return " ".join([_word(kind, lang), *bounds])
    if kind in {"boolean", "null"}:
        return _word(kind, lang)
    if prop.get("additionalProperties") is True or not prop:
        return _word("mapping", lang)
    return _word("any", lang)


def _anchor(name: str, lang: Lang) -> str:
    return f"{name.lower()}-{lang}"


def _flow(value: object) -> str:
    """A value as it is written in YAML on one line."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000)
    return text.strip().removesuffix("...").strip()


def default_text(info: Any, lang: Lang) -> str:
    if info.is_required():
        return _word("required", lang)
    if info.default_factory is not None:
        return f"`{_flow(info.default_factory())}`"
    default = info.default
    if default is None or default is PydanticUndefined:
        return "—"
    if isinstance(default, BaseModel):
        default = default.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return f"`{_flow(default)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


@dataclass(frozen=True)
class Table:
    name: str  # model class name
    heading: str  # e.g. "Matter" or "Matter → materials[]"
    model: type[Model]
    schema: dict[str, Any]  # the model's JSON Schema (its properties)


def kind_tables(kind: str) -> list[Table]:
    """The kind's own table, then one per nested model, in the order they are met."""
    schema = kind_schemas()[kind]
    models = kind_models()
    definitions: dict[str, Any] = schema.get("$defs", {})
    tables = [Table(kind, kind, KINDS[kind], schema)]
    seen = {kind}
    index = 0
    while index < len(tables):
        table = tables[index]
        index += 1
        for key, prop in table.schema.get("properties", {}).items():
            for ref in _refs(prop):
                if ref not in seen:
                    seen.add(ref)
                    many = "[]" if _is_list(prop) else ""
                    heading = f"{table.heading} → {key}{many}"
                    tables.append(Table(ref, heading, models[ref], definitions[ref]))
    return tables


def _refs(prop: Any) -> Iterator[str]:
    if isinstance(prop, dict):
        if "$ref" in prop:
            yield prop["$ref"].rsplit("/", 1)[-1]
        for value in prop.values():
            yield from _refs(value)
    elif isinstance(prop, list):
        for value in prop:
            yield from _refs(value)


def _is_list(prop: dict[str, Any]) -> bool:
    return prop.get("type") == "array" or any(
        arm.get("type") == "array" for arm in prop.get("anyOf", [])
    )


# the common keys' examples, for each kind its own
_KIND_EXAMPLES = {
    ("CodeSet", "id"): "sex",
    ("CodeSet", "name"): "{zh: 人的性别代码, en: Sex}",
    ("DataElement", "id"): "citizen_id_number",
    ("DataElement", "name"): "{zh: 公民身份号码, en: Citizen ID number}",
    ("Form", "id"): "ibr_form",
    ("Form", "name"): "{zh: 个体工商户登记申请表}",
    ("Workflow", "id"): "licensing",
    ("Workflow", "name"): "{zh: 行政许可办理流程}",
    ("Matter", "id"): "ibr",
    ("Matter", "name"): "{zh: 个体工商户设立登记, en: Individual business registration}",
    ("Region", "id"): "nanshan",
    ("Region", "name"): "{zh: 深圳市南山区}",
    ("Bundle", "id"): "open_restaurant",
    ("Bundle", "name"): "{zh: 开餐馆一件事}",
    ("Policy", "id"): "startup_subsidy_2026",
    ("Policy", "name"): "{zh: 一次性创业补贴}",
}

_HEADERS = {
    "zh": "| 键 | 类型 | 默认值 | 含义 | 示例 |\n|---|---|---|---|---|",
    "en": "| key | type | default | meaning | example |\n|---|---|---|---|---|",
}


def render_table(table: Table, lang: Lang) -> str:
    descriptions = field_descriptions(table.model)
    aliases = {info.alias or name: name for name, info in table.model.model_fields.items()}
    rows = [f'<a id="{_anchor(table.name, lang)}"></a>', f"#### {table.heading}", ""]
    rows.append(_HEADERS[lang])
    for key, prop in table.schema.get("properties", {}).items():
        name = aliases.get(key, key)
        info = table.model.model_fields[name]
        description = descriptions.get(name) or Description("", "", "")
        if key == "kind":
            description = Description(
                f"文档种类，固定为 `{table.name}`", f"kind of document, always `{table.name}`", ""
            )
            required, example = _word("required", lang), f"kind: {table.name}"
        else:
            shown = _KIND_EXAMPLES.get((table.name, key), description.example)
            required, example = default_text(info, lang), f"{key}: {shown}"
        meaning = description.zh if lang == "zh" else description.en
        cells = [f"`{key}`", type_text(prop, lang), required, meaning, f"`{example}`"]
        rows.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(rows)


def keys_section(lang: Lang) -> str:
    parts = []
    for kind in KINDS:
        words = KIND_WORDS_ZH[kind] if lang == "zh" else KIND_WORDS[kind]
        parts.append(f"### {kind}（{words}）" if lang == "zh" else f"### {kind} ({words})")
        parts.extend(render_table(table, lang) for table in kind_tables(kind))
    return "\n\n".join(parts)


# ---------------------------------------------------------------------------------------
# Every validate message, from the source of the modules that report them
# ---------------------------------------------------------------------------------------

MESSAGE_MODULES = {
    "generator.yamlsource": ("读取 YAML", "reading YAML"),
    "generator.tree": ("文档与代码集文件", "documents and code set files"),
    "generator.parse": ("键与值", "keys and values"),
    "generator.checks.context": ("引用", "references"),
    "generator.checks.elements": ("代码集与数据元", "code sets and data elements"),
    "generator.checks.forms": ("表单", "forms"),
    "generator.checks.expressions": ("表达式", "expressions"),
    "generator.checks.workflows": ("办理流程", "workflows"),
    "generator.checks.matters": ("事项", "matters"),
    "generator.checks.misc": ("日历、一件事与惠企政策", "calendars, bundles and policies"),
    "generator.resolve": ("区域继承与覆盖", "region inheritance and overrides"),
}


@dataclass(frozen=True)
class Message:
    severity: str  # error | warning
    zh: str
    en: str


def _template(node: ast.expr) -> str:
    """The text of a string expression; an interpolated name shown as ``{name}``, any other
    interpolation as ``{…}``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_part(part) for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _template(node.left) + _template(node.right)
    return "…"


def _part(node: ast.expr) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    value = node.value if isinstance(node, ast.FormattedValue) else node
    if isinstance(value, ast.Name | ast.Attribute):
        return "{" + ast.unparse(value).rsplit(".", 1)[-1] + "}"
    return "{…}"


def module_messages(module: ModuleType) -> list[Message]:
    """Every ``bilingual(zh, en)`` message written in ``module``, in source order."""
    tree = ast.parse(inspect.getsource(module))
    severity: dict[int, str] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"error", "warning"}
        ):
            for arg in node.args:
                for inner in ast.walk(arg):
                    severity.setdefault(id(inner), node.func.attr)
    messages = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "bilingual"
            and len(node.args) == 2
        ):
            zh, en = (_template(arg) for arg in node.args)
            if zh.strip("…") and en.strip("…"):  # not one message wrapped in another
                # a message a helper builds is reported as an error (warnings are inline)
                level = severity.get(id(node), "error")
                messages.append((node.lineno, Message(level, zh, en)))
    return [message for _, message in sorted(messages, key=lambda pair: pair[0])]


_SEVERITY = {"error": ("错误", "error"), "warning": ("警告", "warning")}


def messages_section(lang: Lang) -> str:
    parts = []
    for name, (zh, en) in MESSAGE_MODULES.items():
        __import__(name)
        module = sys.modules[name]
        header = (
            "| 级别 | 消息（中文） | message (English) |"
            if lang == "zh"
            else "| severity | message (English) | 消息（中文） |"
        )
        rows = [f"#### {zh if lang == 'zh' else en} (`{name}`)", "", header, "|---|---|---|"]
        seen = set()
        for message in module_messages(module):
            if (message.zh, message.en) in seen:
                continue
            seen.add((message.zh, message.en))
            level = _SEVERITY[message.severity][0 if lang == "zh" else 1]
            first, second = (message.zh, message.en) if lang == "zh" else (message.en, message.zh)
            rows.append(f"| {level} | {_cell(first)} | {_cell(second)} |")
        parts.append("\n".join(rows))
    return "\n\n".join(parts)


# ---------------------------------------------------------------------------------------
# The document
# ---------------------------------------------------------------------------------------

SECTIONS = {
    "keys-zh": lambda: keys_section("zh"),
    "keys-en": lambda: keys_section("en"),
    "messages-zh": lambda: messages_section("zh"),
    "messages-en": lambda: messages_section("en"),
}
_MARKED = re.compile(
    r"(<!-- BEGIN (?P<name>[a-z-]+) .*?-->\n)(?P<body>.*?)(<!-- END (?P=name) -->)", re.S
)


def render(text: str) -> str:
    """``text`` with every marked section replaced by what it is generated from."""

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in SECTIONS:
            raise ValueError(f"unknown generated section {name!r}")
        return f"{match.group(1)}\n{SECTIONS[name]()}\n\n{match.group(4)}"

    return _MARKED.sub(replace, text)


def main(argv: list[str]) -> int:
    from generator.schema import schema_files, write_schemas

    check = "--check" in argv
    current = DOC.read_text(encoding="utf-8")
    wanted = render(current)
    stale = [str(DOC)] if wanted != current else []
    files = schema_files()
    for name, text in files.items():
        path = SCHEMAS / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(str(path))
    if check:
        for shown in stale:
            print(f"已过期 / stale: {shown}", file=sys.stderr)
        return 1 if stale else 0
    DOC.write_text(wanted, encoding="utf-8")
    write_schemas(SCHEMAS)
    for shown in stale:
        print(f"已更新 / updated: {shown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
