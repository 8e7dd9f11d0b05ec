"""Tests for runtime.clock against the real 2026 calendar.

国务院办公厅关于2026年部分节假日安排的通知: holidays 01-01..03, 02-15..23,
04-04..06, 05-01..05, 06-19..21, 09-25..27, 10-01..07; make-up working days
(调休上班) Sun 01-04, Sat 02-14, Sat 02-28, Sat 05-09, Sun 09-20, Sat 10-10.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from runtime import clock
from runtime.clock import (
    CHINA_TZ,
    ClockState,
    OutsideCalendar,
    WorkCalendar,
    application_number,
    compute_deadline,
    counter_name,
    is_due_soon,
    is_overdue,
    local_date,
    pause_length,
)


def _days(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


CN_2026: dict[str, Any] = {  # transcribed from the notice; must equal the bundled file
    "id": "cn_2026",
    "weekend": ["sat", "sun"],
    "holidays": [
        *_days("2026-01-01", "2026-01-03"),
        *_days("2026-02-15", "2026-02-23"),
        *_days("2026-04-04", "2026-04-06"),
        *_days("2026-05-01", "2026-05-05"),
        *_days("2026-06-19", "2026-06-21"),
        *_days("2026-09-25", "2026-09-27"),
        *_days("2026-10-01", "2026-10-07"),
    ],
    "workdays": [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ],
}
CAL = WorkCalendar.from_spec(CN_2026)
BUNDLED_2026 = Path(__file__).resolve().parents[1] / "standards/national/calendars/cn_2026.yaml"
WEEKENDS_ONLY = WorkCalendar()

LICENSING_STATES: list[dict[str, Any]] = [  # the licensing workflow of the spec
    {"id": "submitted", "name": {"zh": "已申请"}, "clock": None, "final": False},
    {"id": "supplement", "name": {"zh": "补齐补正"}, "clock": None, "final": False},
    {"id": "accepted", "name": {"zh": "已受理"}, "clock": "running", "final": False},
    {"id": "special", "name": {"zh": "特别程序"}, "clock": "paused", "final": False},
    {"id": "approved", "name": {"zh": "准予许可"}, "clock": None, "final": True},
    {"id": "denied", "name": {"zh": "不予许可"}, "clock": None, "final": True},
    {"id": "refused", "name": {"zh": "不予受理"}, "clock": None, "final": True},
    {"id": "withdrawn", "name": {"zh": "已撤回"}, "clock": None, "final": True},
]


def test_the_tested_calendar_is_the_bundled_one() -> None:
    """The calendar these tests use day by day (from the notice) is the one the standards
    ship: a day changed in either shows here."""
    bundled = yaml.safe_load(BUNDLED_2026.read_text(encoding="utf-8"))
    assert bundled["id"] == CN_2026["id"]
    assert bundled["weekend"] == CN_2026["weekend"]
    for key in ("holidays", "workdays"):
        days = [d.isoformat() if isinstance(d, date) else str(d) for d in bundled[key]]
        assert days == CN_2026[key], key


def d(text: str) -> date:
    return date.fromisoformat(text)


def cst(text: str) -> datetime:
    """A China Standard Time datetime from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=CHINA_TZ)


# ---------------------------------------------------------------- calendar


def test_2026_working_days() -> None:
    assert CAL.is_working_day(d("2026-02-13"))  # Friday
    assert CAL.is_working_day(d("2026-02-14"))  # Saturday, make-up working day
    assert CAL.is_working_day(d("2026-01-04"))  # Sunday, make-up working day
    assert not CAL.is_working_day(d("2026-02-23"))  # Monday, Spring Festival
    assert not CAL.is_working_day(d("2026-10-07"))  # Wednesday, National Day
    assert not CAL.is_working_day(d("2026-03-07"))  # ordinary Saturday
    assert CAL.is_working_day(d("2026-03-09"))  # ordinary Monday


def test_2026_working_day_totals() -> None:
    # 2026 has 261 weekdays (Mon-Fri). Of the 33 holidays, 19 are weekdays:
    # 01-01/02 (2), 02-16..20 and 02-23 (6), 04-06 (1), 05-01, 05-04/05 (3),
    # 06-19 (1), 09-25 (1), 10-01/02 and 10-05..07 (5). The 6 make-up days are
    # all on weekends: 261 - 19 + 6 = 248.
    weekdays = sum(1 for i in range(365) if (d("2026-01-01") + timedelta(days=i)).weekday() < 5)
    assert weekdays == 261
    assert len(CAL.holidays) == 33
    assert sum(1 for h in CAL.holidays if h.weekday() < 5) == 19
    assert CAL.working_days_between(d("2025-12-31"), d("2026-12-31")) == 248
    # Spring Festival week: Fri 13, Sat 14 (make-up) then nothing until Tue 24.
    assert CAL.working_days_between(d("2026-02-12"), d("2026-02-23")) == 2
    assert CAL.working_days_between(d("2026-02-12"), d("2026-02-24")) == 3


def test_accepted_before_spring_festival() -> None:
    # Accepted Thu 2026-02-12 with 3 working days: the acceptance day does not
    # count; Fri 02-13 is day 1, Sat 02-14 (调休上班) is day 2, Sun 02-15 to
    # Mon 02-23 are the Spring Festival holiday, Tue 02-24 is day 3.
    assert CAL.add_working_days(d("2026-02-12"), 3) == d("2026-02-24")
    assert compute_deadline(3, "working_day", d("2026-02-12"), 0, CAL) == d("2026-02-24")
    # With weekends only it would be Fri 13, Mon 16, Tue 17.
    assert WEEKENDS_ONLY.add_working_days(d("2026-02-12"), 3) == d("2026-02-17")
    # 20 working days (Art 42): 02-13, 02-14, 02-24..27 (6), 02-28 make-up (7),
    # 03-02..06 (12), 03-09..13 (17), 03-16..18 (20).
    assert compute_deadline(20, "working_day", d("2026-02-12"), 0, CAL) == d("2026-03-18")


def test_national_day_and_make_up() -> None:
    # Accepted Wed 2026-09-30, 2 working days: 10-01..07 holiday, Thu 10-08 (1), Fri 10-09 (2).
    assert CAL.add_working_days(d("2026-09-30"), 2) == d("2026-10-09")
    # 3 working days: Sat 10-10 is a make-up working day.
    assert CAL.add_working_days(d("2026-09-30"), 3) == d("2026-10-10")
    # Sun 09-20 is a make-up working day: from Fri 09-18 one working day is that Sunday.
    assert CAL.add_working_days(d("2026-09-18"), 1) == d("2026-09-20")


def test_start_on_non_working_day() -> None:
    # Accepted online on Sat 2026-03-07: one working day later is Mon 03-09.
    assert CAL.add_working_days(d("2026-03-07"), 1) == d("2026-03-09")
    # Accepted on a holiday (Sun 02-22): first working day is Tue 02-24.
    assert CAL.add_working_days(d("2026-02-22"), 1) == d("2026-02-24")


def test_instant_is_same_day() -> None:
    for day in ("2026-02-12", "2026-02-15", "2026-03-07"):
        assert CAL.add_working_days(d(day), 0) == d(day)
        assert compute_deadline(0, "working_day", d(day), 0, CAL) == d(day)
        assert compute_deadline(0, "calendar_day", d(day), 0, CAL) == d(day)


def test_calendar_days_end_on_a_working_day() -> None:
    # 民法典 Art 203: 3 calendar days after 02-12 is Sun 02-15, in the Spring Festival
    # holidays (02-15..02-23): the period ends on the day after them, Tue 02-24.
    assert compute_deadline(3, "calendar_day", d("2026-02-12"), 0, CAL) == d("2026-02-24")
    # A make-up working Saturday (02-14) is a working day: nothing moves.
    assert compute_deadline(2, "calendar_day", d("2026-02-12"), 0, CAL) == d("2026-02-14")
    # 居民身份证法: 60 days. 02-12 + 16 = 02-28, + 31 = 03-31 (47), + 13 = Mon 04-13.
    assert compute_deadline(60, "calendar_day", d("2026-02-12"), 0, CAL) == d("2026-04-13")
    # + 5 paused days: Sat 04-18, a weekend: Mon 04-20.
    assert compute_deadline(60, "calendar_day", d("2026-02-12"), 5, CAL) == d("2026-04-20")


def test_a_pause_begun_on_a_moved_last_day_still_counts() -> None:
    # 1 calendar day from Fri 03-13 is Sat 03-14, moved to Mon 03-16 (Art 203).
    one_day = {"value": 1, "unit": "calendar_day"}
    history = [("accepted", cst("2026-03-13 10:00")), ("special", cst("2026-03-16 09:00"))]
    paused = ClockState.from_history(history, LICENSING_STATES, one_day, CAL)
    assert paused.deadline == d("2026-03-16")
    assert paused.deadline_at(cst("2026-03-17 12:00")) == d("2026-03-17")
    assert not paused.is_overdue(cst("2026-03-17 12:00"))  # begun in time: kept in time
    resumed = ClockState.from_history(
        [*history, ("accepted", cst("2026-03-17 09:00"))], LICENSING_STATES, one_day, CAL
    )
    assert resumed.paused_days == 1 and resumed.deadline == d("2026-03-17")
    assert not resumed.is_overdue(cst("2026-03-17 18:00"))
    assert resumed.is_overdue(cst("2026-03-18 08:00"))


def test_a_case_paused_after_its_deadline_stays_overdue() -> None:
    # 10 calendar days from Fri 2025-12-26: Mon 2026-01-05; paused on Wed 01-07, late.
    ten = {"value": 10, "unit": "calendar_day"}
    history = [("accepted", cst("2025-12-26 10:00")), ("special", cst("2026-01-07 09:00"))]
    paused = ClockState.from_history(history, LICENSING_STATES, ten, CAL)
    for day in ("2026-01-08", "2026-01-12", "2026-01-13"):  # 01-12: the moved date lands here
        assert paused.is_overdue(cst(f"{day} 12:00")), day


def test_outside_calendar_year_is_refused() -> None:
    """2026-12-30 + 2 working days used to be Fri 2027-01-01 (New Year's Day): no date now."""
    assert CAL.add_working_days(d("2026-12-28"), 3) == d("2026-12-31")  # inside: counted
    with pytest.raises(OutsideCalendar, match="2027"):
        CAL.add_working_days(d("2026-12-30"), 2)
    with pytest.raises(OutsideCalendar):
        compute_deadline(2, "working_day", d("2026-12-30"), 0, CAL)
    with pytest.raises(OutsideCalendar):
        compute_deadline(5, "calendar_day", d("2026-12-30"), 0, CAL)
    with pytest.raises(OutsideCalendar):
        CAL.working_days_between(d("2026-12-30"), d("2027-01-05"))
    assert compute_deadline(0, "working_day", d("2026-12-31"), 0, CAL) == d("2026-12-31")
    # A calendar that lists no day knows no year: weekends only, as documented.
    assert WEEKENDS_ONLY.add_working_days(d("2026-12-30"), 3) == d("2027-01-04")


def test_a_clock_past_the_calendar_has_an_unknown_deadline_not_a_wrong_one() -> None:
    started = datetime(2026, 12, 30, 2, 0, tzinfo=UTC)  # Wed 2026-12-30 10:00 CST
    clock = ClockState(CAL, 2, "working_day", started_at=started)
    assert clock.deadline is None and clock.deadline_unknown
    now = started + timedelta(days=1)
    assert clock.deadline_at(now) is None and clock.deadline_unknown_at(now)
    assert not clock.is_overdue(now + timedelta(days=30))
    assert not clock.is_due_soon(now, 2)
    inside = ClockState(CAL, 1, "working_day", started_at=started)
    assert inside.deadline == d("2026-12-31") and not inside.deadline_unknown


def test_working_days_between() -> None:
    assert CAL.working_days_between(d("2026-03-02"), d("2026-03-02")) == 0
    assert CAL.working_days_between(d("2026-03-02"), d("2026-03-09")) == 5
    assert CAL.working_days_between(d("2026-03-09"), d("2026-03-02")) == -5
    assert CAL.working_days_between(d("2026-03-06"), d("2026-03-08")) == 0  # Fri → Sun


def test_calendar_from_ir_object_and_dates() -> None:
    ir = SimpleNamespace(
        id="cn_2026",
        weekend=("sat", "sun"),
        holidays=tuple(CN_2026["holidays"]),
        workdays=tuple(CN_2026["workdays"]),
    )
    from_ir = WorkCalendar.from_spec(ir)
    assert from_ir.id == "cn_2026"
    assert from_ir.holidays == CAL.holidays and from_ir.workdays == CAL.workdays
    direct = WorkCalendar(holidays=[d("2026-02-16")], workdays=[d("2026-02-14")])
    assert direct.is_working_day(d("2026-02-14")) and not direct.is_working_day(d("2026-02-16"))
    assert WorkCalendar.from_spec(None).weekend == frozenset({"sat", "sun"})
    assert WorkCalendar.from_spec({"id": "x"}).weekend == frozenset({"sat", "sun"})
    assert WorkCalendar.from_spec({"id": "x", "weekend": []}).weekend == frozenset()
    assert "cn_2026" in repr(CAL)


def test_other_weekends() -> None:
    friday_weekend = WorkCalendar(weekend=["fri"])
    assert not friday_weekend.is_working_day(d("2026-03-06"))
    assert friday_weekend.is_working_day(d("2026-03-07"))
    assert friday_weekend.add_working_days(d("2026-03-05"), 1) == d("2026-03-07")
    no_weekend = WorkCalendar(weekend=[])
    assert no_weekend.working_days_between(d("2026-03-01"), d("2026-03-31")) == 30


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"weekend": ["saturday"]}, ValueError),
        ({"weekend": list(clock.WEEKDAYS)}, ValueError),
        ({"weekend": "sat"}, TypeError),
        ({"holidays": ["2026-02-14"], "workdays": ["2026-02-14"]}, ValueError),
        ({"holidays": ["2026-02-30"]}, ValueError),
        ({"holidays": [datetime(2026, 2, 16, tzinfo=UTC)]}, TypeError),
    ],
)
def test_calendar_errors(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        WorkCalendar(**kwargs)


def test_datetimes_are_refused() -> None:
    # A datetime is a date subclass that never equals a date: it would miss holidays.
    with pytest.raises(TypeError, match="local_date"):
        CAL.is_working_day(datetime(2026, 2, 16, tzinfo=CHINA_TZ))
    with pytest.raises(TypeError):
        CAL.add_working_days(datetime(2026, 2, 16), 1)
    with pytest.raises(ValueError):
        CAL.add_working_days(d("2026-02-16"), -1)


# ---------------------------------------------------------------- deadlines and pauses


def test_compute_deadline_errors() -> None:
    with pytest.raises(ValueError, match="unit"):
        compute_deadline(3, "day", d("2026-03-02"), 0, CAL)
    with pytest.raises(ValueError):
        compute_deadline(-1, "working_day", d("2026-03-02"), 0, CAL)
    with pytest.raises(ValueError):
        compute_deadline(1, "working_day", d("2026-03-02"), -1, CAL)


def test_pause_extends_by_working_days() -> None:
    # Accepted Mon 2026-03-02, 20 working days (no holidays in March):
    # 03-03..06 (4), 03-09..13 (9), 03-16..20 (14), 03-23..27 (19), Mon 03-30 (20).
    assert compute_deadline(20, "working_day", d("2026-03-02"), 0, CAL) == d("2026-03-30")
    # Paused Tue 03-10, resumed Fri 03-13: Wed, Thu, Fri = 3 working days.
    paused = pause_length(cst("2026-03-10 09:00"), cst("2026-03-13 16:00"), "working_day", CAL)
    assert paused == 3
    # Three more working days: Tue 03-31, Wed 04-01, Thu 04-02.
    assert compute_deadline(20, "working_day", d("2026-03-02"), paused, CAL) == d("2026-04-02")


def test_pause_length() -> None:
    same = pause_length(cst("2026-03-10 09:00"), cst("2026-03-10 17:00"), "working_day", CAL)
    assert same == 0
    assert pause_length(cst("2026-03-10 09:00"), cst("2026-03-10 17:00"), "calendar_day", CAL) == 0
    # Fri → Mon: only Monday counts.
    assert pause_length(cst("2026-03-06 10:00"), cst("2026-03-09 10:00"), "working_day", CAL) == 1
    assert pause_length(cst("2026-03-06 10:00"), cst("2026-03-09 10:00"), "calendar_day", CAL) == 3
    # Over the Spring Festival: 02-13, 02-14 (make-up), 02-24, 02-25.
    festival = pause_length(cst("2026-02-12 09:00"), cst("2026-02-25 09:00"), "working_day", CAL)
    assert festival == 4
    with pytest.raises(ValueError, match="before it started"):
        pause_length(cst("2026-03-10 09:00"), cst("2026-03-09 09:00"), "working_day", CAL)


def test_pause_days_are_local_days() -> None:
    # 16:30 UTC on 03-09 is already 00:30 on Tue 03-10 in Beijing.
    start = datetime(2026, 3, 9, 16, 30, tzinfo=UTC)
    assert local_date(start) == d("2026-03-10")
    assert pause_length(start, cst("2026-03-10 12:00"), "working_day", CAL) == 0
    # Naive datetimes are UTC (SQLite).
    assert local_date(datetime(2026, 3, 9, 16, 30)) == d("2026-03-10")
    assert local_date(datetime(2026, 3, 9, 15, 59)) == d("2026-03-09")
    assert local_date(datetime(2026, 3, 9, 23, 0, tzinfo=timezone(timedelta(hours=-5)))) == d(
        "2026-03-10"
    )
    with pytest.raises(TypeError):
        local_date(d("2026-03-09"))  # type: ignore[arg-type]


def test_overdue_boundaries() -> None:
    deadline = d("2026-02-24")
    assert not is_overdue(deadline, d("2026-02-23"), final=False)
    assert not is_overdue(deadline, d("2026-02-24"), final=False)  # the last day is on time
    assert is_overdue(deadline, d("2026-02-25"), final=False)
    assert not is_overdue(deadline, d("2026-03-25"), final=True)
    assert not is_overdue(None, d("2026-03-25"), final=False)


def test_due_soon_boundaries() -> None:
    deadline = d("2026-02-24")  # Tue after the Spring Festival
    # From Thu 02-12: 02-13, 02-14, 02-24 = 3 working days left.
    assert not is_due_soon(deadline, d("2026-02-12"), 2, CAL)
    # From Fri 02-13: 02-14 and 02-24 = 2 left, despite 11 calendar days.
    assert is_due_soon(deadline, d("2026-02-13"), 2, CAL)
    assert is_due_soon(deadline, d("2026-02-20"), 2, CAL)  # in the holiday: 1 left
    assert is_due_soon(deadline, d("2026-02-24"), 2, CAL)  # deadline day: 0 left
    assert is_due_soon(deadline, d("2026-02-24"), 0, CAL)
    assert not is_due_soon(deadline, d("2026-02-23"), 0, CAL)
    assert not is_due_soon(deadline, d("2026-02-25"), 2, CAL)  # overdue, not due soon
    assert not is_due_soon(deadline, d("2026-02-20"), 2, CAL, final=True)
    assert not is_due_soon(deadline, d("2026-02-20"), None, CAL)
    assert not is_due_soon(None, d("2026-02-20"), 2, CAL)
    with pytest.raises(ValueError):
        is_due_soon(deadline, d("2026-02-20"), -1, CAL)


# ---------------------------------------------------------------- ClockState

FIVE_DAYS = {"value": 5, "unit": "working_day"}


def test_clock_state_full_case() -> None:
    history = [
        ("submitted", cst("2026-02-26 09:00")),
        ("supplement", cst("2026-02-26 15:00")),
        ("submitted", cst("2026-02-27 10:00")),
        ("accepted", cst("2026-03-02 10:00")),  # Mon: 5 working days → Mon 03-09
        ("special", cst("2026-03-04 14:00")),  # Wed
        ("accepted", cst("2026-03-06 11:00")),  # Fri: paused Thu + Fri = 2
        ("approved", cst("2026-03-10 16:00")),
    ]
    state = ClockState.from_history(history, LICENSING_STATES, FIVE_DAYS, CAL)
    assert state.started_at == cst("2026-03-02 10:00")
    assert state.paused_at is None and not state.paused
    assert state.paused_days == 2
    assert state.finished_at == cst("2026-03-10 16:00") and state.final
    assert state.deadline == d("2026-03-11")
    assert not state.is_overdue(cst("2026-04-01 09:00"))  # final: never overdue
    assert not state.is_due_soon(cst("2026-03-10 09:00"), 2)


def test_clock_state_step_by_step_matches_replay() -> None:
    states = {s["id"]: s for s in LICENSING_STATES}
    state = ClockState.for_limit(FIVE_DAYS, CAL)
    assert not state.started and state.deadline is None
    state = state.enter(states["submitted"], cst("2026-03-01 09:00"))
    assert not state.started
    state = state.enter(states["accepted"], cst("2026-03-02 10:00"))
    assert state.started and state.deadline == d("2026-03-09")
    assert state.is_due_soon(cst("2026-03-05 09:00"), 2)  # Fri 06, Mon 09 left
    assert not state.is_due_soon(cst("2026-03-04 09:00"), 2)
    assert state.is_overdue(cst("2026-03-10 09:00"))


def test_clock_state_pause_in_progress() -> None:
    history = [
        ("submitted", cst("2026-03-01 09:00")),
        ("accepted", cst("2026-03-02 10:00")),  # deadline Mon 03-09
        ("special", cst("2026-03-04 14:00")),  # paused Wed, in time
    ]
    state = ClockState.from_history(history, LICENSING_STATES, FIVE_DAYS, CAL)
    assert state.paused and state.paused_at == cst("2026-03-04 14:00")
    assert state.paused_days == 0 and state.deadline == d("2026-03-09")
    # At Fri 03-20 the pause has lasted 03-05..06, 09..13, 16..20 = 12 working
    # days: 17 working days after 03-02 is Wed 03-25.
    now = cst("2026-03-20 09:00")
    assert state.deadline_at(now) == d("2026-03-25")
    assert not state.is_overdue(now)  # the clock is stopped
    assert not state.is_due_soon(now, 2)
    # Paused after the deadline had passed: stays overdue.
    late = ClockState.from_history(
        [("accepted", cst("2026-03-02 10:00")), ("special", cst("2026-03-11 09:00"))],
        LICENSING_STATES,
        FIVE_DAYS,
        CAL,
    )
    # 03-12, 13, 16..20 = 7 paused: 12 working days after 03-02 = Wed 03-18.
    assert late.deadline_at(now) == d("2026-03-18")
    assert late.is_overdue(now)


def test_clock_state_refused_before_start() -> None:
    history = [("submitted", cst("2026-03-02 09:00")), ("refused", cst("2026-03-03 09:00"))]
    state = ClockState.from_history(history, LICENSING_STATES, FIVE_DAYS, CAL)
    assert state.started_at is None and state.final
    assert state.deadline is None and state.deadline_at(cst("2026-04-01 00:00")) is None
    assert not state.is_overdue(cst("2026-04-01 00:00"))


def test_clock_state_final_while_paused_and_late() -> None:
    states = [
        {"id": "accepted", "clock": "running"},
        {"id": "inspection", "clock": "paused"},
        {"id": "hearing", "clock": "paused"},
        {"id": "review"},  # unmarked after the start: the clock runs
        {"id": "closed", "final": True},
    ]
    history = [
        ("accepted", cst("2026-03-02 10:00")),
        ("inspection", cst("2026-03-03 10:00")),  # Tue
        ("hearing", cst("2026-03-04 10:00")),  # still the same pause
        ("review", cst("2026-03-05 10:00")),  # Thu: paused Wed, Thu = 2
        ("inspection", cst("2026-03-09 10:00")),  # Mon
        ("closed", cst("2026-03-20 10:00")),  # Fri: 03-10..13, 16..20 = 9
        ("accepted", cst("2026-03-23 10:00")),  # ignored after final
    ]
    state = ClockState.from_history(history, states, FIVE_DAYS, CAL)
    assert state.paused_days == 11 and not state.paused
    assert state.finished_at == cst("2026-03-20 10:00")
    # 16 working days after 03-02: 03-03..06 (4), 09..13 (9), 16..20 (14), 23, 24.
    assert state.deadline == d("2026-03-24")


def test_clock_state_calendar_days_and_no_limit() -> None:
    sixty = {"value": 60, "unit": "calendar_day"}
    history = [
        ("accepted", cst("2026-02-12 10:00")),
        ("special", cst("2026-02-20 10:00")),
        ("accepted", cst("2026-03-02 10:00")),  # 10 calendar days paused
    ]
    state = ClockState.from_history(history, LICENSING_STATES, sixty, CAL)
    assert state.paused_days == 10
    assert state.deadline == d("2026-04-23")  # 04-13 + 10
    no_limit = ClockState.from_history(history, LICENSING_STATES, None, CAL)
    assert no_limit.started and no_limit.deadline is None
    assert not no_limit.is_overdue(cst("2027-01-01 00:00"))
    assert no_limit.paused_days == 6  # counted in working days: 02-24..27, 02-28, 03-02
    ir_limit = SimpleNamespace(value=60, unit="calendar_day")
    assert ClockState.from_history(history, LICENSING_STATES, ir_limit, CAL) == state


def test_clock_state_naive_utc_history() -> None:
    # From SQLite: naive UTC. 2026-03-01 17:00 UTC is Mon 03-02 01:00 in Beijing.
    history = [("accepted", datetime(2026, 3, 1, 17, 0))]
    state = ClockState.from_history(history, LICENSING_STATES, FIVE_DAYS, CAL)
    assert state.deadline == d("2026-03-09")


def test_clock_state_errors() -> None:
    with pytest.raises(ValueError, match="not in the workflow"):
        ClockState.from_history([("nowhere", cst("2026-03-02 10:00"))], LICENSING_STATES, None, CAL)
    with pytest.raises(ValueError, match="clock"):
        stopped = {"id": "x", "clock": "stopped"}
        ClockState.for_limit(None, CAL).enter(stopped, cst("2026-03-02 10:00"))
    with pytest.raises(ValueError, match="unit"):
        ClockState.for_limit({"value": 3, "unit": "weeks"}, CAL)
    with pytest.raises(ValueError):
        ClockState(CAL, 3, None)
    with pytest.raises(ValueError):
        ClockState(CAL, -3, "working_day")


# ---------------------------------------------------------------- application numbers


def test_application_number() -> None:
    assert application_number("440305", d("2026-03-12"), 42) == "440305-20260312-000042"
    assert application_number("440305", d("2026-03-12"), 1234567) == "440305-20260312-1234567"
    assert counter_name("440305", d("2026-03-12")) == "application:440305:20260312"
    assert len(counter_name("440305001001", d("2026-03-12"))) <= 64
    number = application_number("440305001001", d("2026-12-31"), 999999)
    assert len(number) <= 40
    for bad in ("44030", "44O305", "４４０３０５", "440305-1", ""):
        with pytest.raises(ValueError):
            application_number(bad, d("2026-03-12"), 1)
        with pytest.raises(ValueError):
            counter_name(bad, d("2026-03-12"))
    with pytest.raises(ValueError):
        application_number("440305", d("2026-03-12"), 0)
    with pytest.raises(TypeError):
        application_number("440305", datetime(2026, 3, 12, tzinfo=UTC), 1)


def test_application_numbers_sort_by_day_then_sequence() -> None:
    numbers = [
        application_number("440305", d("2026-03-12"), 2),
        application_number("440305", d("2026-03-12"), 10),
        application_number("440305", d("2026-03-13"), 1),
    ]
    assert sorted(numbers) == numbers


# ---------------------------------------------------------------- properties

days_2025_2027 = st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 1, 31))
EVERY_YEAR = range(2000, 2100)
"""Counting is tested across year ends: the calendars below take the years they do not
list as having no holiday (real ones refuse them: test_outside_calendar_year_is_refused)."""
ANY_YEAR = WorkCalendar(holidays=CAL.holidays, workdays=CAL.workdays, id=CAL.id, years=EVERY_YEAR)


@given(start=days_2025_2027, n=st.integers(min_value=0, max_value=300))
def test_add_then_count_is_identity(start: date, n: int) -> None:
    result = ANY_YEAR.add_working_days(start, n)
    assert ANY_YEAR.working_days_between(start, result) == n
    if n >= 1:
        assert ANY_YEAR.is_working_day(result)
        # The first such day: one day earlier there are only n - 1.
        assert ANY_YEAR.working_days_between(start, result - timedelta(days=1)) == n - 1
    else:
        assert result == start


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    weekend = draw(st.sets(st.sampled_from(clock.WEEKDAYS), max_size=6))
    special = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 3, 31))
    holidays = draw(st.sets(special, max_size=25))
    workdays = draw(st.sets(special, max_size=10)) - holidays
    return WorkCalendar(
        weekend=sorted(weekend), holidays=holidays, workdays=workdays, years=EVERY_YEAR
    )


@given(cal=calendars(), a=days_2025_2027, b=days_2025_2027)
def test_counting_matches_brute_force(cal: WorkCalendar, a: date, b: date) -> None:
    lo, hi = min(a, b), max(a, b)
    brute = sum(1 for i in range(1, (hi - lo).days + 1) if cal.is_working_day(lo + timedelta(i)))
    assert cal.working_days_between(lo, hi) == brute
    assert cal.working_days_between(hi, lo) == -brute


@given(cal=calendars(), start=days_2025_2027, n=st.integers(min_value=1, max_value=60))
def test_add_on_any_calendar(cal: WorkCalendar, start: date, n: int) -> None:
    result = cal.add_working_days(start, n)
    assert cal.is_working_day(result)
    assert cal.working_days_between(start, result) == n


@given(
    start=days_2025_2027,
    limit=st.integers(min_value=0, max_value=40),
    pause=st.integers(min_value=0, max_value=40),
)
def test_pause_moves_deadline_by_its_working_days(start: date, limit: int, pause: int) -> None:
    plain = compute_deadline(limit, "working_day", start, 0, ANY_YEAR)
    extended = compute_deadline(limit, "working_day", start, pause, ANY_YEAR)
    assert ANY_YEAR.working_days_between(plain, extended) == pause
    calendar_days = compute_deadline(limit, "calendar_day", start, pause, ANY_YEAR)
    unpaused = compute_deadline(limit, "calendar_day", start, 0, ANY_YEAR)
    assert calendar_days >= start + timedelta(days=limit + pause)
    assert calendar_days >= unpaused + timedelta(days=pause)  # a pause moves it by its length
    if limit + pause:  # and it ends on a working day
        assert ANY_YEAR.is_working_day(calendar_days)


def test_the_due_soon_window_holds_every_warning_span() -> None:
    """runtime/routes/staff.py narrows due-soon candidates in SQL by calendar days."""
    from types import SimpleNamespace

    from runtime.routes.staff import _due_soon_window

    for warn_before in (0, 1, 5, 20, 45, 120):
        workflow = SimpleNamespace(warn_before=warn_before)
        window = _due_soon_window(SimpleNamespace(workflows={"w": workflow}))
        day = d("2026-01-01")
        while day.year == 2026:
            furthest = ANY_YEAR.add_working_days(day, warn_before)  # the latest deadline due soon
            assert furthest - day <= window, (warn_before, day)
            day += timedelta(days=1)
