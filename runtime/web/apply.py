"""The form (在线申报): ``/regions/{region}/matters/{matter}/apply``.

``GET`` draws the form, prefilled from the signed-in applicant's identity. ``POST``
(``multipart/form-data``, with the material files) either changes the form —
``_action`` ``add:<group>``, ``remove:<group>:<row>`` or ``refresh`` (redrawn with
the answers kept, no errors) — or files it: the files are checked (type by their
first bytes, size), the data goes through :func:`runtime.submission.submit` exactly
as ``POST /api/matters/{matter}/applications`` sends it (same validation, same
numbering, same audit; the form's one-time ``idem`` value is its Idempotency-Key, so
a double click files once), each file is stored by the API's own material upload
code, and the browser goes to the after-filing page. On errors the form comes back
with every message beside its field, a summary at the top and the answers kept.

``POST …/apply/conditions`` answers which parts are hidden for the answers so far
(:func:`runtime.validation.conditions`, the server's one CEL engine) in the
``HX-Trigger`` header ``govstd:conditions``; htmx asks it whenever an answer changes.
Without JavaScript the form is redrawn by the server on ``refresh`` and on submit.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from runtime.auth import Identity
from runtime.clock import local_date
from runtime.errors import ApiError, request_id
from runtime.formspec import FormSpec, localized
from runtime.package import Matter, Region
from runtime.routes.common import ctx, find_application, threaded
from runtime.submission import Stored, request_hash, submit_now
from runtime.validation import Conditions, conditions, validate_submission
from runtime.web.files import MB, file_problem, keep_upload, store_material
from runtime.web.formview import (
    change_rows,
    dom_id,
    error_map,
    form_sections,
    material_conditions,
    material_views,
    posted_data,
    upload_limits,
)
from runtime.web.hall import matter_of, region_of
from runtime.web.i18n import lang_of, text
from runtime.web.render import page, redirect, render
from runtime.web.session import checked_form, posted_form, session_identity, signed_in

FRAMING: Final = 2 * MB  # a form's fields and multipart framing besides its files
MAX_FIELDS: Final = 2000


def applicant(request: Request) -> Identity:
    """The signed-in applicant (401: to the sign-in page; staff: 403)."""
    return signed_in(request, "applicant")


def _prefilled(form: FormSpec, identity: Identity) -> dict[str, Any]:
    given = identity.prefill()
    data: dict[str, Any] = {}
    for f in form.fields:
        if f.prefill_key and f.prefill_key in given:
            data[f.id] = given[f.prefill_key]
    for g in form.groups:
        if g.min:
            data[g.id] = [{} for _ in range(g.min)]
    return data


def _verdict(
    request: Request, form: FormSpec, matter: Matter, data: Any, identity: Identity
) -> Conditions:
    c = ctx(request)
    return conditions(
        form,
        data,
        identity=identity.prefill(),
        today=local_date(c.now()),
        extra=material_conditions(list(matter.materials)),
    )


def _draw(
    request: Request,
    region: Region,
    matter: Matter,
    identity: Identity,
    data: dict[str, Any],
    *,
    idem: str,
    errors: dict[str, str] | None = None,
    summary: list[tuple[str, str]] | None = None,
    status: int = 200,
    focus: str | None = None,
    action: str | None = None,
    notice: str | None = None,
) -> Response:
    c = ctx(request)
    lng = lang_of(request)
    form = c.package.forms[matter.form]
    errors = errors or {}
    verdict = _verdict(request, form, matter, data, identity)
    materials = list(matter.materials)
    return render(
        request,
        "apply.jinja",
        status=status,
        region=region,
        matter=matter,
        name=localized(matter.name, lng),
        form_name=localized(form.name, lng),
        sections=form_sections(c.package, form, data, errors, verdict, lng),
        materials=material_views(materials, verdict, errors, lng),
        upload_limits=lambda m: upload_limits({"accept": m.accept, "max_size_mb": m.max_mb}, lng),
        summary=summary or [],
        idem=idem,
        focus=focus,
        action=action or f"/regions/{region.id}/matters/{matter.id}/apply",
        notice=notice,
    )


@page
async def apply(request: Request) -> Response:
    """``GET``/``POST /regions/{region}/matters/{matter}/apply`` (see the module)."""
    c = ctx(request)
    region = region_of(request)
    matter = matter_of(request, region)
    identity = applicant(request)
    if request.method == "GET":
        form = c.package.forms[matter.form]
        data = _prefilled(form, identity)
        return _draw(request, region, matter, identity, data, idem=secrets.token_urlsafe(18))
    posted = await checked_form(
        request,
        max_files=len(matter.materials) + 1,
        max_fields=MAX_FIELDS,
        max_bytes=files_cap(matter.materials),
    )
    try:
        return await _post(request, region, matter, identity, posted)
    finally:
        await posted.close()


def files_cap(materials: Iterable[Mapping[str, Any]]) -> int:
    """The largest form with files of these materials (a matter's, a bundle's or a case's
    own): every material at its cap, and the rest."""
    return sum(int(m.get("max_size_mb") or 10) for m in materials) * MB + FRAMING


def _idem(posted: FormData) -> str:
    raw = posted.get("idem")
    if isinstance(raw, str) and 16 <= len(raw) <= 64 and raw.isascii() and raw.isprintable():
        return raw
    return secrets.token_urlsafe(18)


Filer = Callable[[dict[str, Any], str], Stored]  # (data, Idempotency-Key) -> filed


async def _post(
    request: Request,
    region: Region,
    matter: Matter,
    identity: Identity,
    posted: FormData,
    *,
    filer: Filer | None = None,
    action: str | None = None,
    notice: str | None = None,
) -> Response:
    """File the posted form (by ``submit``, or ``filer``: a policy claim files the same form
    through :func:`runtime.routes.policies.claim`), or redraw it; ``action`` is the form's
    address when it is not the matter's own."""
    c = ctx(request)
    lng = lang_of(request)
    form = c.package.forms[matter.form]
    data = posted_data(form, posted)
    idem = _idem(posted)
    change = posted.get("_action")

    def redraw(data: dict[str, Any], **shown: Any) -> Response:
        return _draw(
            request,
            region,
            matter,
            identity,
            data,
            idem=idem,
            action=action,
            notice=notice,
            **shown,
        )

    if isinstance(change, str) and change:
        data, focus = change_rows(form, data, change)
        return redraw(data, focus=focus)
    verdict = _verdict(request, form, matter, data, identity)
    files, file_errors = check_files(matter.materials, posted, verdict.hidden, lng)
    if file_errors:
        cleaned, problems = validate_submission(
            form, data, lang=lng, identity=identity.prefill(), today=local_date(c.now())
        )
        problems = problems or c.extensions.problems(form.id, cleaned, lng)
        found = [(p.path, p.message) for p in problems] + file_errors
        return redraw(data, **shown_errors(found, True, lng))
    body = {"region": region.id, "data": data}
    try:
        if filer is not None:
            stored = await threaded(filer, data, idem)
        else:
            stored = await submit_now(
                c,
                identity,
                matter,
                region,
                data,
                idempotency_key=idem,
                digest=request_hash(matter.id, body),
                lng=lng,
                rid=request_id(request),
            )
    except ApiError as exc:
        if exc.status != 422 or not exc.fields:
            raise
        found = [(p.path, p.message) for p in exc.fields]
        return redraw(data, **shown_errors(found, bool(files), lng))
    app_id = str(stored.body["id"])
    if files and not stored.replayed:
        row = await threaded(find_application, request, identity, app_id, for_action=True)
        for material, upload, media in files:
            got = await threaded(keep_upload, c, row, material, upload)
            await threaded(store_material, request, c, identity, row, material, got, media)
    return redirect(request, f"/me/applications/{app_id}/filed")


def check_files(
    materials: Iterable[dict[str, Any]], posted: FormData, hidden: frozenset[str], lng: str
) -> tuple[list[tuple[dict[str, Any], UploadFile, str]], list[tuple[str, str]]]:
    """The chosen files that may be stored (material, file, media type), and the problems
    of the others (input name, message)."""
    files: list[tuple[dict[str, Any], UploadFile, str]] = []
    problems: list[tuple[str, str]] = []
    for material in materials:
        name = f"material.{material['id']}"
        upload = posted.get(name)
        if not isinstance(upload, UploadFile) or not upload.filename or name in hidden:
            continue
        problem, media = file_problem(material, upload, lng)
        if problem:
            problems.append((name, problem))
        else:
            files.append((material, upload, media))
    return files, problems


def shown_errors(problems: list[tuple[str, str]], files_chosen: bool, lng: str) -> dict[str, Any]:
    """What a redrawn form shows of ``problems``: each beside its field and in the summary
    (with a word to choose the files again: the browser forgets them), status 422."""
    errors = error_map(problems)
    summary = [(dom_id(path), msg) for path, msg in errors.items()]
    if files_chosen:
        summary.append(("materials", text("apply.choose_again", lng)))
    return {"errors": errors, "summary": summary, "status": 422}


@page
async def form_conditions(request: Request) -> Response:
    """``POST …/apply/conditions``: the hidden parts and required fields for the answers
    posted, in the ``HX-Trigger`` header (``govstd:conditions``)."""
    region = region_of(request)
    return await conditions_answer(request, matter_of(request, region))


async def conditions_answer(request: Request, matter: Matter) -> Response:
    """The ``govstd:conditions`` answer for ``matter``'s form and the posted answers."""
    identity = session_identity(request)
    form = ctx(request).package.forms[matter.form]
    posted = await posted_form(request, max_fields=MAX_FIELDS)
    data = posted_data(form, posted)
    verdict = conditions(
        form,
        data,
        identity=identity.prefill() if identity else None,
        today=local_date(ctx(request).now()),
        extra=material_conditions(list(matter.materials)),
    )
    detail = {"hidden": sorted(verdict.hidden), "required": sorted(verdict.required)}
    headers = {"HX-Trigger": json.dumps({"govstd:conditions": detail})}
    return Response(status_code=200, headers=headers, media_type="text/plain")
