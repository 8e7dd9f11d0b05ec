"""Checks of a resolved region: what it inherits (agency codes, sites) and its calendar's end."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from generator.checks.context import Checker
from generator.diagnostics import Location
from generator.kinds import Matter
from generator.kinds.common import Model
from runtime.clock import CHINA_TZ
from runtime.types import bilingual

if TYPE_CHECKING:
    from generator.resolve import ResolvedRegion

TODAY_VARIABLE = "GOVSTD_TODAY"
"""An ISO date taken as today by the calendar check (reproducible runs, tests)."""

CALENDAR_NOTICE = timedelta(days=365)
"""A calendar ending sooner than this after today is a warning."""


def validation_day() -> date:
    """Today in China (or ``GOVSTD_TODAY``)."""
    pinned = os.environ.get(TODAY_VARIABLE)
    if pinned:
        try:
            return date.fromisoformat(pinned)
        except ValueError:
            raise SystemExit(
                bilingual(
                    f"{TODAY_VARIABLE}={pinned!r} 不是 ISO 日期（YYYY-MM-DD）",
                    f"{TODAY_VARIABLE}={pinned!r} is not an ISO date (YYYY-MM-DD)",
                )
            ) from None
    return datetime.now(CHINA_TZ).date()


def check_resolved_region(c: Checker, resolved: ResolvedRegion, today: date) -> None:
    check_calendar_end(c, resolved, today)
    for matter_id, matter in resolved.matters.items():
        check_inherited_codes(c, resolved, matter_id, matter)


# ---------------------------------------------------------------- the calendar's end


def calendar_end(holidays: list[date], workdays: list[date]) -> date | None:
    """The last day a calendar knows: 31 December of the last year it lists (None: no year)."""
    days = [*holidays, *workdays]
    return date(max(d.year for d in days), 12, 31) if days else None


def check_calendar_end(c: Checker, resolved: ResolvedRegion, today: date) -> None:
    """Warn where a region names a calendar that ends within a year of ``today``."""
    region, calendar = resolved.region, resolved.calendar
    if region.calendar is None or calendar is None:
        return  # inherited: reported at the region that names it
    end = calendar_end(calendar.holidays, calendar.workdays)
    if end is None or end >= today + CALENDAR_NOTICE:
        return
    ended = end < today
    c.warning(
        region.at("calendar"),
        bilingual(
            f"区域 '{region.id}' 的工作日历 '{calendar.id}' "
            f"{'已于' if ended else '将于'} {end} 结束（今天是 {today}）："
            "此后的办结期限无法计算（办件照常受理，期限显示为未知并记录警告）；"
            "请按国务院办公厅关于下一年部分节假日安排的通知补充节假日和调休上班日",
            f"calendar '{calendar.id}' of region '{region.id}' "
            f"{'ended' if ended else 'ends'} on {end}, within a year of today ({today}): "
            "deadlines after it cannot be computed (cases are still filed, with the "
            "deadline unknown and a warning logged); add the next year's holidays and "
            "make-up working days from the State Council notice",
        ),
    )


# ---------------------------------------------------------------- inherited codes


def division_of(code: str | None) -> str | None:
    """The administrative division (GB/T 2260) in a GB 32100 code or an implementation code.

    Characters 3-8 of a unified social credit code are the division of the registering
    authority; an implementation code (实施编码) starts with its agency's credit code.
    """
    if code is None or len(code) < 18 or not code[2:8].isdigit():
        return None
    return code[2:8]


def _scope(division: str) -> str:
    """The prefix every division inside ``division`` shares (``440300`` → ``4403``)."""
    if division in {"000000", "100000"}:
        return ""  # national agencies serve every division
    if division.endswith("0000"):
        return division[:2]
    if division.endswith("00"):
        return division[:4]
    return division


def related(a: str, b: str) -> bool:
    """Whether one division lies inside the other (or they are the same)."""
    sa, sb = _scope(a), _scope(b)
    return sa.startswith(sb) or sb.startswith(sa)


def check_inherited_codes(
    c: Checker, resolved: ResolvedRegion, matter_id: str, matter: Matter
) -> None:
    """Warn when a region inherits codes or sites of an unrelated division.

    Codes of the region's own division, of a division above it (a city agency
    serving its districts) or below it are fine; so is what the region sets itself.
    Sites carry no code: they belong to the division of the document that wrote them
    (an ancestor region's code, or the base matter's agency code).
    """
    region = resolved.region
    own = region.overrides.get(matter_id) or {}
    own_agency = own.get("agency") if isinstance(own.get("agency"), dict) else None
    candidates: list[tuple[str, str, str | None, Model, str, bool]] = [
        (
            "实施主体编码",
            "agency code",
            matter.agency.code,
            matter.agency,
            "code",
            "code" in (own_agency or {}),
        ),
        (
            "实施编码",
            "implementation code",
            matter.implementation_code,
            matter,
            "implementation_code",
            "implementation_code" in own,
        ),
    ]
    found_zh: list[str] = []
    found_en: list[str] = []
    for what_zh, what, code, model, key, set_here in candidates:
        division = division_of(code)
        if set_here or division is None or related(division, region.code):
            continue
        at = model.at(key)  # only now: a place is looked up in the file again
        found_zh.append(f"{what_zh} '{code}'（行政区划 {division}，见 {at}）")
        found_en.append(f"{what} '{code}' (division {division}, set at {at})")
    if matter.sites and "sites" not in own:
        division = _written_for(c, resolved, matter_id, matter.sites[0].at())  # its file
        if division is not None and not related(division, region.code):
            at = matter.at("sites")
            found_zh.append(f"办理地点（行政区划 {division}，见 {at}）")
            found_en.append(f"sites (division {division}, set at {at})")
    if not found_en:
        return
    c.warning(
        region.at("code"),
        bilingual(
            f"区域 '{region.id}'（{region.code}）从上级继承的事项 '{matter_id}' 的"
            f"{'、'.join(found_zh)}不属于本区域；"
            "请在本区域的 overrides 中设置 agency、implementation_code 和 sites",
            f"region '{region.id}' ({region.code}) inherits for matter '{matter_id}' "
            f"{' and '.join(found_en)}, outside its division: "
            "set agency, implementation_code and sites in the region's overrides",
        ),
    )


def _written_for(
    c: Checker, resolved: ResolvedRegion, matter_id: str, where: Location
) -> str | None:
    """The division of the document that wrote ``where``: an ancestor region's code, or
    the base matter's agency (or implementation) code; None when unknown."""
    for ancestor in resolved.chain[:-1]:
        if ancestor.at().file == where.file:
            return ancestor.code
    base = c.tree.matters.get(matter_id)
    if base is not None and base.at().file == where.file:
        return division_of(base.agency.code) or division_of(base.implementation_code)
    return None
