"""One-stop bundles (services.md §3): offered where every member is, one transaction per
filing, Idempotency-Key, combined field paths, a shared material uploaded once, views."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from sqlalchemy import select

from runtime.subjects import pseudonyms
from tests.helpers import ID_A, PDF, Api, all_tables, execute, query, restaurant_data

pytestmark = pytest.mark.anyio
URL = "/api/bundles/open_restaurant/applications"
MEMBERS = ["ibr", "food_business_license", "public_place_health_license"]


def _count(api: Api, db_url: str, table: str) -> int:
    return len(query(db_url, select(all_tables(api.package).tables[table])))


async def _file(api: Api, sub: str = "shop-a", **headers: str) -> dict:  # type: ignore[type-arg]
    r = await api.post(
        URL,
        json={"region": "nanshan", "data": restaurant_data()},
        headers={**api.token("applicant", sub, id_number=ID_A), **headers},
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_catalogue_and_combined_form(api: Api) -> None:
    r = await api.get("/api/bundles?region=nanshan")
    assert r.status_code == 200
    assert [b["id"] for b in r.json()["items"]] == ["open_restaurant"]
    r = await api.get("/api/bundles/open_restaurant?region=nanshan")
    body = r.json()
    assert [m["matter"] for m in body["members"]] == MEMBERS
    schema = body["schema"]
    assert schema["x-govstd-bundle"] == "open_restaurant"
    # asked once, the narrowest constraints: 个体工商户名称 ≤ 50 and required by the licences
    assert schema["properties"]["enterprise_name"]["maxLength"] == 50
    assert "enterprise_name" in schema["required"]
    ids = [m["id"] for m in body["materials"]]
    assert ids.count("id_proof") == 1
    id_proof = next(m for m in body["materials"] if m["id"] == "id_proof")
    assert id_proof["matters"] == MEMBERS
    assert (await api.get("/api/bundles/nothing")).status_code == 404
    openapi = (await api.get("/openapi.json")).json()
    assert "bundle_open_restaurant" in openapi["components"]["schemas"]
    assert "/api/bundles/{bundle}/applications" in openapi["paths"]


async def test_offered_only_where_every_member_is(shenzhen_api: Api) -> None:
    api = shenzhen_api
    listed = await api.get("/api/bundles?region=nanshan")
    assert listed.json()["items"] == []
    assert [b["id"] for b in (await api.get("/api/bundles?region=shenzhen")).json()["items"]] == [
        "open_restaurant"
    ]
    assert (await api.get("/api/bundles/open_restaurant?region=nanshan")).status_code == 404
    r = await api.post(
        URL,
        json={"region": "nanshan", "data": restaurant_data()},
        headers=api.token("applicant", "shop-a", id_number=ID_A),
    )
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["path"] == "region"
    assert "shenzhen" in r.json()["error"]["fields"][0]["message"]
    r = await api.post(
        URL,
        json={"region": "shenzhen", "data": restaurant_data()},
        headers=api.token("applicant", "shop-a", id_number=ID_A),
    )
    assert r.status_code == 201, r.text


async def test_one_application_per_member_each_with_its_share(api: Api, db_url: str) -> None:
    filed = await _file(api)
    assert filed["bundle"] == "open_restaurant"
    apps = filed["applications"]
    assert [a["matter"] for a in apps] == MEMBERS
    assert len({a["number"] for a in apps}) == 3
    h = api.token("applicant", "shop-a")
    food = (await api.get(f"/api/applications/{apps[1]['id']}", headers=h)).json()
    assert food["data"]["food_business_items"] == ["05"]
    assert "registered_capital" not in food["data"]  # the licence's form does not ask it
    assert food["bundle"]["id"] == filed["id"]
    ibr = (await api.get(f"/api/applications/{apps[0]['id']}", headers=h)).json()
    assert ibr["data"]["registered_capital"] == 5 and "food_business_items" not in ibr["data"]
    # each follows its own workflow: accepting one leaves the others as they were
    officer = api.token("officer", "officer-1")
    r = await api.post(f"/api/applications/{apps[0]['id']}/actions/accept", headers=officer)
    assert r.status_code in (200, 409), r.text  # nanshan's ibr is instant: may need materials
    one = (await api.get(f"/api/bundles/applications/{filed['id']}", headers=h)).json()
    assert [a["matter"] for a in one["applications"]] == MEMBERS
    assert all("status_name" in a for a in one["applications"])
    listed = (await api.get("/api/applications", headers=h)).json()["items"]
    assert {a["bundle_filing"] for a in listed} == {filed["id"]}
    mine = (await api.get("/api/bundles/applications", headers=h)).json()
    assert [f["id"] for f in mine["items"]] == [filed["id"]]
    # staff see the siblings, masked, on any member's page
    staff = (await api.get(f"/api/applications/{apps[2]['id']}", headers=officer)).json()
    siblings = staff["bundle"]["applications"]
    assert {a["id"] for a in siblings} == {a["id"] for a in apps}
    assert all(a["applicant"] != "shop-a" for a in siblings)
    # another applicant sees nothing of it
    other = api.token("applicant", "shop-b")
    seen = await api.get(f"/api/bundles/applications/{filed['id']}", headers=other)
    assert seen.status_code == 404
    cipher = api.client._transport.app.state.ctx.cipher  # type: ignore[attr-defined]
    shop_b = pseudonyms(cipher, "shop-b")[0]  # applicants are stored by pseudonym
    log = api.package.tables.audit_log
    actions = [(r.action, r.actor_sub) for r in query(db_url, select(log))]
    assert actions.count(("denied", shop_b)) == 1
    assert "read" in [action for action, _ in actions]  # the officer's reads are audited too
    assert _count(api, db_url, "bundle_filings") == 1


async def test_errors_at_combined_paths_and_nothing_filed(api: Api, db_url: str) -> None:
    data = restaurant_data(operating_area=None, public_place_category="99", bogus=1)
    del data["enterprise_name"]
    r = await api.post(
        URL,
        json={"region": "nanshan", "data": data},
        headers=api.token("applicant", "shop-a", id_number=ID_A),
    )
    assert r.status_code == 422
    fields = r.json()["error"]["fields"]
    paths = [f["path"] for f in fields]
    assert "bogus" in paths and "public_place_category" in paths
    assert paths.count("operating_area") == 1  # asked once, reported once
    assert paths.count("enterprise_name") == 1
    assert _count(api, db_url, "applications") == 0
    assert _count(api, db_url, "bundle_filings") == 0


async def test_all_or_nothing(api: Api, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The third member's insert fails: neither the filing nor the first two remain."""
    import runtime.routes.bundles as routes

    real = routes.file_application
    calls = []

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(routes, "file_application", failing)
    r = await api.post(
        URL,
        json={"region": "nanshan", "data": restaurant_data()},
        headers=api.token("applicant", "shop-a", id_number=ID_A),
    )
    assert r.status_code == 500
    assert len(calls) == 3
    assert _count(api, db_url, "applications") == 0
    assert _count(api, db_url, "bundle_filings") == 0
    assert _count(api, db_url, "counters") in (0, 1)  # rolled back with the rest
    monkeypatch.setattr(routes, "file_application", real)
    filed = await _file(api)
    assert len(filed["applications"]) == 3


async def test_idempotency(api: Api, db_url: str) -> None:
    key = {"Idempotency-Key": "bundle-key-1"}
    results = await asyncio.gather(*(_raw(api, key) for _ in range(4)))
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1
    assert _count(api, db_url, "applications") == 3
    other = await api.post(
        URL,
        json={"region": "nanshan", "data": restaurant_data(employees=3)},
        headers={**api.token("applicant", "shop-a", id_number=ID_A), **key},
    )
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_mismatch"


async def _raw(api: Api, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return await api.post(
        URL,
        json={"region": "nanshan", "data": restaurant_data()},
        headers={**api.token("applicant", "shop-a", id_number=ID_A), **headers},
    )


async def test_shared_material_uploaded_once(api: Api, db_url: str) -> None:
    filed = await _file(api)
    h = api.token("applicant", "shop-a")
    url = f"/api/bundles/applications/{filed['id']}/materials/id_proof"
    r = await api.put(url, files={"file": ("id.pdf", PDF, "application/pdf")}, headers=h)
    assert r.status_code == 201, r.text
    assert sorted(r.json()["applications"]) == sorted(a["id"] for a in filed["applications"])
    stored = list((api.settings.upload_dir / filed["id"]).iterdir())
    assert len(stored) == 1
    digest = hashlib.sha256(PDF).hexdigest()
    for app in filed["applications"]:
        got = await api.get(f"/api/applications/{app['id']}/materials/id_proof", headers=h)
        assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == digest
    # one member replaces its copy: the others keep the shared file
    first = filed["applications"][0]["id"]
    r = await api.put(
        f"/api/applications/{first}/materials/id_proof",
        files={"file": ("id2.pdf", PDF + b"2", "application/pdf")},
        headers=h,
    )
    assert r.status_code == 201
    second = filed["applications"][1]["id"]
    got = await api.get(f"/api/applications/{second}/materials/id_proof", headers=h)
    assert got.status_code == 200 and got.content == PDF
    # a material only one member asks is attached to that member only
    r = await api.put(
        f"/api/bundles/applications/{filed['id']}/materials/site_plan",
        files={"file": ("plan.pdf", PDF, "application/pdf")},
        headers=h,
    )
    assert r.status_code == 201
    assert r.json()["applications"] == [filed["applications"][2]["id"]]
    # not the owner, unknown material, government-sourced material
    other = api.token("applicant", "shop-b")
    r = await api.put(url, files={"file": ("id.pdf", PDF, "application/pdf")}, headers=other)
    assert r.status_code == 404
    bad = f"/api/bundles/applications/{filed['id']}/materials/nothing"
    assert (await api.put(bad, files={"file": ("a.pdf", PDF)}, headers=h)).status_code == 404
    gov = f"/api/bundles/applications/{filed['id']}/materials/business_license"
    assert (await api.put(gov, files={"file": ("a.pdf", PDF)}, headers=h)).status_code == 409


async def test_shared_material_refused_when_a_member_is_decided(api: Api, db_url: str) -> None:
    filed = await _file(api)
    apps = api.package.tables.applications
    food = apps.c.id == filed["applications"][1]["id"]
    execute(db_url, apps.update().where(food).values(status="refused"))  # refused meanwhile
    url = f"/api/bundles/applications/{filed['id']}/materials/id_proof"
    h = api.token("applicant", "shop-a")
    r = await api.put(url, files={"file": ("id.pdf", PDF, "application/pdf")}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "case_final"
    assert _count(api, db_url, "material_files") == 0


async def test_a_failed_rule_names_its_fields_at_combined_paths(api: Api) -> None:
    """Issue 12 item 7: a member form's rule names the combined form's fields it reads."""
    data = restaurant_data(operating_area=0, food_business_type="2", food_business_items=["01"])
    r = await api.post(
        URL,
        json={"region": "nanshan", "data": data},
        headers=api.token("applicant", "shop-a", id_number=ID_A),
    )
    assert r.status_code == 422
    rules = {p["path"]: p["fields"] for p in r.json()["error"]["fields"] if p["code"] == "rule"}
    assert rules["area_positive"] == ["operating_area"]
    assert rules["catering_items"] == ["food_business_type", "food_business_items"]
