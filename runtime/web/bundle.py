"""一件事一次办 pages: a bundle's guide, its combined form, and the filing's page.

- ``GET /regions/{region}/bundles/{bundle}``: members (links to their guides, limits),
  the combined materials (``runtime.bundles.materials``);
- ``GET``/``POST …/apply`` (and ``…/apply/conditions``): the combined form, filing every
  member (``routes.bundles.file_bundle``);
- ``GET /me/bundles/{id}``: the filing, each member's number, status and deadline
  (``routes.bundles._one``; the page after filing too).

The form is the matter form's renderer over :func:`runtime.web.bundleform.combined_form`;
``POST`` files exactly what ``POST /api/bundles/{bundle}/applications`` files (same
validation at the combined form's paths, one transaction, the form's one-time ``idem``
as its Idempotency-Key), then stores each chosen material once for every member asking
it, as ``PUT /api/bundles/applications/{id}/materials/{material}`` does.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from runtime.auth import Identity
from runtime.bundles import materials, offered, validate_bundle
from runtime.clock import local_date
from runtime.errors import ApiError, request_id
from runtime.formspec import localized
from runtime.package import Bundle, Region
from runtime.routes import bundles as api
from runtime.routes.catalogue import resolve_text
from runtime.routes.common import ctx, threaded
from runtime.submission import request_hash
from runtime.validation import Conditions
from runtime.web.apply import (
    MAX_FIELDS,
    _idem,
    _prefilled,
    applicant,
    check_files,
    files_cap,
    shown_errors,
)
from runtime.web.bundleform import bundle_conditions, combined_form
from runtime.web.deadline import deadline_note
from runtime.web.files import keep_upload
from runtime.web.formview import (
    change_rows,
    form_sections,
    material_views,
    posted_data,
    upload_limits,
)
from runtime.web.hall import limit_text, region_of
from runtime.web.i18n import lang_of
from runtime.web.render import page, redirect, render
from runtime.web.session import checked_form, posted_form, session_identity


def bundle_of(request: Request, region: Region) -> Bundle:
    """The bundle of the path, offered in ``region`` (404 otherwise, as the API says)."""
    bundle_id = request.path_params["bundle"]
    bundle = ctx(request).package.bundles.get(bundle_id)
    if bundle is None or not offered(bundle, region):
        raise ApiError(404, "unknown_bundle", {"bundle": bundle_id[:64]})
    return bundle


@page
async def guide(request: Request) -> Response:
    """``GET /regions/{region}/bundles/{bundle}``: what the bundle files, what it needs."""
    lng = lang_of(request)
    region = region_of(request)
    bundle = bundle_of(request, region)
    members = []
    for share in bundle.shares:
        matter = region.matters[share.matter]
        g = resolve_text(matter.guide, lng)
        limits = g.get("time_limit") or {}
        members.append(
            {
                "matter": matter,
                "name": localized(matter.name, lng),
                "agency": (g.get("agency") or {}).get("name", ""),
                "promised": limit_text(limits.get("promised"), lng),
                "legal": limit_text(limits.get("legal"), lng),
            }
        )
    names = {s.matter: localized(region.matters[s.matter].name, lng) for s in bundle.shares}
    return render(
        request,
        "bundle_guide.jinja",
        region=region,
        bundle=bundle,
        name=localized(bundle.name, lng),
        description=localized(bundle.description, lng) if bundle.description else "",
        members=members,
        materials=resolve_text(materials(bundle, region), lng),
        member_names=names,
        upload_limits=lambda m: upload_limits(m, lng),
    )


def _verdict(request: Request, bundle: Bundle, region: Region, data: Any) -> Conditions:
    identity = session_identity(request)
    return bundle_conditions(
        ctx(request).package,
        bundle,
        region,
        data,
        identity=identity.prefill() if identity else None,
        today=local_date(ctx(request).now()),
    )


def _draw(
    request: Request,
    region: Region,
    bundle: Bundle,
    data: dict[str, Any],
    *,
    idem: str,
    errors: dict[str, str] | None = None,
    summary: list[tuple[str, str]] | None = None,
    status: int = 200,
    focus: str | None = None,
) -> Response:
    pkg = ctx(request).package
    lng = lang_of(request)
    errors = errors or {}
    form = combined_form(pkg, bundle)
    verdict = _verdict(request, bundle, region, data)
    return render(
        request,
        "bundle_apply.jinja",
        status=status,
        region=region,
        bundle=bundle,
        name=localized(bundle.name, lng),
        members=[localized(region.matters[s.matter].name, lng) for s in bundle.shares],
        sections=form_sections(pkg, form, data, errors, verdict, lng),
        materials=material_views(materials(bundle, region), verdict, errors, lng),
        upload_limits=lambda m: upload_limits({"accept": m.accept, "max_size_mb": m.max_mb}, lng),
        summary=summary or [],
        idem=idem,
        focus=focus,
        action=f"/regions/{region.id}/bundles/{bundle.id}/apply",
    )


@page
async def apply(request: Request) -> Response:
    """``GET``/``POST /regions/{region}/bundles/{bundle}/apply`` (see the module)."""
    region = region_of(request)
    bundle = bundle_of(request, region)
    identity = applicant(request)
    if request.method == "GET":
        data = _prefilled(combined_form(ctx(request).package, bundle), identity)
        return _draw(request, region, bundle, data, idem=secrets.token_urlsafe(18))
    shared = materials(bundle, region)
    posted = await checked_form(
        request, max_files=len(shared) + 1, max_fields=MAX_FIELDS, max_bytes=files_cap(shared)
    )
    try:
        return await _post(request, region, bundle, identity, posted)
    finally:
        await posted.close()


async def _post(
    request: Request, region: Region, bundle: Bundle, identity: Identity, posted: FormData
) -> Response:
    c = ctx(request)
    lng = lang_of(request)
    form = combined_form(c.package, bundle)
    data = posted_data(form, posted)
    idem = _idem(posted)
    action = posted.get("_action")
    if isinstance(action, str) and action:
        data, focus = change_rows(form, data, action)
        return _draw(request, region, bundle, data, idem=idem, focus=focus)
    verdict = _verdict(request, bundle, region, data)
    files, problems = check_files(materials(bundle, region), posted, verdict.hidden, lng)
    body = {"region": region.id, "data": data}
    try:
        if problems:  # the data's own problems too, all on one page
            _, found = validate_bundle(
                c.package,
                bundle,
                data,
                lang=lng,
                identity=identity.prefill(),
                today=local_date(c.now()),
                extensions=c.extensions,
            )
            raise ApiError(422, "validation", fields=found)
        stored = await threaded(
            api.file_bundle,
            c,
            identity,
            bundle,
            region,
            data,
            key=idem,
            digest=request_hash(f"bundle:{bundle.id}", body),
            lng=lng,
            rid=request_id(request),
        )
    except ApiError as exc:
        if exc.status != 422:
            raise
        chosen = bool(files or problems)  # files were chosen: the browser forgets them
        problems = [(p.path, p.message) for p in exc.fields or []] + problems
        return _draw(
            request, region, bundle, data, idem=idem, **shown_errors(problems, chosen, lng)
        )
    filing_id = str(stored.body["id"])
    if files and not stored.replayed:
        for material, upload, media in files:
            await threaded(_attach, request, identity, filing_id, material, upload, media)
    return redirect(request, f"/me/bundles/{filing_id}")


def _attach(
    request: Request,
    identity: Identity,
    filing_id: str,
    material: dict[str, Any],
    upload: UploadFile,
    media: str,
) -> None:
    """One chosen file stored once for every member asking it (the API's own code)."""
    c = ctx(request)
    rid = request_id(request)
    filing, asking, spec = api._shared_material(c, identity, filing_id, material["id"], rid)
    got = keep_upload(c, filing, spec, upload)  # encrypted for the filing that owns it
    try:
        api._attach(c, identity, filing, asking, spec, got, media, rid)
    finally:
        got.path.unlink(missing_ok=True)


@page
async def form_conditions(request: Request) -> Response:
    """``POST …/apply/conditions``: the hidden parts and required fields for the answers
    posted, in the ``HX-Trigger`` header (``govstd:conditions``), as for a matter's form."""
    region = region_of(request)
    bundle = bundle_of(request, region)
    posted = await posted_form(request, max_fields=MAX_FIELDS)
    data = posted_data(combined_form(ctx(request).package, bundle), posted)
    verdict = _verdict(request, bundle, region, data)
    detail = {"hidden": sorted(verdict.hidden), "required": sorted(verdict.required)}
    headers = {"HX-Trigger": json.dumps({"govstd:conditions": detail})}
    return Response(status_code=200, headers=headers, media_type="text/plain")


@page
async def filing(request: Request) -> Response:
    """``GET /me/bundles/{id}``: the filing as one item, each member's number and deadline
    (the page after filing too)."""
    c = ctx(request)
    identity = applicant(request)
    lng = lang_of(request)
    view = await threaded(
        api._one, c, identity, request.path_params["id"], lng, request_id(request)
    )
    for a in view["applications"]:  # before 受理 its clock has not started: the promise
        a["deadline_note"] = deadline_note(c.package, a, lng)
    return render(request, "bundle_filed.jinja", filing=view)
