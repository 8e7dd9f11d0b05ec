"""Calendar (工作日历): weekends, statutory holidays and make-up working days."""

from __future__ import annotations

from typing import Literal

from generator.kinds.common import Date, Id, Localized, Model, Status, empty

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Calendar(Model):
    kind: str = "Calendar"
    id: Id
    """日历标识
    / Calendar id
    e.g. `cn_2026`"""
    name: Localized | None = None
    """名称
    / Name
    e.g. `{zh: 2026 年工作日历}`"""
    description: Localized | None = None
    """说明
    / Description
    e.g. `{zh: 据国务院办公厅通知}`"""
    version: str | None = None
    """版本
    / Version
    e.g. `"2026"`"""
    status: Status = "standard"
    """状态
    / Status
    e.g. `standard`"""
    weekend: list[Weekday] = ["sat", "sun"]
    """每周休息日
    / Weekly days off
    e.g. `[sat, sun]`"""
    holidays: list[Date] = empty()
    """法定节假日（休息）
    / Holidays (days off)
    e.g. `[2026-01-01, 2026-02-16]`"""
    workdays: list[Date] = empty()
    """调休上班日
    / Make-up working days (调休上班)
    e.g. `[2026-02-14]`"""

    @property
    def file(self) -> str:
        return self.at().file
