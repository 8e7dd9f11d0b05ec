"""Region (区域部署): a deployment that inherits its parent's matters and overrides them."""

from __future__ import annotations

from typing import Any, Literal

from generator.kinds.common import Code, Id, Item, Model, empty, empty_mapping


class MatterSelection(Model):
    include: Literal["all"] | list[Id] | None = None
    """实施的事项：列表或 all；缺省继承上级
    / Matters implemented: a list or all; by default the parent's
    e.g. `[ibr, unemployment_registration]`"""
    exclude: list[Id] = empty()
    """不实施的事项
    / Matters not implemented
    e.g. `[birth_certificate]`"""


class Region(Item):
    kind: str = "Region"
    code: Code
    """GB/T 2260 行政区划代码（6 位）
    / GB/T 2260 administrative division code (6 digits)
    e.g. `"440305"`"""
    parent: Id | None = None
    """上级区域：继承其事项、覆盖和日历
    / Parent region: its matters, overrides and calendar are inherited
    e.g. `shenzhen`"""
    calendar: Id | None = None
    """工作日历，缺省继承上级
    / Working calendar, by default the parent's
    e.g. `cn_2026`"""
    matters: MatterSelection = MatterSelection()
    """实施哪些事项
    / Which matters it implements
    e.g. `{include: all, exclude: [birth_certificate]}`"""
    overrides: dict[Id, dict[str, Any]] = empty_mapping()
    """按事项标识覆盖事项的键（深度合并，见“继承与覆盖”）
    / Per matter id, keys that override the matter (deep merge, see inheritance)
    e.g. `{ibr: {case_type: instant}}`"""
