"""A region adds its own endpoint and check without editing the shared runtime (issue 14
item 9): ``GOVSTD_EXTENSIONS`` and the example ``standards/extensions/nanshan.py``."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from runtime.app import create_app
from runtime.extensions import Extensions, load
from runtime.package import Package
from runtime.routes import ROUTES
from runtime.settings import Settings, SettingsError
from runtime.types import FieldProblem
from tests.helpers import Api, client_of, documented, food_data, restaurant_data, served

pytestmark = pytest.mark.anyio

EXAMPLE = Path(__file__).resolve().parents[2] / "standards" / "extensions" / "nanshan.py"
FILE = "/api/matters/food_business_license/applications"
OUTSIDE = "深圳市福田区深南大道 1 号"
BUNDLE = "/api/bundles/open_restaurant/applications"


def _with(settings: Settings, extensions: str) -> Settings:
    return dataclasses.replace(settings, env={**settings.env, "GOVSTD_EXTENSIONS": extensions})


@pytest.fixture
async def nanshan(
    package_dir: Path, db_url: str, settings: Settings, package: Package
) -> AsyncIterator[Api]:
    """南山区's package served with its example extension."""
    async with client_of(package_dir, db_url, _with(settings, str(EXAMPLE))) as client:
        yield Api(client, settings, package)


async def test_the_example_adds_an_endpoint(nanshan: Api) -> None:
    r = await nanshan.get("/api/ext/nanshan/halls")
    assert r.status_code == 200, r.text
    assert r.json()["items"][0]["name"] == "南山区政务服务中心"
    assert r.headers["cache-control"] == "no-store"  # an API answer, like the shared ones


async def test_the_api_document_lists_the_extension_routes(nanshan: Api, package: Package) -> None:
    """The served /openapi.json is the package's with the extension's /api/ext/ operations:
    the operations are exactly the routes served, each named by its operationId."""
    document = (await nanshan.get("/openapi.json")).json()
    assert documented(document) == served([*ROUTES, *load(str(EXAMPLE)).routes])
    assert ("GET", "/api/ext/nanshan/halls") in documented(document)
    committed = json.loads(package.openapi or b"")
    assert {**document, "paths": committed["paths"]} == committed  # nothing else changed
    halls = document["paths"]["/api/ext/nanshan/halls"]["get"]
    assert halls["summary"].startswith("南山区政务服务大厅") and halls["tags"] == ["extensions"]
    answer = halls["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["properties"]["items"]["type"] == "array"


async def test_the_example_check_refuses_a_filing_in_both_languages(nanshan: Api) -> None:
    applicant = nanshan.token("applicant", "citizen-x")
    for lang, text in (("zh", "经营场所地址应写明“南山区”"), ("en", "must name 南山区")):
        r = await nanshan.post(
            FILE,
            json={"region": "nanshan", "data": food_data(business_address=OUTSIDE)},
            headers={**applicant, "Accept-Language": lang},
        )
        assert r.status_code == 422, r.text
        [problem] = r.json()["error"]["fields"]
        assert problem["path"] == "business_address"
        assert problem["code"] == "nanshan.business_address"
        assert text in problem["message"]
    # the form's own checks come first: a bad ID number is that, not the address
    bad_id = food_data(business_address=OUTSIDE, citizen_id_number="440305199003070015")
    r = await nanshan.post(FILE, json={"region": "nanshan", "data": bad_id}, headers=applicant)
    assert [f["path"] for f in r.json()["error"]["fields"]] == ["citizen_id_number"]
    ok = await nanshan.post(
        FILE, json={"region": "nanshan", "data": food_data()}, headers=applicant
    )
    assert ok.status_code == 201, ok.text


async def test_the_check_runs_on_a_resubmission(nanshan: Api) -> None:
    applicant = nanshan.token("applicant", "citizen-y")
    officer = nanshan.token("officer", "officer-1")
    r = await nanshan.post(FILE, json={"region": "nanshan", "data": food_data()}, headers=applicant)
    act = f"/api/applications/{r.json()['id']}/actions"
    r = await nanshan.post(f"{act}/request_supplement", json={"reason": "地址"}, headers=officer)
    assert r.status_code == 200, r.text
    moved = {"data": {"business_address": OUTSIDE}}
    r = await nanshan.post(f"{act}/resubmit", json=moved, headers=applicant)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["fields"][0]["code"] == "nanshan.business_address"


async def test_without_extensions_the_shared_runtime_is_unchanged(
    api: Api, package: Package
) -> None:
    assert (await api.get("/api/ext/nanshan/halls")).status_code == 404
    assert (await api.get("/openapi.json")).content == package.openapi
    applicant = api.token("applicant", "citizen-z")
    data = food_data(business_address=OUTSIDE)
    r = await api.post(FILE, json={"region": "nanshan", "data": data}, headers=applicant)
    assert r.status_code == 201, r.text


def _name_check(data: Mapping[str, object], lang: str) -> Iterator[FieldProblem]:
    if data.get("enterprise_name") == "不予登记":
        yield FieldProblem("enterprise_name", "region.name", "名称不予登记")


async def test_register_functions_passed_to_the_factory(
    package_dir: Path, db_url: str, settings: Settings, package: Package
) -> None:
    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("你好")

    def register(ext: Extensions) -> None:
        ext.route("/ext/hello", hello)
        ext.check("food_business_license_form", _name_check)

    async with client_of(package_dir, db_url, settings, extensions=[register]) as client:
        api = Api(client, settings, package)
        assert (await api.get("/ext/hello")).text == "你好"
        assert documented((await api.get("/openapi.json")).json()) == served(ROUTES)  # a page
        applicant = api.token("applicant", "citizen-w")
        data = food_data(enterprise_name="不予登记")
        r = await api.post(FILE, json={"region": "nanshan", "data": data}, headers=applicant)
        assert r.status_code == 422 and r.json()["error"]["fields"][0]["code"] == "region.name"
        # the same check on the food licence's share of a bundle (一件事一次办)
        bundle = {"region": "nanshan", "data": restaurant_data(enterprise_name="不予登记")}
        r = await api.post(BUNDLE, json=bundle, headers=applicant)
        assert r.status_code == 422, r.text
        assert [f["code"] for f in r.json()["error"]["fields"]] == ["region.name"]
        bundle["data"] = restaurant_data()
        assert (await api.post(BUNDLE, json=bundle, headers=applicant)).status_code == 201


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("/nowhere/ext.py", "cannot load /nowhere/ext.py (FileNotFoundError"),
        ("runtime.no_such_module", "cannot load runtime.no_such_module (ModuleNotFoundError"),
        ("runtime.masking", "runtime.masking defines no register(ext)"),
    ],
)
def test_an_extension_that_cannot_load_stops_the_start(
    package_dir: Path, db_url: str, settings: Settings, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match="GOVSTD_EXTENSIONS") as refused:
        create_app(package_dir, db_url, _with(settings, value))
    assert message in str(refused.value)


def test_an_extension_cannot_take_a_shared_path(
    package_dir: Path, db_url: str, settings: Settings
) -> None:
    def register(ext: Extensions) -> None:
        ext.route("/api/matters/{matter}", lambda request: None)

    with pytest.raises(SettingsError, match="must start with /api/ext/ or /ext/"):
        create_app(package_dir, db_url, settings, extensions=[register])
