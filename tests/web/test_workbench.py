"""The workbench (工作台) over HTTP: who sees it, the queue, a case (masked), the steps
(CSRF, reasons), reveal, materials, and a supervisor's statistics."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from runtime.migrate import upgrade
from runtime.web.i18n import TEXT
from runtime.web.render import HERE
from tests.helpers import (
    FOOD_FILES,
    IBR_FILES,
    ID_A,
    PDF,
    Browser,
    FrozenClock,
    bearer,
    client_of,
    file_case,
    food_data,
    ibr_data,
    query,
    settings_for,
    unemployment_data,
)

pytestmark = pytest.mark.anyio


async def api_step(browser: Browser, app_id: str, step: str, role: str = "officer") -> None:
    r = await browser.client.post(
        f"/api/applications/{app_id}/actions/{step}",
        json={},
        headers=bearer(browser, role, f"{role}-api"),
    )
    assert r.status_code == 200, r.text


async def status_of(browser: Browser, app_id: str) -> str:
    r = await browser.client.get(
        f"/api/applications/{app_id}", headers=bearer(browser, "officer", "officer-x")
    )
    return str(r.json()["status"])


def audit_rows(browser: Browser, action: str) -> list[Any]:
    ctx = browser.client._transport.app.state.ctx  # type: ignore[attr-defined]
    log = ctx.package.tables.audit_log
    return query(ctx.engine.url, select(log).where(log.c.action == action))


async def test_only_staff_see_the_workbench_and_only_supervisors_the_statistics(
    browser: Browser,
) -> None:
    assert (await browser.get("/staff")).headers["location"] == "/login?next=%2Fstaff"
    app_id = await file_case(browser, "ibr", ibr_data())
    await browser.sign_in("applicant", "citizen-1")
    for path in ("/staff", "/staff/stats", f"/staff/cases/{app_id}"):
        r = await browser.get(path)
        assert r.status_code == 403, path
        assert ID_A not in r.text
    r = await browser.post(f"/staff/cases/{app_id}/steps/accept", {"csrf": browser.csrf})
    assert r.status_code == 403
    assert await status_of(browser, app_id) == "submitted"

    await browser.sign_in("officer", "officer-1")
    assert (await browser.get("/staff")).status_code == 200
    assert (await browser.get("/staff/stats")).status_code == 403  # supervisors only
    await browser.sign_in("supervisor", "sup-1")
    assert (await browser.get("/staff/stats")).status_code == 200


async def test_another_regions_case_is_not_found(browser: Browser) -> None:
    app_id = await file_case(browser, "ibr", ibr_data(), IBR_FILES)
    await browser.sign_in("officer", "officer-far", region="shenzhen")
    queue = await browser.get("/staff")
    assert queue.status_code == 200 and app_id not in queue.text
    for path in ("", "/materials/id_proof"):
        r = await browser.get(f"/staff/cases/{app_id}{path}")
        assert r.status_code == 404, path
        assert ID_A not in r.text and "个体工商户" not in r.text
    await browser.get("/staff")
    for path in ("/steps/accept", "/reveal"):
        r = await browser.post(f"/staff/cases/{app_id}{path}", {"reason": "核对身份"})
        assert r.status_code == 404, path
        assert ID_A not in r.text
    assert await status_of(browser, app_id) == "submitted"
    assert audit_rows(browser, "reveal") == []


async def test_every_step_and_reveal_needs_the_forms_csrf_field(browser: Browser) -> None:
    app_id = await file_case(browser, "ibr", ibr_data(), IBR_FILES)
    await browser.sign_in("officer", "officer-1")
    page = await browser.get(f"/staff/cases/{app_id}")
    assert page.status_code == 200
    for path in ("/steps/accept", "/steps/refuse", "/reveal"):
        for forged in ("", "forged"):
            r = await browser.client.post(
                f"/staff/cases/{app_id}{path}", data={"csrf": forged, "reason": "理由"}
            )
            assert r.status_code == 403, (path, forged)
            assert ID_A not in r.text
    assert await status_of(browser, app_id) == "submitted"
    assert audit_rows(browser, "reveal") == []


async def test_the_case_page_is_masked_and_names_steps_by_their_names(browser: Browser) -> None:
    app_id = await file_case(browser, "ibr", ibr_data(), ("id_proof",), applicant="login-4711")
    await browser.sign_in("officer", "officer-1")
    for path in ("/staff", "/staff?tab=pending", f"/staff/cases/{app_id}"):
        r = await browser.get(path)
        assert r.status_code == 200
        assert "个体工商户设立登记" in r.text
        for secret in (ID_A, "张三", "13812345678", "桃园路", "login-4711"):
            assert secret not in r.text, (path, secret)
    case = r.text
    assert "4403**********0014" in case or "*" in case.split("公民身份号码", 1)[1][:200]
    # one button per step, named by the transition's name, never its id
    buttons = re.findall(r'<button type="submit" class="button[^"]*">([^<]+)</button>', case)
    assert buttons == ["受理", "不予受理", "一次性告知补正", "查看敏感信息原文"]
    shown = re.sub(r"<[^>]+>", " ", case)  # the words on the page
    for step_id in ("accept", "refuse", "request_supplement", "submit"):
        assert not re.search(rf"\b{step_id}\b", shown), step_id
    assert "需要补正的材料和内容（一次性告知）" in case
    # materials: the uploaded one to download, the missing required ones marked 缺
    assert f'href="/staff/cases/{app_id}/materials/id_proof"' in case
    missing = re.findall(r'<tr class="row-missing">\s*<td>([^<]+)<', case)
    assert "租赁合同" in "".join(missing) and "身份证明" not in "".join(missing)
    download = await browser.get(f"/staff/cases/{app_id}/materials/id_proof")
    assert download.status_code == 200 and download.content == PDF
    assert "%E5%BC%A0" not in download.headers["content-disposition"]  # the applicant's file name


async def test_a_step_that_needs_a_reason_is_refused_without_one(browser: Browser) -> None:
    app_id = await file_case(browser, "ibr", ibr_data(), IBR_FILES)
    await browser.sign_in("officer", "officer-1")
    await browser.get(f"/staff/cases/{app_id}")
    for step in ("refuse", "request_supplement"):
        r = await browser.post(f"/staff/cases/{app_id}/steps/{step}", {"reason": "   "})
        assert r.status_code == 422, step
        error = re.search(rf'id="reason-{step}-error">(.*?)</p>', r.text)
        assert error and "必填" in error.group(1)
        assert 'role="alert"' in r.text
    assert await status_of(browser, app_id) == "submitted"

    why = "请补交租赁合同原件扫描件；经营场所地址与租赁合同不一致，请更正。"
    r = await browser.post(f"/staff/cases/{app_id}/steps/request_supplement", {"reason": why})
    assert r.status_code == 303
    assert r.headers["location"] == f"/staff/cases/{app_id}?done=request_supplement"
    page = await browser.get(r.headers["location"])
    assert "已办理：一次性告知补正" in page.text
    history = page.text.split('id="history-h"', 1)[1]
    assert "一次性告知补正" in history and why in history and "提交申请" in history
    assert await status_of(browser, app_id) == "supplement"
    # the applicant reads what to correct on their own page
    await browser.sign_in("applicant", "citizen-1")
    assert why in (await browser.get(f"/me/applications/{app_id}")).text


async def test_officer_accepts_and_approver_decides_through_the_workbench(
    browser: Browser,
) -> None:
    app_id = await file_case(browser, "ibr", ibr_data(), IBR_FILES)
    await browser.sign_in("officer", "officer-1")
    await browser.get(f"/staff/cases/{app_id}")
    r = await browser.post(f"/staff/cases/{app_id}/steps/accept")
    assert r.status_code == 303
    page = await browser.get(r.headers["location"])
    assert "已办理：受理" in page.text
    assert await status_of(browser, app_id) == "accepted"
    not_done = await browser.get(f"/staff/cases/{app_id}?done=approve")  # a made-up notice
    assert "已办理" not in not_done.text
    # the same step again: the API's refusal, on the case page
    again = await browser.post(f"/staff/cases/{app_id}/steps/accept")
    assert again.status_code == 409 and "未能办理" in again.text

    await browser.sign_in("approver", "approver-1")
    page = await browser.get(f"/staff/cases/{app_id}")
    buttons = re.findall(r'<button type="submit" class="button[^"]*">([^<]+)</button>', page.text)
    assert buttons[:2] == ["准予许可", "不予许可"]
    r = await browser.post(f"/staff/cases/{app_id}/steps/approve")
    assert r.status_code == 303
    assert await status_of(browser, app_id) == "approved"
    closed = await browser.get("/staff?tab=finished")
    assert app_id in closed.text


async def test_reveal_needs_a_reason_and_is_audited(browser: Browser) -> None:
    app_id = await file_case(browser, "ibr", ibr_data())
    await browser.sign_in("officer", "officer-1")
    await browser.get(f"/staff/cases/{app_id}")
    for reason in ("", "   ", "理" * 201):  # 1–200 characters, or nothing is shown
        r = await browser.post(f"/staff/cases/{app_id}/reveal", {"reason": reason})
        assert ID_A not in r.text and "张三" not in r.text, reason
    r = await browser.post(f"/staff/cases/{app_id}/reveal", {})  # no reason at all
    assert ID_A not in r.text
    assert audit_rows(browser, "reveal") == []
    r = await browser.post(f"/staff/cases/{app_id}/reveal", {"reason": "核对身份证明材料"})
    assert r.status_code == 200
    assert ID_A in r.text and "张三" in r.text and "核对身份证明材料" in r.text
    assert r.headers["cache-control"] == "no-store"
    (entry,) = audit_rows(browser, "reveal")
    detail = json.loads(entry.detail)
    assert detail["reason"] == "核对身份证明材料" and entry.application_id == app_id
    assert ID_A not in entry.detail
    # the case page itself stays masked
    assert ID_A not in (await browser.get(f"/staff/cases/{app_id}")).text


async def test_queue_tabs_count_and_sort_by_deadline(browser: Browser, clock: Any) -> None:
    early = await file_case(browser, "food_business_license", food_data(), FOOD_FILES)
    await api_step(browser, early, "accept")  # Mon 03-02: due Thu 03-05
    pending = await file_case(browser, "ibr", ibr_data())
    clock.set("2026-03-04T10:00")
    late = await file_case(browser, "food_business_license", food_data(), FOOD_FILES)
    await api_step(browser, late, "accept")  # Wed 03-04: due Mon 03-09
    second = await file_case(browser, "ibr", ibr_data())
    clock.set("2026-03-06T10:00")  # Fri: early is overdue, late due soon

    await browser.sign_in("officer", "officer-1")
    queue = await browser.get("/staff")
    counts = dict(re.findall(r'queue-tab-(\w+)">[^<]+<span class="count">(\d+)</span>', queue.text))
    assert counts == {
        "open": "4",
        "pending": "2",
        "in_progress": "2",
        "due_soon": "1",
        "overdue": "1",
        "finished": "0",
    }
    ids = re.findall(r'href="/staff/cases/([0-9a-f-]{36})"', queue.text)
    assert ids[:2] == [early, late]  # the most urgent first; no deadline yet: last
    assert set(ids[2:]) == {pending, second}
    row = queue.text.split(early, 1)[1].split("</tr>", 1)[0]
    assert "已超期" in row  # in words, not colour alone
    assert "即将超期" in queue.text.split(late, 1)[1].split("</tr>", 1)[0]

    overdue = await browser.get("/staff?tab=overdue")
    assert re.findall(r'href="/staff/cases/([0-9a-f-]{36})"', overdue.text) == [early]
    soon = await browser.get("/staff?tab=due_soon")
    assert re.findall(r'href="/staff/cases/([0-9a-f-]{36})"', soon.text) == [late]
    waiting = await browser.get("/staff?tab=pending&matter=ibr")
    assert set(re.findall(r'href="/staff/cases/([0-9a-f-]{36})"', waiting.text)) == {
        pending,
        second,
    }
    food = await browser.get("/staff?matter=food_business_license")
    assert set(re.findall(r'href="/staff/cases/([0-9a-f-]{36})"', food.text)) == {early, late}
    english = await browser.get("/staff?lang=en")
    assert "Overdue" in english.text and "To accept" in english.text
    assert not set("、：；（）。") & set(english.text)  # English punctuation in English


async def test_supervisor_statistics_with_charts_and_tables(browser: Browser, clock: Any) -> None:
    early = await file_case(browser, "food_business_license", food_data(), FOOD_FILES)
    await api_step(browser, early, "accept")
    finished = await file_case(browser, "ibr", ibr_data(), IBR_FILES)
    await api_step(browser, finished, "accept")
    await api_step(browser, finished, "approve", role="approver")
    rating = await browser.client.post(
        f"/api/applications/{finished}/evaluation",
        json={"score": 4},
        headers=bearer(browser, "applicant", "citizen-1"),
    )
    assert rating.status_code == 201, rating.text
    clock.set("2026-03-10T10:00")

    await browser.sign_in("supervisor", "sup-1")
    r = await browser.get("/staff/stats")
    assert r.status_code == 200
    figures = dict(
        re.findall(
            r'<span class="figure-label">([^<]+)</span> <span class="figure-value">([^<]+)<', r.text
        )
    )
    assert figures["已超期"] == "1" and figures["办件总数"] == "2"
    assert figures["满意度（5 分制）"] == "4.00"
    # each chart: an SVG image with a title and a description, and its figures as a table
    charts = re.findall(r'<svg [^>]*role="img" aria-labelledby="([\w-]+)-title \1-desc"', r.text)
    assert charts == ["chart-stage", "chart-matter", "chart-status", "chart-score"]
    assert re.search(r'<title id="chart-matter-title">按事项</title>', r.text)
    desc = re.search(r'<desc id="chart-matter-desc">([^<]+)</desc>', r.text)
    assert desc and "食品经营许可" in desc.group(1) and "个体工商户设立登记 1" in desc.group(1)
    table = r.text.split('id="chart-status-h"', 1)[1].split("</table>", 1)[0]
    assert re.search(r'<th scope="row">准予许可</th><td class="num">1</td>', table)
    english = await browser.get("/staff/stats?lang=en")
    assert "By service" in english.text and "Satisfaction" in english.text
    assert not set("、：；（）。") & set(english.text)
    stats_audited = [e for e in audit_rows(browser, "list") if '"stats": true' in e.detail]
    assert len(stats_audited) == 2


def test_every_text_of_the_staff_pages_is_in_the_catalogue() -> None:
    names = ("staff_queue", "staff_case", "staff_reveal", "staff_stats", "_staff_nav", "_chart")
    for name in names:
        source = (HERE / "templates" / f"{name}.jinja").read_text(encoding="utf-8")
        keys = re.findall(r"""\bt\(["']([\w.]*\w)["']""", source)
        assert keys, name
        for key in keys:
            assert key in TEXT, (name, key)


async def test_a_button_pressed_after_a_colleague_decided_changes_nothing(
    browser: Browser,
) -> None:
    """Two officers open the same case; one refuses it, then the other presses 受理 on the
    page loaded before: the API's answer (the case is no longer 已申请) on the case page,
    the refusal stands."""
    app_id = await file_case(browser, "ibr", ibr_data(), IBR_FILES)
    await browser.sign_in("officer", "officer-1")
    stale = await browser.get(f"/staff/cases/{app_id}")
    assert ">受理</button>" in stale.text
    await browser.client.post(
        f"/api/applications/{app_id}/actions/refuse",
        json={"reason": "不属于本机关职权范围"},
        headers=bearer(browser, "officer", "officer-2"),
    )
    r = await browser.post(f"/staff/cases/{app_id}/steps/accept")
    assert r.status_code == 409
    assert "未能办理" in r.text and "不予受理" in r.text
    assert ">受理</button>" not in r.text  # the page now offers what the case allows: nothing
    assert await status_of(browser, app_id) == "refused"


@pytest.fixture
async def tree_browser(
    guangdong_dir: Path, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[Browser]:
    """Pages of a deployment serving 广东 → 深圳 → 南山."""
    url = f"sqlite:///{tmp_path / 'tree.db'}"
    upgrade(guangdong_dir, url)
    settings = settings_for(clock, tmp_path)
    async with client_of(guangdong_dir, url, settings) as client:
        yield Browser(client, settings)


async def test_a_supervisor_sees_their_region_and_below(tree_browser: Browser) -> None:
    browser = tree_browser
    ids = {}
    for region in ("nanshan", "shenzhen", "shenzhen"):
        r = await browser.client.post(
            "/api/matters/unemployment_registration/applications",
            json={"region": region, "data": unemployment_data()},
            headers=bearer(browser, "applicant", f"c-{region}"),
        )
        assert r.status_code == 201, r.text
        ids[region] = r.json()["id"]
    await browser.sign_in("supervisor", "sup-sz", region="shenzhen")
    stats = await browser.get("/staff/stats")
    assert "深圳市、深圳市南山区" in stats.text or "深圳市南山区、深圳市" in stats.text
    table = stats.text.split('id="chart-region-h"', 1)[1].split("</table>", 1)[0]
    assert re.search(r'<th scope="row">深圳市</th><td class="num">2</td>', table)
    assert re.search(r'<th scope="row">深圳市南山区</th><td class="num">1</td>', table)
    only = await browser.get("/staff/stats?region=nanshan")
    assert re.search(
        r'<span class="figure-label">办件总数</span> <span class="figure-value">1<', only.text
    )
    queue = await browser.get("/staff?region=nanshan")
    assert re.findall(r'href="/staff/cases/([0-9a-f-]{36})"', queue.text) == [ids["nanshan"]]
    assert (await browser.get(f"/staff/cases/{ids['nanshan']}")).status_code == 200

    await browser.sign_in("supervisor", "sup-ns", region="nanshan")  # below sees not above
    assert (await browser.get(f"/staff/cases/{ids['shenzhen']}")).status_code == 404
    stats = await browser.get("/staff/stats")
    assert 'id="chart-region-h"' not in stats.text
    assert re.search(
        r'<span class="figure-label">办件总数</span> <span class="figure-value">1<', stats.text
    )


async def test_accepting_without_the_required_materials_names_them(browser: Browser) -> None:
    app_id = await file_case(browser, "ibr", ibr_data(), ("id_proof",))
    await browser.sign_in("officer", "officer-1")
    page = await browser.get(f"/staff/cases/{app_id}")
    assert "尚缺 2 项必要材料" in page.text
    r = await browser.post(f"/staff/cases/{app_id}/steps/accept")
    assert r.status_code == 409
    refusal = re.search(r'id="refusal">([^<]+)<', r.text)
    assert refusal and "租赁合同" in refusal.group(1) and "申请书" in refusal.group(1)
    assert "身份证明" not in refusal.group(1)
    assert await status_of(browser, app_id) == "submitted"
