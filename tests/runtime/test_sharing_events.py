"""Sharing grants are events too (issue 15 item 5): granted at once for unconditional
items, granted on a data steward's approval, revoked — each with the request, the resource
and the element ids, never a value; the provider region's staff pull them."""

from __future__ import annotations

import json

import pytest

from tests.helpers import Api, file_food

pytestmark = pytest.mark.anyio


async def test_grants_and_revocations_are_events(sz: Api) -> None:
    await file_food(sz, "shop-a")
    asker = sz.token("officer", "sz-officer", region="shenzhen")
    body = {
        "resource": "food_business_license_form",
        "region": "nanshan",
        "items": ["enterprise_name", "citizen_id_number"],
        "purpose": "核查",
        "basis": "《政务信息资源共享管理暂行办法》第十条",
    }
    made = (await sz.post("/api/sharing/requests", json=body, headers=asker)).json()
    steward = sz.token("data_steward", "ns-steward", region="nanshan")
    url = f"/api/sharing/requests/{made['id']}/actions"
    assert (await sz.post(f"{url}/approve", headers=steward)).status_code == 200
    assert (
        await sz.post(f"{url}/revoke", json={"reason": "用途已完成"}, headers=steward)
    ).status_code == 200

    r = await sz.get("/api/staff/events", headers=sz.token("officer", "ns-1", region="nanshan"))
    shared = [e for e in r.json()["items"] if ".sharing." in e["type"]]
    assert [(e["type"].rsplit(".", 1)[1], e["data"]["items"]) for e in shared] == [
        ("granted", ["enterprise_name"]),
        ("granted", ["enterprise_name", "citizen_id_number"]),
        ("revoked", []),
    ]
    assert {e["data"]["request"] for e in shared} == {made["id"]}
    assert all(e["source"] == "urn:govstd:region:nanshan" for e in shared)
    text = json.dumps(shared, ensure_ascii=False)
    assert "南山小馆" not in text and "用途已完成" not in text and "核查" not in text
