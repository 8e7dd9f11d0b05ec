"""The data resource catalogue (issue 15 item 1): the API on SQLite and PostgreSQL, and
``govstd catalogue`` (JSON, xlsx) giving the same resources at generate time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from generator.cli import app
from tests.helpers import STANDARDS, Api, Browser, file_food

FOOD = "food_business_license_form"


@pytest.mark.anyio
async def test_one_resource_per_form_with_provider_items_and_share_types(sz: Api) -> None:
    r = await sz.get("/api/catalogue", params={"region": "nanshan"})
    assert r.status_code == 200, r.text
    resources = {x["id"]: x for x in r.json()["items"]}
    offered = {m.form for m in sz.package.regions["nanshan"].matters.values()}
    assert set(resources) == offered  # a profile form (no matter files it) is no resource
    food = resources[FOOD]
    assert food["provider"] == "深圳市市场监督管理局" and food["region"] == "nanshan"
    items = {i["element"]: i for i in food["items"]}
    assert items["enterprise_name"]["share_type"] == "unconditional"
    assert items["citizen_id_number"] == {
        **items["citizen_id_number"],
        "sensitive": True,
        "share_type": "conditional",
        "share_type_name": "有条件共享",
        "update_cycle": "realtime",
    }
    everywhere = [
        i
        for region in ("nanshan", "shenzhen")
        for x in (await sz.get(f"/api/catalogue?region={region}")).json()["items"]
        for i in x["items"]
    ]
    assert not [i for i in everywhere if i["sensitive"] and i["share_type"] == "unconditional"]
    en = await sz.get("/api/catalogue?region=nanshan", headers={"Accept-Language": "en"})
    assert "Shenzhen Administration for Market Regulation" in en.text


@pytest.mark.anyio
async def test_search_and_bad_regions(sz: Api) -> None:
    found = (await sz.get("/api/catalogue", params={"q": "食品经营"})).json()
    assert [x["id"] for x in found["items"]] == [FOOD] and found["region"] == "shenzhen"
    by_item = (await sz.get("/api/catalogue", params={"q": "公民身份号码"})).json()
    assert FOOD in [x["id"] for x in by_item["items"]] and by_item["total"] > 1
    assert (await sz.get("/api/catalogue", params={"q": "没有这种资源"})).json()["items"] == []
    r = await sz.get("/api/catalogue", params={"region": "atlantis"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["path"] == "region"


@pytest.mark.anyio
async def test_where_an_element_is_collected(sz: Api) -> None:
    r = await sz.get("/api/catalogue/elements/citizen_id_number")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "公民身份号码" and body["share_type"] == "conditional"
    assert FOOD in [f["id"] for f in body["forms"]]
    assert "food_business_license" in [m["id"] for m in body["matters"]]
    assert body["regions"] == ["nanshan", "shenzhen"]
    assert "深圳市市场监督管理局" in [p["name"] for p in body["providers"]]
    r = await sz.get("/api/catalogue/elements/no_such_element")
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_element"


def test_the_command_writes_the_catalogue_the_api_serves(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["catalogue", str(STANDARDS), "--region", "nanshan"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    ids = [r["id"] for r in doc["items"]]
    assert FOOD in ids and "enterprise_profile" not in ids
    food = next(r for r in doc["items"] if r["id"] == FOOD)
    assert food["provider"]["name"]["zh"] == "深圳市市场监督管理局"
    out = tmp_path / "catalogue.xlsx"
    args = ["catalogue", str(STANDARDS), "--region", "nanshan", "--format", "xlsx"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out)["数据资源目录"]
    lines = list(sheet.iter_rows(values_only=True))
    assert lines[0][:3] == ("区域", "资源代码", "资源名称")
    assert len(lines) - 1 == sum(len(r["items"]) for r in doc["items"])
    row = next(x for x in lines if x[1] == FOOD and x[5] == "citizen_id_number")
    assert row[3] == "深圳市市场监督管理局" and row[9] == "是" and row[10] == "有条件共享"
    assert runner.invoke(app, args).exit_code == 2  # xlsx needs --out
    unknown = runner.invoke(app, ["catalogue", str(STANDARDS), "--region", "atlantis"])
    assert unknown.exit_code == 1 and "atlantis" in unknown.output


@pytest.mark.anyio
async def test_the_pages_in_both_languages_and_for_whom(sz: Api) -> None:
    zh = await sz.get("/regions/nanshan/catalogue", params={"q": "食品经营"})
    assert zh.status_code == 200 and "南山区政务数据资源目录" in zh.text
    assert "食品经营许可申请书" in zh.text and "个体工商户" not in zh.text
    en = await sz.get("/regions/nanshan/catalogue", params={"lang": "en"})
    assert "Government data resources of" in en.text and "Unconditional" in en.text
    assert (await sz.get("/regions/atlantis/catalogue")).status_code == 404
    quality = "/staff/data-quality"
    await file_food(sz, "shop-a")
    browser = Browser(sz.client, sz.settings)
    codes = []
    for role, sub, params in (
        ("officer", "o", {}),
        ("data_steward", "s", {}),
        ("data_steward", "s", {"region": "shenzhen"}),
    ):
        await browser.sign_in(role, sub, region="nanshan")
        page = await browser.get(quality, params={**params, "lang": "zh"})
        codes.append(page.status_code)
        if page.status_code == 200:
            assert "数据质量" in page.text and "公民身份号码" in page.text
            assert "个数据元尚无任何已存储的值" in page.text  # the other forms' elements
    assert codes == [403, 200, 403]


@pytest.mark.anyio
async def test_a_search_text_over_64_characters_is_refused(sz: Api) -> None:
    assert (await sz.get("/api/catalogue", params={"q": "食" * 64})).status_code == 200
    r = await sz.get("/api/catalogue", params={"q": "食" * 65})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["path"] == "q"
