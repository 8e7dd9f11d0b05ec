"""Region (区域部署): a deployment that inherits its parent's matters and overrides them."""

from __future__ import annotations

from typing import Any, Literal

from generator.kinds.common import Code, Id, Item, Model, empty, empty_mapping


class MatterSelection(Model):
    include: Literal["all"] | list[Id] | None = None
    exclude: list[Id] = empty()


class Region(Item):
    kind: str = "Region"
    code: Code
    parent: Id | None = None
    calendar: Id | None = None
    matters: MatterSelection = MatterSelection()
    overrides: dict[Id, dict[str, Any]] = empty_mapping()
