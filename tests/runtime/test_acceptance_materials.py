"""受理 needs the required materials (services.md §1), and staff see what is missing.

Required: ``necessity: required`` (not optional, not deferrable), not
``source: government``, and ``when`` holding on the case's data.
"""

from __future__ import annotations

import pytest

from tests.helpers import ID_AGENT, PDF, Api, file_food, hand_in

pytestmark = pytest.mark.anyio
NAMES = {
    "food_license_application": "食品经营许可申请书",
    "id_proof": "法定代表人（负责人）身份证明",
    "layout_and_process": "主要设备设施布局、操作流程等文件",
    "food_safety_rules": (
        "食品安全自查、从业人员健康管理、进货查验记录、食品安全事故处置等保证食品安全的规章制度"
    ),
    "authorization": "委托书及代理人身份证明",
}


def _missing(body: dict[str, object]) -> list[str]:
    error = body["error"]
    assert isinstance(error, dict)
    fields = error["fields"]
    assert isinstance(fields, list)
    return [f["path"].removeprefix("materials.") for f in fields]


async def test_accept_without_the_required_materials_is_refused(api: Api) -> None:
    applicant = api.token("applicant", "citizen-m")
    officer = api.token("officer", "officer-m")
    app_id = await file_food(
        api, "citizen-m", agent_used=True, agent_name="王五", agent_id_number=ID_AGENT
    )
    accept = f"/api/applications/{app_id}/actions/accept"

    r = await api.post(accept, headers=officer)
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["error"]["code"] == "materials_missing"
    # the government-shared business licence is never asked of the applicant; the agent's
    # authorization is, because agent_used holds
    assert _missing(body) == list(NAMES)
    assert [f["message"] for f in body["error"]["fields"]] == list(NAMES.values())
    assert "食品经营许可申请书" in body["error"]["message"]
    english = await api.post(accept, headers={**officer, "Accept-Language": "en"})
    assert "Food business licence application" in english.json()["error"]["message"]

    # nothing happened: still submitted, no step recorded
    staff_view = (await api.get(f"/api/applications/{app_id}", headers=officer)).json()
    assert staff_view["status"] == "submitted"
    assert [t["transition"] for t in staff_view["transitions"]] == ["submit"]
    # the staff view lists the materials by name with what is missing
    checklist = {m["material"]: m for m in staff_view["checklist"]}
    assert checklist["business_license"]["source"] == "government"
    assert not checklist["business_license"]["required"]
    assert not checklist["business_license"]["missing"]
    assert {k for k, m in checklist.items() if m["missing"]} == set(NAMES)
    assert {k: checklist[k]["name"] for k in NAMES} == NAMES

    # one uploaded: no longer missing, named among the files
    url = f"/api/applications/{app_id}/materials/food_license_application"
    r = await api.put(url, files={"file": ("申请书.pdf", PDF)}, headers=applicant)
    assert r.status_code == 201, r.text
    r = await api.post(accept, headers=officer)
    assert r.status_code == 409
    assert _missing(r.json()) == list(NAMES)[1:]
    staff_view = (await api.get(f"/api/applications/{app_id}", headers=officer)).json()
    assert staff_view["materials"][0]["name"] == NAMES["food_license_application"]
    assert not {m["material"]: m for m in staff_view["checklist"]}["food_license_application"][
        "missing"
    ]

    await hand_in(api, app_id, applicant)
    r = await api.post(accept, headers=officer)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"


async def test_conditions_decide_which_materials_are_required(api: Api) -> None:
    applicant = api.token("applicant", "citizen-n")
    officer = api.token("officer", "officer-n")
    app_id = await file_food(api, "citizen-n")  # no agent: no authorization needed
    r = await api.post(f"/api/applications/{app_id}/actions/accept", headers=officer)
    assert r.status_code == 409
    assert "authorization" not in _missing(r.json())
    assert await hand_in(api, app_id, applicant) == [k for k in NAMES if k != "authorization"]
    r = await api.post(f"/api/applications/{app_id}/actions/accept", headers=officer)
    assert r.status_code == 200, r.text


async def test_refusing_or_asking_for_a_supplement_needs_no_materials(api: Api) -> None:
    """不予受理 and 补正告知 are what an officer does when materials are missing."""
    officer = api.token("officer", "officer-o")
    first = await file_food(api, "citizen-o")
    r = await api.post(
        f"/api/applications/{first}/actions/request_supplement",
        json={"reason": "请补充设备布局图"},
        headers=officer,
    )
    assert r.status_code == 200, r.text
    second = await file_food(api, "citizen-o")
    r = await api.post(
        f"/api/applications/{second}/actions/refuse",
        json={"reason": "不属于本机关职权范围"},
        headers=officer,
    )
    assert r.status_code == 200, r.text
