"""The page frame in a real browser: scripts load from the site itself, sessions, language."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import Server, axe_violations, sign_in


def test_home_and_login_load_own_scripts_and_pass_axe(page: Any, server: Server) -> None:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/")
    assert page.locator("h1").inner_text() == "选择办事地区"
    assert page.evaluate("typeof window.htmx") == "object"  # vendored htmx, loaded and run
    assert all(url.startswith(server.url) for url in requested), requested  # no CDN
    assert axe_violations(page) == []
    page.goto("/login")
    assert axe_violations(page) == []


def test_dev_sign_in_sets_an_httponly_session_and_sign_out_ends_it(page: Any) -> None:
    sign_in(page, "applicant", "citizen-7", name="李四", next="/")
    assert page.get_by_text("当前用户：李四").is_visible()
    assert "govstd_session" not in page.evaluate("document.cookie")  # HttpOnly
    cookie = next(c for c in page.context.cookies() if c["name"] == "govstd_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.get_by_role("button", name="退出").click()
    assert page.get_by_text("您已退出登录。").is_visible()
    assert not any(c["name"] == "govstd_session" for c in page.context.cookies())


def test_english_by_query_is_remembered(page: Any) -> None:
    page.goto("/?lang=en")
    assert page.locator("h1").inner_text() == "Choose your region"
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="Sign in").click()
    assert page.locator("h1").inner_text() == "Sign in"
    page.get_by_role("link", name="中文").click()
    assert re.search("登录", page.locator("h1").inner_text())
