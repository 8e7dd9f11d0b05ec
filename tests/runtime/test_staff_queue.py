"""The workbench's queue functions on both databases: stages, the deadline order, counts,
and the statistics' counts by matter, stage and score (runtime/routes/staff.py)."""

from __future__ import annotations

from typing import Any

import pytest

from runtime.auth import Identity
from runtime.routes import staff
from tests.helpers import FOOD_FILES, IBR_FILES, Api, FrozenClock, food_data, ibr_data

pytestmark = pytest.mark.anyio

OFFICER = Identity(sub="officer-q", role="officer", region="nanshan")
SUPERVISOR = Identity(sub="sup-q", role="supervisor", region="nanshan")


async def _step(api: Api, app_id: str, step: str, role: str = "officer", **body: Any) -> None:
    r = await api.post(
        f"/api/applications/{app_id}/actions/{step}", json=body, headers=api.token(role)
    )
    assert r.status_code == 200, r.text


def _query(**values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"status": None, "matter": None, "region": None}
    return {**base, "overdue": False, "due_soon": False, "sort": "deadline", **values}


async def test_stages_order_and_counts(api: Api, clock: FrozenClock) -> None:
    early = await api.file("food_business_license", food_data(), "citizen-q", files=FOOD_FILES)
    await _step(api, early, "accept")  # Mon 03-02: due Thu 03-05
    waiting = await api.file("ibr", ibr_data(), "citizen-q")
    clock.set("2026-03-04T10:00")
    late = await api.file("food_business_license", food_data(), "citizen-q", files=FOOD_FILES)
    await _step(api, late, "accept")  # Wed 03-04: due Mon 03-09
    closed = await api.file("ibr", ibr_data(), "citizen-q", files=IBR_FILES)
    await _step(api, closed, "refuse", reason="不属于本机关职权范围")
    clock.set("2026-03-06T10:00")
    c = api.client._transport.app.state.ctx  # type: ignore[attr-defined]

    def ids(**query: Any) -> list[str]:
        listing = staff._list(c, OFFICER, _query(**query), 1, 20, "zh", "test")
        return [item["id"] for item in listing["items"]]

    assert ids(stage="open") == [early, late, waiting]  # by deadline; none yet: last
    assert ids(stage="pending") == [waiting]
    assert ids(stage="in_progress") == [early, late]
    assert ids(stage="finished") == [closed]
    assert ids(overdue=True) == [early]
    assert ids(due_soon=True) == [late]
    assert ids(stage="open", matter="ibr") == [waiting]
    counts = staff.queue_counts(c, OFFICER, _query())
    assert counts == {
        "open": 3,
        "pending": 1,
        "in_progress": 2,
        "finished": 1,
        "overdue": 1,
        "due_soon": 1,
    }
    assert staff.queue_counts(c, OFFICER, _query(matter="ibr"))["open"] == 1

    stats = staff._stats(c, SUPERVISOR, None, "test")
    assert stats["by_matter"] == {"food_business_license": 2, "ibr": 2}
    assert stats["by_region"] == {"nanshan": 4}
    assert stats["by_stage"] == {"open": 3, "pending": 1, "in_progress": 2, "finished": 1}
    assert (stats["overdue"], stats["due_soon"]) == (1, 1)
    assert stats["by_score"] == {}
