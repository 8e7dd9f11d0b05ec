"""The whole life of an application under each bundled workflow."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.helpers import ID_A, Api, FrozenClock, food_data, hand_in, unemployment_data

pytestmark = pytest.mark.anyio


def violations(document: dict[str, Any], schema: str, answer: Any) -> list[str]:
    """How ``answer`` differs from ``components.schemas[schema]`` of the OpenAPI document."""
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:api", resource)
    validator = Draft202012Validator(
        {"$ref": f"urn:api#/components/schemas/{schema}"}, registry=registry
    )
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(answer)]


async def test_licensing_lifecycle(api: Api, clock: FrozenClock) -> None:
    applicant = api.token("applicant", "citizen-a", name="李四")
    officer = api.token("officer", "officer-1")
    approver_same = api.token("approver", "officer-1")
    approver = api.token("approver", "approver-2")
    url = "/api/matters/food_business_license/applications"

    clock.set("2026-02-12T09:00:00")  # Thursday before the Spring Festival
    empty = await api.post(url, json={"region": "nanshan", "data": {}}, headers=applicant)
    assert empty.status_code == 422  # everything is missing
    bad = await api.post(
        url,
        json={"region": "nanshan", "data": food_data(citizen_id_number="440305199003070015")},
        headers=applicant,
    )
    assert bad.status_code == 422, bad.text
    assert [f["path"] for f in bad.json()["error"]["fields"]] == ["citizen_id_number"]
    assert bad.json()["error"]["fields"][0]["code"].startswith("gb11643")

    created = await api.post(
        url, json={"region": "nanshan", "data": food_data()}, headers=applicant
    )
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["number"] == "440305-20260212-000001"
    assert app["status"] == "submitted"
    assert app["deadline"] is None
    assert app["standards_version"] == "2026.1"
    app_id = app["id"]
    act = f"/api/applications/{app_id}/actions"

    no_reason = await api.post(f"{act}/request_supplement", json={}, headers=officer)
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["fields"][0]["path"] == "reason"
    r = await api.post(
        f"{act}/request_supplement", json={"reason": "经营面积有误"}, headers=officer
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "supplement"

    wrong_role = await api.post(f"{act}/resubmit", json={}, headers=officer)
    assert wrong_role.status_code == 403
    r = await api.post(f"{act}/resubmit", json={"data": {"operating_area": 0}}, headers=applicant)
    assert r.status_code == 422  # corrected data is validated again (rule operating_area > 0)
    r = await api.post(
        f"{act}/resubmit", json={"data": {"operating_area": 95.5}}, headers=applicant
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "submitted"

    clock.set("2026-02-12T10:00:00")
    await hand_in(api, app_id, applicant)
    r = await api.post(f"{act}/accept", headers=officer)
    assert r.status_code == 200, r.text
    # 3 working days after Thu 02-12: Fri 02-13, Sat 02-14 (make-up day), then the
    # holiday 02-15..02-23, so Tue 02-24.
    assert r.json()["deadline"] == "2026-02-24"
    again = await api.post(f"{act}/accept", headers=officer)
    assert again.status_code == 409

    clock.set("2026-02-13T15:00:00")
    r = await api.post(f"{act}/start_special", json={"reason": "现场核查"}, headers=officer)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "special"

    clock.set("2026-02-26T09:00:00")  # past the old deadline, but paused: not overdue
    listed = await api.get("/api/staff/applications?overdue=true", headers=officer)
    assert listed.status_code == 200
    assert listed.json()["total"] == 0

    clock.set("2026-02-25T16:00:00")
    r = await api.post(f"{act}/end_special", headers=officer)
    assert r.status_code == 200, r.text
    # paused after 02-13 up to 02-25: 02-14 (make-up day), 02-24, 02-25 = 3 working days
    assert r.json()["paused_days"] == 3
    assert r.json()["deadline"] == "2026-02-27"

    four_eyes = await api.post(f"{act}/approve", headers=approver_same)
    assert four_eyes.status_code == 403
    assert four_eyes.json()["error"]["code"] == "four_eyes"
    english = await api.post(f"{act}/approve", headers={**approver_same, "Accept-Language": "en"})
    assert "four eyes" in english.json()["error"]["message"]
    officer_approves = await api.post(f"{act}/approve", headers=officer)
    assert officer_approves.status_code == 403
    clock.set("2026-02-26T11:00:00")
    r = await api.post(f"{act}/approve", headers=approver)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved"
    assert r.json()["final"] is True
    assert r.json()["finished_at"] is not None

    mine = await api.get(f"/api/applications/{app_id}", headers=applicant)
    body = mine.json()
    assert body["data"]["citizen_id_number"] == ID_A
    assert body["data"]["operating_area"] == 95.5
    assert [t["transition"] for t in body["transitions"]] == [
        "submit",
        "request_supplement",
        "resubmit",
        "accept",
        "start_special",
        "end_special",
        "approve",
    ]
    assert body["transitions"][1]["reason"] == "经营面积有误"

    ev = await api.post(
        f"/api/applications/{app_id}/evaluation",
        json={"score": 5, "comment": "很快"},
        headers=applicant,
    )
    assert ev.status_code == 201, ev.text
    twice = await api.post(
        f"/api/applications/{app_id}/evaluation", json={"score": 4}, headers=applicant
    )
    assert twice.status_code == 409

    stats = await api.get("/api/staff/stats", headers=api.token("supervisor", "sup-1"))
    assert stats.status_code == 200, stats.text
    s = stats.json()
    assert s["by_status"] == {"approved": 1}
    assert s["satisfaction"] == {"average": 5.0, "count": 1}
    assert s["finished"] == 1
    assert s["average_handling_days"] == pytest.approx(14.08, abs=0.01)
    # every key the API answers is one its OpenAPI document describes
    doc = (await api.get("/openapi.json")).json()
    described = doc["components"]["schemas"]["Stats"]["properties"]
    assert set(s) <= set(described), sorted(set(s) - set(described))
    # the application answers are exactly as documented (runtime/answers.py): filed, a
    # step's answer, a page, and the case in full, to its applicant and to staff (masked,
    # with the actors), with steps, materials, an evaluation and the checklist
    assert not violations(doc, "Filed", app)
    assert not violations(doc, "ApplicationSummary", r.json())
    for viewer in (applicant, officer):
        full = (await api.get(f"/api/applications/{app_id}", headers=viewer)).json()
        assert full["evaluation"]["score"] == 5 and full["materials"] and full["checklist"]
        assert not violations(doc, "Application", full), violations(doc, "Application", full)
    staff_view = (await api.get(f"/api/applications/{app_id}", headers=officer)).json()
    assert "applicant" in staff_view and "actor" in staff_view["transitions"][-1]
    page = (await api.get("/api/staff/applications", headers=officer)).json()
    assert page["total"] == 1 and not violations(doc, "ApplicationPage", page)
    assert violations(doc, "Application", {**staff_view, "extra": 1})  # closed shapes


async def test_public_service_lifecycle(api: Api, clock: FrozenClock) -> None:
    applicant = api.token("applicant", "citizen-b")
    officer = api.token("officer", "officer-1")
    url = "/api/matters/unemployment_registration/applications"
    clock.set("2026-03-02T09:00:00")  # Monday
    created = await api.post(
        url, json={"region": "nanshan", "data": unemployment_data()}, headers=applicant
    )
    assert created.status_code == 201, created.text
    app_id = created.json()["id"]
    act = f"/api/applications/{app_id}/actions"

    early_eval = await api.post(
        f"/api/applications/{app_id}/evaluation", json={"score": 3}, headers=applicant
    )
    assert early_eval.status_code == 409

    await hand_in(api, app_id, applicant)
    r = await api.post(f"{act}/accept", headers=officer)
    assert r.status_code == 200, r.text
    assert r.json()["deadline"] == "2026-03-05"

    clock.set("2026-03-04T09:00:00")
    soon = await api.get("/api/staff/applications?due_soon=true", headers=officer)
    assert [i["id"] for i in soon.json()["items"]] == [app_id]

    clock.set("2026-03-06T09:00:00")
    overdue = await api.get("/api/staff/applications?overdue=true", headers=officer)
    assert [i["id"] for i in overdue.json()["items"]] == [app_id]
    assert overdue.json()["items"][0]["overdue"] is True
    stats = await api.get("/api/staff/stats", headers=officer)
    assert stats.json()["overdue"] == 1

    r = await api.post(f"{act}/complete", headers=officer)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed"
    assert r.json()["overdue"] is False
    ev = await api.post(
        f"/api/applications/{app_id}/evaluation", json={"score": 2}, headers=applicant
    )
    assert ev.status_code == 201
    bad = await api.post(
        f"/api/applications/{app_id}/evaluation", json={"score": 6}, headers=applicant
    )
    assert bad.status_code == 422


async def test_withdraw_and_numbers(api: Api, clock: FrozenClock) -> None:
    applicant = api.token("applicant", "citizen-c")
    url = "/api/matters/unemployment_registration/applications"
    clock.set("2026-03-03T09:00:00")
    numbers = []
    for _ in range(3):
        r = await api.post(
            url, json={"region": "nanshan", "data": unemployment_data()}, headers=applicant
        )
        assert r.status_code == 201, r.text
        numbers.append(r.json()["number"])
    assert numbers == [f"440305-20260303-00000{i}" for i in (1, 2, 3)]
    first = (await api.get("/api/applications", headers=applicant)).json()
    assert first["total"] == 3
    app_id = first["items"][0]["id"]
    r = await api.post(f"/api/applications/{app_id}/actions/withdraw", headers=applicant)
    assert r.status_code == 200
    assert r.json()["status"] == "withdrawn"
    r = await api.post(f"/api/applications/{app_id}/actions/no_such_step", headers=applicant)
    assert r.status_code == 404
