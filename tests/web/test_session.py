"""Sign-in, sessions, CSRF, language and error pages, over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Browser, FrozenClock, client_of, settings_for

pytestmark = pytest.mark.anyio


async def test_token_sign_in_sets_a_strict_cookie_and_the_page_knows_the_person(
    browser: Browser,
) -> None:
    await browser.get("/login")
    token = browser.token("applicant", "citizen-1", name="王五")
    r = await browser.post("/login", {"token": token, "next": "/"})
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("govstd_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=" in cookie
    page = await browser.get("/")
    assert "当前用户：王五" in page.text


async def test_a_bad_token_is_refused_beside_the_field(browser: Browser) -> None:
    await browser.get("/login")
    r = await browser.post("/login", {"token": "not-a-token"})
    assert r.status_code == 401
    assert "令牌无效或已过期" in r.text and 'aria-invalid="true"' in r.text
    assert "govstd_session" not in r.headers.get("set-cookie", "")


async def test_forms_without_the_csrf_field_change_nothing(browser: Browser) -> None:
    await browser.get("/login")
    token = browser.token("applicant", "citizen-1")
    for csrf in ("", "forged"):
        r = await browser.post("/login", {"token": token, "csrf": csrf})
        assert r.status_code == 403 and "表单已过期或来源不明" in r.text
        assert "govstd_session" not in r.headers.get("set-cookie", "")
    await browser.sign_in()
    r = await browser.post("/logout", {"csrf": "forged"})
    assert r.status_code == 403
    assert "当前用户" in (await browser.get("/")).text  # still signed in


async def test_sign_out_ends_the_session(browser: Browser) -> None:
    await browser.sign_in(name="王五")
    await browser.get("/")
    r = await browser.post("/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login?bye=1"
    assert "当前用户" not in (await browser.get("/login?bye=1")).text


async def test_dev_chooser_signs_in_staff_only_with_a_region(browser: Browser) -> None:
    await browser.get("/login")
    fields = {"mode": "dev", "role": "officer", "sub": "officer-1", "region": ""}
    r = await browser.post("/login", fields)
    assert r.status_code == 422 and "工作人员须选择所属地区" in r.text
    r = await browser.post("/login", {**fields, "region": "nanshan"})
    assert r.status_code == 303 and r.headers["location"] == "/staff"


async def test_sign_in_goes_back_only_to_this_site(browser: Browser) -> None:
    token = browser.token("applicant", "citizen-1")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        await browser.get("/login")  # a new CSRF value after each sign-in
        r = await browser.post("/login", {"token": token, "next": target})
        assert r.headers["location"] == "/me"


async def test_no_dev_chooser_in_production(
    package_dir: Path, db_url: str, clock: FrozenClock, tmp_path: Path
) -> None:
    settings = settings_for(clock, tmp_path, production=True)
    async with client_of(package_dir, db_url, settings) as client:
        browser = Browser(client, settings)
        page = await browser.get("/login")
        assert "开发环境登录" not in page.text
        chosen = {"mode": "dev", "role": "admin", "sub": "x", "region": "nanshan"}
        r = await browser.post("/login", chosen)
        assert r.status_code == 403 and "govstd_session" not in r.headers.get("set-cookie", "")


async def test_language_by_query_cookie_and_header(browser: Browser) -> None:
    assert "<h1>选择办事地区</h1>" in (await browser.get("/")).text
    english = await browser.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "<h1>Choose your region</h1>" in english.text
    assert '<html lang="en">' in english.text
    r = await browser.get("/?lang=en")
    assert "govstd_lang=en" in r.headers["set-cookie"]
    assert "<h1>Choose your region</h1>" in (await browser.get("/")).text  # remembered


async def test_pages_carry_a_strict_content_security_policy(browser: Browser) -> None:
    r = await browser.get("/")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
    assert "cdn" not in r.text.lower() and "https://" not in r.text


async def test_unknown_pages_answer_html_to_browsers_and_json_to_the_api(
    browser: Browser,
) -> None:
    r = await browser.get("/nowhere", headers={"Accept": "text/html"})
    assert r.status_code == 404 and "页面不存在" in r.text
    r = await browser.get("/api/nowhere", headers={"Accept": "text/html"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await browser.get("/assets/../app.py")
    assert r.status_code == 404
