"""What the case pages say of a case's time and its bundle: a 承诺件 before 受理 shows its
promise (never 即办件), a closed case its closing time (never "Due by"), and the staff
case page of a bundle member its sibling applications."""

from __future__ import annotations

import re

import pytest

from tests.helpers import (
    ID_A,
    PDF,
    RESTAURANT_BUNDLE,
    Browser,
    bearer,
    file_case,
    ibr_data,
    idem_of,
    restaurant_form,
    unemployment_data,
)

pytestmark = pytest.mark.anyio

PROMISE = "受理后 3 个工作日内办结"  # unemployment registration: a 承诺件 of 3 working days


async def test_a_commitment_case_before_acceptance_shows_its_promise(browser: Browser) -> None:
    app_id = await file_case(browser, "unemployment_registration", unemployment_data())
    await browser.sign_in("applicant", "citizen-1")
    for path in (f"/me/applications/{app_id}/filed", f"/me/applications/{app_id}", "/me"):
        page = await browser.get(path)
        assert page.status_code == 200, path
        assert PROMISE in page.text, path
        assert "即办" not in page.text, path
    en = await browser.get(f"/me/applications/{app_id}/filed?lang=en")
    assert "Within 3 working days of acceptance" in en.text
    assert "same day" not in en.text.lower()
    # the officer's queue and case page say the same before 受理
    await browser.sign_in("officer", "officer-1")
    assert PROMISE in (await browser.get(f"/staff/cases/{app_id}?lang=zh")).text
    assert PROMISE in (await browser.get("/staff")).text


async def test_a_case_closed_before_acceptance_shows_when_it_closed(browser: Browser) -> None:
    app_id = await file_case(browser, "unemployment_registration", unemployment_data())
    r = await browser.client.post(
        f"/api/applications/{app_id}/actions/withdraw",
        json={},
        headers=bearer(browser, "applicant", "citizen-1"),
    )
    assert r.status_code == 200, r.text
    closed = r.json()["finished_at"]
    assert closed
    await browser.sign_in("officer", "officer-1")
    for lang, due, closed_label in (("zh", "办结期限", "办结时间"), ("en", "Due by", "Closed at")):
        page = await browser.get(f"/staff/cases/{app_id}?lang={lang}")
        assert page.status_code == 200
        facts = page.text[page.text.index('class="facts"') :]
        facts = facts[: facts.index("</dl>")]
        assert due not in facts and closed_label in facts, facts
    await browser.sign_in("applicant", "citizen-1")
    page = await browser.get(f"/me/applications/{app_id}?lang=zh")
    facts = page.text[page.text.index('class="facts"') :]
    facts = facts[: facts.index("</dl>")]
    assert "办结时间" in facts and "承诺办结时间" not in facts and PROMISE not in facts


async def test_the_staff_case_page_lists_the_bundles_siblings(browser: Browser) -> None:
    await browser.sign_in("applicant", "shop-a", id_number=ID_A)
    page = await browser.get(RESTAURANT_BUNDLE)
    fields = {**restaurant_form(), "idem": idem_of(page.text)}
    r = await browser.post(RESTAURANT_BUNDLE, fields, files={"material.id_proof": ("id.pdf", PDF)})
    assert r.status_code == 303, r.text
    filing = (await browser.get(r.headers["location"])).text
    members = re.findall(r'href="/me/applications/([0-9a-f-]{36})">([^<]+)<', filing)
    assert len(members) == 3
    await browser.sign_in("officer", "officer-1")
    first, number = members[0]
    case = await browser.get(f"/staff/cases/{first}")
    assert case.status_code == 200 and ID_A not in case.text  # masked
    section = case.text[case.text.index('id="bundle-h"') :]
    section = section[: section.index("</section>")]
    assert "开办餐馆" in section or "一件事" in section
    for other, other_number in members[1:]:
        assert f'href="/staff/cases/{other}">{other_number}<' in section
    assert f"<strong>{number}</strong>" in section  # the case itself, marked, not linked
    assert f'href="/staff/cases/{first}"' not in section
    for name in ("食品经营许可", "公共场所卫生许可"):
        assert name in section
    # a case outside any bundle has no such section
    alone = await file_case(browser, "ibr", ibr_data())
    assert 'id="bundle-h"' not in (await browser.get(f"/staff/cases/{alone}")).text
