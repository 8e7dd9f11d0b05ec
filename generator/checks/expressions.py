"""Type environments of forms for CEL, and expression checks located in the YAML source."""

from __future__ import annotations

import yaml

from generator.checks.context import Checker
from generator.diagnostics import Location
from generator.expressions import check_expression
from generator.kinds import DataElement, Form, Model, Section
from generator.tree import StandardsTree
from generator.yamlsource import child
from runtime.expressions import BOOL, DOUBLE, INT, STRING, CelType, list_of, record
from runtime.types import bilingual

Env = dict[str, CelType]

_SCALARS = {"integer": INT, "decimal": DOUBLE, "boolean": BOOL}


def element_type(element: DataElement | None) -> CelType:
    """The CEL type of a field built on ``element`` (text, codes and dates are strings)."""
    if element is None:
        return STRING
    if element.type == "code" and element.multiple:
        return list_of(STRING)
    return _SCALARS.get(element.type, STRING)


def _fields_env(tree: StandardsTree, section: Section) -> Env:
    elements = tree.elements
    return {f.field_id: element_type(elements.get(f.element)) for f in section.fields}


def form_env(tree: StandardsTree, form: Form) -> Env:
    """Top-level field ids, and each repeating group as a list of row records."""
    env: Env = {}
    for section in form.sections:
        if section.repeat is None:
            env.update(_fields_env(tree, section))
    for section in form.sections:
        if section.repeat is not None:
            env[section.id] = list_of(record(_fields_env(tree, section)))
    return env


def group_env(tree: StandardsTree, form: Form, section: Section) -> Env:
    """Inside a repeating group a row's own fields are in scope too (and win)."""
    return {**form_env(tree, form), **_fields_env(tree, section)}


def expression_location(model: Model, key: str, column: int) -> Location:
    """Where ``column`` of an expression is in the file; its start when the text was folded."""
    where = model.at(key)
    whole = model.node
    node = child(whole, key) if whole is not None else None
    if not isinstance(node, yaml.ScalarNode) or node.style in {"|", ">"}:
        return where
    quote = 1 if node.style in {'"', "'"} else 0
    start, end = node.start_mark, node.end_mark
    if start.line != end.line or end.column - start.column != len(node.value) + 2 * quote:
        return where  # written over several lines, or with escapes: columns do not map
    return Location(where.file, where.line, where.column + quote + column)


def check_expr(
    c: Checker, source: str, env: Env, model: Model, key: str, expected: CelType | None = BOOL
) -> None:
    """Report every problem of a CEL expression at its place in the YAML."""
    shown = " ".join(source.split()) if "\n" in source else source  # one line per problem
    hint = hint_zh = ""
    if source.strip().lower() in {"yes", "no", "on", "off"}:
        word = source.strip()
        hint = f"; for a boolean write true or false ({word} is text in YAML 1.2)"
        hint_zh = f"；布尔值请写 true 或 false（{word} 在 YAML 1.2 中是文本）"
    for problem in check_expression(source, env, expected):
        detail_zh = f"：{problem.zh}" if problem.zh else "有误"
        c.error(
            expression_location(model, key, problem.column),
            bilingual(
                f"{key} 表达式{detail_zh}{hint_zh}", f"{key}: {problem.en} in `{shown}`{hint}"
            ),
        )
