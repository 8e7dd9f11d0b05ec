"""CodeSet (代码集): a list of codes, inline or from a ``values_file`` CSV."""

from __future__ import annotations

from pydantic import PrivateAttr

from generator.diagnostics import Location
from generator.kinds.common import Code, Item, Localized, Model, empty


class CodeValue(Model):
    code: Code
    name: Localized
    parent: Code | None = None
    deprecated: bool = False
    description: Localized | None = None
    _row: Location | None = PrivateAttr(default=None)

    def where(self) -> Location:
        return self._row or self.at()


class CodeSet(Item):
    kind: str = "CodeSet"
    source: str | None = None
    values: list[CodeValue] = empty()
    values_file: str | None = None

    def all_values(self) -> list[CodeValue]:
        return self.values + list(self._file_values)

    _file_values: list[CodeValue] = PrivateAttr(default_factory=list)

    def codes(self) -> dict[str, CodeValue]:
        return {value.code: value for value in self.all_values()}
