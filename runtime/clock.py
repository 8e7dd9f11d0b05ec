"""The legal clock (法定/承诺办结时限): working days, deadlines, pauses, numbers.

Everything here is pure: no database, no wall clock (callers pass ``now``).

Calendar
    A :class:`WorkCalendar` is built from a Calendar of the standards (the
    ``calendars`` entries of ``catalog.json``: ``weekend`` like ``["sat", "sun"]``,
    ``holidays`` and ``workdays`` as ISO dates). A day is a working day when it
    is a make-up working day (调休上班日, counted even on a weekend), or else
    when it is neither a statutory holiday nor a weekend day. A holiday is never
    a working day. Holidays come from the annual State Council notice, so a
    calendar only knows the years it lists: counting through a day of another
    year (say, a deadline that runs into next year before next year's calendar
    is published) raises :class:`OutsideCalendar` rather than give a date that
    may fall on a holiday. :class:`ClockState` turns that into an unknown
    deadline (``None`` with :attr:`ClockState.deadline_unknown`), never a wrong
    one. A calendar listing no day at all (``WorkCalendar()``, a region without a
    calendar) knows no year and counts Saturdays and Sundays off, nothing else.

Counting (our reading of the law)
    A limit counts *from the day after* the clock starts: the day of acceptance
    is not counted (民法典 Art 201: 开始的当日不计入，自下一日开始计算; the
    usual reading of "自受理之日起 N 日内"). A limit of N working days
    (行政许可法 Art 82: 期限以工作日计算，不含法定节假日) therefore ends on the
    N-th working day *after* the day the clock started, and N calendar days end
    N days after it. A limit of 0 (即办件) ends on the day the clock started.
    The deadline day is the last day to act: a case is overdue from the next day.
    Calendar-day limits count every day, but a period whose last day is a day
    off ends on the next working day (民法典 Art 203: 期间的最后一日是法定休假日的，
    以法定休假日结束的次日为期间的最后一日), see :func:`compute_deadline`.

Pauses (特别程序)
    Time in a ``clock: paused`` state (hearings, inspections, expert reviews —
    行政许可法 Art 45) does not count: each pause extends the deadline by the
    number of days it lasted, in the limit's unit. A pause lasts the days
    *after* the day it started up to and including the day it ended (the same
    rule as for the limit itself), so a pause started and ended on the same day
    adds nothing, and a pause from Monday to Wednesday adds 2 working days.

Dates of datetimes
    Days are days in China Standard Time (UTC+8, :data:`CHINA_TZ`).
    :func:`local_date` converts an aware datetime to it and takes a naive one as
    UTC (what SQLite gives back for a ``DateTime(timezone=True)`` column
    written in UTC). Calendar methods refuse datetimes (a ``datetime`` is a
    ``date`` and would silently never match a holiday); convert first.

Application numbers (受理编号)
    ``<region code>-<YYYYMMDD>-<sequence>``, e.g. ``440305-20260312-000042``:
    the GB/T 2260 code of the region the application was filed in, the local
    day it was filed, and the day's sequence number in that region (from 1, at
    least 6 digits). Readable over the phone, sortable, unique with a counter
    per region and day (:func:`counter_name`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any, Final

from runtime.types import GovstdError

__all__ = [
    "CALENDAR_DAY",
    "CHINA_TZ",
    "UNITS",
    "WEEKDAYS",
    "WORKING_DAY",
    "ClockState",
    "OutsideCalendar",
    "WorkCalendar",
    "application_number",
    "compute_deadline",
    "counter_name",
    "is_due_soon",
    "is_overdue",
    "local_date",
    "pause_length",
]

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names as the standards spell them, in ``date.weekday()`` order."""
WORKING_DAY: Final = "working_day"
CALENDAR_DAY: Final = "calendar_day"
UNITS: Final = (WORKING_DAY, CALENDAR_DAY)
CHINA_TZ: Final[tzinfo] = timezone(timedelta(hours=8), "CST")
"""China Standard Time: UTC+8 all year (no daylight saving since 1991)."""

_REGION_CODE = re.compile(r"[0-9]{6,12}")


def _get(spec: object, name: str, default: Any = None) -> Any:
    """``spec[name]`` for a mapping (catalog JSON), ``spec.name`` for an object (IR)."""
    if isinstance(spec, Mapping):
        return spec.get(name, default)
    return getattr(spec, name, default)


def _check_date(d: object, what: str = "day") -> date:
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"{what} must be a date, not {type(d).__name__} (use local_date())")
    return d


def _to_date(value: date | str) -> date:
    if isinstance(value, str):
        return date.fromisoformat(value)
    return _check_date(value)


def _check_unit(unit: str) -> str:
    if unit not in UNITS:
        raise ValueError(f"unknown time limit unit {unit!r} (expected working_day or calendar_day)")
    return unit


def local_date(dt: datetime, tz: tzinfo = CHINA_TZ) -> date:
    """The day ``dt`` falls on in ``tz`` (China Standard Time); naive means UTC."""
    if not isinstance(dt, datetime):
        raise TypeError(f"expected a datetime, not {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(tz).date()


class OutsideCalendar(GovstdError, ValueError):
    """Counting needs a day of a year the calendar does not list (its holidays are unknown)."""

    def __init__(self, calendar: WorkCalendar, day: date) -> None:
        self.calendar_id = calendar.id
        self.day = day
        super().__init__(
            f"工作日历 {calendar.id or ''} 未列出 {day.year} 年的节假日，无法计算期限 / "
            f"calendar {calendar.id!r} does not list the holidays of {day.year} "
            f"(needed for {day}; it lists {sorted(calendar.years)}): the deadline cannot be "
            "computed until that year's calendar is added"
        )


class WorkCalendar:
    """Working days of one calendar (工作日历): weekends, holidays, make-up days.

    ``weekend`` holds weekday names (``"sat"``, ``"sun"``); ``holidays`` and
    ``workdays`` hold dates or ISO date strings. A day both a holiday and a
    make-up working day is an error, and so is a weekend of every day.
    """

    __slots__ = (
        "_extra_workdays",
        "_lost_days",
        "_weekend",
        "_workweek",
        "holidays",
        "id",
        "weekend",
        "workdays",
        "years",
    )

    def __init__(
        self,
        *,
        weekend: Iterable[str] = ("sat", "sun"),
        holidays: Iterable[date | str] = (),
        workdays: Iterable[date | str] = (),
        id: str | None = None,
        years: Iterable[int] | None = None,
    ) -> None:
        if isinstance(weekend, str):
            raise TypeError("weekend must be a list of weekday names, not a string")
        names = tuple(weekend)
        for name in names:
            if name not in WEEKDAYS:
                raise ValueError(
                    f"unknown weekday {name!r} (expected one of {', '.join(WEEKDAYS)})"
                )
        self.id = id
        self.weekend: frozenset[str] = frozenset(names)
        self._weekend = frozenset(WEEKDAYS.index(n) for n in names)
        self._workweek = 7 - len(self._weekend)
        if self._workweek == 0:
            raise ValueError("a calendar needs at least one weekday that is not weekend")
        self.holidays: frozenset[date] = frozenset(_to_date(d) for d in holidays)
        self.workdays: frozenset[date] = frozenset(_to_date(d) for d in workdays)
        both = self.holidays & self.workdays
        if both:
            listed = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"days both holiday and make-up working day: {listed}")
        # The years whose holidays are known: those of the listed days unless given.
        known = (d.year for d in self.holidays | self.workdays) if years is None else years
        self.years: frozenset[int] = frozenset(known)
        # Only holidays on weekdays and make-up days on weekends change the
        # weekday count (sorted, for counting a range with bisect).
        self._lost_days = sorted(d for d in self.holidays if d.weekday() not in self._weekend)
        self._extra_workdays = sorted(d for d in self.workdays if d.weekday() in self._weekend)

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any] | object | None) -> WorkCalendar:
        """Build from a ``catalog.json`` calendar dict or a ``CalendarIR``.

        ``None`` (a region without a calendar) gives weekends only.
        """
        if spec is None:
            return cls()
        weekend = _get(spec, "weekend", None)
        return cls(
            weekend=("sat", "sun") if weekend is None else weekend,  # [] means no weekend
            holidays=_get(spec, "holidays", None) or (),
            workdays=_get(spec, "workdays", None) or (),
            id=_get(spec, "id", None),
        )

    def __repr__(self) -> str:
        weekend = [n for n in WEEKDAYS if n in self.weekend]
        return (
            f"WorkCalendar(id={self.id!r}, weekend={weekend}, "
            f"holidays={len(self.holidays)}, workdays={len(self.workdays)})"
        )

    def require(self, first: date, last: date) -> None:
        """Raise :class:`OutsideCalendar` unless every year from ``first`` to ``last`` is
        listed (nothing to require when ``last < first``, or of a calendar listing no day)."""
        if not self.years or last < first:
            return
        for year in range(first.year, last.year + 1):
            if year not in self.years:
                raise OutsideCalendar(self, max(first, date(year, 1, 1)))

    def is_working_day(self, d: date) -> bool:
        """Make-up working days count, holidays never do, else weekdays not weekend."""
        _check_date(d)
        if d in self.workdays:
            return True
        return d not in self.holidays and d.weekday() not in self._weekend

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start``; ``start`` itself when ``n`` is 0.

        ``start`` need not be a working day: 1 working day after a Saturday is
        (normally) the Monday.
        """
        d = _check_date(start, "start")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        remaining = n
        one = timedelta(days=1)
        while remaining:
            d += one
            if self.is_working_day(d):
                remaining -= 1
        self.require(start + one, d)
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """Working days ``d`` with ``a < d <= b`` (negative when ``b < a``).

        The inverse of :meth:`add_working_days`:
        ``working_days_between(d, add_working_days(d, n)) == n``.
        """
        _check_date(a, "a")
        _check_date(b, "b")
        if b < a:
            return -self.working_days_between(b, a)
        self.require(a + timedelta(days=1), b)
        full_weeks, rest = divmod((b - a).days, 7)
        count = full_weeks * self._workweek
        first = a.weekday()
        count += sum(1 for i in range(1, rest + 1) if (first + i) % 7 not in self._weekend)
        count -= bisect.bisect_right(self._lost_days, b) - bisect.bisect_right(self._lost_days, a)
        count += bisect.bisect_right(self._extra_workdays, b) - bisect.bisect_right(
            self._extra_workdays, a
        )
        return count


def compute_deadline(
    limit_value: int,
    unit: str,
    clock_started: date,
    paused_days: int,
    calendar: WorkCalendar,
) -> date:
    """The last day of a limit of ``limit_value`` ``unit`` s started on ``clock_started``.

    The start day is not counted; ``paused_days`` (in the same unit, see
    :func:`pause_length`) are added. ``working_day``: the
    ``(limit_value + paused_days)``-th working day after the start;
    ``calendar_day``: ``limit_value`` days after it, moved to the next working
    day when that day is a day off (民法典 Art 203), then ``paused_days`` more,
    moved the same way: a pause always moves the deadline by its length, also
    one begun on a day the move added. A limit of 0 with no pause ends on the
    start day (即办).
    """
    _check_unit(unit)
    start = _check_date(clock_started, "clock_started")
    if limit_value < 0:
        raise ValueError(f"limit_value must be >= 0, got {limit_value}")
    if paused_days < 0:
        raise ValueError(f"paused_days must be >= 0, got {paused_days}")
    days = limit_value + paused_days
    if unit == WORKING_DAY:
        return calendar.add_working_days(start, days)
    end = _last_day(start, limit_value, calendar)
    return _last_day(end, paused_days, calendar)


def _last_day(start: date, days: int, calendar: WorkCalendar) -> date:
    """``days`` calendar days after ``start``, on the next working day if that is a day off."""
    if not days:
        return start
    end = start + timedelta(days=days)
    while not calendar.is_working_day(end):
        end += timedelta(days=1)
    calendar.require(start + timedelta(days=days), end)
    return end


def pause_length(
    paused_at: datetime, resumed_at: datetime, unit: str, calendar: WorkCalendar
) -> int:
    """Days a pause adds to the deadline, in ``unit``.

    Counted on local days (:func:`local_date`) after the pause's first day up
    to and including its last: working days for ``working_day``, all days for
    ``calendar_day``. Same day → 0.
    """
    _check_unit(unit)
    start, end = local_date(paused_at), local_date(resumed_at)
    if end < start:
        raise ValueError(f"pause resumed ({resumed_at}) before it started ({paused_at})")
    if unit == WORKING_DAY:
        return calendar.working_days_between(start, end)
    return (end - start).days


def _pause_days(
    paused_at: datetime, resumed_at: datetime, unit: str, calendar: WorkCalendar
) -> int:
    """:func:`pause_length`; a pause reaching into a year the calendar does not list counts
    the weekdays of that part (its holidays are unknown; the deadline, after the pause,
    is unknown then anyway until that year's calendar is added)."""
    try:
        return pause_length(paused_at, resumed_at, unit, calendar)
    except OutsideCalendar:
        every_year = WorkCalendar(
            weekend=calendar.weekend,
            holidays=calendar.holidays,
            workdays=calendar.workdays,
            years=(),  # no year is required
        )
        return pause_length(paused_at, resumed_at, unit, every_year)


def is_overdue(deadline: date | None, now_date: date, final: bool) -> bool:
    """A case not final whose deadline day has passed (the deadline day itself is on time)."""
    if final or deadline is None:
        return False
    return _check_date(now_date, "now_date") > _check_date(deadline, "deadline")


def is_due_soon(
    deadline: date | None,
    now_date: date,
    warn_before_days: int | None,
    calendar: WorkCalendar,
    *,
    final: bool = False,
) -> bool:
    """Not overdue yet, but at most ``warn_before_days`` working days left.

    Days left are the working days after ``now_date`` up to the deadline, so on
    the deadline day 0 are left (due soon for any ``warn_before_days >= 0``).
    ``None`` (the workflow sets no ``warn_before``) is never due soon.
    """
    if final or deadline is None or warn_before_days is None:
        return False
    if warn_before_days < 0:
        raise ValueError(f"warn_before_days must be >= 0, got {warn_before_days}")
    if is_overdue(deadline, now_date, final):
        return False
    return calendar.working_days_between(now_date, deadline) <= warn_before_days


@dataclass(frozen=True)
class ClockState:
    """Where a case's clock stands; the fields match the ``applications`` columns.

    Build it with :meth:`from_history` from the case's status history, or step
    it with :meth:`enter` on each transition (``ClockState(calendar, value,
    unit)`` is a case that has not entered any state). The rules: the clock
    starts on the first entry into a ``clock: running`` state (earlier paused
    states mean nothing); once started it is stopped exactly while the case is
    in ``clock: paused`` states (consecutive paused states are one pause; any
    other state, marked or not, lets it run); it ends on entry into a
    ``final`` state, which also ends a pause in progress. Without a limit
    (``limit_value`` ``None``) there is no deadline.

    ``paused_days`` counts finished pauses only, and so does :attr:`deadline`;
    :meth:`deadline_at` also counts the pause in progress up to ``now``.
    """

    calendar: WorkCalendar = field(repr=False, compare=False)
    limit_value: int | None = None
    unit: str | None = None
    started_at: datetime | None = None
    paused_at: datetime | None = None
    """Start of the pause in progress, ``None`` when not paused."""
    paused_days: int = 0
    finished_at: datetime | None = None

    def __post_init__(self) -> None:
        if (self.limit_value is None) != (self.unit is None):
            raise ValueError("limit_value and unit go together")
        if self.unit is not None:
            _check_unit(self.unit)
        if self.limit_value is not None and self.limit_value < 0:
            raise ValueError(f"limit_value must be >= 0, got {self.limit_value}")

    @classmethod
    def from_history(
        cls,
        history: Sequence[tuple[str, datetime]],
        states: Iterable[Mapping[str, Any] | object],
        limit: Mapping[str, Any] | object | None,
        calendar: WorkCalendar,
    ) -> ClockState:
        """Replay a case's status history.

        ``history``: ``(state id, entered at)`` in chronological order, starting
        with the initial state. ``states``: the workflow's states (catalog
        dicts or ``StateIR``: ``id``, ``clock``, ``final``). ``limit``: the
        matter's promised limit (``{"value": 3, "unit": "working_day"}``) or
        ``None``. A state id the workflow does not know is a ``ValueError``.
        """
        by_id = {str(_get(s, "id")): s for s in states}
        clock = cls.for_limit(limit, calendar)
        for state_id, entered_at in history:
            if state_id not in by_id:
                raise ValueError(f"state {state_id!r} is not in the workflow")
            clock = clock.enter(by_id[state_id], entered_at)
        return clock

    @classmethod
    def for_limit(
        cls, limit: Mapping[str, Any] | object | None, calendar: WorkCalendar
    ) -> ClockState:
        """A clock not started yet; ``limit``: ``{"value", "unit"}``, ``LimitIR``, ``None``."""
        if limit is None:
            return cls(calendar)
        return cls(calendar, int(_get(limit, "value")), str(_get(limit, "unit")))

    def enter(self, state: Mapping[str, Any] | object, at: datetime) -> ClockState:
        """The clock after the case enters ``state`` at ``at``."""
        if self.finished_at is not None:
            return self  # final states have no way out
        final = bool(_get(state, "final", False))
        kind = _get(state, "clock", None)
        if kind not in (None, "running", "paused"):
            raise ValueError(f"unknown clock {kind!r} on state {_get(state, 'id')!r}")
        if self.started_at is None:
            if final:
                return replace(self, finished_at=at)
            if kind == "running":
                return replace(self, started_at=at)
            return self
        clock = self
        pausing = kind == "paused" and not final
        if self.paused_at is not None and not pausing:
            added = _pause_days(self.paused_at, at, self.unit or WORKING_DAY, self.calendar)
            clock = replace(clock, paused_at=None, paused_days=self.paused_days + added)
        elif self.paused_at is None and pausing:
            clock = replace(clock, paused_at=at)
        if final:
            clock = replace(clock, finished_at=at)
        return clock

    @property
    def started(self) -> bool:
        return self.started_at is not None

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    @property
    def final(self) -> bool:
        return self.finished_at is not None

    @property
    def deadline(self) -> date | None:
        """The deadline counting finished pauses (``None``: not started, no limit, or
        :attr:`deadline_unknown`)."""
        try:
            return self._deadline()
        except OutsideCalendar:
            return None

    @property
    def deadline_unknown(self) -> bool:
        """Started with a limit, but the deadline runs past the calendar's last listed year."""
        try:
            self._deadline()
        except OutsideCalendar:
            return True
        return False

    def _deadline(self) -> date | None:
        if self.started_at is None or self.limit_value is None or self.unit is None:
            return None
        return compute_deadline(
            self.limit_value,
            self.unit,
            local_date(self.started_at),
            self.paused_days,
            self.calendar,
        )

    def deadline_at(self, now: datetime) -> date | None:
        """The deadline as of ``now``: a pause in progress counts up to ``now``
        (``None`` also when it cannot be computed, see :meth:`deadline_unknown_at`)."""
        try:
            return self._deadline_at(now)
        except OutsideCalendar:
            return None

    def deadline_unknown_at(self, now: datetime) -> bool:
        """Whether :meth:`deadline_at` is ``None`` because the calendar runs out."""
        try:
            self._deadline_at(now)
        except OutsideCalendar:
            return True
        return False

    def _deadline_at(self, now: datetime) -> date | None:
        if self.paused_at is None or self.finished_at is not None:
            return self._deadline()
        if self.started_at is None or self.limit_value is None or self.unit is None:
            return None
        ongoing = _pause_days(self.paused_at, now, self.unit, self.calendar)
        return compute_deadline(
            self.limit_value,
            self.unit,
            local_date(self.started_at),
            self.paused_days + ongoing,
            self.calendar,
        )

    def is_overdue(self, now: datetime) -> bool:
        """Not final and past :meth:`deadline_at` (a pause begun in time keeps it in time;
        one begun after the deadline does not make the case timely again)."""
        if self.paused_at is not None and self.finished_at is None:
            before = self.deadline
            if before is not None and local_date(self.paused_at) > before:
                return True
        return is_overdue(self.deadline_at(now), local_date(now), self.final)

    def is_due_soon(self, now: datetime, warn_before_days: int | None) -> bool:
        """Running (not paused, not final) and due within ``warn_before_days`` working days."""
        if self.paused:
            return False
        try:
            return is_due_soon(
                self.deadline, local_date(now), warn_before_days, self.calendar, final=self.final
            )
        except OutsideCalendar:  # today is in a year the calendar does not list
            return False


def application_number(region_code: str, day: date, sequence: int) -> str:
    """The 受理编号 ``<region>-<YYYYMMDD>-<sequence>``, e.g. ``440305-20260312-000042``.

    ``region_code``: 6 to 12 ASCII digits (GB/T 2260, or a longer statistical
    division code); ``day``: the local day of filing; ``sequence``: from 1,
    zero-padded to 6 digits (longer if it ever exceeds 999999).
    """
    if not isinstance(region_code, str) or not _REGION_CODE.fullmatch(region_code):
        raise ValueError(f"region code must be 6 to 12 digits, got {region_code!r}")
    _check_date(day)
    if sequence < 1:
        raise ValueError(f"sequence must be >= 1, got {sequence}")
    return f"{region_code}-{day:%Y%m%d}-{sequence:06d}"


@lru_cache(maxsize=256)  # a filing asks 2-3 times (numbers ready? which sequence?)
def counter_name(region_code: str, day: date) -> str:
    """Name of the ``counters`` row holding the last sequence of a region's day."""
    if not isinstance(region_code, str) or not _REGION_CODE.fullmatch(region_code):
        raise ValueError(f"region code must be 6 to 12 digits, got {region_code!r}")
    _check_date(day)
    return f"application:{region_code}:{day:%Y%m%d}"
