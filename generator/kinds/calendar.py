"""Calendar (工作日历): weekends, statutory holidays and make-up working days."""

from __future__ import annotations

from typing import Literal

from generator.kinds.common import Date, Id, Localized, Model, Status, empty

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Calendar(Model):
    kind: str = "Calendar"
    id: Id
    name: Localized | None = None
    description: Localized | None = None
    version: str | None = None
    status: Status = "standard"
    weekend: list[Weekday] = ["sat", "sun"]
    holidays: list[Date] = empty()
    workdays: list[Date] = empty()

    @property
    def file(self) -> str:
        return self.at().file
