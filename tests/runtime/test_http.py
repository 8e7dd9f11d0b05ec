"""Error format, idempotency, concurrency, catalogue and docs."""

from __future__ import annotations

import asyncio

import pytest

from runtime.app import create_app
from tests.helpers import Api, food_data, hand_in, unemployment_data

pytestmark = pytest.mark.anyio
URL = "/api/matters/unemployment_registration/applications"


async def test_bad_bodies(api: Api) -> None:
    """Content types, sizes and depth: security/test_abuse.py."""
    h = api.token("applicant")
    r = await api.post(URL, content=b"{not json", headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "malformed_json"
    assert r.json()["error"]["message"] == "请求体不是有效的 JSON"
    r = await api.post(URL, content=b"NaN", headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 400
    r = await api.post(URL, json=[1, 2], headers=h)
    assert r.status_code == 422
    r = await api.post(
        URL,
        json={"region": "nanshan", "data": unemployment_data(sex="7")},
        headers={**h, "Accept-Language": "en-US,en;q=0.9"},
    )
    assert r.status_code == 422
    body = r.json()
    assert body["error"]["code"] == "validation"
    assert body["error"]["message"] == "the submitted data is not valid"
    assert body["error"]["fields"][0]["path"] == "sex"
    assert list(body) == ["error"]  # fields inside "error" only, as the contract says
    assert r.headers["x-request-id"] == body["error"]["request_id"]


async def test_not_found_and_method(api: Api) -> None:
    r = await api.get("/nope")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    r = await api.client.delete("/api/matters")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"


async def test_idempotency(api: Api) -> None:
    h = {**api.token("applicant", "citizen-k"), "Idempotency-Key": "abc-123"}
    body = {"region": "nanshan", "data": unemployment_data()}
    first = await api.post(URL, json=body, headers=h)
    again = await api.post(URL, json=body, headers=h)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers.get("idempotent-replayed") == "true"
    other = await api.post(
        URL, json={"region": "nanshan", "data": unemployment_data(sex="2")}, headers=h
    )
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_mismatch"
    # the same key of another applicant is another key
    h2 = {**api.token("applicant", "citizen-l"), "Idempotency-Key": "abc-123"}
    assert (await api.post(URL, json=body, headers=h2)).status_code == 201
    # concurrent retries: one application
    h3 = {**api.token("applicant", "citizen-m"), "Idempotency-Key": "concurrent-1"}
    results = await asyncio.gather(*(api.post(URL, json=body, headers=h3) for _ in range(8)))
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1
    listed = await api.get("/api/applications", headers=api.token("applicant", "citizen-m"))
    assert listed.json()["total"] == 1


async def test_concurrent_actions_one_wins(api: Api) -> None:
    r = await api.post(
        "/api/matters/food_business_license/applications",
        json={"region": "nanshan", "data": food_data()},
        headers=api.token("applicant"),
    )
    app_id = r.json()["id"]
    await hand_in(api, app_id, api.token("applicant"))
    officers = [api.token("officer", f"officer-{i}") for i in range(6)]
    results = await asyncio.gather(
        *(api.post(f"/api/applications/{app_id}/actions/accept", headers=h) for h in officers)
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409, 409, 409, 409, 409], [r.text for r in results]
    detail = await api.get(f"/api/applications/{app_id}", headers=officers[0])
    assert [t["transition"] for t in detail.json()["transitions"]] == ["submit", "accept"]


async def test_catalogue(api: Api) -> None:
    r = await api.get("/api/matters")
    assert r.status_code == 200
    ids = [m["id"] for m in r.json()["items"]]
    assert "ibr" in ids and "unemployment_registration" in ids
    r = await api.get("/api/matters", params={"q": "失业"})
    assert [m["id"] for m in r.json()["items"]] == ["unemployment_registration"]
    r = await api.get("/api/matters", params={"q": "business REG"})
    assert [m["id"] for m in r.json()["items"]] == ["ibr"]
    r = await api.get("/api/matters", params={"type": "20"})
    assert all(m["type"] == "20" for m in r.json()["items"])
    assert (await api.get("/api/matters", params={"region": "mars"})).status_code == 422
    zh = (await api.get("/api/matters/ibr")).json()
    en = (await api.get("/api/matters/ibr", headers={"Accept-Language": "en"})).json()
    assert zh["name"] == "个体工商户设立登记"
    assert en["name"] == "Individual business registration"
    assert zh["guide"]["agency"]["name"] == "深圳市市场监督管理局南山监管局"
    assert en["raw"]["agency"]["name"]["zh"] == "深圳市市场监督管理局南山监管局"
    assert zh["case_type"] == "instant"
    assert any(m["id"] == "lease_contract" for m in zh["materials"])
    assert (await api.get("/api/matters/nope")).status_code == 404
    schema = await api.get("/api/forms/ibr_form/schema")
    assert schema.status_code == 200
    assert "citizen_id_number" in schema.text
    assert (await api.get("/api/forms/nope/schema")).status_code == 404
    sex = (await api.get("/api/codesets/sex", headers={"Accept-Language": "en"})).json()
    assert {"code": "1", "name": "Male"}.items() <= sex["values"][1].items()
    assert (await api.get("/api/codesets/nope")).status_code == 404


async def test_health_openapi_docs(api: Api) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    spec = await api.get("/openapi.json")
    assert spec.status_code == 200
    assert spec.json()["openapi"].startswith("3.1")
    page = await api.get("/docs")
    assert page.status_code == 200
    assert "接口文档" in page.text  # a Chinese title
    assert "http" not in page.text.replace("http-equiv", "")  # no CDN
    # swagger-ui, vendored and served here: try-it and a place for the bearer token
    for script in ("/static/swagger_ui/swagger-ui-bundle.js", "/static/docs-init.js"):
        assert f'<script src="{script}"></script>' in page.text
    bundle = await api.get("/static/swagger_ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text
    assert bundle.headers["content-type"].startswith("text/javascript")
    css = await api.get("/static/swagger_ui/swagger-ui.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    init = (await api.get("/static/docs-init.js")).text
    assert 'url: "/openapi.json"' in init and "persistAuthorization: true" in init
    assert "validatorUrl: null" in init  # no call to the public validator
    assert spec.json()["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path in ("/static/../app.py", "/static/swagger_ui/../../app.py", "/static/docs.js"):
        assert (await api.get(path)).status_code == 404


def test_create_app_refuses_dev_key_in_production(package_dir: object, db_url: str) -> None:
    from runtime.settings import Settings, SettingsError

    settings = Settings(production=True, env={"GOVSTD_ENV": "production"})
    with pytest.raises(SettingsError):
        create_app(package_dir, db_url, settings)  # type: ignore[arg-type]


async def test_a_failed_rule_names_the_fields_it_reads(api: Api) -> None:
    """Issue 12 item 7: a rule's problem keeps its path (the rule id), code and message and
    adds ``fields``, the form fields its expression reads; other problems have no ``fields``."""
    r = await api.post(
        "/api/matters/food_business_license/applications",
        json={"region": "nanshan", "data": food_data(operating_area=0, mobile_phone="1")},
        headers={**api.token("applicant"), "Accept-Language": "en"},
    )
    assert r.status_code == 422
    problems = {p["path"]: p for p in r.json()["error"]["fields"]}
    assert problems["area_positive"] == {
        "path": "area_positive",
        "code": "rule",
        "message": "Operating area must be positive",
        "fields": ["operating_area"],
    }
    assert "fields" not in problems["mobile_phone"]
