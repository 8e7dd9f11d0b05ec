"""A deployment serving a region tree (广东 → 深圳 → 南山): staff scopes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from runtime.package import load_package
from runtime.settings import Settings
from tests.helpers import Api, client_of, create_schema, unemployment_data

pytestmark = pytest.mark.anyio


@pytest.fixture
async def tree_api(guangdong_dir: Path, tmp_path: Path, settings: Settings) -> AsyncIterator[Api]:
    package = load_package(guangdong_dir)
    url = f"sqlite:///{tmp_path / 'tree.db'}"
    create_schema(guangdong_dir, package, url)
    async with client_of(guangdong_dir, url, settings) as client:
        yield Api(client, settings, package)


async def test_region_scopes(tree_api: Api) -> None:
    api = tree_api
    url = "/api/matters/unemployment_registration/applications"
    ids = {}
    for region in ("nanshan", "shenzhen"):
        r = await api.post(
            url,
            json={"region": region, "data": unemployment_data()},
            headers=api.token("applicant", f"c-{region}"),
        )
        assert r.status_code == 201, r.text
        ids[region] = r.json()["id"]
    assert r.json()["number"].startswith("440300-")
    sz_sup = api.token("supervisor", "sup", region="shenzhen")
    listed = await api.get("/api/staff/applications", headers=sz_sup)
    assert listed.json()["total"] == 2
    assert (await api.get(f"/api/applications/{ids['nanshan']}", headers=sz_sup)).status_code == 200
    ns_sup = api.token("supervisor", "sup2", region="nanshan")
    assert (
        await api.get(f"/api/applications/{ids['shenzhen']}", headers=ns_sup)
    ).status_code == 404
    sz_officer = api.token("officer", "o", region="shenzhen")
    assert (await api.get("/api/staff/applications", headers=sz_officer)).json()["total"] == 1
    r = await api.post(f"/api/applications/{ids['nanshan']}/actions/accept", headers=sz_officer)
    assert r.status_code == 404
    stats = (await api.get("/api/staff/stats", headers=sz_sup)).json()
    assert stats["regions"] == ["nanshan", "shenzhen"]
    assert stats["total"] == 2
    matters = await api.get("/api/matters", params={"region": "nanshan"})
    assert "ibr" in [m["id"] for m in matters.json()["items"]]
