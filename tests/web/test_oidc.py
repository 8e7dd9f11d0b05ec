"""Sign-in through OpenID Connect against a small identity provider run by the test.

The provider (a Starlette app on a free port) implements what the flow uses: discovery,
an authorize endpoint that signs in whoever ``login_hint`` names, a token endpoint with
client authentication, one-time codes and PKCE (S256), and its keys (JWKS). The site
is configured as in production: ``GOVSTD_OIDC_*`` plus the API's token settings
pointing at the provider, so the ID token is checked by the API's own code.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from runtime.settings import OidcConfig
from tests.helpers import Browser, FrozenClock, client_of, settings_for, uvicorn_in_a_thread

pytestmark = pytest.mark.anyio
CLIENT_ID = "govstd-web"
CLIENT_SECRET = "client-secret-for-the-test"


class Provider:
    """The identity provider's state: its key, its outstanding codes."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.codes: dict[str, dict[str, str]] = {}
        self.url = ""

    def app(self) -> Starlette:
        async def discovery(request: Request) -> Response:
            return JSONResponse(
                {
                    "issuer": self.url,
                    "authorization_endpoint": f"{self.url}/authorize",
                    "token_endpoint": f"{self.url}/token",
                    "jwks_uri": f"{self.url}/jwks",
                }
            )

        async def authorize(request: Request) -> Response:
            q = request.query_params
            assert q["client_id"] == CLIENT_ID and q["code_challenge_method"] == "S256"
            role, _, sub = q["login_hint"].partition(":")
            code = secrets.token_urlsafe(16)
            self.codes[code] = {
                "role": role,
                "sub": sub,
                "nonce": q["nonce"],
                "challenge": q["code_challenge"],
                "redirect_uri": q["redirect_uri"],
            }
            target = f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}"
            return RedirectResponse(target, status_code=302)

        async def token(request: Request) -> Response:
            form = await request.form()
            basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {basic}":
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            grant = self.codes.pop(str(form.get("code")), None)  # one time only
            verifier = str(form.get("code_verifier"))
            digest = hashlib.sha256(verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if grant is None or grant["challenge"] != challenge:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            now = int(time.time())
            claims = {
                "iss": self.url,
                "aud": CLIENT_ID,
                "sub": grant["sub"],
                "role": grant["role"],
                "name": "统一认证用户",
                "nonce": grant["nonce"],
                "iat": now,
                "exp": now + 600,
            }
            if grant["role"] != "applicant":
                claims["region"] = "nanshan"
            id_token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})
            return JSONResponse({"id_token": id_token, "token_type": "Bearer"})

        async def jwks(request: Request) -> Response:
            jwk: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(
                self.key.public_key(), as_dict=True
            )
            return JSONResponse({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]})

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", discovery),
                Route("/authorize", authorize),
                Route("/token", token, methods=["POST"]),
                Route("/jwks", jwks),
            ]
        )


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    idp = Provider()
    with uvicorn_in_a_thread(idp.app()) as url:
        idp.url = url
        yield idp


@pytest.fixture
async def site(
    provider: Provider, package_dir: Path, db_url: str, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[Browser]:
    settings = settings_for(
        clock,
        tmp_path,
        jwks_url=f"{provider.url}/jwks",
        algorithms=("RS256",),
        audience=CLIENT_ID,
        issuer=provider.url,
        oidc=OidcConfig(provider.url, CLIENT_ID, CLIENT_SECRET),
    )
    async with client_of(package_dir, db_url, settings) as client:
        yield Browser(client, settings)


async def to_provider_and_back(site: Browser, login_hint: str, next: str = "/me") -> str:
    """Start the flow, sign in at the provider; the callback address it sends us to."""
    r = await site.get(f"/login/oidc?next={next}")
    assert r.status_code == 303
    async with httpx.AsyncClient() as outside:
        at_idp = await outside.get(f"{r.headers['location']}&login_hint={login_hint}")
    assert at_idp.status_code == 302
    back = urlsplit(at_idp.headers["location"])
    return f"{back.path}?{back.query}"


async def test_sign_in_through_the_identity_provider(site: Browser, provider: Provider) -> None:
    page = await site.get("/login")
    assert "前往统一身份认证登录" in page.text
    assert "开发环境登录" not in page.text  # shared-secret tokens are off with an IdP
    callback = await to_provider_and_back(site, "applicant:citizen-9")
    r = await site.get(callback)
    assert r.status_code == 303 and r.headers["location"] == "/me"
    me = await site.get("/me")
    assert me.status_code == 200 and "当前用户：统一认证用户" in me.text

    again = await site.get(callback)  # replayed: the flow ended with the first use
    assert again.status_code == 400 and "统一身份认证登录未完成" in again.text


async def test_a_callback_with_another_state_is_refused(site: Browser) -> None:
    callback = await to_provider_and_back(site, "officer:officer-9")
    path, _, query = callback.partition("?")
    params = {k: v[0] for k, v in parse_qs(query).items()}
    params["state"] = "forged"
    r = await site.get(f"{path}?{urlencode(params)}")
    assert r.status_code == 400
    assert "govstd_session" not in r.headers.get("set-cookie", "")
    fresh = Browser(site.client, site.settings)
    site.client.cookies.delete("govstd_oidc", path="/login/oidc")
    r = await fresh.get(callback)  # no flow cookie: refused too
    assert r.status_code == 400
