"""一件事 and 惠企政策 pages over HTTP: the bundle guide and combined form (access, CSRF,
errors beside the combined form's fields, filing every member, a shared material stored
once for each member asking it), /me's bundle item, policies matched with reasons,
profiles stored, claims (409 not eligible as a message), 送达 and its statistics."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from runtime.package import load_package
from tests.helpers import (
    ID_A,
    PDF,
    RESTAURANT_BUNDLE,
    RESTAURANT_GUIDE,
    Browser,
    claim_data,
    idem_of,
    profile_data,
    query,
    restaurant_form,
)

pytestmark = pytest.mark.anyio

POLICIES = "/regions/nanshan/policies"
CLAIM = POLICIES + "/startup_subsidy_2026/claim"
MEMBERS = ["个体工商户设立登记", "食品经营许可", "公共场所卫生许可"]


async def test_bundle_guide_lists_members_materials_and_limits(browser: Browser) -> None:
    r = await browser.get(RESTAURANT_GUIDE)
    assert r.status_code == 200
    for matter in ("ibr", "food_business_license", "public_place_health_license"):
        assert f'href="/regions/nanshan/matters/{matter}"' in r.text
    assert "身份证明" in r.text or "id_proof" not in r.text
    assert "多个事项都需要的材料只需上传一次" in r.text
    assert f'href="{RESTAURANT_BUNDLE}"' in r.text
    en = await browser.get(RESTAURANT_GUIDE + "?lang=en")
    assert "Apply for all at once" in en.text and "一次办理全部事项" not in en.text
    hall = await browser.get("/regions/nanshan")
    assert f'href="{RESTAURANT_GUIDE}"' in hall.text and f'href="{POLICIES}"' in hall.text
    assert (await browser.get("/regions/nanshan/bundles/nope")).status_code == 404


async def test_combined_form_needs_an_applicant_and_its_csrf(browser: Browser) -> None:
    r = await browser.get(RESTAURANT_BUNDLE)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    await browser.sign_in("officer", "officer-1")
    assert (await browser.get(RESTAURANT_BUNDLE)).status_code == 403
    await browser.sign_in("applicant", "shop-a", id_number=ID_A)
    page = await browser.get(RESTAURANT_BUNDLE)
    assert page.status_code == 200
    fields = {**restaurant_form(), "idem": idem_of(page.text), "csrf": "forged"}
    r = await browser.post(RESTAURANT_BUNDLE, fields, files={"material.id_proof": ("id.pdf", PDF)})
    assert r.status_code == 403
    assert "/me/bundles/" not in (await browser.get("/me")).text  # nothing filed


async def test_combined_form_errors_beside_fields_and_nothing_filed(browser: Browser) -> None:
    await browser.sign_in("applicant", "shop-a", id_number=ID_A)
    page = await browser.get(RESTAURANT_BUNDLE)
    # the combined form: every member's sections, a field asked by several members once
    assert page.text.count('name="enterprise_name"') == 1
    assert 'name="public_place_category"' in page.text and 'name="food_business_type"' in page.text
    fields = {
        **restaurant_form(enterprise_name=None, health_certified_staff="many"),
        "idem": idem_of(page.text),
    }
    r = await browser.post(RESTAURANT_BUNDLE, fields)
    assert r.status_code == 422
    assert 'id="f-enterprise_name-error"' in r.text
    assert 'id="f-health_certified_staff-error"' in r.text
    assert 'href="#f-enterprise_name"' in r.text  # the summary links to the field
    assert 'value="王五"' in r.text and 'value="many"' in r.text  # answers kept
    assert "重新选择" not in r.text  # no file was chosen: none to choose again
    assert "/me/bundles/" not in (await browser.get("/me")).text


async def test_filing_a_bundle_files_every_member_and_shares_a_material(
    browser: Browser, db_url: str, package_dir: Any
) -> None:
    await browser.sign_in("applicant", "shop-a", id_number=ID_A)
    page = await browser.get(RESTAURANT_BUNDLE)
    fields = {**restaurant_form(), "idem": idem_of(page.text)}
    r = await browser.post(RESTAURANT_BUNDLE, fields, files={"material.id_proof": ("id.pdf", PDF)})
    assert r.status_code == 303, r.text
    found = re.fullmatch(r"/me/bundles/([0-9a-f-]{36})", r.headers["location"])
    assert found
    filed = await browser.get(r.headers["location"])
    assert filed.status_code == 200
    numbers = re.findall(r'class="number" href="/me/applications/[^"]+">([^<]+)<', filed.text)
    assert len(numbers) == 3 and len(set(numbers)) == 3
    for name in MEMBERS:
        assert name in filed.text
    assert filed.text.count("承诺办结时间") >= 1 and "2026-03" in filed.text
    # the shared file is stored once, attached to each of the three members
    pkg = load_package(package_dir)
    mf = pkg.tables.material_files
    rows = query(db_url, select(mf).where(mf.c.material == "id_proof"))
    assert len(rows) == 3 and len({r.storage_name for r in rows}) == 1
    # /me: the filing as one item with each member's status
    me = await browser.get("/me")
    assert f'href="/me/bundles/{found.group(1)}"' in me.text
    assert me.text.count("待受理") >= 3 or me.text.count('class="tag') >= 3
    # a double submit of the same form files once
    again = await browser.post(
        RESTAURANT_BUNDLE, fields, files={"material.id_proof": ("id.pdf", PDF)}
    )
    assert again.headers["location"] == r.headers["location"]
    # another applicant sees nothing of it
    await browser.sign_in("applicant", "shop-b")
    assert (await browser.get(r.headers["location"])).status_code == 404


async def test_combined_form_conditions_are_the_members(browser: Browser) -> None:
    await browser.sign_in("applicant", "shop-a", id_number=ID_A)
    await browser.get(RESTAURANT_BUNDLE)
    r = await browser.post(RESTAURANT_BUNDLE + "/conditions", restaurant_form(agent_used="true"))
    assert r.status_code == 200
    detail = r.headers["HX-Trigger"]
    assert "agent_name" in detail and "material.authorization" not in detail.split("required")[0]
    r = await browser.post(RESTAURANT_BUNDLE + "/conditions", restaurant_form())
    assert "material.authorization" in r.headers["HX-Trigger"].split("required")[0]


def profile_form(**overrides: Any) -> dict[str, Any]:
    """:func:`profile_data` as a browser posts it (text); a field given as None left out."""
    fields = {k: str(v) for k, v in profile_data().items()} | overrides
    return {k: v for k, v in fields.items() if v is not None}


async def test_policies_match_with_reasons_for_anyone(browser: Browser) -> None:
    r = await browser.get(POLICIES)
    assert r.status_code == 200
    assert "一次性创业补贴" in r.text and "南山区人力资源局" in r.text and "最高 1 万元" in r.text
    assert "<li>从业人数 ≥ 3</li>" in r.text  # the conditions in words, before any match
    # a profile filled on the page, not stored: employees unanswered -> 未确定, never "no"
    r = await browser.post(POLICIES, {**profile_form(employees=None), "_action": "match"})
    assert r.status_code == 200
    card = r.text.split('id="policy-startup_subsidy_2026"', 1)[1].split("</li>\n  </ul>", 1)[0]
    assert "信息不全" in card
    verdicts = re.findall(r"</span> (符合|不符合|未确定)</span> ([^<]+)</li>", card)
    assert verdicts == [("未确定", "从业人数 ≥ 3"), ("符合", "成立天数 ≤ 1095")], card
    r = await browser.post(POLICIES, {**profile_form(employees="1"), "_action": "match"})
    card = r.text.split('id="policy-startup_subsidy_2026"', 1)[1]
    assert "不符合条件" in card.split("</h3>", 1)[1][:200]
    r = await browser.post(POLICIES, {**profile_form(), "_action": "match"})
    assert "您符合其中 1 项" in r.text
    # a value of the wrong type: 422 beside the field, answers kept
    r = await browser.post(POLICIES, {**profile_form(employees="many"), "_action": "match"})
    assert r.status_code == 422
    assert 'id="f-employees-error"' in r.text and 'value="many"' in r.text
    # no CSRF field: refused
    r = await browser.post(POLICIES, {**profile_form(), "_action": "match", "csrf": "x"})
    assert r.status_code == 403
    en = await browser.post(
        POLICIES + "?lang=en", {**profile_form(employees=None), "_action": "match"}
    )
    assert "Undecided" in en.text and "未确定" not in en.text


async def test_saving_a_profile_and_a_not_eligible_claim(browser: Browser) -> None:
    # signed out: saving sends to sign in
    await browser.get(POLICIES)
    r = await browser.post(POLICIES, {**profile_form(), "_action": "save"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    await browser.sign_in("applicant", "shop-a", id_number=ID_A)
    await browser.get(POLICIES)
    r = await browser.post(POLICIES, {**profile_form(employees="1"), "_action": "save"})
    assert r.status_code == 303
    stored = await browser.client.get(
        "/api/profile?form=enterprise_profile",
        headers={"Authorization": f"Bearer {browser.token('applicant', 'shop-a')}"},
    )
    assert stored.json()["data"]["employees"] == 1
    page = await browser.get(POLICIES + "?saved=1")
    assert "企业信息已保存" in page.text and 'value="1"' in page.text
    # not eligible (employees < 3): the claim is refused as a message on the policies page
    r = await browser.get(CLAIM)
    assert r.status_code == 409
    assert 'id="claim-refused"' in r.text and "一次性创业补贴" in r.text
    # a staff member cannot claim
    await browser.sign_in("officer", "officer-1")
    assert (await browser.get(CLAIM)).status_code == 403


async def test_claim_is_prefilled_and_files_the_apply_matter(
    browser: Browser, db_url: str, package_dir: Any
) -> None:
    await browser.sign_in("applicant", "shop-a", id_number=ID_A)
    await browser.get(POLICIES)
    await browser.post(POLICIES, {**profile_form(), "_action": "save"})
    form = await browser.get(CLAIM)
    assert form.status_code == 200
    assert "申领政策：一次性创业补贴" in form.text
    assert 'value="南山小馆"' in form.text  # from the stored profile
    claim = {
        "enterprise_name": "南山小馆",
        "unified_social_credit_code": "91440300MA5XXXXX0X",
        "idem": idem_of(form.text),
    }
    r = await browser.post(CLAIM, claim)
    assert r.status_code == 422  # what the profile lacks is asked beside its field
    assert 'class="error"' in r.text and "申领政策" in r.text
    full = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in claim_data().items()}
    full.update(enterprise_name="南山小馆", person_name="张三", citizen_id_number=ID_A)
    r = await browser.post(CLAIM, {**full, "idem": claim["idem"]})
    assert r.status_code == 303, r.text
    app_id = r.headers["location"].split("/")[3]
    api = await browser.client.get(
        f"/api/applications/{app_id}",
        headers={"Authorization": f"Bearer {browser.token('applicant', 'shop-a')}"},
    )
    assert api.json()["matter"] == "startup_subsidy"
    claims = load_package(package_dir).tables.policy_claims
    recorded = query(db_url, select(claims.c.application_id, claims.c.policy))
    assert [tuple(r) for r in recorded] == [(app_id, "startup_subsidy_2026")]
    # a second claim while the first is open: refused, as a message
    r = await browser.get(CLAIM)
    again = await browser.post(CLAIM, {**full, "idem": idem_of(r.text)})
    assert again.status_code == 409 and 'id="claim-refused"' in again.text


async def test_delivery_notifications_and_statistics(browser: Browser) -> None:
    await browser.sign_in("applicant", "shop-a", id_number=ID_A)
    await browser.get(POLICIES)
    await browser.post(POLICIES, {**profile_form(), "_action": "save"})
    # staff of the issuing region deliver; the figures follow
    await browser.sign_in("officer", "officer-1", region="nanshan")
    page = await browser.get("/staff/policies")
    assert page.status_code == 200 and "一次性创业补贴" in page.text
    target = "/staff/policies/startup_subsidy_2026/deliver"
    assert f'action="{target}"' in page.text
    assert (await browser.post(target, {"csrf": "forged"})).status_code == 403
    r = await browser.post(target, {})
    assert r.status_code == 200 and "新送达 1 家" in r.text
    r = await browser.post(target, {})
    assert "新送达 0 家" in r.text  # twice: notified once
    row = r.text.split("一次性创业补贴</th>", 1)[1].split("</tr>", 1)[0]
    assert re.findall(r">(\d+)<", row)[:2] == ["1", "1"]
    # the applicant sees it, unread, and marks it read
    await browser.sign_in("applicant", "shop-a", id_number=ID_A)
    me = await browser.get("/me")
    assert f'href="{POLICIES}#notifications">您有 1 条惠企政策推送未读' in me.text
    page = await browser.get(POLICIES)
    assert "政策推送" in page.text and "1 条未读" in page.text
    found = re.search(r'action="(/regions/nanshan/policies/notifications/\d+/read)"', page.text)
    assert found
    assert (await browser.post(found.group(1), {"csrf": "x"})).status_code == 403
    r = await browser.post(found.group(1), {})
    assert r.status_code == 303
    page = await browser.get(POLICIES)
    assert "条未读" not in page.text and "已读" in page.text
    assert 'id="policy-news"' not in (await browser.get("/me")).text
    # another applicant cannot mark it
    await browser.sign_in("applicant", "shop-b")
    await browser.get(POLICIES)
    assert (await browser.post(found.group(1), {})).status_code == 404
    # applicants see no statistics
    assert (await browser.get("/staff/policies")).status_code == 403


async def test_only_staff_of_an_issuing_region_deliver(browser: Browser) -> None:
    await browser.sign_in("officer", "officer-2", region="futian")  # not above 南山
    page = await browser.get("/staff/policies")
    assert page.status_code == 200
    assert 'action="/staff/policies/startup_subsidy_2026/deliver"' not in page.text
    await browser.get("/staff")
    r = await browser.post("/staff/policies/startup_subsidy_2026/deliver", {})
    assert r.status_code == 403
    assert (await browser.post("/staff/policies/nope/deliver", {})).status_code == 404


async def test_the_hall_lists_policies_in_force_only(browser: Browser, clock: Any) -> None:
    hall = await browser.get("/regions/nanshan")
    assert "一次性创业补贴" in hall.text and "有效期 2026-01-01 至 2026-12-31" in hall.text
    clock.set("2027-01-01T09:00")  # the policy ended on 2026-12-31 (China time)
    hall = await browser.get("/regions/nanshan")
    assert 'id="policies"' not in hall.text and f'href="{POLICIES}"' not in hall.text
    page = await browser.get(POLICIES)
    assert "本地区暂无有效政策" in page.text


async def test_english_pages_carry_no_chinese_punctuation(browser: Browser) -> None:
    pages = [RESTAURANT_GUIDE, POLICIES]
    for path in pages:
        r = await browser.get(path + "?lang=en")
        assert r.status_code == 200
        assert not re.search("[、：；。（）]", r.text), path
    await browser.sign_in("applicant", "shop-a", id_number=ID_A)
    r = await browser.get(RESTAURANT_BUNDLE + "?lang=en")
    assert "Combined application form" in r.text
    assert not re.search("[、：；。（）]", r.text)
    await browser.sign_in("officer", "officer-1", region="nanshan")
    r = await browser.get("/staff/policies?lang=en")
    assert "Policy supervision" in r.text and not re.search("[、：；。（）]", r.text)


def refusal_of(page: str) -> str:
    found = re.search(
        r'<div class="notice notice-warn" role="alert" id="claim-refused">(.*?)</div>', page, re.S
    )
    assert found, page
    return found.group(1)


async def test_a_claim_without_a_profile_says_so_and_names_the_policy(browser: Browser) -> None:
    await browser.sign_in("applicant", "shop-new", id_number=ID_A)
    r = await browser.get(CLAIM)
    assert r.status_code == 409
    said = refusal_of(r.text)
    assert "企业信息" in said and "一次性创业补贴" in said and 'href="#profile"' in said
    assert "startup_subsidy_2026" not in said and "不符合" not in said
    en = refusal_of((await browser.get(CLAIM + "?lang=en")).text)
    assert "enterprise details" in en and "One-off start-up subsidy" in en
    assert "startup_subsidy_2026" not in en
    # a saved profile that fails the conditions: not eligible, by the policy's name
    await browser.get(POLICIES + "?lang=zh")
    saved = await browser.post(POLICIES, {**profile_form(employees="1"), "_action": "save"})
    assert saved.status_code == 303
    said = refusal_of((await browser.get(CLAIM)).text)
    assert "不符合“一次性创业补贴”的申请条件" in said and "startup_subsidy_2026" not in said
