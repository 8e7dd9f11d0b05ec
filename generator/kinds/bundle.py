"""Bundle (一件事一次办): several matters filed with one combined form."""

from __future__ import annotations

from generator.kinds.common import Id, Item


class Bundle(Item):
    kind: str = "Bundle"
    matters: list[Id]
    """成员事项：一次提交，每个事项各生成一件申请
    / Member matters: one submission files one application per matter
    e.g. `[ibr, food_business_license]`"""
