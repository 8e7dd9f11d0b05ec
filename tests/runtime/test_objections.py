"""Objections (异议处理) from outside: an applicant or officer disputes a stored value, the
provider's officers correct it (old and new kept encrypted, audited without values) or
reject it with a reason, the objector is notified; statistics of open ones and their age;
bad objections change nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from runtime.crypto import Cipher, load_keys
from runtime.package import Package
from runtime.settings import Settings
from tests.helpers import ID_B, Api, FrozenClock, file_ibr, ibr_data, query

pytestmark = pytest.mark.anyio

MEMBER = {"person_name": "张小三", "citizen_id_number": ID_B, "kinship": "20"}


async def case_data(api: Api, app_id: str, sub: str = "citizen-a") -> dict[str, Any]:
    r = await api.get(f"/api/applications/{app_id}", headers=api.token("applicant", sub))
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def event_types(api: Api) -> list[str]:
    r = await api.get("/api/staff/events", headers=api.token("officer", "officer-1"))
    return [e["type"].removeprefix("cn.gov.govstd.") for e in r.json()["items"]]


def rows(db_url: str, table: Any) -> list[Any]:
    return query(db_url, select(table).order_by(table.c.id))


async def test_an_applicant_objects_and_the_provider_corrects(
    api: Api, db_url: str, package: Package, settings: Settings, clock: FrozenClock
) -> None:
    applicant = api.token("applicant", "citizen-a")
    officer = api.token("officer", "officer-1")
    app_id = await file_ibr(api)
    r = await api.post(
        "/api/objections",
        json={"application": app_id, "element": "mobile_phone", "reason": "手机号码登记错误"},
        headers=applicant,
    )
    assert r.status_code == 201, r.text
    objection = r.json()
    assert objection["field"] == "mobile_phone" and objection["status"] == "open"
    assert objection["provider"]["name"]  # the matter's implementing agency
    assert r.headers["location"] == f"/api/objections/{objection['id']}"

    listed = await api.get("/api/objections?status=open", headers=officer)
    assert [o["id"] for o in listed.json()["items"]] == [objection["id"]]
    clock.now += timedelta(days=2, hours=6)
    stats = (await api.get("/api/staff/objections/stats", headers=officer)).json()
    assert stats["open"] == 1 and stats["oldest_days"] == 2.25
    assert stats["by_age"]["1_to_3_days"] == 1
    assert stats["by_element"] == [{"element": "mobile_phone", "open": 1, "oldest_days": 2.25}]

    r = await api.post(
        f"/api/staff/objections/{objection['id']}/actions/correct",
        json={"value": "13900001111"},
        headers=officer,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "corrected"
    assert (await case_data(api, app_id))["mobile_phone"] == "13900001111"

    # old and new kept, encrypted as the field is; the audit names the field, not the values
    stored = rows(db_url, package.tables.objections)[0]
    assert "138" not in stored.old_value and "139" not in stored.new_value
    cipher = Cipher(load_keys(settings.env)[0])
    assert json.loads(cipher.decrypt(stored.old_value, context="objections.old_value")) == (
        "13812345678"
    )
    assert json.loads(cipher.decrypt(stored.new_value, context="objections.new_value")) == (
        "13900001111"
    )
    audits = [a for a in rows(db_url, package.tables.audit_log) if "objection" in a.action]
    assert [a.action for a in audits] == ["objection", "objection_corrected"]
    assert all("138" not in a.detail and "139" not in a.detail for a in audits)

    notes = (await api.get("/api/notifications", headers=applicant)).json()
    assert [(n["kind"], n["objection"]) for n in notes["items"]] == [("objection", objection["id"])]
    assert notes["unread"] == 1
    assert await event_types(api) == [
        "application.submitted",
        "objection.filed",
        "application.corrected",
    ]
    again = await api.post(
        f"/api/staff/objections/{objection['id']}/actions/reject",
        json={"reason": "重复"},
        headers=officer,
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "objection_closed"
    stats = (await api.get("/api/staff/objections/stats", headers=officer)).json()
    assert stats["open"] == 0 and stats["corrected"] == 1 and stats["mean_days_to_resolve"] == 2.25


async def test_an_officer_objects_and_another_rejects_with_a_reason(api: Api) -> None:
    app_id = await file_ibr(api)
    objector = api.token("officer", "officer-1")
    r = await api.post(
        "/api/objections",
        json={"application": app_id, "element": "business_address", "reason": "地址与实地不符"},
        headers=objector,
    )
    assert r.status_code == 201, r.text
    url = f"/api/staff/objections/{r.json()['id']}/actions/reject"
    approver = api.token("approver", "approver-1")
    for body in ({}, {"reason": "  "}, {"reason": "x" * 501}):
        bad = await api.post(url, json=body, headers=approver)
        assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["path"] == "reason"
    ok = await api.post(url, json={"reason": "经核实地址无误"}, headers=approver)
    assert ok.status_code == 200 and ok.json()["resolution"] == "经核实地址无误"
    assert (await case_data(api, app_id))["business_address"] == ibr_data()["business_address"]
    notes = (await api.get("/api/notifications", headers=objector)).json()["items"]
    assert [n["kind"] for n in notes] == ["objection"]
    mine = await api.get(
        f"/api/objections/{ok.json()['id']}", headers=api.token("applicant", "citizen-a")
    )
    assert mine.status_code == 200 and mine.json()["status"] == "rejected"  # the applicant's case
    assert (await event_types(api))[-1] == "objection.rejected"


async def test_a_value_held_in_several_places_is_named_by_field(api: Api) -> None:
    app_id = await file_ibr(api, organization_form="2", members=[MEMBER])
    officer = api.token("officer", "officer-1")
    r = await api.post(
        "/api/objections",
        json={"application": app_id, "element": "person_name", "reason": "家庭成员姓名有误"},
        headers=api.token("applicant", "citizen-a"),
    )
    assert r.status_code == 201 and r.json()["field"] is None  # person_name, members[0]
    url = f"/api/staff/objections/{r.json()['id']}/actions/correct"
    unnamed = await api.post(url, json={"value": "张晓三"}, headers=officer)
    assert unnamed.status_code == 422
    problem = unnamed.json()["error"]["fields"][0]
    assert problem["path"] == "field" and "members[0].person_name" in problem["message"]
    bad = await api.post(
        url, json={"value": "", "field": "members[0].person_name"}, headers=officer
    )
    assert bad.status_code == 422  # the form's own rules: a member's name is required
    done = await api.post(
        url, json={"value": "张晓三", "field": "members[0].person_name"}, headers=officer
    )
    assert done.status_code == 200, done.text
    data = await case_data(api, app_id)
    assert data["members"][0]["person_name"] == "张晓三" and data["person_name"] == "张三"


async def test_bad_objections_get_a_clear_4xx_and_change_nothing(
    api: Api, db_url: str, package: Package
) -> None:
    app_id = await file_ibr(api)
    other = await file_ibr(api, "citizen-b")
    applicant = api.token("applicant", "citizen-a")
    cases = [
        ({"application": other, "element": "mobile_phone", "reason": "x"}, 404, None),
        ({"application": app_id, "element": "no_such_element", "reason": "x"}, 422, "element"),
        ({"application": app_id, "element": "food_business_type", "reason": "x"}, 422, "element"),
        ({"application": app_id, "element": "mobile_phone", "reason": " "}, 422, "reason"),
        ({"application": app_id, "element": "mobile_phone"}, 422, "reason"),
        ({"application": app_id, "element": "mobile_phone", "reason": "x", "v": 1}, 422, "v"),
        ({"application": app_id, "element": "email", "reason": "x", "field": "x"}, 422, "field"),
        ({"application": 5, "element": "mobile_phone", "reason": "x"}, 422, "application"),
    ]
    for body, status, path in cases:
        r = await api.post("/api/objections", json=body, headers=applicant)
        assert r.status_code == status, (body, r.text)
        if path is not None:
            assert r.json()["error"]["fields"][0]["path"] == path, body
    codes = [
        (await api.post("/api/objections", json=b, headers=applicant)).json()["error"]["code"]
        for b, _, _ in cases[1:3]
    ]
    assert codes == ["unknown_element", "element_not_in_form"]
    assert rows(db_url, package.tables.objections) == []
    assert await event_types(api) == ["application.submitted"] * 2
    denied = [a for a in rows(db_url, package.tables.audit_log) if a.action == "denied"]
    assert denied and all(a.application_id == other for a in denied)

    r = await api.post(
        "/api/objections",
        json={"application": app_id, "element": "mobile_phone", "reason": "号码有误"},
        headers=applicant,
    )
    assert r.status_code == 201
    twice = await api.post(
        "/api/objections",
        json={"application": app_id, "element": "mobile_phone", "reason": "再说一次"},
        headers=applicant,
    )
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "objection_open"
    url = f"/api/staff/objections/{r.json()['id']}/actions/correct"
    elsewhere = api.token("officer", "officer-x", region="shenzhen")
    assert (
        await api.post(url, json={"value": "13900001111"}, headers=elsewhere)
    ).status_code == 404
    assert (await api.post(url, json={"value": "139"}, headers=applicant)).status_code == 403
    bad = await api.post(url, json={"value": "12345"}, headers=api.token("officer", "officer-1"))
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["path"] == "mobile_phone"
    assert (await case_data(api, app_id))["mobile_phone"] == "13812345678"
    assert rows(db_url, package.tables.objections)[0].status == "open"
    assert (
        await api.get(
            f"/api/objections/{r.json()['id']}", headers=api.token("applicant", "citizen-b")
        )
    ).status_code == 404


@pytest.mark.parametrize("big", ["2147483648", "3000000000", "999999999999999999"])
async def test_ids_past_integer_are_unknown_not_an_error(api: Api, big: str) -> None:
    """A numbered row's id beyond INTEGER (PostgreSQL would refuse to bind it: a 500 found by
    the API fuzz test) names no row: 404 for a notification or an objection, and nothing
    after it in the events."""
    applicant = api.token("applicant", "citizen-a")
    officer = api.token("officer", "officer-1")
    r = await api.post(f"/api/notifications/{big}/read", headers=applicant)
    assert r.status_code == 404, r.text
    r = await api.get(f"/api/objections/{big}", headers=applicant)
    assert r.status_code == 404, r.text
    r = await api.get(f"/api/staff/events?after={big}", headers=officer)
    assert r.status_code == 200, r.text
    assert r.json()["items"] == []
