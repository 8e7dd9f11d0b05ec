"""Who sees and does what: applicants, regions, roles, four eyes, tokens, strict bodies."""

from __future__ import annotations

import pytest

from tests.helpers import Api, FrozenClock, file_unemployment, hand_in, ibr_data, unemployment_data

pytestmark = pytest.mark.anyio
URL = "/api/matters/unemployment_registration/applications"


async def test_other_applicant_gets_404(api: Api) -> None:
    app_id = await file_unemployment(api, "citizen-a")
    other = api.token("applicant", "citizen-b")
    assert (await api.get(f"/api/applications/{app_id}", headers=other)).status_code == 404
    r = await api.post(f"/api/applications/{app_id}/actions/withdraw", headers=other)
    assert r.status_code == 404
    r = await api.post(f"/api/applications/{app_id}/evaluation", json={"score": 5}, headers=other)
    assert r.status_code == 404
    assert (await api.get("/api/applications", headers=other)).json()["total"] == 0
    missing = await api.get("/api/applications/nope", headers=other)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "unknown_application"


async def test_roles_and_wrong_state(api: Api, clock: FrozenClock) -> None:
    app_id = await file_unemployment(api)
    act = f"/api/applications/{app_id}/actions"
    applicant = api.token("applicant", "citizen-a")
    assert (await api.post(f"{act}/accept", headers=applicant)).status_code == 403
    assert (await api.post(f"{act}/accept", headers=api.token("supervisor"))).status_code == 403
    assert (await api.post(f"{act}/complete", headers=api.token("officer"))).status_code == 409
    staff_submit = await api.post(
        URL, json={"region": "nanshan", "data": unemployment_data()}, headers=api.token("officer")
    )
    assert staff_submit.status_code == 403
    staff_list = await api.get("/api/staff/applications", headers=applicant)
    assert staff_list.status_code == 403


@pytest.mark.parametrize(
    "extra",
    [
        {"status": "approved"},
        {"applicant": "someone-else"},
        {"number": "440305-20260101-000001"},
        {"region_code": "440305"},
    ],
)
async def test_extra_top_level_keys_refused(api: Api, extra: dict[str, str]) -> None:
    applicant = api.token("applicant", "citizen-x")
    body = {"region": "nanshan", "data": unemployment_data(), **extra}
    r = await api.post(URL, json=body, headers=applicant)
    assert r.status_code == 422
    assert [f["path"] for f in r.json()["error"]["fields"]] == list(extra)
    assert (await api.get("/api/applications", headers=applicant)).json()["total"] == 0


async def test_region_must_offer_the_matter(api: Api) -> None:
    applicant = api.token("applicant")
    for region in ("hangzhou", "", None, 7):
        r = await api.post(
            URL, json={"region": region, "data": unemployment_data()}, headers=applicant
        )
        assert r.status_code == 422, region
        assert r.json()["error"]["fields"][0]["path"] == "region"
    r = await api.post(
        "/api/matters/id_card_renewal/applications",
        json={"region": "nanshan", "data": {}},
        headers=applicant,
    )
    assert r.status_code == 404


async def test_action_body_is_strict(api: Api) -> None:
    app_id = await file_unemployment(api)
    r = await api.post(
        f"/api/applications/{app_id}/actions/accept",
        json={"status": "completed"},
        headers=api.token("officer"),
    )
    assert r.status_code == 422
    r = await api.post(
        f"/api/applications/{app_id}/actions/accept",
        json={"data": {"mobile_phone": "13900000000"}},
        headers=api.token("officer"),
    )
    assert r.status_code == 422
    r = await api.get(f"/api/applications/{app_id}", headers=api.token("applicant", "citizen-a"))
    assert r.json()["status"] == "submitted"


async def test_supervisor_reads_subtree_only(api: Api) -> None:
    app_id = await file_unemployment(api)
    sup = api.token("supervisor", "sup", region="nanshan")
    assert (await api.get(f"/api/applications/{app_id}", headers=sup)).status_code == 200
    sz = api.token("supervisor", "sup-sz", region="shenzhen")  # not served by this package
    assert (await api.get(f"/api/applications/{app_id}", headers=sz)).status_code == 404


async def test_ibr_instant_matter(api: Api, clock: FrozenClock) -> None:
    clock.set("2026-03-06T09:00:00")
    applicant = api.token("applicant", "citizen-i", name="张三", id_number="440305199003070014")
    data = ibr_data()
    del data["person_name"], data["citizen_id_number"]  # prefilled from the identity
    r = await api.post(
        "/api/matters/ibr/applications", json={"region": "nanshan", "data": data}, headers=applicant
    )
    assert r.status_code == 201, r.text
    app_id = r.json()["id"]
    mine = (await api.get(f"/api/applications/{app_id}", headers=applicant)).json()
    assert mine["data"]["citizen_id_number"] == "440305199003070014"
    assert mine["data"]["person_name"] == "张三"
    await hand_in(api, app_id, applicant)
    r = await api.post(f"/api/applications/{app_id}/actions/accept", headers=api.token("officer"))
    assert r.json()["deadline"] == "2026-03-06"  # 即办: the day of acceptance
