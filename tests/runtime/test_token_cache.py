"""A verified token is remembered (issue 13) for 60 s and never past its ``exp``, by its
exact text: the cache changes what a request costs, not who is let in."""

from __future__ import annotations

import time
from typing import Any

import pytest

from runtime import auth
from runtime.auth import LEEWAY, VERIFIED_FOR_S, issue_token
from tests.helpers import Api

pytestmark = pytest.mark.anyio


async def test_a_token_is_verified_again_after_a_minute_and_a_forged_one_never_passes(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[str] = []
    decoded = auth._decoded

    def counting(token: str, settings: Any) -> Any:
        checks.append(token)
        return decoded(token, settings)

    monkeypatch.setattr(auth, "_decoded", counting)
    token = issue_token(api.settings, role="applicant", sub="cached-1", ttl=3600)
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(3):
        assert (await api.get("/api/applications", headers=headers)).status_code == 200
    assert len(checks) == 1  # verified once, then remembered
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    r = await api.get("/api/applications", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401  # another text: verified, and refused
    later = time.time() + VERIFIED_FOR_S + 1
    monkeypatch.setattr(auth.time, "time", lambda: later)
    assert (await api.get("/api/applications", headers=headers)).status_code == 200
    assert checks.count(token) == 2  # a minute on: verified again


async def test_a_token_is_not_remembered_past_its_exp(api: Api) -> None:
    token = issue_token(api.settings, role="applicant", sub="cached-2", ttl=5)
    r = await api.get("/api/applications", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    app = api.client._transport.app  # type: ignore[attr-defined]
    until, _identity = app.state.verified_tokens[token]
    assert until <= time.time() + 5 + LEEWAY  # its exp (+ leeway), not the full minute
    expired = issue_token(
        api.settings, role="applicant", sub="cached-3", ttl=5, now=time.time() - 3600
    )
    r = await api.get("/api/applications", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and expired not in app.state.verified_tokens
