"""Policies (services.md §4): in force by region and China date, conditions in words,
matching with undecided parts, stored profiles, delivery once, notifications, claims,
access and statistics."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.helpers import ID_A, Api, FrozenClock, claim_data, execute, profile_data, query

pytestmark = pytest.mark.anyio
POLICY = "startup_subsidy_2026"


async def _ids(api: Api, region: str) -> list[str]:
    r = await api.get(f"/api/policies?region={region}")
    assert r.status_code == 200, r.text
    return [p["id"] for p in r.json()["items"]]


async def _store(api: Api, sub: str, data: dict[str, Any], region: str = "nanshan") -> Any:
    return await api.put(
        "/api/profile",
        json={"form": "enterprise_profile", "region": region, "data": data},
        headers=api.token("applicant", sub),
    )


async def test_in_force_by_region_and_china_date(shenzhen_api: Api, clock: FrozenClock) -> None:
    api = shenzhen_api
    clock.set("2026-03-01T23:59")  # the expired policy's last day; not yet the later one's
    # issued by 广东, which this package (深圳 and below) does not serve: above it, so in force
    assert await _ids(api, "nanshan") == ["expired_2026", POLICY]
    clock.set("2026-03-02T10:00")
    assert await _ids(api, "nanshan") == [POLICY]  # issued by 深圳: in force below it
    assert await _ids(api, "shenzhen") == [POLICY]
    clock.set("2026-03-03T00:30")  # 16:30 UTC on the 2nd: already the 3rd in China
    assert sorted(await _ids(api, "nanshan")) == ["later_2026", POLICY]
    r = await api.get("/api/policies?region=atlantis")
    assert r.status_code == 422


async def test_detail_conditions_in_words(api: Api) -> None:
    r = await api.get(f"/api/policies/{POLICY}")
    assert r.status_code == 200
    body = r.json()
    assert body["issuer"] == "南山区人力资源局" and body["apply"] == "startup_subsidy"
    assert [c["expression"] for c in body["conditions"]] == [
        "employees >= 3",
        "established_days <= 1095",
    ]
    assert [c["words"] for c in body["conditions"]] == ["从业人数 ≥ 3", "成立天数 ≤ 1095"]
    en = (await api.get(f"/api/policies/{POLICY}", headers={"Accept-Language": "en"})).json()
    assert en["conditions"][0]["words"] == "Number of employees ≥ 3"
    assert (await api.get("/api/policies/nothing")).status_code == 404


async def test_match_explains_and_leaves_unanswered_undecided(api: Api) -> None:
    async def match(profile: dict[str, Any]) -> Any:
        r = await api.post("/api/policies/match", json={"region": "nanshan", "profile": profile})
        assert r.status_code == 200, r.text
        return r.json()["items"][0]

    fits = await match(profile_data())
    assert fits["eligible"] is True
    assert [c["held"] for c in fits["conditions"]] == [True, True]
    half = await match({"employees": 5})
    assert half["eligible"] is None
    assert [c["held"] for c in half["conditions"]] == [True, None]  # unanswered: never "no"
    no = await match({"employees": 1})
    assert no["eligible"] is False and [c["held"] for c in no["conditions"]] == [False, None]
    r = await api.post(
        "/api/policies/match",
        json={"region": "nanshan", "profile": {"employees": "many", "bogus": 1}},
    )
    assert r.status_code == 422
    paths = {f["path"] for f in r.json()["error"]["fields"]}
    assert paths == {"profile.employees", "profile.bogus"}


async def test_profile_validated_and_sensitive_values_sealed(
    shenzhen_api: Api, tmp_path: Path
) -> None:
    api = shenzhen_api
    r = await _store(api, "shop-a", profile_data(employees=-1))
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["path"] == "data.employees"
    secret = "法人代表甲"
    r = await _store(api, "shop-a", profile_data(legal_representative_name=secret))
    assert r.status_code == 200, r.text
    got = await api.get("/api/profile", headers=api.token("applicant", "shop-a"))
    assert got.json()["data"]["legal_representative_name"] == secret
    assert got.json()["data"]["employees"] == 5
    [(stored,)] = query(
        f"sqlite:///{tmp_path / 'sz.db'}", select(api.package.tables.profiles.c.data)
    )
    assert secret not in stored and "南山小馆" in stored
    other = await api.get("/api/profile", headers=api.token("applicant", "shop-b"))
    assert other.status_code == 404
    assert (await api.get("/api/profile", headers=api.token("officer"))).status_code == 403
    r = await api.put(
        "/api/profile",
        json={"form": "ibr_form", "region": "nanshan", "data": {}},
        headers=api.token("applicant", "shop-a"),
    )
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["path"] == "form"
    # the stored profile answers the match of a signed-in applicant
    r = await api.post(
        "/api/policies/match",
        json={"region": "nanshan"},
        headers=api.token("applicant", "shop-a"),
    )
    assert r.json()["items"][0]["eligible"] is True


async def test_delivery_notifies_each_eligible_profile_once(api: Api) -> None:
    assert (await _store(api, "fits-1", profile_data())).status_code == 200
    assert (await _store(api, "fits-2", profile_data(employees=9))).status_code == 200
    assert (await _store(api, "small", profile_data(employees=1))).status_code == 200
    assert (await _store(api, "unsure", {"employees": 4})).status_code == 200
    url = f"/api/staff/policies/{POLICY}/deliver"
    officer = api.token("officer", "officer-1")
    first, second = await asyncio.gather(
        api.post(url, headers=officer), api.post(url, headers=officer)
    )
    counts = [first.json(), second.json()]
    assert all(c["profiles"] == 4 and c["eligible"] == 2 for c in counts)
    assert sorted(c["notified"] for c in counts) == [0, 2]  # twice at once: notified once
    again = (await api.post(url, headers=officer)).json()
    assert again["notified"] == 0 and again["eligible"] == 2
    h = api.token("applicant", "fits-1")
    notes = (await api.get("/api/notifications", headers=h)).json()
    assert [n["policy"] for n in notes["items"]] == [POLICY] and notes["unread"] == 1
    note_id = notes["items"][0]["id"]
    r = await api.post(f"/api/notifications/{note_id}/read", headers=h)
    assert r.status_code == 200 and r.json()["read"] is True
    assert (await api.get("/api/notifications", headers=h)).json()["unread"] == 0
    stranger = api.token("applicant", "small")
    assert (await api.get("/api/notifications", headers=stranger)).json()["items"] == []
    r = await api.post(f"/api/notifications/{note_id}/read", headers=stranger)
    assert r.status_code == 404
    for bad in ("0", "²", "-1", "x"):  # not an id: 422 naming it, never a 500
        r = await api.post(f"/api/notifications/{bad}/read", headers=h)
        assert r.status_code == 422 and r.json()["error"]["fields"][0]["path"] == "notification"


async def test_only_staff_of_the_issuing_region_or_above_deliver(shenzhen_api: Api) -> None:
    api = shenzhen_api
    url = f"/api/staff/policies/{POLICY}/deliver"  # issued by 深圳
    assert (await api.post(url, headers=api.token("applicant", "a"))).status_code == 403
    below = api.token("officer", "ns-1", region="nanshan")
    assert (await api.post(url, headers=below)).status_code == 403
    issuer = api.token("supervisor", "sz-1", region="shenzhen")
    assert (await api.post(url, headers=issuer)).status_code == 200


async def _claim(api: Api, sub: str, **data: Any) -> Any:
    return await api.post(
        f"/api/policies/{POLICY}/claim",
        json={"region": "nanshan", "data": claim_data(**data)},
        headers={**api.token("applicant", sub, name="李四", id_number=ID_A)},
    )


async def test_claim_files_the_matter_prefilled_and_records_the_policy(api: Api) -> None:
    assert (await _claim(api, "nobody")).status_code == 409  # no profile: not eligible
    await _store(api, "small", profile_data(employees=1))
    r = await _claim(api, "small")
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_eligible"
    await _store(api, "shop-a", profile_data())
    r = await _claim(api, "shop-a")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["matter"] == "startup_subsidy" and body["policy"] == POLICY
    app = (
        await api.get(f"/api/applications/{body['id']}", headers=api.token("applicant", "shop-a"))
    ).json()
    assert app["data"]["enterprise_name"] == "南山小馆"  # from the stored profile
    assert app["data"]["employees"] == 5
    assert app["policy"] == POLICY
    again = await _claim(api, "shop-a")  # the first claim is still open
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_claimed"
    await _store(api, "shop-d", profile_data())
    both = await asyncio.gather(_claim(api, "shop-d"), _claim(api, "shop-d"))
    assert sorted(r.status_code for r in both) == [201, 409]  # at once: one claim
    await _store(api, "shop-c", profile_data())
    bad = await _claim(api, "shop-c", subsidy_amount=-5)
    assert bad.status_code == 422
    assert (
        await api.post(
            f"/api/policies/{POLICY}/claim",
            json={"region": "nanshan"},
            headers=api.token("officer"),
        )
    ).status_code == 403


async def test_stats(api: Api, db_url: str) -> None:
    await _store(api, "shop-a", profile_data())
    await _store(api, "shop-b", profile_data(employees=4))
    officer = api.token("officer", "officer-1")
    await api.post(f"/api/staff/policies/{POLICY}/deliver", headers=officer)
    ids = []
    for sub in ("shop-a", "shop-b"):
        r = await _claim(api, sub)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    # one claim granted (受理, 准予 by another person) and rated 5; the other withdrawn
    _mark_final(api, db_url, ids[0], "approved")
    _mark_final(api, db_url, ids[1], "withdrawn")
    r = await api.post(
        f"/api/applications/{ids[0]}/evaluation",
        json={"score": 5},
        headers=api.token("applicant", "shop-a"),
    )
    assert r.status_code == 201, r.text
    stats = (await api.get("/api/staff/policies/stats", headers=officer)).json()
    item = next(i for i in stats["items"] if i["policy"] == POLICY)
    assert item["matched"] == 2 and item["notified"] == 2
    assert item["claimed"] == 2 and item["granted"] == 1
    assert item["satisfaction"] == {"average": 5.0, "count": 1}
    assert (
        await api.get("/api/staff/policies/stats", headers=api.token("applicant"))
    ).status_code == 403


def _mark_final(api: Api, db_url: str, app_id: str, status: str) -> None:
    """Put a case in a final state directly (the workflow's own steps are tested elsewhere)."""
    apps = api.package.tables.applications
    changed = apps.update().where(apps.c.id == app_id)
    execute(db_url, changed.values(status=status, finished_at=api.settings.now()))
