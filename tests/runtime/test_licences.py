"""电子证照 from outside: with GOVSTD_LICENCE_URL, a government-sourced material is fetched
from a real local stub service after the filing commits, attached like an upload (typed,
capped, encrypted at rest), and any failure leaves the filing intact with the reason shown
to the officer (API and workbench page)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from runtime import licences
from runtime.auth import Identity
from runtime.package import Package
from runtime.settings import Settings
from tests.helpers import CSRF, ID_A, PDF, Api, client_of, food_data, query, restaurant_data
from tests.receiver import Recorder, Request, serving

pytestmark = pytest.mark.anyio

SUBMIT = "/api/matters/food_business_license/applications"
MATERIAL = "business_license"  # source: government, accept [] (the upload default)
PNG = b"\x89PNG\r\n\x1a\n" + b"licence" * 200


@pytest.fixture
def stub() -> Iterator[Recorder]:
    with serving(Recorder(answer=lambda _r: (200, {}, PNG))) as r:
        yield r


@pytest.fixture
def settings(settings: Settings, stub: Recorder) -> Settings:
    return dataclasses.replace(settings, licence_url=stub.url + "/eli", licence_timeout=1.0)


async def file(api: Api, **claims: Any) -> str:
    r = await api.post(
        SUBMIT,
        json={"region": "nanshan", "data": food_data()},
        headers=api.token("applicant", "citizen-a", **claims),
    )
    assert r.status_code == 201, r.text  # whatever the licence service did
    return str(r.json()["id"])


async def licence_item(api: Api, app_id: str) -> dict[str, Any]:
    r = await api.get(f"/api/applications/{app_id}", headers=api.token("officer", "officer-1"))
    assert r.status_code == 200, r.text
    item: dict[str, Any] = next(m for m in r.json()["checklist"] if m["material"] == MATERIAL)
    return item


async def test_a_licence_is_fetched_and_attached_as_if_uploaded(
    api: Api, db_url: str, package: Package, settings: Settings, stub: Recorder
) -> None:
    committed: list[bool] = []

    def answer(request: Request) -> tuple[int, dict[str, str], bytes]:
        # the filing has committed before the fetch: another connection sees the case
        apps = package.tables.applications
        committed.append(bool(query(db_url, select(apps))))
        return (200, {"content-type": "application/octet-stream"}, PNG)

    stub.answer = answer
    app_id = await file(api)
    assert committed == [True]
    [request] = stub.taken()
    asked = urlsplit(request.path)
    assert asked.path == "/eli/licences"
    assert parse_qs(asked.query) == {"holder": [ID_A], "type": [MATERIAL]}

    item = await licence_item(api, app_id)
    assert item["uploaded"] is True and item["fetch"]["status"] == "fetched"
    assert item["fetch"]["message"] == "已从电子证照库获取"
    r = await api.get(
        f"/api/applications/{app_id}/materials/{MATERIAL}", headers=api.token("officer", "o-1")
    )
    assert r.status_code == 200 and r.content == PNG
    [row] = query(db_url, select(package.tables.material_files))
    assert row.uploaded_by == "govstd:licence" and row.content_type == "image/png"
    stored = (settings.upload_dir / row.storage_name).read_bytes()
    assert b"licence" not in stored and len(stored) > len(PNG)  # encrypted at rest
    audits = [
        a for a in query(db_url, select(package.tables.audit_log)) if a.action == "material_fetch"
    ]
    assert len(audits) == 1 and ID_A not in audits[0].detail
    assert not list((settings.upload_dir / ".incoming").iterdir())  # no temporary file left


async def test_the_sign_in_id_number_is_the_holder(api: Api, stub: Recorder) -> None:
    await file(api, id_number="110101199003074258")
    [request] = stub.taken()
    assert parse_qs(urlsplit(request.path).query)["holder"] == ["110101199003074258"]


def _slow(_r: Request) -> tuple[int, dict[str, str], bytes]:
    time.sleep(1.5)
    return (200, {}, PNG)


FAILURES = {
    "not_found": (lambda _r: (404, {}, b"{}"), "电子证照库中没有申请人的此项证照"),
    "status:500": (lambda _r: (500, {}, b"oops"), "电子证照服务出错（HTTP 500）"),
    "timeout": (_slow, "电子证照服务超时未应答"),
    "file_type:unknown": (lambda _r: (200, {}, b"<html>login</html>"), "文件类型不被接受"),
    "file_type:application/ofd": (lambda _r: (200, {}, b"PK\x03\x04zip"), "application/ofd"),
    "too_large": (lambda _r: (200, {}, PDF + b"0" * (10 * 1024 * 1024)), "超过大小上限"),
}


@pytest.mark.parametrize("reason", sorted(FAILURES))
async def test_a_failed_fetch_never_fails_the_filing_and_says_why(
    api: Api, db_url: str, package: Package, settings: Settings, stub: Recorder, reason: str
) -> None:
    stub.answer, text = FAILURES[reason]
    app_id = await file(api)
    item = await licence_item(api, app_id)
    assert item["uploaded"] is False
    assert item["fetch"]["status"] == "missing" and item["fetch"]["reason"] == reason
    assert text in item["fetch"]["message"]
    assert query(db_url, select(package.tables.material_files)) == []
    assert not list((settings.upload_dir / ".incoming").iterdir())

    # the workbench page shows the officer why the material is missing
    page = await api.get("/login")
    csrf = CSRF.search(page.text)
    assert csrf is not None
    token = api.token("officer", "officer-1")["Authorization"].removeprefix("Bearer ")
    r = await api.post("/login", data={"token": token, "csrf": csrf.group(1)})
    assert r.status_code == 303
    page = await api.get(f"/staff/cases/{app_id}")
    assert page.status_code == 200
    assert "未获取到电子证照" in page.text and text.split("（")[0] in page.text


async def test_an_unreachable_service_and_an_unknown_holder(
    api: Api, package: Package, db_url: str, settings: Settings
) -> None:
    closed = dataclasses.replace(settings, licence_url="http://127.0.0.1:9")  # nothing listens
    async with client_of(api.package.path, db_url, closed) as client:
        down = Api(client, closed, package)
        app_id = await file(down)
        item = await licence_item(down, app_id)
        assert item["fetch"]["reason"] == "unreachable"
        assert item["fetch"]["message"] == "无法连接电子证照服务"
    # no ID number in the sign-in nor in the form: nothing to ask the service for
    form = package.forms["food_business_license_form"]
    nobody = Identity(sub="citizen-z", role="applicant")
    assert licences.holder_of(nobody, form, {"citizen_id_number": ID_A}) == ID_A
    assert licences.holder_of(nobody, form, {}) is None


async def test_without_the_setting_nothing_is_fetched(
    api: Api, db_url: str, package: Package, settings: Settings, stub: Recorder
) -> None:
    plain = dataclasses.replace(settings, licence_url=None)
    async with client_of(api.package.path, db_url, plain) as client:
        app_id = await file(Api(client, plain, package))
        r = await client.get(
            f"/api/applications/{app_id}",
            headers=Api(client, plain, package).token("officer", "officer-1"),
        )
        item = next(m for m in r.json()["checklist"] if m["material"] == MATERIAL)
        assert "fetch" not in item and item["uploaded"] is False
    assert stub.taken() == [] and query(db_url, select(package.tables.licence_fetches)) == []


async def test_each_member_of_a_bundle_gets_its_licences(api: Api, stub: Recorder) -> None:
    r = await api.post(
        "/api/bundles/open_restaurant/applications",
        json={"region": "nanshan", "data": restaurant_data()},
        headers=api.token("applicant", "shop-a", id_number=ID_A),
    )
    assert r.status_code == 201, r.text
    fetched = {}
    for member in r.json()["applications"]:
        item = next(
            (m for m in (await licence_item_or_none(api, member["id"])) if m.get("fetch")), None
        )
        if item is not None:
            fetched[member["matter"]] = item["fetch"]["status"]
    assert fetched == {"food_business_license": "fetched", "public_place_health_license": "fetched"}
    assert len(stub.taken()) == 2


async def licence_item_or_none(api: Api, app_id: str) -> list[dict[str, Any]]:
    r = await api.get(f"/api/applications/{app_id}", headers=api.token("officer", "officer-1"))
    assert r.status_code == 200, r.text
    return list(r.json()["checklist"])
