"""The bundled tree end to end: 杭州's package offers 开餐馆一件事 and its small-business
policy (南山's package is the one of tests/runtime/test_bundles.py and test_policies.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from runtime.settings import Settings
from tests.helpers import (
    ID_A,
    PDF,
    Api,
    claim_data,
    generate_package,
    profile_data,
    restaurant_data,
    serve,
)

pytestmark = pytest.mark.anyio
POLICY = "hz_small_business_startup_2026"


@pytest.fixture(scope="module")
def hangzhou_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_package("hangzhou", tmp_path_factory.mktemp("package") / "hangzhou")


@pytest.fixture
async def hz(hangzhou_dir: Path, tmp_path: Path, settings: Settings) -> AsyncIterator[Api]:
    async for api in serve(hangzhou_dir, f"sqlite:///{tmp_path / 'hz.db'}", settings):
        yield api


async def test_open_restaurant_in_hangzhou(hz: Api) -> None:
    listed = (await hz.get("/api/bundles?region=hangzhou")).json()["items"]
    assert [b["id"] for b in listed] == ["open_restaurant"]
    h = hz.token("applicant", "hz-shop", id_number=ID_A)
    data = restaurant_data(business_division="330106")
    r = await hz.post(
        "/api/bundles/open_restaurant/applications",
        json={"region": "hangzhou", "data": data},
        headers=h,
    )
    assert r.status_code == 201, r.text
    filed = r.json()
    assert all(a["number"].startswith("330100-") for a in filed["applications"])
    url = f"/api/bundles/applications/{filed['id']}/materials/id_proof"
    r = await hz.put(url, files={"file": ("id.pdf", PDF, "application/pdf")}, headers=h)
    assert r.status_code == 201 and len(r.json()["applications"]) == 3


async def test_small_business_policy_in_hangzhou(hz: Api) -> None:
    assert [p["id"] for p in (await hz.get("/api/policies?region=hangzhou")).json()["items"]] == [
        POLICY
    ]
    detail = (await hz.get(f"/api/policies/{POLICY}")).json()
    assert [c["words"] for c in detail["conditions"]] == [
        "企业规模为小型、微型之一",
        "成立天数 ≤ 1095",
        "参保职工人数 ≥ 1",
        "经营场所所在行政区划以“3301”开头",
    ]
    profile = profile_data(business_division="330106", enterprise_scale="3")
    r = await hz.put(
        "/api/profile",
        json={"form": "enterprise_profile", "region": "hangzhou", "data": profile},
        headers=hz.token("applicant", "hz-shop"),
    )
    assert r.status_code == 200, r.text
    staff = hz.token("officer", "hz-officer", region="hangzhou")
    delivered = (await hz.post(f"/api/staff/policies/{POLICY}/deliver", headers=staff)).json()
    assert delivered["notified"] == 1
    h = hz.token("applicant", "hz-shop", name="李四", id_number=ID_A)
    notes = (await hz.get("/api/notifications", headers=h)).json()["items"]
    assert [n["policy"] for n in notes] == [POLICY]
    r = await hz.post(
        f"/api/policies/{POLICY}/claim",
        json={"region": "hangzhou", "data": claim_data(subsidy_amount=5000)},
        headers=h,
    )
    assert r.status_code == 201, r.text
    stats = (await hz.get("/api/staff/policies/stats", headers=staff)).json()["items"]
    assert stats[0]["policy"] == POLICY and stats[0]["claimed"] == 1
