"""A citizen in a real browser: hall → guide → form → filed → 我的办件, with and without
JavaScript, in Chinese and English, on a desk and a phone; axe on the pages."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import Server, axe_violations, fits_a_phone, screenshot, sign_in
from tests.helpers import ID_A, ID_B

ID_A_WRONG = "440305199003070015"  # wrong check digit
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
APPLY = "/regions/nanshan/matters/ibr/apply"


def png(name: str = "id.png") -> dict[str, Any]:
    return {"name": name, "mimeType": "image/png", "buffer": PNG}


def fill_ibr(page: Any, id_number: str) -> None:
    """The 个体工商户登记 form's required answers (sole trader, no agent)."""
    page.fill("#f-citizen_id_number", id_number)
    page.fill("#f-mobile_phone", "13812345678")
    page.fill("#f-residence_address", "深圳市南山区桃园路 1 号")
    page.check("#f-organization_form")
    page.fill("#f-business_scope", "零售：日用百货")
    page.fill("#f-business_address", "深圳市南山区南头街 8 号")
    page.select_option("#f-business_division", "440305")
    page.check("#f-premises_ownership")
    page.fill("#f-registered_capital", "5")
    page.fill("#f-employees", "2")
    page.check("#f-agent_used-false")


def test_hall_guide_form_errors_conditions_rows_upload_and_filing(page: Any) -> None:
    sign_in(page, "applicant", "citizen-1", name="张三", id_number=ID_A, next="/")
    page.get_by_role("link", name="深圳市南山区").click()
    assert page.locator("h1").inner_text() == "深圳市南山区服务大厅"
    assert page.get_by_role("heading", name="行政许可").is_visible()
    assert page.get_by_role("heading", name="一件事一次办").is_visible()
    assert axe_violations(page) == []
    screenshot(page, "hall-desk")

    page.fill("#q", "个体")
    page.press("#q", "Enter")
    assert page.get_by_text("找到 1 个事项").is_visible()
    page.get_by_role("link", name="个体工商户设立登记").first.click()
    assert page.get_by_role("heading", name="申请材料").is_visible()
    assert page.get_by_text("承诺办结时限").is_visible()
    assert axe_violations(page) == []
    screenshot(page, "guide-desk")

    page.get_by_role("link", name="在线办理").first.click()
    assert page.input_value("#f-person_name") == "张三"  # prefilled from the identity
    assert page.input_value("#f-citizen_id_number") == ID_A
    fill_ibr(page, ID_A_WRONG)

    # a condition revealing a field: asked of the server as the answer changes
    agent_id = page.locator("#f-agent_id_number")
    assert agent_id.is_hidden()
    page.check("#f-agent_used")
    agent_id.wait_for(state="visible")
    assert page.locator("#f-material-authorization").is_visible()  # its material too
    page.check("#f-agent_used-false")
    agent_id.wait_for(state="hidden")

    # a repeating group shown by a condition, a row added with 添加
    page.check("#f-organization_form-2")
    page.get_by_role("button", name="添加").wait_for(state="visible")
    page.get_by_role("button", name="添加").click()
    member = page.locator("#f-members-0-person_name")
    member.wait_for(state="visible")
    page.wait_for_function("document.activeElement.id === 'f-members-0-person_name'")
    member.fill("张小三")
    page.fill("#f-members-0-citizen_id_number", ID_B)
    page.select_option("#f-members-0-kinship", index=1)
    page.fill("#f-employees", "3")
    page.set_input_files("#f-material-id_proof", png())

    page.get_by_role("button", name="提交申请").click()
    error = page.locator("#f-citizen_id_number-error")
    assert "校验" in error.inner_text()  # beside the field
    summary = page.locator("#error-summary")
    assert summary.is_visible() and "校验" in summary.inner_text()
    assert page.input_value("#f-mobile_phone") == "13812345678"  # answers kept
    assert page.input_value("#f-members-0-person_name") == "张小三"
    assert axe_violations(page) == []
    screenshot(page, "form-errors-desk")

    page.fill("#f-citizen_id_number", ID_A)
    page.set_input_files("#f-material-id_proof", png())
    page.get_by_role("button", name="提交申请").click()
    number = page.locator("#number").inner_text()
    assert re.fullmatch(r"440305-\d{8}-\d{6}", number)
    assert page.get_by_text(re.compile("承诺办结时间|即办件")).is_visible()
    assert axe_violations(page) == []
    screenshot(page, "filed-desk")

    # 我的办件: the application, its uploaded material, withdrawing, rating
    page.get_by_role("link", name="我的办件").first.click()
    assert axe_violations(page) == []
    screenshot(page, "me-desk")
    page.get_by_role("link", name=number).click()
    assert page.get_by_text("已上传").first.is_visible()
    assert page.get_by_text("提交申请").first.is_visible()  # history by name
    screenshot(page, "application-desk")
    page.locator("form[action$='/actions/withdraw'] button").click()
    assert page.get_by_text("已撤回").first.is_visible()
    page.get_by_role("button", name="提交评价").click()
    assert page.get_by_text("您的评价：5 分").is_visible()
    assert axe_violations(page) == []


def test_form_files_without_javascript(plain_page: Any, server: Server) -> None:
    sign_in(plain_page, "applicant", "citizen-2", name="李四", id_number=ID_A, next=APPLY)
    fill_ibr(plain_page, ID_A)
    plain_page.check("#f-agent_used")
    assert plain_page.locator("#f-agent_id_number").is_hidden()  # no script: not yet
    plain_page.get_by_role("button", name="根据已填内容更新表单").click()
    assert plain_page.locator("#f-agent_id_number").is_visible()  # the server redrew it
    plain_page.fill("#f-agent_name", "王五")
    plain_page.fill("#f-agent_id_number", ID_B)
    plain_page.set_input_files("#f-material-lease_contract", png("lease.png"))
    plain_page.get_by_role("button", name="提交申请").click()
    assert re.fullmatch(r"440305-\d{8}-\d{6}", plain_page.locator("#number").inner_text())


def test_english_pages(page: Any) -> None:
    page.goto("/regions/nanshan?lang=en")
    assert "service hall" in page.locator("h1").inner_text()
    page.get_by_role("link", name="Individual business registration").first.click()
    assert page.get_by_role("heading", name="Materials").is_visible()
    sign_in(page, "applicant", "citizen-3", next=APPLY)
    assert page.get_by_text("Operator's name").is_visible()
    assert page.get_by_role("button", name="Submit application").is_visible()


def test_phone_layout(phone_page: Any) -> None:
    for path, name in (
        ("/regions/nanshan", "hall-phone"),
        ("/regions/nanshan/matters/food_business_license", "guide-phone"),
    ):
        phone_page.goto(path)
        assert fits_a_phone(phone_page)
        screenshot(phone_page, name)
    sign_in(phone_page, "applicant", "citizen-4", name="赵六", id_number=ID_A, next=APPLY)
    assert fits_a_phone(phone_page)
    assert axe_violations(phone_page) == []
    screenshot(phone_page, "form-phone")
