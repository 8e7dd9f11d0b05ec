"""Governed data sharing (issue 15 item 2), from outside over HTTP, on SQLite and PostgreSQL.

The 深圳 package serves 深圳 and 南山; the resource asked for is 南山's food business
licence form: 市场主体名称 is shared unconditionally, the person's name and ID number
(sensitive) only with a 南山 data steward's approval.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.helpers import ID_A, Api, FrozenClock, file_food, rows

pytestmark = pytest.mark.anyio

URL = "/api/sharing/requests"
RESOURCE = "food_business_license_form"
PERSONAL = ["enterprise_name", "person_name", "citizen_id_number"]


def ask(items: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "resource": RESOURCE,
        "region": "nanshan",
        "items": items,
        "purpose": "核查食品经营主体的登记信息",
        "basis": "《政务信息资源共享管理暂行办法》第十条",
        **extra,
    }


def officer(api: Api) -> dict[str, str]:
    return api.token("officer", "sz-officer", region="shenzhen")


def steward(api: Api, sub: str = "ns-steward", region: str = "nanshan") -> dict[str, str]:
    return api.token("data_steward", sub, region=region)


async def _request(api: Api, items: list[str], who: dict[str, str], **extra: Any) -> Any:
    r = await api.post(URL, json=ask(items, **extra), headers=who)
    assert r.status_code == 201, r.text
    return r.json()


async def _cases(api: Api) -> list[str]:
    ids = [await file_food(api, "shop-a")]
    ids.append(await file_food(api, "shop-b", enterprise_name="二号店"))
    await file_food(api, "shop-c", region="shenzhen")  # another region's: never shared here
    return ids


async def test_unconditional_items_are_granted_at_once_and_every_read_audited(sz: Api) -> None:
    ids = await _cases(sz)
    made = await _request(sz, ["enterprise_name"], officer(sz))
    assert made["status"] == "approved" and made["granted"][0]["name"] == "市场主体名称"
    r = await sz.get(f"/api/sharing/data/{made['id']}", headers=officer(sz))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 2  # 南山's two, not 深圳's
    assert {a["application"]: a["data"] for a in body["applications"]} == {
        ids[0]: {"enterprise_name": "南山小馆"},
        ids[1]: {"enterprise_name": "二号店"},
    }
    (read,) = rows(sz, "audit_log", action="share_read")
    detail = json.loads(read.detail)
    assert detail["request"] == made["id"] and detail["purpose"] == ask([])["purpose"]
    assert sorted(detail["applications"]) == sorted(ids) and read.actor_sub == "sz-officer"
    assert "南山小馆" not in read.detail


async def test_conditional_items_wait_for_another_steward_of_the_provider_region(
    sz: Api,
) -> None:
    first_case = (await _cases(sz))[0]
    own = steward(sz, "ns-steward-1")  # a 南山 steward asking for 南山 data
    made = await _request(sz, PERSONAL, own)
    assert made["status"] == "pending"
    assert [g["element"] for g in made["granted"]] == ["enterprise_name"]
    early = (await sz.get(f"/api/sharing/data/{made['id']}", headers=own)).json()
    by_case = {a["application"]: a["data"] for a in early["applications"]}
    assert by_case[first_case] == {"enterprise_name": "南山小馆"}
    approve = f"{URL}/{made['id']}/actions/approve"
    refused = {
        "requester": (own, 403, "sharing_four_eyes"),
        # neither may even see the request
        "another region's steward": (steward(sz, "sz-steward", "shenzhen"), 404, None),
        "an officer of the region": (sz.token("officer", "ns-o", region="nanshan"), 404, None),
        "an applicant": (sz.token("applicant", "shop-a"), 403, None),
    }
    for who, (headers, status, code) in refused.items():
        r = await sz.post(approve, headers=headers)
        assert r.status_code == status, (who, r.text)
        if code:
            assert r.json()["error"]["code"] == code, who
    assert (await sz.get(f"{URL}/{made['id']}", headers=own)).json()["status"] == "pending"
    assert rows(sz, "audit_log", action="share_approve") == []
    r = await sz.post(approve, headers=steward(sz, "ns-steward-2"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["decided_by"] == "ns-steward-2"
    data = (await sz.get(f"/api/sharing/data/{made['id']}", headers=own)).json()
    first = data["applications"][0]["data"]
    assert set(first) == set(PERSONAL)
    assert first["citizen_id_number"] != ID_A and "*" in first["citizen_id_number"]
    assert first["person_name"] != "李四" and not data["unmasked"]


async def test_unmasked_values_only_when_asked_and_approved(sz: Api) -> None:
    await _cases(sz)
    made = await _request(sz, ["citizen_id_number"], officer(sz), unmasked=True)
    approve = f"{URL}/{made['id']}/actions/approve"
    for body in ({"expires": None}, {"reason": None}, {"expires": "2030-01-01"}):
        assert (await sz.post(approve, json=body, headers=steward(sz))).status_code == 422
    assert (await sz.post(approve, headers=steward(sz))).status_code == 200
    data = (await sz.get(f"/api/sharing/data/{made['id']}", headers=officer(sz))).json()
    assert data["unmasked"] is True
    assert data["applications"][0]["data"] == {"citizen_id_number": ID_A}


async def test_refusal_needs_a_reason_and_grants_nothing(sz: Api) -> None:
    await _cases(sz)
    made = await _request(sz, PERSONAL, officer(sz))
    refuse = f"{URL}/{made['id']}/actions/refuse"
    for body in ({}, {"reason": ""}, {"reason": "  "}, {"reason": "x" * 501}, {"reason": None}):
        r = await sz.post(refuse, json=body, headers=steward(sz))
        assert r.status_code == 422, (body, r.text)
    assert (await sz.get(f"{URL}/{made['id']}", headers=officer(sz))).json()["status"] == "pending"
    r = await sz.post(refuse, json={"reason": "用途与食品经营许可无关"}, headers=steward(sz))
    assert r.status_code == 200 and r.json()["reason"] == "用途与食品经营许可无关"
    assert r.json()["granted"] == []
    r = await sz.get(f"/api/sharing/data/{made['id']}", headers=officer(sz))
    assert r.status_code == 403 and r.json()["error"]["code"] == "sharing_not_granted"
    again = await sz.post(f"{URL}/{made['id']}/actions/approve", headers=steward(sz, "s2"))
    assert again.status_code == 409
    assert rows(sz, "audit_log", action="share_read") == []


async def test_expired_and_revoked_grants_are_refused(sz: Api, clock: FrozenClock) -> None:
    await _cases(sz)
    short = await _request(sz, ["enterprise_name"], officer(sz), expires="2026-03-03")
    long = await _request(sz, ["enterprise_name"], officer(sz))
    for bad in ("2026-03-01", "2027-03-04", "tomorrow", 20260303, None):
        r = await sz.post(URL, json=ask(["enterprise_name"], expires=bad), headers=officer(sz))
        assert r.status_code == 422, bad
    clock.set("2026-03-04T09:00")
    r = await sz.get(f"/api/sharing/data/{short['id']}", headers=officer(sz))
    assert r.status_code == 403
    assert (await sz.get(f"{URL}/{short['id']}", headers=officer(sz))).json()["status"] == "expired"
    revoke = f"{URL}/{long['id']}/actions/revoke"
    stranger = sz.token("officer", "someone-else", region="shenzhen")
    assert (await sz.post(revoke, json={"reason": "x"}, headers=stranger)).status_code == 404
    r = await sz.post(revoke, json={"reason": "核查已结束"}, headers=steward(sz))
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    r = await sz.get(f"/api/sharing/data/{long['id']}", headers=officer(sz))
    assert r.status_code == 403
    r = await sz.post(revoke, json={"reason": "again"}, headers=officer(sz))
    assert r.status_code == 409


async def test_only_the_requester_reads_and_others_do_not_learn_the_request_exists(
    sz: Api,
) -> None:
    await _cases(sz)
    made = await _request(sz, ["enterprise_name"], officer(sz))
    others = [
        sz.token("officer", "other", region="shenzhen"),
        sz.token("supervisor", "sup", region="shenzhen"),  # sees the request, reads no data
        steward(sz),
        sz.token("applicant", "shop-a"),
    ]
    for headers in others:
        r = await sz.get(f"/api/sharing/data/{made['id']}", headers=headers)
        assert r.status_code in (403, 404), r.text
    assert (await sz.get("/api/sharing/data/nope", headers=officer(sz))).status_code == 404
    assert (await sz.get(f"{URL}/{made['id']}", headers=others[0])).status_code == 404
    assert (await sz.get(f"{URL}/{made['id']}", headers=others[1])).status_code == 200
    listed = (await sz.get(URL, headers=steward(sz))).json()
    assert [i["id"] for i in listed["items"]] == [made["id"]]
    assert (await sz.get(URL, headers=steward(sz, "sz", "shenzhen"))).json()["total"] == 0
    assert rows(sz, "audit_log", action="share_read") == []


async def test_bad_requests_are_refused_and_change_nothing(sz: Api) -> None:
    cases: list[tuple[dict[str, Any], int, str]] = [
        (ask(["no_such_element"]), 422, "items[0]"),
        (ask(["unemployment_reason"]), 422, "items[0]"),  # another form's element
        (ask([]), 422, "items"),
        (ask(["enterprise_name"], purpose=""), 422, "purpose"),
        ({k: v for k, v in ask(["enterprise_name"]).items() if k != "basis"}, 422, "basis"),
        (ask(["enterprise_name"], unmasked="yes"), 422, "unmasked"),
        (ask(["enterprise_name"], region="beijing"), 422, "region"),
        (ask(["enterprise_name"], resource="no_such_form"), 422, "resource"),
        (ask(["enterprise_name"], colour="red"), 422, "colour"),
    ]
    for body, status, path in cases:
        r = await sz.post(URL, json=body, headers=officer(sz))
        assert r.status_code == status, (body, r.text)
        if path:
            assert path in [f["path"] for f in r.json()["error"]["fields"]], r.text
    r = await sz.post(URL, json=ask(["enterprise_name"]), headers=sz.token("applicant", "a"))
    assert r.status_code == 403
    assert rows(sz, "sharing_requests") == []
    bad_action = await sz.post(f"{URL}/x/actions/approve", headers=steward(sz))
    assert bad_action.status_code == 404


async def test_a_data_steward_sees_no_cases(sz: Api) -> None:
    app_id = (await _cases(sz))[0]
    r = await sz.get(f"/api/applications/{app_id}", headers=steward(sz))
    assert r.status_code == 404
    assert (await sz.get("/api/staff/applications", headers=steward(sz))).status_code == 403


async def test_two_decisions_at_once_one_wins(sz: Api) -> None:
    made = await _request(sz, PERSONAL, officer(sz))
    base = f"{URL}/{made['id']}/actions"
    answers = await asyncio.gather(
        sz.post(f"{base}/approve", headers=steward(sz, "s1")),
        sz.post(f"{base}/refuse", json={"reason": "不同意"}, headers=steward(sz, "s2")),
        sz.post(f"{base}/approve", headers=steward(sz, "s3")),
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409]
    decided = rows(sz, "audit_log")
    assert len([d for d in decided if d.action in ("share_approve", "share_refuse")]) == 1


def _documented(api: Api, schema: str, body: Any) -> None:
    """``body`` valid against the package's OpenAPI component ``schema``."""
    from jsonschema import Draft202012Validator

    doc = json.loads((api.package.path / "openapi.json").read_text(encoding="utf-8"))
    root = {"components": doc["components"], "$ref": f"#/components/schemas/{schema}"}
    errors = list(Draft202012Validator(root).iter_errors(body))
    assert not errors, [e.message for e in errors[:3]]


async def test_every_answer_is_as_documented(sz: Api) -> None:
    await _cases(sz)
    _documented(sz, "ResourceList", (await sz.get("/api/catalogue?region=nanshan")).json())
    element = await sz.get("/api/catalogue/elements/person_name")
    _documented(sz, "ElementUse", element.json())
    made = await _request(sz, PERSONAL, officer(sz))
    _documented(sz, "SharingRequest", made)
    _documented(sz, "SharingRequestPage", (await sz.get(URL, headers=officer(sz))).json())
    done = await sz.post(f"{URL}/{made['id']}/actions/approve", headers=steward(sz))
    _documented(sz, "SharingRequest", done.json())
    data = await sz.get(f"/api/sharing/data/{made['id']}", headers=officer(sz))
    _documented(sz, "SharedData", data.json())
    quality = await sz.get("/api/staff/data-quality", headers=steward(sz))
    _documented(sz, "DataQuality", quality.json())
