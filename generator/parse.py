"""Turn YAML nodes into kind models, mapping pydantic's errors back to ``file:line:col``."""

from __future__ import annotations

import difflib
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from generator.diagnostics import Diagnostics, Location
from generator.kinds.common import Model
from generator.yamlsource import NodeSource, child, descend, is_plain, key_node, location
from runtime.types import bilingual

M = TypeVar("M", bound=Model)

_YES_NO = {"yes", "no", "on", "off", "y", "n"}
_NUMBER_WORD = {bool: "a boolean (true/false)", int: "a number", float: "a number"}
_NUMBER_WORD_ZH = {bool: "布尔值（true/false）", int: "数字", float: "数字"}
# pydantic's error types, in Chinese (the English message is pydantic's own).
_TYPE_ZH = {
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "string_type": "应为文本",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表",
    "dict_type": "应为映射",
    "model_type": "应为映射",
    "model_attributes_type": "应为映射",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "应为日期（YYYY-MM-DD），不带时间",
    "datetime_type": "应为日期时间",
    "datetime_parsing": "应为日期时间",
    "datetime_from_date_parsing": "应为日期时间",
    "string_too_short": "不能为空",
    "string_too_long": "文本过长，至多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不正确",
    "too_short": "至少要有 {min_length} 项",
    "too_long": "至多只能有 {max_length} 项",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "union_tag_invalid": "类型标记无效",
    "union_tag_not_found": "缺少类型标记",
    "enum": "不是允许的值",
}
# Messages of the models' own validators, in Chinese (by prefix).
_VALUE_ERRORS_ZH = {
    "localized text needs a 'zh' entry": "多语言文本需要 'zh' 条目，例如 {zh: 名称, en: Name}",
}


def build(
    cls: type[M],
    node: yaml.Node,
    data: Any,
    diagnostics: Diagnostics,
    source: NodeSource | None = None,
) -> M | None:
    """Validate ``data`` (read from ``node``) as ``cls``; None when it has errors.

    With ``source`` (where ``node`` was read from) the model keeps that, not ``node``."""
    try:
        model = cls.model_validate(data)
    except ValidationError as exc:
        # One error per node (a union reports each of its arms), but every missing key:
        # they all sit at their mapping, and an implementer wants them in one run.
        seen: set[tuple[Location, str]] = set()
        for error in exc.errors(include_url=False):
            where, message = _explain(cls, node, error)
            key = (where, message if error["type"] == "missing" else "")
            if key not in seen:
                seen.add(key)
                diagnostics.error(where, message)
        return None
    model.attach(node, source)
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
        return location(descend(node, path[:-1])), bilingual(
            f"缺少必填键 '{name}'", f"missing required key '{name}'"
        )
    if kind == "extra_forbidden":
        parent = descend(node, path[:-1])
        key = key_node(parent, name)
        allowed = _allowed_keys(cls, path[:-1])
        hint = difflib.get_close_matches(name, allowed, n=1)
        tip = f"; did you mean '{hint[0]}'?" if hint else ""
        shown = ", ".join(sorted(allowed)) if allowed else "none"
        return location(key or target), bilingual(
            f"未知的键 '{name}'", f"unknown key '{name}'{tip} (allowed keys: {shown})"
        )
    if kind == "string_type" and type(value) in _NUMBER_WORD and is_plain(target):
        src = target.value
        return where, bilingual(
            f"'{name}' 是文本，但 {src} 被读作{_NUMBER_WORD_ZH[type(value)]}；"
            f'请加引号（"{src}"）以保持原样',
            f"'{name}' is text but {src} is read as {_NUMBER_WORD[type(value)]}; "
            f'quote it ("{src}") to keep it exactly as written',
        )
    if kind == "string_pattern_mismatch" and "a-z" in str(error.get("ctx", {}).get("pattern")):
        return where, bilingual(
            f"'{value}' 不是 '{name}' 的有效 id：只能用小写字母、数字和 '_'，"
            "以字母开头，至多 63 个字符",
            f"'{value}' is not a valid id for '{name}': use lower-case letters, digits and '_', "
            "starting with a letter, at most 63 characters",
        )
    if kind == "bool_type" and isinstance(value, str) and is_plain(target):
        yes_no = value.lower() in _YES_NO
        why = " (YAML 1.2 reads yes/no/on/off as text)" if yes_no else ""
        why_zh = "（YAML 1.2 把 yes/no/on/off 读作文本）" if yes_no else ""
        return where, bilingual(
            f"'{name}' 必须是 true 或 false，而不是 {value}{why_zh}",
            f"'{name}' must be true or false, not {value}{why}",
        )
    if value is None and kind.endswith("_type"):
        parent = descend(node, path[:-1])
        comma = comma_zh = ""
        if getattr(parent, "flow_style", False):
            comma = "; in a {…} mapping a comma ends the entry, so quote text that has commas"
            comma_zh = "；在 {…} 映射中逗号会结束一项，含逗号的文本请加引号"
        return where, bilingual(f"'{name}' 没有值{comma_zh}", f"'{name}' has no value{comma}")
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return where, bilingual(
            f"'{name}' 的值 {value!r} 不是允许的值", f"'{name}' is {value!r}; expected {expected}"
        )
    message = str(error["msg"]).removeprefix("Value error, ")
    message_zh = _message_zh(kind, message, error.get("ctx") or {})
    if kind.endswith("_type") or kind in {"int_parsing", "date_from_datetime_parsing"}:
        message = f"{message} (got {_short(value)})"
    if " / " in message and kind == "value_error":  # a validator wrote it in both languages
        message_zh, message = message.split(" / ", 1)
    return where, bilingual(f"'{name}'：{message_zh}", f"'{name}': {message}")


def _message_zh(kind: str, message: str, ctx: dict[str, Any]) -> str:
    """The Chinese of a pydantic error message (or of a model validator's)."""
    if kind == "value_error":
        found = (zh for en, zh in _VALUE_ERRORS_ZH.items() if message.startswith(en))
        return next(found, "值无效")
    try:
        return _TYPE_ZH.get(kind, "值无效").format(**ctx)
    except (KeyError, IndexError, ValueError):  # a context without the numbers
        return "值无效"


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
