"""惠企政策 (政策通) pages: policies in force, matching with the reasons, claiming, 送达.

- ``GET /regions/{region}/policies``: the policies in force (``policies._item``), the
  signed-in applicant's stored profile matched (``_stored_views``, ``match_all``) and their
  notifications (``profiles._notifications``);
- ``POST`` the same: ``_action=match`` matches the profile filled on the page (anyone,
  ``_validated_views``); ``save`` stores it (applicant: ``validate_profile``,
  ``profiles._store_profile``), then shows the stored profile's matches;
- ``GET``/``POST …/policies/{policy}/claim``: the ``apply`` matter's form prefilled from
  the stored profile, filed by ``policies.claim`` (409, e.g. not eligible: a message on
  the policies page);
- ``POST …/policies/notifications/{id}/read``: ``profiles._mark_read``.

Each condition of a policy is shown in words with its verdict: 符合 (held), 不符合 (not
held) or 未确定 (an unanswered field: never a "no").
"""

from __future__ import annotations

import secrets
from typing import Any, Final

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from runtime.auth import Identity
from runtime.clock import local_date
from runtime.db import read
from runtime.errors import ApiError, message, request_id
from runtime.formspec import FormSpec, localized
from runtime.package import Package, Policy, Region
from runtime.policies import cel_view, in_force, in_force_in, match, validate_profile
from runtime.routes import policies as api
from runtime.routes import profiles
from runtime.routes.common import ctx, threaded
from runtime.submission import Stored
from runtime.validation import conditions
from runtime.web.apply import (
    MAX_FIELDS,
    _draw,
    _post,
    _prefilled,
    conditions_answer,
    files_cap,
)
from runtime.web.formview import dom_id, error_map, form_sections, posted_data
from runtime.web.hall import region_of
from runtime.web.i18n import lang_of, text
from runtime.web.render import page, redirect, render, with_query
from runtime.web.session import checked_form, session_identity, signed_in


def _profile_forms(pkg: Package, policies: list[Policy]) -> list[FormSpec]:
    return [pkg.forms[f] for f in sorted({p.profile for p in policies if p.profile in pkg.forms})]


def _stored_data(request: Request, identity: Identity, forms: list[FormSpec]) -> dict[str, Any]:
    """The applicant's stored profiles, merged (blocking)."""
    c = ctx(request)
    data: dict[str, Any] = {}
    for form in forms:
        try:
            data.update(profiles._load_profile(c, identity, form)["data"])
        except ApiError:  # 404: nothing stored for this form yet
            continue
    return data


def _matches(pkg: Package, policies: list[Policy], views: Any, lng: str) -> list[Any]:
    return [api._match_view(m, pkg, lng) for m in api.match_all(pkg, policies, views)]


async def _page(
    request: Request,
    region: Region,
    *,
    data: dict[str, Any] | None = None,
    views: Any = None,
    errors: dict[str, str] | None = None,
    message_text: str | None = None,
    fill_profile: bool = False,
    status: int = 200,
) -> Response:
    """The policies page; ``data``/``views``: a profile filled on the page (else the
    signed-in applicant's stored one)."""
    c = ctx(request)
    pkg = c.package
    lng = lang_of(request)
    policies = in_force_in(pkg, region.id, c.now())
    forms = _profile_forms(pkg, policies)
    identity = session_identity(request)
    applicant = identity is not None and identity.role == "applicant"
    notifications = None
    if applicant and identity is not None:
        if data is None:
            data = await threaded(_stored_data, request, identity, forms)
            views = await threaded(api._stored_views, c, identity, policies) if data else None
        notifications = await threaded(profiles._notifications, c, identity, lng)
    data = data or {}
    errors = errors or {}
    sections = []
    for form in forms:
        mine = {k: v for k, v in data.items() if k in form.keys}
        verdict = conditions(form, mine)
        sections += form_sections(pkg, form, mine, errors, verdict, lng)
    for s in sections:  # a profile is filled over time: nothing is required
        for f in s.fields:
            f.required = f.conditional_required = False
    matched = {m["policy"]: m for m in _matches(pkg, policies, views, lng)} if views else {}
    items = [
        {**api._item(pkg, p, lng), "conditions": api._conditions(pkg, p, lng)} for p in policies
    ]
    items.sort(key=lambda i: ({True: 0, None: 1, False: 2}.get(_eligible(matched, i)), i["id"]))
    return render(
        request,
        "policies.jinja",
        status=status,
        region=region,
        items=items,
        matched=matched,
        sections=sections,
        summary=[(dom_id(p), m) for p, m in errors.items()],
        notifications=notifications,
        applicant=applicant,
        message=message_text,
        fill_profile=fill_profile,
        saved=request.query_params.get("saved") == "1" and applicant,
    )


def _eligible(matched: dict[str, Any], item: dict[str, Any]) -> bool | None:
    found = matched.get(item["id"])
    return found["eligible"] if found else None


@page
async def policies(request: Request) -> Response:
    """``GET``/``POST /regions/{region}/policies`` (see the module)."""
    region = region_of(request)
    if request.method == "GET":
        return await _page(request, region)
    posted = await checked_form(request, max_fields=MAX_FIELDS)
    try:
        return await _posted(request, region, posted)
    finally:
        await posted.close()


async def _posted(request: Request, region: Region, posted: FormData) -> Response:
    c = ctx(request)
    pkg = c.package
    lng = lang_of(request)
    today = local_date(c.now())
    in_force_now = in_force_in(pkg, region.id, c.now())
    forms = _profile_forms(pkg, in_force_now)
    data: dict[str, Any] = {}
    for form in forms:
        data.update(posted_data(form, posted))
    if posted.get("_action") == "save":
        identity = signed_in(request, "applicant")
        cleaned: list[tuple[FormSpec, dict[str, Any]]] = []
        problems: list[tuple[str, str]] = []
        for form in forms:
            mine = {k: v for k, v in data.items() if k in form.keys}
            values, errors = validate_profile(form, mine, lang=lng, today=today)
            problems += [(e.path, e.message) for e in errors]
            cleaned.append((form, values))
        if problems:
            return await _page(request, region, data=data, errors=error_map(problems), status=422)
        for form, values in cleaned:
            await threaded(
                profiles._store_profile, c, identity, form, region, values, request_id(request)
            )
        target = with_query(f"/regions/{region.id}/policies", saved="1")
        return redirect(request, target + "#results")
    try:
        views = api._validated_views(pkg, in_force_now, data, lng, today)
    except ApiError as exc:
        if exc.status != 422:
            raise
        found = [(p.path.removeprefix("profile."), p.message) for p in exc.fields or []]
        return await _page(request, region, data=data, errors=error_map(found), status=422)
    return await _page(request, region, data=data, views=views)


def _policy(request: Request, region: Region) -> Policy:
    c = ctx(request)
    policy = c.package.policies.get(request.path_params["policy"])
    if policy is None:
        raise ApiError(404, "unknown_policy", {"policy": request.path_params["policy"][:64]})
    if (
        not in_force(c.package, policy, region.id, local_date(c.now()))
        or policy.apply not in region.matters
    ):
        lng = lang_of(request)
        said = text("policies.claim_not_in_force", lng, name=localized(policy.name, lng))
        raise ApiError(409, "not_in_force", {"policy": policy.id}, message_override=said)
    return policy


def _claim_start(request: Request, identity: Identity, policy: Policy) -> dict[str, Any]:
    """The stored profile, if eligible (the claim's own rule), for prefilling the claim's
    form (blocking); 409 ``no_profile`` when none is stored, ``not_eligible`` when it fails."""
    c = ctx(request)
    pkg = c.package
    form = pkg.forms[policy.profile]
    with read(c.engine) as conn:
        row = profiles.stored_profile(c, conn, identity.subject, form)
    if row is None:
        raise ApiError(409, "no_profile", {"form": form.id, "policy": policy.id})
    profile = profiles.open_profile(c.cipher, form, row.data)
    if match(pkg, policy, cel_view(form, profile)).eligible is not True:
        raise ApiError(409, "not_eligible", {"policy": policy.id})
    return profile


# a claim refused (409) as the page says it: the policy by its name, never its id
CLAIM_REFUSALS: Final = {
    "no_profile": "policies.claim_no_profile",
    "not_eligible": "policies.claim_not_eligible",
    "already_claimed": "policies.claim_already",
    "not_in_force": "policies.claim_not_in_force",
}


def _claim_refusal(policy: Policy, exc: ApiError, lng: str) -> str:
    key = CLAIM_REFUSALS.get(exc.code)
    if key is not None:
        return text(key, lng, name=localized(policy.name, lng))
    return exc.message_override or message(exc.code, lng, **exc.params)


@page
async def claim(request: Request) -> Response:
    """``GET``/``POST /regions/{region}/policies/{policy}/claim``: the claim's form (the
    ``apply`` matter's, prefilled from the stored profile), filed as a claim."""
    c = ctx(request)
    lng = lang_of(request)
    region = region_of(request)
    identity = signed_in(request, "applicant")
    policy = _policy(request, region)
    matter = region.matters[policy.apply]
    action = f"/regions/{region.id}/policies/{policy.id}/claim"
    notice = text("policies.claim_notice", lng, name=localized(policy.name, lng))
    try:
        if request.method == "GET":
            profile = await threaded(_claim_start, request, identity, policy)
            form = c.package.forms[matter.form]
            data = {**_prefilled(form, identity), **api._prefill(c.package, policy, form, profile)}
            idem = secrets.token_urlsafe(18)
            return _draw(
                request, region, matter, identity, data, idem=idem, action=action, notice=notice
            )
        posted = await checked_form(
            request,
            max_files=len(matter.materials) + 1,
            max_fields=MAX_FIELDS,
            max_bytes=files_cap(matter.materials),
        )

        def filer(data: dict[str, Any], idem: str) -> Stored:
            stored: Stored = api.claim(
                c, identity, policy, region, data, idem, lng, request_id(request)
            )
            return stored

        try:
            return await _post(
                request, region, matter, identity, posted, filer=filer, action=action, notice=notice
            )
        finally:
            await posted.close()
    except ApiError as exc:
        if exc.status != 409:
            raise
        return await _page(
            request,
            region,
            message_text=_claim_refusal(policy, exc, lng),
            fill_profile=exc.code in ("no_profile", "not_eligible"),
            status=409,
        )


@page
async def claim_conditions(request: Request) -> Response:
    """``POST …/policies/{policy}/claim/conditions``: as for the ``apply`` matter's form."""
    region = region_of(request)
    return await conditions_answer(request, region.matters[_policy(request, region).apply])


@page
async def read_notification(request: Request) -> Response:
    """``POST /regions/{region}/policies/notifications/{id}/read``: mark it read."""
    c = ctx(request)
    region = region_of(request)
    identity = signed_in(request, "applicant")
    await checked_form(request)
    await threaded(profiles._mark_read, c, identity, request.path_params["id"], lang_of(request))
    return redirect(request, f"/regions/{region.id}/policies#notifications")
