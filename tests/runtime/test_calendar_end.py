"""A deadline past the region's calendar is unknown, never a wrong date (nothing lost).

The bundled calendar lists 2026 only. A case accepted on Wed 2026-12-30 with a limit
of working days runs into 2027, whose holidays the package does not know: it used to
get Fri 2027-01-01 (New Year's Day) or another plain weekday. Now the application is
filed and accepted as usual, its deadline is ``null`` with ``deadline_unknown: true``
and a warning is logged for the supervisors; a case whose deadline falls inside the
calendar keeps its date.
"""

from __future__ import annotations

import logging

import pytest

from tests.helpers import Api, FrozenClock, hand_in, unemployment_data

pytestmark = pytest.mark.anyio


async def _accepted_on(api: Api, clock: FrozenClock, local: str) -> dict[str, object]:
    applicant = api.token("applicant", "applicant-1")
    clock.set(local)
    body = {"region": "nanshan", "data": unemployment_data()}
    r = await api.post(
        "/api/matters/unemployment_registration/applications", json=body, headers=applicant
    )
    assert r.status_code == 201, r.text
    app_id = r.json()["id"]
    await hand_in(api, app_id, applicant)
    r = await api.post(
        f"/api/applications/{app_id}/actions/accept", headers=api.token("officer", "officer-1")
    )
    assert r.status_code == 200, r.text
    r = await api.get(f"/api/applications/{app_id}", headers=applicant)
    assert r.status_code == 200, r.text
    found: dict[str, object] = r.json()
    return found


async def test_a_deadline_past_the_calendar_is_unknown(
    api: Api, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="govstd.runtime"):
        late = await _accepted_on(api, clock, "2026-12-30T10:00:00")
    assert late["status"] == "accepted"
    assert late["deadline"] is None
    assert late["deadline_unknown"] is True
    assert late["overdue"] is False
    assert any("deadline_unknown" in m for m in caplog.messages)
    staff = await api.get("/api/staff/applications", headers=api.token("officer", "officer-1"))
    assert staff.status_code == 200, staff.text
    [item] = [i for i in staff.json()["items"] if i["id"] == late["id"]]
    assert item["deadline"] is None and item["deadline_unknown"] is True


async def test_a_deadline_inside_the_calendar_keeps_its_date(api: Api, clock: FrozenClock) -> None:
    found = await _accepted_on(api, clock, "2026-12-01T10:00:00")
    assert found["deadline"] is not None
    assert found["deadline_unknown"] is False
