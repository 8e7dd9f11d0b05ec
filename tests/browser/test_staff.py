"""Staff in a real browser: a window officer accepts a case through the workbench, a
supervisor reads the statistics; axe on the queue, case and statistics pages; desk and
phone screenshots."""

from __future__ import annotations

import re
from typing import Any

import httpx

from runtime.auth import issue_token
from tests.browser.conftest import Server, axe_violations, fits_a_phone, screenshot, sign_in
from tests.helpers import FOOD_FILES, IBR_FILES, ID_A, food_data, ibr_data

PDF = b"%PDF-1.4\n" + b"x" * 64


def applicant(server: Server) -> dict[str, str]:
    token = issue_token(server.settings, role="applicant", sub="citizen-staff-test")
    return {"Authorization": f"Bearer {token}"}


def file_case(server: Server, matter: str, data: dict[str, Any], files: tuple[str, ...]) -> str:
    """A case filed (and its files handed in) through the API; its id."""
    h = applicant(server)
    with httpx.Client(base_url=server.url, headers=h, timeout=10) as client:
        r = client.post(
            f"/api/matters/{matter}/applications", json={"region": "nanshan", "data": data}
        )
        assert r.status_code == 201, r.text
        app_id = str(r.json()["id"])
        for material in files:
            put = client.put(
                f"/api/applications/{app_id}/materials/{material}",
                files={"file": ("scan.pdf", PDF)},
            )
            assert put.status_code == 201, put.text
    return app_id


def officer_step(server: Server, app_id: str, step: str, role: str = "officer") -> None:
    token = issue_token(server.settings, role=role, sub=f"{role}-api", region="nanshan")
    r = httpx.post(
        f"{server.url}/api/applications/{app_id}/actions/{step}",
        json={},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text


def test_officer_accepts_a_case_through_the_workbench(page: Any, server: Server) -> None:
    app_id = file_case(server, "ibr", ibr_data(), IBR_FILES)
    other = file_case(server, "food_business_license", food_data(), FOOD_FILES)
    officer_step(server, other, "accept")
    sign_in(page, "officer", "officer-7", name="王窗口", region="nanshan")
    assert page.locator("h1").inner_text().startswith("工作台")
    assert page.get_by_role("link", name=re.compile(r"待受理\s*1")).is_visible()
    assert axe_violations(page) == []
    screenshot(page, "staff-queue-desk")

    page.get_by_role("link", name=re.compile(r"待受理")).click()
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 1
    rows.first.get_by_role("link").click()
    assert page.get_by_role("heading", name="办理操作").is_visible()
    assert ID_A not in page.content()  # masked
    assert page.get_by_role("button", name="不予受理").is_visible()
    assert axe_violations(page) == []
    screenshot(page, "staff-case-desk")

    # 不予受理 without a reason: the browser asks for it before anything is sent
    page.get_by_role("button", name="不予受理").click()
    assert page.evaluate("document.activeElement.id") == "reason-refuse"
    page.get_by_role("button", name="受理", exact=True).click()
    assert page.get_by_text("已办理：受理。").is_visible()
    history = page.locator("section[aria-labelledby=history-h]")
    assert history.get_by_text("受理", exact=True).is_visible()
    assert history.get_by_text("提交申请").is_visible()
    assert page.get_by_role("button", name="启动特别程序").is_visible()  # the next steps
    assert axe_violations(page) == []

    # reveal: a reason, then the values once
    page.fill("#reveal-reason", "核对身份证明材料")
    page.get_by_role("button", name="查看敏感信息原文").click()
    assert page.get_by_text(ID_A).is_visible()
    assert app_id in page.url


def test_supervisor_reads_the_statistics(page: Any, server: Server) -> None:
    done = file_case(server, "ibr", ibr_data(), IBR_FILES)
    officer_step(server, done, "accept")
    officer_step(server, done, "approve", role="approver")
    rated = httpx.post(
        f"{server.url}/api/applications/{done}/evaluation",
        json={"score": 5},
        headers=applicant(server),
        timeout=10,
    )
    assert rated.status_code == 201, rated.text
    sign_in(page, "supervisor", "sup-7", name="赵监督", region="nanshan", next="/staff/stats")
    assert page.locator("h1").inner_text().startswith("统计分析")
    chart = page.get_by_role("img", name=re.compile("按事项"))
    assert chart.is_visible()
    assert page.locator("#chart-matter-desc").count() == 1
    assert "非常满意 1" in page.locator("#chart-score-desc").text_content()
    page.get_by_text("以表格查看数据").first.click()
    assert page.get_by_role("table", name="办理阶段").is_visible()
    assert axe_violations(page) == []
    screenshot(page, "staff-stats-desk")
    page.get_by_role("link", name="English").click()
    assert page.get_by_role("heading", name="By service").is_visible()


def test_workbench_on_a_phone(phone_page: Any, server: Server) -> None:
    app_id = file_case(server, "ibr", ibr_data(), ("id_proof",))
    sign_in(phone_page, "officer", "officer-8", name="钱窗口", region="nanshan")
    assert fits_a_phone(phone_page)
    screenshot(phone_page, "staff-queue-phone")
    phone_page.goto(f"/staff/cases/{app_id}")
    assert phone_page.get_by_text("缺").first.is_visible()
    assert fits_a_phone(phone_page)
    assert axe_violations(phone_page) == []
    screenshot(phone_page, "staff-case-phone")
    sign_in(phone_page, "supervisor", "sup-8", region="nanshan", next="/staff/stats")
    assert fits_a_phone(phone_page)
    screenshot(phone_page, "staff-stats-phone")
