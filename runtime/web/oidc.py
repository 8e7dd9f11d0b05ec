"""Production sign-in through OpenID Connect (authorization code flow with PKCE).

Configured by environment variables (all three needed, else the flow is off), read with
the others by :mod:`runtime.settings`:

| variable | meaning |
|---|---|
| ``GOVSTD_OIDC_ISSUER`` | the provider (its ``/.well-known/openid-configuration`` is read) |
| ``GOVSTD_OIDC_CLIENT_ID`` | this site's client id at the provider |
| ``GOVSTD_OIDC_CLIENT_SECRET`` | its secret (sent with HTTP Basic to the token endpoint) |
| ``GOVSTD_OIDC_REDIRECT_URI`` | optional: the callback, if not ``<site>/login/oidc/callback`` |

The provider's ID token becomes the session's token, so it is verified exactly as the
API verifies a bearer token (:func:`runtime.auth.decode_token`): set
``GOVSTD_JWT_JWKS_URL`` to the provider's keys, ``GOVSTD_JWT_AUDIENCE`` to the client id
and ``GOVSTD_JWT_ISSUER`` to the issuer; the token carries ``role`` (and ``region`` for
staff) as the API requires. ``state``, ``nonce`` and the PKCE verifier travel in a
short-lived HttpOnly cookie signed with the server secret.

(authlib's httpx client is deprecated in the version at hand and warns on import; the
flow is three HTTP exchanges, written here with httpx.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any, Final
from urllib.parse import urlencode

import httpx
import jwt
from starlette.requests import Request
from starlette.responses import Response

from runtime.settings import OidcConfig
from runtime.web.i18n import lang_of, text
from runtime.web.render import error_page, page, redirect
from runtime.web.session import safe_next, start_page, start_session, token_identity

FLOW_COOKIE: Final = "govstd_oidc"
FLOW_SECONDS: Final = 600
TIMEOUT: Final = 10.0


def config(request: Request) -> OidcConfig | None:
    oidc: OidcConfig | None = request.app.state.settings.oidc
    return oidc


_METADATA: dict[str, tuple[float, dict[str, Any]]] = {}


async def metadata(cfg: OidcConfig) -> dict[str, Any]:
    """The provider's discovery document (kept for an hour)."""
    cached = _METADATA.get(cfg.issuer)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        answer = await client.get(f"{cfg.issuer}/.well-known/openid-configuration")
        answer.raise_for_status()
        found: dict[str, Any] = answer.json()
    _METADATA[cfg.issuer] = (time.monotonic() + 3600, found)
    return found


def _sign(request: Request, payload: str) -> str:
    key = request.app.state.settings.secret.encode()
    return hmac.new(key, b"oidc:" + payload.encode(), hashlib.sha256).hexdigest()


def _callback(request: Request, cfg: OidcConfig) -> str:
    return cfg.redirect_uri or str(request.url_for("oidc_callback"))


@page
async def start(request: Request) -> Response:
    """``GET /login/oidc``: to the provider's sign-in, remembering where to come back."""
    cfg = config(request)
    if cfg is None:
        return error_page(request, 404, text("error.not_found", lang_of(request)))
    try:
        meta = await metadata(cfg)
    except (httpx.HTTPError, ValueError):
        return error_page(request, 503, text("login.oidc_failed", lang_of(request)))
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    target = request.query_params.get("next", "")
    flow = json.dumps([state, nonce, verifier, target, int(time.time())])
    params = {
        "response_type": "code",
        "client_id": cfg.client_id,
        "redirect_uri": _callback(request, cfg),
        "scope": "openid profile",
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    response = redirect(request, f"{meta['authorization_endpoint']}?{urlencode(params)}")
    cookie = base64.urlsafe_b64encode(flow.encode()).decode() + "." + _sign(request, flow)
    response.set_cookie(
        FLOW_COOKIE,
        cookie,
        max_age=FLOW_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/login/oidc",
    )
    return response


def _flow(request: Request) -> list[Any] | None:
    raw = request.cookies.get(FLOW_COOKIE, "")
    encoded, _, signature = raw.partition(".")
    try:
        flow = base64.urlsafe_b64decode(encoded.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if not signature or not hmac.compare_digest(_sign(request, flow), signature):
        return None
    values = json.loads(flow)
    if not isinstance(values, list) or len(values) != 5:
        return None
    if int(values[4]) + FLOW_SECONDS < time.time():
        return None
    return values


@page
async def callback(request: Request) -> Response:
    """``GET /login/oidc/callback``: the code exchanged for the ID token, which starts the
    session when it passes the API's own token checks and carries our nonce."""
    lng = lang_of(request)
    cfg = config(request)
    flow = _flow(request)
    state = request.query_params.get("state", "")
    code = request.query_params.get("code", "")
    if cfg is None or flow is None or not code or not hmac.compare_digest(flow[0], state):
        return error_page(request, 400, text("login.oidc_failed", lng))
    _, nonce, verifier, target, _ = flow
    try:
        meta = await metadata(cfg)
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            answer = await client.post(
                meta["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": _callback(request, cfg),
                    "code_verifier": verifier,
                },
                auth=(cfg.client_id, cfg.client_secret),
            )
        id_token = answer.json().get("id_token") if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return error_page(request, 503, text("login.oidc_failed", lng))
    if not isinstance(id_token, str):
        return error_page(request, 401, text("login.oidc_failed", lng))
    identity = token_identity(request, id_token)  # the API's own checks
    claims = jwt.decode(id_token, options={"verify_signature": False}) if identity else {}
    if identity is None or not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
        return error_page(request, 401, text("login.oidc_failed", lng))
    response = redirect(request, safe_next(target) or start_page(identity))
    start_session(request, response, id_token)
    response.delete_cookie(FLOW_COOKIE, path="/login/oidc")
    return response
