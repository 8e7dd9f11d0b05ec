"""CodeSet (代码集): a list of codes, inline or from a ``values_file`` CSV."""

from __future__ import annotations

from pydantic import PrivateAttr

from generator.diagnostics import Location
from generator.kinds.common import Code, Id, Item, Localized, Model, empty


class CodeValue(Model):
    code: Code
    """代码值，在本代码集内唯一；始终是文本（请加引号）
    / The code, unique in its set; always text (quote it)
    e.g. `"1"`"""
    name: Localized
    """代码的名称
    / The code's name
    e.g. `{zh: 男性, en: Male}`"""
    parent: Code | None = None
    """上级代码，构成层级（如行政区划）
    / Parent code, making a hierarchy (administrative divisions)
    e.g. `"440300"`"""
    deprecated: bool = False
    """已停用：已存数据仍有效，新提交不再接受
    / Deprecated: still valid in stored data, refused in new submissions
    e.g. `true`"""
    description: Localized | None = None
    """说明
    / Description
    e.g. `{zh: 含港澳台}`"""
    _row: Location | None = PrivateAttr(default=None)

    def where(self) -> Location:
        return self._row or self.at()


class CodeSet(Item):
    kind: str = "CodeSet"
    source: str | None = None
    """依据的标准
    / The standard it follows
    e.g. `GB/T 2261.1-2003`"""
    values: list[CodeValue] = empty()
    """代码值列表
    / The codes
    e.g. `[{code: "1", name: {zh: 男性, en: Male}}]`"""
    values_file: str | None = None
    """大型代码集的 CSV 文件（相对本 YAML 文件；列为 code,zh,en,parent）
    / CSV file for a large set (relative to this YAML file; columns code,zh,en,parent)
    e.g. `gb2260.csv`"""
    extends: Id | None = None
    """把本代码集的代码加入另一个代码集（如地区自有的行政区划代码），无需修改国家文件
    / Adds this set's codes to another code set (a region's own division codes, say) without
    editing the national file
    e.g. `admin_division`"""

    def all_values(self) -> list[CodeValue]:
        private = self.private
        extra: list[CodeValue] = private["_file_values"]
        extended: list[CodeValue] = private["_extended_by"]
        return self.values + extra + extended

    _file_values: list[CodeValue] = PrivateAttr(default_factory=list)
    _extended_by: list[CodeValue] = PrivateAttr(default_factory=list)
    """The values of the code sets that extend this one (generator/extends.py)."""
    _codes: tuple[tuple[int, ...], dict[str, CodeValue]] | None = PrivateAttr(default=None)
    """codes() as last built, and the lists it was built from (their ids and lengths)."""

    def codes(self) -> dict[str, CodeValue]:
        """The values by code (the caller must not change the mapping: it is kept).

        Checking every matter and field asks again (100,000 times for 10,000 matters):
        built again only when a list of values was replaced or has grown."""
        private = self.private
        values, extra, extended = self.values, private["_file_values"], private["_extended_by"]
        key = (id(values), len(values), id(extra), len(extra), id(extended), len(extended))
        kept: tuple[tuple[int, ...], dict[str, CodeValue]] | None = private["_codes"]
        if kept is None or kept[0] != key:
            kept = private["_codes"] = (key, {v.code: v for v in self.all_values()})
        return kept[1]
