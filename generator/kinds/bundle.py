"""Bundle (一件事一次办): several matters filed with one combined form."""

from __future__ import annotations

from generator.kinds.common import Id, Item


class Bundle(Item):
    kind: str = "Bundle"
    matters: list[Id]
