"""一件事 and 惠企政策 in a real browser: the bundle guide, the combined form (errors, a
condition asked of the server, one upload for several members), the filing with every
member's number; policies matched with reasons, the profile saved, a claim filed; 精准送达
by the issuing region's staff; axe on each page, no script errors, desk and phone."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import Server, axe_violations, fits_a_phone, screenshot, sign_in
from tests.helpers import ID_A

PDF = b"%PDF-1.4\n" + b"x" * 64
GUIDE = "/regions/nanshan/bundles/open_restaurant"
POLICIES = "/regions/nanshan/policies"
NUMBER = re.compile(r"440305-\d{8}-\d{6}")


def pdf(name: str = "id.pdf") -> dict[str, Any]:
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


def fill_restaurant(page: Any) -> None:
    """The combined form's answers (sole trader, no agent), the enterprise name left out."""
    page.fill("#f-mobile_phone", "13812345678")
    page.fill("#f-residence_address", "深圳市南山区桃园路 1 号")
    page.check("#f-organization_form")
    page.fill("#f-business_scope", "餐饮服务")
    page.fill("#f-business_address", "深圳市南山区南头街 8 号")
    page.select_option("#f-business_division", "440305")
    page.check("#f-premises_ownership-2")
    page.fill("#f-operating_area", "80")
    page.fill("#f-registered_capital", "5")
    page.fill("#f-employees", "2")
    page.check("#f-food_business_type-2")
    page.check("#f-food_business_items-5")
    page.check("#f-online_food_sales-false")
    page.fill("#f-food_safety_manager_name", "王五")
    page.check("#f-agent_used-false")
    page.check("#f-delivery_method")
    page.select_option("#f-public_place_category", "09")
    page.fill("#f-health_certified_staff", "2")
    page.check("#f-uses_central_ac-false")


def test_a_bundle_filed_through_the_combined_form(page: Any) -> None:
    sign_in(page, "applicant", "shop-1", name="张三", id_number=ID_A, next="/regions/nanshan")
    page.get_by_role("link", name="开餐馆一件事").click()
    assert page.get_by_role("heading", name="包含的事项").is_visible()
    assert page.get_by_role("link", name="食品经营许可").is_visible()  # to the member's guide
    assert page.get_by_text("多个事项都需要的材料只需上传一次").first.is_visible()
    assert axe_violations(page) == []
    screenshot(page, "bundle-guide-desk")

    page.get_by_role("link", name="一次办理全部事项").first.click()
    assert page.input_value("#f-person_name") == "张三"  # prefilled from the identity
    fill_restaurant(page)
    # a condition of one member, asked of the server: the agent's fields and material
    agent_id = page.locator("#f-agent_id_number")
    assert agent_id.is_hidden()
    page.check("#f-agent_used")
    agent_id.wait_for(state="visible")
    assert page.locator("#f-material-authorization").is_visible()
    page.check("#f-agent_used-false")
    agent_id.wait_for(state="hidden")

    page.get_by_role("button", name="提交申请").click()
    error = page.locator("#f-enterprise_name-error")
    assert error.is_visible()  # beside the field
    assert page.locator("#error-summary").is_visible()
    assert page.input_value("#f-food_safety_manager_name") == "王五"  # answers kept
    assert axe_violations(page) == []
    screenshot(page, "bundle-form-desk")

    page.fill("#f-enterprise_name", "南山小馆")
    page.set_input_files("#f-material-id_proof", pdf())  # asked by all three: once
    page.get_by_role("button", name="提交申请").click()
    page.get_by_role("heading", name="各事项受理编号与办理时限").wait_for()
    numbers = page.locator("a.number").all_inner_texts()
    assert len(numbers) == 3 and all(NUMBER.fullmatch(n) for n in numbers)
    assert axe_violations(page) == []
    screenshot(page, "bundle-filed-desk")

    page.get_by_role("link", name="我的办件").first.click()
    item = page.locator(".bundle-filing")
    assert item.count() == 1 and item.locator(".member-status li").count() == 3


def fill_profile(page: Any) -> None:
    page.check("#f-service_object-2")
    page.select_option("#f-industry_code", "H")
    page.check("#f-enterprise_scale-4")
    page.fill("#f-established_date", "2025-06-01")
    page.fill("#f-established_days", "274")
    page.fill("#f-insured_employees", "3")


def test_policies_matched_with_reasons_then_claimed(page: Any) -> None:
    sign_in(page, "applicant", "firm-1", name="李四", id_number=ID_A, next=POLICIES)
    fill_profile(page)  # employees left blank: undecided, never "no"
    page.fill("#f-enterprise_name", "南山小馆")
    page.get_by_role("button", name="匹配政策").click()
    card = page.locator("#policy-startup_subsidy_2026")
    assert card.get_by_text("未确定").is_visible()
    assert card.get_by_text("信息不全，尚不能确定").is_visible()

    page.fill("#f-employees", "5")
    page.get_by_role("button", name="保存并匹配").click()
    assert page.get_by_text("企业信息已保存").is_visible()
    card = page.locator("#policy-startup_subsidy_2026")
    assert card.get_by_text("符合条件").first.is_visible()
    assert card.locator(".conditions li").count() == 2
    assert axe_violations(page) == []
    screenshot(page, "policies-desk")

    card.get_by_role("link", name=re.compile("在线申领")).click()
    assert page.get_by_text("申领政策：一次性创业补贴").is_visible()
    assert page.input_value("#f-enterprise_name") == "南山小馆"  # from the saved profile
    assert page.input_value("#f-insured_employees") == "3"
    page.fill("#f-mobile_phone", "13812345678")
    page.select_option("#f-entrepreneur_category", "2")
    page.fill("#f-unified_social_credit_code", "914403001318609160")
    page.fill("#f-bank_account_name", "南山小馆")
    page.fill("#f-bank_name", "中国银行深圳南山支行")
    page.fill("#f-bank_account", "6217000000000001")
    page.fill("#f-subsidy_amount", "10000")
    page.check("#f-previously_subsidized-false")
    page.get_by_role("button", name="提交申请").click()
    assert NUMBER.fullmatch(page.locator("#number").inner_text())
    assert axe_violations(page) == []


def test_staff_deliver_and_the_applicant_reads(browser: Any, server: Server, page: Any) -> None:
    sign_in(page, "applicant", "firm-2", name="王五", id_number=ID_A, next=POLICIES)
    fill_profile(page)
    page.fill("#f-employees", "4")
    page.get_by_role("button", name="保存并匹配").click()
    assert page.get_by_text("企业信息已保存").is_visible()

    sign_in(page, "officer", "officer-9", name="陈官", region="nanshan", next="/staff/policies")
    row = page.locator("#policy-stats tr", has_text="一次性创业补贴")
    row.get_by_role("button", name=re.compile("精准送达")).click()
    assert page.get_by_text(re.compile("新送达 [1-9]")).is_visible()
    assert axe_violations(page) == []
    screenshot(page, "staff-policies-desk")

    sign_in(page, "applicant", "firm-2", name="王五", id_number=ID_A, next=POLICIES)
    assert page.get_by_role("heading", name=re.compile("政策推送")).is_visible()
    assert page.get_by_text("1 条未读").is_visible()
    page.get_by_role("button", name=re.compile("标为已读")).click()
    assert page.locator("#notifications").get_by_text("已读").is_visible()
    assert page.get_by_text("条未读").count() == 0


def test_phone_layout_of_the_new_pages(phone_page: Any) -> None:
    for path, name in ((GUIDE, "bundle-guide-phone"), (POLICIES, "policies-phone")):
        phone_page.goto(path)
        assert fits_a_phone(phone_page)
        assert axe_violations(phone_page) == []
        screenshot(phone_page, name)
    sign_in(phone_page, "applicant", "shop-9", name="赵六", id_number=ID_A, next=GUIDE + "/apply")
    assert fits_a_phone(phone_page)
    assert axe_violations(phone_page) == []
    screenshot(phone_page, "bundle-form-phone")


def test_english_bundle_and_policy_pages(page: Any) -> None:
    page.goto(GUIDE + "?lang=en")
    assert page.get_by_role("heading", name="Services included").is_visible()
    page.goto(POLICIES + "?lang=en")
    assert page.get_by_role("heading", name="Policies in force").is_visible()
    assert page.get_by_role("button", name="Match policies").is_visible()


def test_a_bundle_filed_without_javascript(plain_page: Any, server: Server) -> None:
    sign_in(plain_page, "applicant", "shop-5", name="钱七", id_number=ID_A, next=GUIDE + "/apply")
    fill_restaurant(plain_page)
    plain_page.fill("#f-enterprise_name", "南山小馆")
    plain_page.check("#f-agent_used")
    assert plain_page.locator("#f-agent_id_number").is_hidden()  # no script: not yet
    plain_page.get_by_role("button", name="根据已填内容更新表单").click()
    assert plain_page.locator("#f-agent_id_number").is_visible()  # the server redrew it
    plain_page.fill("#f-agent_name", "孙八")
    plain_page.fill("#f-agent_id_number", "310115197806150038")
    plain_page.set_input_files("#f-material-authorization", pdf("power.pdf"))
    plain_page.get_by_role("button", name="提交申请").click()
    numbers = plain_page.locator("a.number").all_inner_texts()
    assert len(numbers) == 3 and all(NUMBER.fullmatch(n) for n in numbers)
