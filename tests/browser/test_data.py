"""The data system's pages in a real browser: 数据资源目录 searched by a citizen, 数据质量
read by a supervisor (an ID number given with two names found, worst element first); axe
on each page, no script errors, desk and phone."""

from __future__ import annotations

from typing import Any

import httpx

from runtime.auth import issue_token
from tests.browser.conftest import PHONE, Server, axe_violations, screenshot, sign_in
from tests.helpers import food_data


def _file(server: Server, sub: str, **data: Any) -> None:
    token = issue_token(server.settings, role="applicant", sub=sub)
    r = httpx.post(
        f"{server.url}/api/matters/food_business_license/applications",
        json={"region": "nanshan", "data": food_data(**data)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code == 201, r.text


def test_the_catalogue_searched(page: Any) -> None:
    page.goto("/regions/nanshan")
    page.get_by_role("link", name="政务数据资源目录").click()
    assert page.get_by_role("heading", name="南山区政务数据资源目录").is_visible()
    page.fill("#cat-q", "食品经营")
    page.get_by_role("button", name="搜索").click()
    assert page.get_by_text("共 1 个数据资源").is_visible()
    food = page.get_by_role("region", name="食品经营许可申请书")
    assert food.get_by_text("提供方：深圳市市场监督管理局").is_visible()
    row = food.get_by_role("row").filter(has_text="citizen_id_number")
    assert row.get_by_text("有条件共享").is_visible()
    assert food.get_by_role("row").filter(has_text="市场主体名称").get_by_text("无条件共享").count()
    assert axe_violations(page) == []
    screenshot(page, "catalogue-desk")
    page.set_viewport_size(PHONE)
    assert row.get_by_text("有条件共享").is_visible()
    screenshot(page, "catalogue-phone")


def test_a_supervisor_reads_the_data_quality(page: Any, server: Server) -> None:
    _file(server, "q-1")
    _file(server, "q-2", person_name="王二")  # the same ID number, another name
    sign_in(page, "supervisor", "sup-1", region="nanshan", next="/staff/data-quality")
    assert page.get_by_role("heading", name="数据质量", exact=True).is_visible()
    first = page.get_by_role("row").nth(1)
    assert "公民身份号码" in first.inner_text()  # the worst element first
    examples = page.get_by_role("region", name="一号多名的记录")
    assert examples.get_by_text("4403**********0014").is_visible()
    assert page.get_by_text("王二").count() == 0  # names masked
    assert axe_violations(page) == []
    screenshot(page, "staff-quality-desk")
    page.set_viewport_size(PHONE)
    screenshot(page, "staff-quality-phone")
