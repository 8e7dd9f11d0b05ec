"""Page sessions and CSRF tokens.

A session is the cookie ``govstd_session`` holding a bearer token the API would
accept (HttpOnly, SameSite=Lax, Secure over HTTPS, no longer than the token lives):
the page's identity is exactly the token's, decoded by :func:`runtime.auth.identity_in`
on every request. Nothing is kept on the server, so any number of workers serve it.

CSRF: the cookie ``govstd_csrf`` holds a random value (set on the first page); every
form carries ``csrf`` = HMAC-SHA256(server secret, that value). A state-changing
request is refused unless the field matches the cookie (signed double submit): a
page of another site can neither read the cookie nor compute the field.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Final

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from runtime.auth import Identity, identity_in
from runtime.errors import ApiError
from runtime.settings import Settings
from runtime.web.i18n import lang_of, text

SESSION_COOKIE: Final = "govstd_session"
CSRF_COOKIE: Final = "govstd_csrf"
CSRF_FIELD: Final = "csrf"
_MAX_TOKEN: Final = 8192
MAX_FORM: Final = 1024 * 1024  # a form without files


def _settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


def session_identity(request: Request) -> Identity | None:
    """The signed-in person, or ``None`` (no cookie, or a token no longer valid)."""
    cached = request.scope.get("govstd.identity", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    token = request.cookies.get(SESSION_COOKIE, "")
    identity: Identity | None = None
    if token and len(token) <= _MAX_TOKEN:
        try:
            identity = identity_in(request, token)
        except ApiError:
            identity = None
    request.scope["govstd.identity"] = identity
    return identity


def signed_in(request: Request, *roles: str) -> Identity:
    """The signed-in person, who must have one of ``roles`` (any when none given):
    :class:`ApiError` 401 (pages send the browser to sign in) or 403."""
    identity = session_identity(request)
    if identity is None:
        raise ApiError(401, "unauthorized")
    if roles and identity.role not in roles:
        raise ApiError(403, "forbidden")
    return identity


def token_identity(request: Request, token: str) -> Identity | None:
    """The identity in a pasted token, or ``None`` when the API would refuse it."""
    token = token.strip()
    if not token or len(token) > _MAX_TOKEN:
        return None
    try:
        return identity_in(request, token)
    except ApiError:
        return None


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def start_session(request: Request, response: Response, token: str) -> None:
    """Set the session cookie for ``token`` (kept no longer than the token is valid) and a
    fresh CSRF value."""
    response.set_cookie(
        SESSION_COOKIE,
        token.strip(),
        max_age=_token_lifetime(request, token),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(32),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def _token_lifetime(request: Request, token: str) -> int:
    import jwt

    try:
        exp = jwt.decode(token.strip(), options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return 0
    return max(0, int(exp) - int(time.time())) if isinstance(exp, int | float) else 0


def _sign(request: Request, value: str) -> str:
    key = _settings(request).secret.encode()
    return hmac.new(key, b"csrf:" + value.encode(), hashlib.sha256).hexdigest()


def csrf_value(request: Request) -> str:
    """This browser's CSRF cookie value (a new one, remembered for the response, if none)."""
    value = request.cookies.get(CSRF_COOKIE) or request.scope.get("govstd.csrf_new")
    if not value or len(value) > 128:
        value = secrets.token_urlsafe(32)
        request.scope["govstd.csrf_new"] = value
    return str(value)


def csrf_token(request: Request) -> str:
    """The value of the hidden ``csrf`` field of this page's forms."""
    return _sign(request, csrf_value(request))


def remember_csrf(request: Request, response: Response) -> None:
    """Set the CSRF cookie when this request made a new value."""
    new = request.scope.get("govstd.csrf_new")
    if new:
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="lax", secure=_secure(request), path="/"
        )


def csrf_ok(request: Request, submitted: object) -> bool:
    """Whether a submitted ``csrf`` field matches this browser's cookie."""
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not isinstance(submitted, str) or len(cookie) > 128:
        return False
    return hmac.compare_digest(_sign(request, cookie), submitted)


async def posted_form(
    request: Request, *, max_files: int = 0, max_fields: int = 2000, max_bytes: int = MAX_FORM
) -> FormData:
    """The posted form; 413 unless the body announces its length and stays within
    ``max_bytes`` (a page's forms are sent by browsers, which always announce it)."""
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > max_bytes:
        raise ApiError(413, "too_large")
    return await request.form(max_files=max_files, max_fields=max_fields)


async def checked_form(
    request: Request, *, max_files: int = 0, max_fields: int = 2000, max_bytes: int = MAX_FORM
) -> FormData:
    """The posted form (see :func:`posted_form`) when its CSRF field matches this browser's
    cookie, else a 403 (:func:`runtime.web.render.page` shows it; nothing changes)."""
    form = await posted_form(
        request, max_files=max_files, max_fields=max_fields, max_bytes=max_bytes
    )
    if csrf_ok(request, form.get(CSRF_FIELD)):
        return form
    await form.close()
    raise ApiError(403, "csrf", message_override=text("error.csrf", lang_of(request)))


def safe_next(raw: object) -> str:
    """Where to go after signing in: a path of this site only (no open redirect), or ``""``
    (then the person's own start page, :func:`start_page`)."""
    if isinstance(raw, str) and raw.startswith("/") and not raw.startswith(("//", "/\\")):
        return raw[:2000]
    return ""


def start_page(identity: Identity) -> str:
    if identity.role == "data_steward":
        return "/staff/data-quality"
    return "/staff" if identity.is_staff else "/me"
