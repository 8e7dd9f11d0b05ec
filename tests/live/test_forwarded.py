"""Behind the documented reverse proxy (TLS ends at nginx, ``X-Forwarded-Proto: https``),
``govstd serve`` marks its cookies ``Secure`` once the proxy's address is trusted
(``GOVSTD_FORWARDED_ALLOW_IPS``); by default forwarded headers are not believed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runtime.auth import issue_token
from tests.live.conftest import HOST, SETTINGS, LiveDB, LiveServer

HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


class _Server(LiveServer):
    def __init__(
        self, app_dir: Path, db: LiveDB, folder: Path, workers: int, trusted: str | None
    ) -> None:
        super().__init__(app_dir, db, folder, workers)
        self.trusted = trusted

    def env(self) -> dict[str, str]:
        env = super().env()
        if self.trusted is not None:
            env["GOVSTD_FORWARDED_ALLOW_IPS"] = self.trusted
        return env


@pytest.fixture(scope="module")
def servers(
    live_db: LiveDB, live_package_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, _Server]]:
    started = {}
    try:
        for name, trusted, workers in (("trusted", HOST, 2), ("default", None, 1)):
            folder = tmp_path_factory.mktemp(f"forwarded-{name}")
            server = _Server(live_package_dir, live_db, folder, workers, trusted)
            started[name] = server
            server.start()
        yield started
    finally:
        for server in started.values():
            server.stop()


def _cookies_after_sign_in(url: str) -> dict[str, str]:
    """Set-Cookie header of each cookie set while signing in through ``/login``."""
    seen: dict[str, str] = {}
    with httpx.Client(base_url=url, timeout=10.0) as client:
        page = client.get("/login", headers=HTTPS)
        assert page.status_code == 200
        for header in page.headers.get_list("set-cookie"):
            seen[header.split("=", 1)[0]] = header
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf, page.text[:500]
        token = issue_token(SETTINGS, role="applicant", sub="fwd-1", region=None)
        # as a browser on https would: a Secure cookie is not sent over plain http by httpx
        cookie = seen["govstd_csrf"].split(";", 1)[0]
        client.cookies.clear()
        signed = client.post(
            "/login",
            data={"csrf": csrf[1], "token": token},
            headers={**HTTPS, "Cookie": cookie},
        )
        assert signed.status_code in (302, 303), signed.text[:500]
        for header in signed.headers.get_list("set-cookie"):
            seen[header.split("=", 1)[0]] = header
    assert {"govstd_csrf", "govstd_session"} <= set(seen), seen
    return seen


def test_cookies_are_secure_behind_a_trusted_proxy(servers: dict[str, _Server]) -> None:
    for name, header in _cookies_after_sign_in(servers["trusted"].url).items():
        assert "secure" in header.lower(), (name, header)


def test_forwarded_headers_are_not_believed_by_default(servers: dict[str, _Server]) -> None:
    for name, header in _cookies_after_sign_in(servers["default"].url).items():
        assert "secure" not in header.lower(), (name, header)
