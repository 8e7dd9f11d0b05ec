"""``/login`` and ``/logout``: a pasted token, or (development only) the sign-in chooser.

``POST /login`` with ``token`` starts a session when the API would accept the token.
Outside production (``GOVSTD_ENV`` is not ``production``) and with the shared
development secret in use, the page also offers a chooser (role, user id, name,
region, citizen ID number) that issues a development token
(:func:`runtime.auth.issue_token`) — the same token ``govstd token`` prints.
Both forms and ``POST /logout`` carry the CSRF field.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from runtime.auth import REGIONAL_ROLES, ROLES, STAFF_ROLES, issue_token
from runtime.routes.common import ctx
from runtime.settings import Settings
from runtime.web.i18n import lang_of, text
from runtime.web.oidc import config as oidc_config
from runtime.web.render import error_page, page, redirect, render
from runtime.web.session import (
    checked_form,
    end_session,
    safe_next,
    start_page,
    start_session,
    token_identity,
)

MAX_FORM_FIELDS = 16


def dev_signin(settings: Settings) -> bool:
    """Whether the development chooser is offered (never in production)."""
    return not settings.production and any(a.startswith("HS") for a in settings.algorithms)


def _login_page(request: Request, status: int = 200, **values: object) -> Response:
    c = ctx(request)
    regions = [(r.id, r.name) for r in c.package.regions.values()]
    return render(
        request,
        "login.jinja",
        status=status,
        dev=dev_signin(c.settings),
        oidc=oidc_config(request) is not None,
        roles=ROLES,
        regions=regions,
        next=safe_next(request.query_params.get("next")),
        token_error=values.get("token_error"),
        dev_error=values.get("dev_error"),
        notice=values.get("notice"),
    )


@page
async def login(request: Request) -> Response:
    """``GET /login``: the sign-in page; ``POST /login``: a token, or the chooser's choice."""
    if request.method == "GET":
        notice = "login.signed_out" if request.query_params.get("bye") else None
        return _login_page(request, notice=notice)
    form = await checked_form(request, max_fields=MAX_FORM_FIELDS)
    target = safe_next(form.get("next"))
    if form.get("mode") == "dev":
        return _dev_login(request, form, target)
    token = form.get("token")
    identity = token_identity(request, token if isinstance(token, str) else "")
    if identity is None or not isinstance(token, str):
        return _login_page(request, status=401, token_error="login.bad_token")
    response = redirect(request, target or start_page(identity))
    start_session(request, response, token)
    return response


def _field(form: FormData, name: str, limit: int = 128) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _dev_login(request: Request, form: FormData, target: str) -> Response:
    c = ctx(request)
    if not dev_signin(c.settings):
        return error_page(request, 403, text("error.forbidden", lang_of(request)))
    role, sub = _field(form, "role"), _field(form, "sub")
    region = _field(form, "region") or None
    if region is not None and region not in c.package.regions:
        region = None
    if role not in ROLES or not sub or (role in REGIONAL_ROLES and region is None):
        return _login_page(request, status=422, dev_error="login.dev_bad")
    token = issue_token(
        c.settings,
        role=role,
        sub=sub,
        region=region,
        name=_field(form, "name") or None,
        id_number=(_field(form, "id_number", 18) or None) if role == "applicant" else None,
    )
    start = "/staff/data-quality" if role == "data_steward" else "/me"
    response = redirect(request, target or ("/staff" if role in STAFF_ROLES else start))
    # (the role is known before the token: the same choice as start_page)
    start_session(request, response, token)
    return response


@page
async def logout(request: Request) -> Response:
    """``POST /logout`` (with the CSRF field): ends the session."""
    await checked_form(request, max_fields=MAX_FORM_FIELDS)
    response = redirect(request, "/login?bye=1")
    end_session(response)
    return response
