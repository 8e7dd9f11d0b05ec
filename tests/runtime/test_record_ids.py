"""Ids of new records are UUIDv7 (runtime/record_ids.py): valid, unique, in time order."""

from __future__ import annotations

import time
import uuid

import pytest

from runtime.record_ids import new_id
from tests.helpers import Api, ibr_data

pytestmark = pytest.mark.anyio


def _ms(value: str) -> int:
    return int(uuid.UUID(value).hex[:12], 16)


def test_a_new_id_is_a_uuid7_of_the_current_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    value = new_id()
    after = time.time_ns() // 1_000_000
    parsed = uuid.UUID(value)
    assert str(parsed) == value  # canonical lower-case text
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert before <= _ms(value) <= after


def test_ids_are_unique_and_sort_in_the_order_they_were_taken() -> None:
    ids = [new_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    spaced = []
    for _ in range(5):
        spaced.append(new_id())
        time.sleep(0.002)
    assert spaced == sorted(spaced)  # different milliseconds: text order is time order


async def test_filed_applications_get_time_ordered_ids(api: Api) -> None:
    token = api.token("applicant", "ids-applicant")
    before = time.time_ns() // 1_000_000
    filed = []
    for _ in range(3):
        r = await api.post(
            "/api/matters/ibr/applications",
            json={"region": "nanshan", "data": ibr_data()},
            headers=token,
        )
        assert r.status_code == 201, r.text
        filed.append(r.json())
        time.sleep(0.002)
    ids = [f["id"] for f in filed]
    assert [uuid.UUID(i).version for i in ids] == [7, 7, 7]
    assert ids == sorted(ids)
    assert before <= _ms(ids[0]) and _ms(ids[-1]) <= time.time_ns() // 1_000_000
