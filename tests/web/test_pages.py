"""The citizen's pages over HTTP: who sees what, CSRF, double submits, files, 补正, 好差评."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.helpers import ID_A, Browser, ibr_data, idem_of

pytestmark = pytest.mark.anyio

APPLY = "/regions/nanshan/matters/ibr/apply"
FOOD = "/regions/nanshan/matters/food_business_license/apply"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"x" * 64


def ibr_form(**overrides: str) -> dict[str, str]:
    """``ibr_data()`` as the browser posts it: every answer as text."""
    answers = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in ibr_data().items()}
    return answers | overrides


async def file_ibr(browser: Any, **overrides: str) -> str:
    """File a 个体工商户登记 through the form; the application's id."""
    page = await browser.get(APPLY)
    fields = {**ibr_form(**overrides), "idem": idem_of(page.text)}
    r = await browser.post(APPLY, fields, files={"material.id_proof": ("id.png", PNG)})
    assert r.status_code == 303, r.text
    found = re.fullmatch(r"/me/applications/([0-9a-f-]{36})/filed", r.headers["location"])
    assert found
    return found.group(1)


async def test_pages_of_an_application_are_its_applicants_only(
    browser: Browser, package_dir: Any, tmp_path: Any
) -> None:
    await browser.sign_in("applicant", "citizen-1")
    app_id = await file_ibr(browser)
    filed = await browser.get(f"/me/applications/{app_id}/filed")
    assert re.search(r'id="number">440305-\d{8}-\d{6}<', filed.text)
    missing = filed.text.split("受理前须补齐", 1)[1].split("</ul>", 1)[0]
    assert "租赁合同" in missing and "身份证明" not in missing  # id_proof was uploaded
    mine = await browser.get("/me")
    assert "个体工商户设立登记" in mine.text

    await browser.sign_in("applicant", "citizen-2")
    for path in ("", "/filed", "/correct", "/materials/id_proof"):
        r = await browser.get(f"/me/applications/{app_id}{path}")
        assert r.status_code == 404, path
        assert ID_A not in r.text and "张三" not in r.text
    r = await browser.post(f"/me/applications/{app_id}/actions/withdraw")
    assert r.status_code == 404
    assert "个体工商户设立登记" not in (await browser.get("/me")).text

    await browser.sign_in("officer", "officer-1")
    assert (await browser.get("/me")).status_code == 403
    assert (await browser.get(APPLY)).status_code == 403


async def test_signed_out_pages_lead_to_sign_in_and_back(browser: Browser) -> None:
    r = await browser.get(APPLY)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fregions%2Fnanshan%2Fmatters%2Fibr%2Fapply"
    assert (await browser.get("/me")).headers["location"] == "/login?next=%2Fme"


async def test_the_form_refuses_a_post_without_its_csrf_field(browser: Browser) -> None:
    await browser.sign_in()
    page = await browser.get(APPLY)
    fields = {**ibr_form(), "idem": idem_of(page.text), "csrf": "forged"}
    r = await browser.post(APPLY, fields, files={"material.id_proof": ("id.png", PNG)})
    assert r.status_code == 403
    assert "受理编号" not in (await browser.get("/me")).text and "我的办件" in r.text


async def test_a_double_submit_files_once(browser: Browser) -> None:
    await browser.sign_in()
    page = await browser.get(APPLY)
    fields = {**ibr_form(), "idem": idem_of(page.text)}
    csrf = browser.csrf
    first = await browser.post(APPLY, {**fields, "csrf": csrf})
    second = await browser.post(APPLY, {**fields, "csrf": csrf})
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert (await browser.get("/me")).text.count('href="/me/applications/') == 1


async def test_errors_come_back_beside_their_fields_with_the_answers(browser: Browser) -> None:
    await browser.sign_in()
    page = await browser.get(FOOD)
    fields = {
        "idem": idem_of(page.text),
        "mobile_phone": "12345",
        "enterprise_name": "南山小馆",
    }
    files = {"material.food_license_application": ("a.png", PNG)}  # PDF only
    r = await browser.post(FOOD, fields, files=files)
    assert r.status_code == 422
    assert re.search(r'id="f-mobile_phone-error">.*?手机号', r.text, re.S)
    assert 'id="f-material-food_license_application-error"' in r.text
    assert "可上传 PDF，单个文件不超过 10 MB" in r.text
    assert 'value="南山小馆"' in r.text  # kept
    assert 'href="#f-mobile_phone"' in r.text  # the summary links to the field
    assert "已选择的文件需要重新选择" in r.text
    assert "受理编号" not in (await browser.get("/me")).text


async def test_rows_are_added_and_removed_by_the_server(browser: Browser) -> None:
    await browser.sign_in()
    page = await browser.get(APPLY)
    fields = {**ibr_form(organization_form="2"), "idem": idem_of(page.text)}
    r = await browser.post(APPLY, {**fields, "_action": "add:members"})
    assert r.status_code == 200 and 'name="members[0].person_name"' in r.text
    assert 'class="error"' not in r.text  # changing the form reports no errors
    rows = {"members.rows": "2", "members[0].person_name": "甲", "members[1].person_name": "乙"}
    r = await browser.post(APPLY, {**fields, **rows, "_action": "remove:members:0"})
    assert 'value="乙"' in r.text and 'value="甲"' not in r.text


async def test_conditions_are_the_servers(browser: Browser) -> None:
    def verdict(r: Any) -> dict[str, list[str]]:
        detail: dict[str, list[str]] = json.loads(r.headers["hx-trigger"])["govstd:conditions"]
        return detail

    r = await browser.client.post(f"{APPLY}/conditions", data={"agent_used": "false"})
    assert {"agent_id_number", "material.authorization", "members"} <= set(verdict(r)["hidden"])
    assert "agent_name" not in verdict(r)["required"]
    r = await browser.client.post(
        f"{APPLY}/conditions", data={"agent_used": "true", "organization_form": "2"}
    )
    assert not {"agent_id_number", "members"} & set(verdict(r)["hidden"])
    assert "agent_name" in verdict(r)["required"]


async def test_correction_withdraw_and_rating(browser: Browser) -> None:
    await browser.sign_in("applicant", "citizen-1")
    app_id = await file_ibr(browser)
    officer = {"Authorization": f"Bearer {browser.token('officer', 'officer-1')}"}
    r = await browser.client.post(
        f"/api/applications/{app_id}/actions/request_supplement",
        json={"reason": "请补充租赁合同"},
        headers=officer,
    )
    assert r.status_code == 200, r.text
    page = await browser.get(f"/me/applications/{app_id}")
    assert "请补充租赁合同" in page.text and f"/me/applications/{app_id}/correct" in page.text
    form = await browser.get(f"/me/applications/{app_id}/correct")
    assert f'value="{ID_A}"' in form.text  # the data as filed
    r = await browser.post(
        f"/me/applications/{app_id}/correct",
        {**ibr_form(mobile_phone="13900000000")},
        files={"material.lease_contract": ("lease.pdf", PDF)},
    )
    assert r.status_code == 303, r.text
    detail = (await browser.get(f"/me/applications/{app_id}")).text
    assert "13900000000" in detail and "已申请" in detail
    download = await browser.client.get(f"/me/applications/{app_id}/materials/lease_contract")
    assert download.status_code == 200 and download.content == PDF

    r = await browser.post(f"/me/applications/{app_id}/evaluation", {"score": "4"})
    assert r.status_code == 409  # not final yet
    r = await browser.post(f"/me/applications/{app_id}/actions/withdraw")
    assert r.status_code == 303
    page = await browser.get(f"/me/applications/{app_id}")
    assert "已撤回" in page.text and "提交评价" in page.text
    r = await browser.post(f"/me/applications/{app_id}/evaluation", {"score": "4"})
    assert r.status_code == 303
    assert "您的评价：4 分" in (await browser.get(f"/me/applications/{app_id}")).text
    r = await browser.post(f"/me/applications/{app_id}/evaluation", {"score": "5"})
    assert r.status_code == 409 and "该申请已评价" in r.text


async def test_guide_of_an_unknown_matter_is_a_page_not_json(browser: Browser) -> None:
    r = await browser.get("/regions/nanshan/matters/nothing", headers={"Accept": "text/html"})
    assert r.status_code == 404 and "<h1>" in r.text
    r = await browser.get("/regions/nowhere")
    assert r.status_code == 404 and "<h1>" in r.text


async def test_files_chosen_on_a_page_are_encrypted_at_rest(browser: Browser) -> None:
    """Pages store material files as the API does: encrypted, decrypted on download."""
    await browser.sign_in("applicant", "citizen-1")
    app_id = await file_ibr(browser)  # with id_proof
    r = await browser.post(
        f"/me/applications/{app_id}/materials/lease_contract", files={"file": ("l.pdf", PDF)}
    )
    assert r.status_code == 303, r.text
    stored = [p.read_bytes() for p in browser.settings.upload_dir.rglob("*") if p.is_file()]
    assert len(stored) == 2
    assert not [b for b in stored if PNG[:8] in b or PDF[:8] in b or b"x" * 32 in b]
    officer = {"Authorization": f"Bearer {browser.token('officer', 'officer-1')}"}
    for material, content in (("id_proof", PNG), ("lease_contract", PDF)):
        page = await browser.client.get(f"/me/applications/{app_id}/materials/{material}")
        assert page.status_code == 200 and page.content == content
        api = await browser.client.get(
            f"/api/applications/{app_id}/materials/{material}", headers=officer
        )
        assert api.status_code == 200 and api.content == content


async def test_page_forms_have_a_size_limit(browser: Browser) -> None:
    big = {"agent_used": "x" * (1024 * 1024 + 1)}
    r = await browser.client.post(f"{APPLY}/conditions", data=big)
    assert r.status_code == 413 and "<h1>" in r.text
    await browser.get("/login")
    r = await browser.post("/login", {"token": "x" * (1024 * 1024 + 1)})
    assert r.status_code == 413


async def test_hall_search_by_name_and_pinyin(browser: Browser) -> None:
    for query in ("个体", "gtgsh", "getigongshanghu", "individual"):
        page = await browser.get("/regions/nanshan", params={"q": query})
        assert "找到 1 个事项" in page.text and "个体工商户设立登记" in page.text, query
    page = await browser.get("/regions/nanshan", params={"q": "zzzz"})
    assert "没有找到符合条件的事项" in page.text
    legal = await browser.get("/regions/nanshan", params={"object": "legal"})
    assert "食品经营许可</a>" in legal.text and "失业登记</a>" not in legal.text


async def test_an_unexpected_error_is_a_plain_page(
    browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> str:
        raise RuntimeError(f"secret {ID_A}")

    monkeypatch.setattr("runtime.web.hall.code_name", broken)
    r = await browser.get("/regions/nanshan")
    assert r.status_code == 500 and "服务器内部错误" in r.text and "<h1>" in r.text
    assert ID_A not in r.text and "RuntimeError" not in r.text


async def test_english_pages_use_english_punctuation(browser: Browser) -> None:
    hall = await browser.get("/regions/nanshan?lang=en")
    assert "Enterprise legal person, Unincorporated enterprise" in hall.text
    assert "、" not in hall.text and "：" not in hall.text
    guide = await browser.get("/regions/nanshan/matters/food_business_license?lang=en")
    assert "Online, At the counter, By post" in guide.text and "、" not in guide.text


async def test_units_are_shown_in_the_pages_language(browser: Browser) -> None:
    await browser.sign_in("applicant", "citizen-units")
    zh = await browser.get(APPLY + "?lang=zh")
    assert "平方米" in zh.text and "万元" in zh.text
    en = await browser.get(APPLY + "?lang=en")
    assert "m²" in en.text and "10,000 yuan" in en.text
    for unit in ("平方米", "万元", "（人）"):
        assert unit not in en.text
