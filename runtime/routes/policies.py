"""Policies (政策通, services.md §4): 汇聚 查看 匹配 送达 办理 督查 评价.

| method and path | who |
|---|---|
| GET /api/policies?region=R, GET /api/policies/{policy} | anyone |
| POST /api/policies/match | anyone (a signed-in applicant may omit the profile: the stored one) |
| PUT /api/profile, GET /api/profile?form=F (:mod:`runtime.routes.profiles`) | applicant |
| GET /api/notifications, POST /api/notifications/{id}/read (the same) | applicant |
| POST /api/policies/{policy}/claim | applicant |
| POST /api/staff/policies/{policy}/deliver | staff of an issuing region or above |
| GET /api/staff/policies/stats | staff (their region's subtree for supervisors) |

Delivery streams the stored profiles of the policy's profile form in its regions, in
pages of :data:`PAGE` by id (each page its own read), matches each, and inserts the
notifications of a page with ``ON CONFLICT DO NOTHING … RETURNING``: delivering twice,
or twice at once, notifies each enterprise once, and the count of new notifications is
exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from starlette.requests import Request
from starlette.responses import Response

from runtime import audit
from runtime.answers import Filed
from runtime.auth import Identity, identity_of, require, require_staff, visible_regions
from runtime.clock import local_date
from runtime.context import Context
from runtime.db import read, write
from runtime.errors import ApiError, FieldProblem, message, request_id
from runtime.formspec import FormSpec, localized
from runtime.operations import WRITE_ERRORS, Operation
from runtime.package import Package, Policy, Region
from runtime.policies import (
    RANK,
    Match,
    cel_view,
    conditions,
    explained,
    force_regions,
    in_force,
    in_force_in,
    match,
    may_deliver,
    validate_profile,
)
from runtime.records import iso, json_value
from runtime.routes import profiles
from runtime.routes.catalogue import region_param
from runtime.routes.common import (
    ctx,
    filed,
    idempotency_key,
    lang,
    ok,
    read_json,
    require_object,
    threaded,
)
from runtime.routes.profiles import (
    invalid,
    open_profile,
    region_of,
    stored_profile,
)
from runtime.submission import replay, request_hash, submit

PAGE = 2000  # profiles matched per read during a delivery

# --- 汇聚 / 查看 -------------------------------------------------------------------------


def _policy(pkg: Package, request: Request) -> Policy:
    policy_id = request.path_params["policy"]
    policy = pkg.policies.get(policy_id)
    if policy is None:
        raise ApiError(404, "unknown_policy", {"policy": policy_id[:64]})
    return policy


def _conditions(pkg: Package, policy: Policy, lng: str) -> list[dict[str, Any]]:
    return [{"expression": e, "words": w} for e, w in explained(pkg, policy, lng)]


def _item(pkg: Package, policy: Policy, lng: str) -> dict[str, Any]:
    names = pkg.codesets.get("service_object", {}).get("values", [])
    audience = [
        {
            "code": code,
            "name": next((localized(v["name"], lng) for v in names if v["code"] == code), code),
        }
        for code in policy.audience
    ]
    matter = pkg.matter_anywhere(policy.apply)
    return {
        "id": policy.id,
        "name": localized(policy.name, lng),
        "names": policy.name,
        "description": localized(policy.description, lng) if policy.description else None,
        "issuer": localized(policy.issuer, lng),
        "benefit": localized(policy.benefit, lng),
        "valid": {"from": policy.valid_from, "to": policy.valid_to},
        "regions": list(policy.regions),
        "audience": audience,
        "profile": policy.profile,
        "apply": policy.apply,
        "apply_name": localized(matter.name, lng) if matter else policy.apply,
    }


async def list_policies(request: Request) -> Response:
    """``GET /api/policies?region=R`` — in force in R today (default: the package's region)."""
    c = ctx(request)
    lng = lang(request)
    region = region_param(request, c.package, lng) or c.package.regions[c.package.region]
    items = [_item(c.package, p, lng) for p in in_force_in(c.package, region.id, c.now())]
    return ok({"region": region.id, "items": items, "total": len(items)})


async def get_policy(request: Request) -> Response:
    """``GET /api/policies/{policy}`` — with its conditions in words and as expressions."""
    c = ctx(request)
    lng = lang(request)
    policy = _policy(c.package, request)
    body = _item(c.package, policy, lng)
    body["eligible"] = policy.eligible
    body["conditions"] = _conditions(c.package, policy, lng)
    today = local_date(c.now())
    body["in_force"] = [r for r in c.package.regions if in_force(c.package, policy, r, today)]
    return ok(body)


# --- 匹配 --------------------------------------------------------------------------------


def _match_view(match_: Match, pkg: Package, lng: str) -> dict[str, Any]:
    p = match_.policy
    return {
        "policy": p.id,
        "name": localized(p.name, lng),
        "benefit": localized(p.benefit, lng),
        "apply": p.apply,
        "eligible": match_.eligible,
        "conditions": [
            {"expression": expression, "words": said, "held": held}
            for (expression, said), (_, held) in zip(
                explained(pkg, p, lng), match_.held, strict=True
            )
        ],
    }


def match_all(
    pkg: Package, policies: list[Policy], views: Mapping[str, Mapping[str, object]]
) -> list[Match]:
    """Every policy matched against the profile of its form, eligible first."""
    found = [match(pkg, p, views.get(p.profile, {})) for p in policies]
    return sorted(found, key=lambda m: (RANK[m.eligible], m.policy.id))


def _stored_views(
    c: Context, identity: Identity, policies: list[Policy]
) -> dict[str, dict[str, object]]:
    pkg = c.package
    views: dict[str, dict[str, object]] = {}
    with read(c.engine) as conn:
        for form_id in sorted({p.profile for p in policies if p.profile in pkg.forms}):
            form = pkg.forms[form_id]
            row = stored_profile(c, conn, identity.subject, form)
            if row is not None:
                views[form_id] = cel_view(form, open_profile(c.cipher, form, row.data))
    return views


async def match_policies(request: Request) -> Response:
    """``POST /api/policies/match`` — ``{"region", "profile"}`` → every policy in force."""
    c = ctx(request)
    pkg = c.package
    lng = lang(request)
    body = require_object(await read_json(request), {"region", "profile"}, {"region"}, lng)
    region = region_of(pkg, body["region"], lng)
    policies = in_force_in(pkg, region.id, c.now())
    profile = body.get("profile")
    if profile is None:
        identity = identity_of(request, required=False)
        if identity is None or identity.role != "applicant":
            raise ApiError(
                422,
                "validation",
                fields=[FieldProblem("profile", "required", message("field.required", lng))],
            )
        views = await threaded(_stored_views, c, identity, policies)
    else:
        views = _validated_views(pkg, policies, profile, lng, local_date(c.now()))
    items = [_match_view(m, pkg, lng) for m in match_all(pkg, policies, views)]
    return ok({"region": region.id, "items": items, "total": len(items)})


def _validated_views(
    pkg: Package, policies: list[Policy], profile: Any, lng: str, today: Any
) -> dict[str, dict[str, object]]:
    """The profile validated against each profile form in use (422 naming the field)."""
    if not isinstance(profile, dict):
        text = message("field.type", lng, expected="object")
        raise ApiError(422, "validation", fields=[FieldProblem("profile", "type", text)])
    forms = [pkg.forms[f] for f in sorted({p.profile for p in policies if p.profile in pkg.forms})]
    known = set().union(*(f.keys for f in forms)) if forms else set()
    problems = [
        FieldProblem(f"profile.{str(k)[:64]}", "unknown_field", message("field.unknown", lng))
        for k in profile
        if k not in known
    ]
    views: dict[str, dict[str, object]] = {}
    for form in forms:
        mine = {k: v for k, v in profile.items() if k in form.keys}
        cleaned, errors = validate_profile(form, mine, lang=lng, today=today)
        problems += invalid(errors, "profile.").fields or []
        views[form.id] = cel_view(form, {k: json_value(v) for k, v in cleaned.items()})
    if problems:
        unique = list({(p.path, p.code): p for p in problems}.values())
        raise ApiError(422, "validation", fields=unique)
    return views


# --- 送达 --------------------------------------------------------------------------------


def _insert_new(table: Table, dialect: str) -> Any:
    stmt = (sqlite if dialect == "sqlite" else postgresql).insert(table)
    return stmt.on_conflict_do_nothing(
        index_elements=[table.c.applicant_sub, table.c.policy]
    ).returning(table.c.id)


def deliver(c: Context, identity: Identity, policy: Policy, rid: str) -> dict[str, Any]:
    """Match every stored profile the policy applies to; notify each eligible one once."""
    pkg = c.package
    t = pkg.tables
    form = pkg.forms[policy.profile]
    now = c.now()
    today = local_date(now)
    regions = sorted(r for r in force_regions(pkg, policy) if in_force(pkg, policy, r, today))
    names = frozenset().union(*(cond.names for cond in conditions(policy.eligible)))
    stored = t.profiles
    scanned = eligible = notified = 0

    def eligible_profile(text: str) -> bool:
        view = cel_view(form, open_profile(c.cipher, form, text, names))
        return match(pkg, policy, view).eligible is True

    last = 0
    while regions:
        with read(c.engine) as conn:
            page = conn.execute(
                select(stored.c.id, stored.c.applicant_sub, stored.c.region, stored.c.data)
                .where(stored.c.form == form.id, stored.c.region.in_(regions), stored.c.id > last)
                .order_by(stored.c.id)
                .limit(PAGE)
            ).all()
        if not page:
            break
        last = page[-1].id
        scanned += len(page)
        fits = [
            {
                "applicant_sub": row.applicant_sub,
                "policy": policy.id,
                "region": row.region,
                "created_at": now,
            }
            for row in page
            if eligible_profile(row.data)
        ]
        eligible += len(fits)
        if fits:
            with write(c.engine) as conn:
                notified += len(
                    conn.execute(_insert_new(t.notifications, conn.dialect.name), fits).all()
                )
    counts = {"profiles": scanned, "eligible": eligible, "notified": notified}
    with write(c.engine) as conn:
        conn.execute(
            insert(t.policy_deliveries),
            {"policy": policy.id, "actor_sub": identity.subject, "at": now, **counts},
        )
        audit.record(
            conn,
            t.audit_log,
            at=now,
            action="policy_deliver",
            identity=identity,
            request_id=rid,
            detail={"policy": policy.id, **counts},
        )
    return {"policy": policy.id, "regions": regions, **counts, "at": iso(now)}


async def deliver_policy(request: Request) -> Response:
    """``POST /api/staff/policies/{policy}/deliver`` — staff of an issuing region or above."""
    c = ctx(request)
    identity = require_staff(request)
    policy = _policy(c.package, request)
    if not may_deliver(c.package, policy, identity.region):
        raise ApiError(403, "forbidden")
    return ok(await threaded(deliver, c, identity, policy, request_id(request)))


# --- 办理 --------------------------------------------------------------------------------


def _prefill(
    pkg: Package, policy: Policy, matter_form: FormSpec, profile: Mapping[str, Any]
) -> dict[str, Any]:
    """The claim form's fields filled from the profile, matched by data element."""
    source = pkg.forms.get(policy.profile)
    if source is None:
        return {}
    by_element = {f.element: profile[f.id] for f in source.fields if f.id in profile}
    return {f.id: by_element[f.element] for f in matter_form.fields if f.element in by_element}


def claim(
    c: Context,
    identity: Identity,
    policy: Policy,
    region: Region,
    data: Any,
    key: str | None,
    lng: str,
    rid: str,
) -> Any:
    """File a claim (blocking): a replay first, then eligibility on the stored profile, then
    the application and its ``policy_claims`` row in one transaction, refused (409
    ``already_claimed``) while an earlier claim of the policy is open or granted."""
    pkg = c.package
    form = pkg.forms[policy.profile]
    digest = request_hash(f"claim:{policy.id}", {"region": region.id, "data": data})
    if key is not None:
        previous = replay(c.engine, pkg, identity.subject, key, digest)
        if previous is not None:
            return previous
    with read(c.engine) as conn:
        row = stored_profile(c, conn, identity.subject, form)
    profile = open_profile(c.cipher, form, row.data) if row is not None else {}
    outcome = match(pkg, policy, cel_view(form, profile))
    if outcome.eligible is not True:
        raise ApiError(409, "not_eligible", {"policy": policy.id})
    matter = region.matters[policy.apply]
    filled = {**_prefill(pkg, policy, pkg.forms[matter.form], profile), **(data or {})}

    def record(conn: Connection, body: Filed) -> None:
        if _claimed(conn, pkg, identity, policy):
            raise ApiError(409, "already_claimed", {"policy": policy.id})
        conn.execute(
            insert(pkg.tables.policy_claims),
            {"application_id": body["id"], "policy": policy.id, "created_at": c.now()},
        )
        body["policy"] = policy.id

    stored = submit(
        c,
        identity,
        matter,
        region,
        filled,
        idempotency_key=key,
        digest=digest,
        lng=lng,
        rid=rid,
        after=record,
    )
    return stored


def _claimed(conn: Connection, pkg: Package, identity: Identity, policy: Policy) -> bool:
    """Whether the applicant has a claim of ``policy`` that is open or granted (a refused or
    withdrawn one may be claimed again). Locks the applicant's profile row first, so two
    claims at once are judged one after the other."""
    apps, claims, profiles = pkg.tables.applications, pkg.tables.policy_claims, pkg.tables.profiles
    conn.execute(  # one claim at a time per applicant and profile (PostgreSQL row lock)
        select(profiles.c.id)
        .where(profiles.c.applicant_sub == identity.subject, profiles.c.form == policy.profile)
        .with_for_update()
    )
    earlier = conn.execute(
        select(apps.c.region, apps.c.matter, apps.c.status)
        .join(claims, claims.c.application_id == apps.c.id)
        .where(claims.c.policy == policy.id, apps.c.applicant_sub == identity.subject)
    ).all()
    for region_id, matter_id, status in earlier:
        matter = pkg.regions[region_id].matters.get(matter_id) if region_id in pkg.regions else None
        workflow = pkg.workflows.get(matter.workflow) if matter else None
        if workflow is None or not workflow.is_final(status):
            return True
        if status in granted_states(pkg, workflow.id):
            return True
    return False


async def claim_policy(request: Request) -> Response:
    """``POST /api/policies/{policy}/claim`` — ``{"region", "data"?}`` → 201, an application."""
    c = ctx(request)
    pkg = c.package
    lng = lang(request)
    identity = require(request, "applicant")
    policy = _policy(pkg, request)
    body = require_object(await read_json(request), {"region", "data"}, {"region"}, lng)
    region = region_of(pkg, body["region"], lng)
    if (
        not in_force(pkg, policy, region.id, local_date(c.now()))
        or policy.apply not in region.matters
    ):
        raise ApiError(409, "not_in_force", {"policy": policy.id})
    data = body.get("data")
    if data is not None and not isinstance(data, dict):
        text = message("field.type", lng, expected="object")
        raise ApiError(422, "validation", fields=[FieldProblem("data", "type", text)])
    key = idempotency_key(request)
    stored = await threaded(claim, c, identity, policy, region, data, key, lng, request_id(request))
    return filed(stored, f"/api/applications/{stored.body['id']}")


# --- 督查 / 评价 -------------------------------------------------------------------------


def granted_states(pkg: Package, workflow_id: str) -> frozenset[str]:
    """Final states reached only by staff steps that need no reason: 准予/办结, not 不予/撤回."""
    workflow = pkg.workflows.get(workflow_id)
    if workflow is None:
        return frozenset()
    return frozenset(
        s.id
        for s in workflow.states.values()
        if s.final
        and (into := [t for t in workflow.transitions.values() if t.to == s.id])
        and all(t.by != "applicant" and t.reason != "required" for t in into)
    )


def _stats(c: Context, identity: Identity, rid: str, lng: str) -> dict[str, Any]:
    pkg = c.package
    t = pkg.tables
    scope = sorted(visible_regions(identity, pkg.subtree(identity.region)))
    apps, claims, evaluations = t.applications, t.policy_claims, t.evaluations
    notes, deliveries = t.notifications, t.policy_deliveries
    in_scope = apps.c.region.in_(scope)
    with read(c.engine) as conn:
        notified: dict[str, int] = dict(
            conn.execute(
                select(notes.c.policy, func.count())
                .where(notes.c.region.in_(scope))
                .group_by(notes.c.policy)
            ).all()
        )
        latest = (
            select(deliveries.c.policy, func.max(deliveries.c.id).label("id"))
            .group_by(deliveries.c.policy)
            .subquery()
        )
        matched: dict[str, int] = dict(
            conn.execute(
                select(deliveries.c.policy, deliveries.c.eligible).join(
                    latest, deliveries.c.id == latest.c.id
                )
            ).all()
        )
        by_status = conn.execute(
            select(claims.c.policy, apps.c.matter, apps.c.region, apps.c.status, func.count())
            .join(apps, apps.c.id == claims.c.application_id)
            .where(in_scope)
            .group_by(claims.c.policy, apps.c.matter, apps.c.region, apps.c.status)
        ).all()
        scores = conn.execute(
            select(claims.c.policy, func.avg(evaluations.c.score), func.count(evaluations.c.id))
            .join(apps, apps.c.id == claims.c.application_id)
            .join(evaluations, evaluations.c.application_id == apps.c.id)
            .where(in_scope)
            .group_by(claims.c.policy)
        ).all()
    claimed: dict[str, int] = {}
    granted: dict[str, int] = {}
    for policy_id, matter_id, region_id, status, n in by_status:
        claimed[policy_id] = claimed.get(policy_id, 0) + int(n)
        region = pkg.regions.get(region_id)
        matter = region.matters.get(matter_id) if region else None
        if matter is not None and status in granted_states(pkg, matter.workflow):
            granted[policy_id] = granted.get(policy_id, 0) + int(n)
    satisfaction = {
        p: (round(float(avg), 2) if avg is not None else None, int(n)) for p, avg, n in scores
    }
    items = []
    for policy in pkg.policies.values():
        if not force_regions(pkg, policy) & set(scope):
            continue
        avg, count = satisfaction.get(policy.id, (None, 0))
        items.append(
            {
                "policy": policy.id,
                "name": localized(policy.name, lng),
                "matched": int(matched.get(policy.id, 0)),
                "notified": int(notified.get(policy.id, 0)),
                "claimed": claimed.get(policy.id, 0),
                "granted": granted.get(policy.id, 0),
                "satisfaction": {"average": avg, "count": count},
            }
        )
    audit.record_now(
        c.engine,
        t.audit_log,
        at=c.now(),
        action="list",
        identity=identity,
        request_id=rid,
        detail={"policy_stats": True},
    )
    return {"regions": scope, "items": items}


async def policy_stats(request: Request) -> Response:
    """``GET /api/staff/policies/stats`` — per policy: matched, notified, claimed, granted,
    satisfaction, counted in the staff member's regions."""
    c = ctx(request)
    identity = require_staff(request)
    return ok(await threaded(_stats, c, identity, request_id(request), lang(request)))


ROUTES = [
    Operation(
        "GET /api/policies",
        list_policies,
        "listPolicies",
        "政策汇聚 / policies in force in a region",
        "policies",
        ("policies", "PolicyList"),
        errors=(404, 422),
        parameters=("region",),
    ),
    Operation(
        "POST /api/policies/match",
        match_policies,
        "matchPolicies",
        "政策匹配 / match a profile against every policy in force",
        "policies",
        ("every policy in force, eligible first", "MatchResult"),
        errors=(400, 413, 415, 422),
        body="MatchRequest",
    ),
    Operation(
        "GET /api/policies/{policy}",
        get_policy,
        "getPolicy",
        "政策详情 / a policy with its conditions in words and as expressions",
        "policies",
        ("the policy", "Policy"),
        errors=(404,),
        parameters=("policy",),
    ),
    Operation(
        "POST /api/policies/{policy}/claim",
        claim_policy,
        "claimPolicy",
        "政策兑现 / claim a policy through its matter (applicant)",
        "policies",
        ("the claim, an application", "Filed"),
        status=201,
        errors=WRITE_ERRORS,
        parameters=("policy", "IdempotencyKey"),
        body="Claim",
        secured=True,
    ),
    Operation(
        "PUT /api/profile",
        profiles.put_profile,
        "putProfile",
        "保存画像 / store the caller's profile (validated as a form)",
        "policies",
        ("stored", "StoredProfile"),
        errors=(400, 401, 403, 413, 415, 422),
        body="Profile",
        secured=True,
    ),
    Operation(
        "GET /api/profile",
        profiles.get_profile,
        "getProfile",
        "我的画像 / the caller's stored profile",
        "policies",
        ("the profile", "StoredProfile"),
        errors=(401, 403, 404, 422),
        parameters=("profileForm",),
        secured=True,
    ),
    Operation(
        "GET /api/notifications",
        profiles.list_notifications,
        "listNotifications",
        "政策消息 / the caller's notifications",
        "policies",
        ("notifications, newest first", "NotificationList"),
        errors=(401, 403),
        secured=True,
    ),
    Operation(
        "POST /api/notifications/{notification}/read",
        profiles.read_notification,
        "readNotification",
        "标为已读 / mark a notification read",
        "policies",
        ("the notification", "Notification"),
        errors=(401, 403, 404, 422),
        parameters=("notification",),
        secured=True,
    ),
    Operation(
        "GET /api/staff/policies/stats",
        policy_stats,
        "policyStats",
        "督查评价 / per policy: matched, notified, claimed, granted, satisfaction",
        "staff",
        ("statistics", "PolicyStats"),
        errors=(401, 403),
        secured=True,
    ),
    Operation(
        "POST /api/staff/policies/{policy}/deliver",
        deliver_policy,
        "deliverPolicy",
        "精准送达 / notify every stored profile the policy fits (staff of its region)",
        "staff",
        ("counts", "Delivery"),
        errors=(401, 403, 404),
        parameters=("policy",),
        secured=True,
    ),
]
