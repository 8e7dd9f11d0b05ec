"""Browser tests: Playwright for Python driving Debian's Chromium against a live server.

One browser for this folder's tests; one server per test module (uvicorn in a thread of
the test process, on a free port, over a fresh SQLite database of the nanshan
package). ``scripts/test`` installs ``chromium``, ``chromium-l10n`` and ``fonts-noto-cjk``
with apt-get when they are missing. Chromium runs in Chinese (``LANGUAGE=zh_CN``, its
zh-CN translations from ``chromium-l10n``), so the native widgets of the Chinese pages
(选择文件, 年/月/日) are Chinese on the screenshots too. Without a Chromium the tests are
skipped, except under CI (``CI`` set), where that is a failure.

Each test's page records console errors and uncaught script errors; a test ends
with none (:func:`page`). :func:`axe_violations` runs axe-core (vendored from the
npm package ``axe-core`` under ``vendor/``) and returns the serious and critical
violations.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtime.app import create_app
from runtime.migrate import upgrade
from runtime.settings import Settings
from tests.helpers import DATA_KEY, SECRET, generate_package, uvicorn_in_a_thread

HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parents[1] / "docs" / "screenshots"
SCRATCH = Path(tempfile.gettempdir()) / "govstd-screenshots"
AXE = HERE / "vendor" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--mute-audio",
]
# the browser's own language (its native widgets); each page's language is its context's
CHROMIUM_LANGUAGE = {"LANGUAGE": "zh_CN", "LANG": "zh_CN.UTF-8"}
PHONE = {"width": 375, "height": 812}
DESK = {"width": 1280, "height": 900}


def chromium_path() -> str | None:
    for candidate in (os.environ.get("GOVSTD_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One Chromium for the browser tests, stopped after the last of them: Playwright's
    synchronous API runs an event loop that the other (asyncio) tests cannot share."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("no Chromium: scripts/test installs it (apt-get install chromium)")
        pytest.skip("no Chromium (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        env = {**os.environ, **CHROMIUM_LANGUAGE}
        launched = p.chromium.launch(
            executable_path=path, args=[*CHROMIUM_ARGS, "--lang=zh-CN"], env=env
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def web_package_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_package("nanshan", tmp_path_factory.mktemp("web-package") / "nanshan")


@dataclass
class Server:
    url: str
    folder: Path
    settings: Settings

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def server(web_package_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app on a free port for the module, over a fresh SQLite database."""
    folder = tmp_path_factory.mktemp("web-server")
    url = f"sqlite:///{folder / 'govstd.db'}"
    upgrade(web_package_dir, url)
    settings = Settings(
        secret=SECRET,
        secret_is_dev=False,
        upload_dir=folder / "uploads",
        env={"GOVSTD_DATA_KEY": DATA_KEY},
    )
    with uvicorn_in_a_thread(create_app(web_package_dir, url, settings)) as base:
        yield Server(base, folder, settings)


@dataclass
class Problems:
    """Console errors and uncaught exceptions of one page. A page the server answers with
    an error status on purpose (a form with errors: 422) is a document, not a script
    error: Chromium's "Failed to load resource" line for it is not counted."""

    messages: list[str] = field(default_factory=list)
    documents: set[str] = field(default_factory=set)

    def console(self, msg: Any) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        if msg.text.startswith("Failed to load resource") and url in self.documents:
            return
        self.messages.append(f"console.{msg.type}: {msg.text} {msg.location}")

    def response(self, response: Any) -> None:
        if response.request.resource_type == "document":
            self.documents.add(response.url)


def watch(tab: Any) -> Problems:
    """Record the page's script errors (see :class:`Problems`)."""
    problems = Problems()
    tab.on("pageerror", lambda exc: problems.messages.append(f"pageerror: {exc}"))
    tab.on("response", problems.response)
    tab.on("console", problems.console)
    return problems


@contextmanager
def new_tab(browser: Any, server: Server, **options: Any) -> Iterator[Any]:
    """The page of a browser context of its own (Chinese, 10 s timeouts, ``options`` for
    ``new_context``), closed afterwards; it must end without script errors."""
    context = browser.new_context(base_url=server.url, locale="zh-CN", **options)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems = watch(tab)
    try:
        yield tab
    finally:
        context.close()
    assert problems.messages == [], "script errors on the page"


def fits_a_phone(tab: Any) -> bool:
    return bool(tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"])


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A fresh browser context (desk size) whose page must end without script errors."""
    with new_tab(browser, server, viewport=DESK) as tab:
        yield tab


@pytest.fixture
def phone_page(browser: Any, server: Server) -> Iterator[Any]:
    """:func:`page` on a phone."""
    with new_tab(browser, server, viewport=PHONE, is_mobile=True) as tab:
        yield tab


@pytest.fixture
def plain_page(browser: Any, server: Server) -> Iterator[Any]:
    """:func:`page` with JavaScript off."""
    with new_tab(browser, server, java_script_enabled=False) as tab:
        yield tab


def axe_violations(tab: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of the page as it is now."""
    tab.evaluate(AXE.read_text(encoding="utf-8"))
    result = tab.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result
        if v.get("impact") in ("serious", "critical")
    ]


def screenshot(tab: Any, name: str) -> None:
    """Take the whole page; with ``GOVSTD_SCREENSHOTS=1`` kept as
    ``docs/screenshots/<name>.png`` (the README's pictures), else in a scratch folder (the
    suite leaves the work tree as it found it)."""
    folder = SCREENSHOTS if os.environ.get("GOVSTD_SCREENSHOTS") else SCRATCH
    folder.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def sign_in(
    tab: Any,
    role: str = "applicant",
    sub: str = "citizen-1",
    *,
    name: str = "",
    region: str = "",
    id_number: str = "",
    next: str = "",
) -> None:
    """Sign in through the development chooser of ``/login`` (then to ``next``)."""
    tab.goto(f"/login?next={next}" if next else "/login")
    tab.select_option("#dev-role", role)
    tab.fill("#dev-sub", sub)
    tab.fill("#dev-name", name)
    tab.select_option("#dev-region", region)
    tab.fill("#dev-id", id_number)
    tab.get_by_role("button", name=re.compile("以此身份登录|Sign in as this person")).click()
