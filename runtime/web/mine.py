"""我的办件 (``/me``): the signed-in applicant's applications.

| method and path (under /me/applications/{id}) | what | the API's code it calls |
|---|---|---|
| GET /me | the list (status, deadline) | ``applications._own`` |
| GET … | data, history, materials, steps | ``applications._detail`` |
| GET …/filed | after filing: number, deadline, next steps | same |
| POST …/actions/{transition} | withdraw, other own steps | ``actions.take_step`` |
| GET, POST …/correct | 补正: corrected data and files | ``take_step`` with data |
| GET, POST …/materials/{material} | download, upload | ``routes.materials`` |
| POST …/evaluation | 好差评 once final | ``evaluations._evaluate`` |

Every check (who may see the case, which step is possible, frozen final cases,
file types and sizes) is the API's: the pages only turn forms into the same calls and
answers into pages. A refused step comes back as the API's message on the page.
"""

from __future__ import annotations

from typing import Any, Final

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from runtime.actions import take_step
from runtime.auth import Identity
from runtime.clock import local_date
from runtime.context import Context
from runtime.errors import ApiError, message, request_id
from runtime.formspec import localized
from runtime.package import Matter
from runtime.records import matter_of, rules_of
from runtime.routes import applications, bundles, evaluations, materials, profiles
from runtime.routes.common import ctx, find_application, threaded
from runtime.rules import CaseRules
from runtime.validation import conditions
from runtime.web.apply import check_files, files_cap
from runtime.web.deadline import deadline_note
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
from runtime.web.i18n import lang_of, text
from runtime.web.render import error_page, page, redirect, render, with_query
from runtime.web.session import checked_form, signed_in

PAGE_SIZE: Final = 20


def applicant(request: Request) -> Identity:
    return signed_in(request, "applicant")


@page
async def my_applications(request: Request) -> Response:
    """``GET /me``: my applications, newest first, 20 a page."""
    c = ctx(request)
    identity = applicant(request)
    raw = request.query_params.get("page", "1")
    number = int(raw) if raw.isdigit() and 0 < len(raw) < 7 and int(raw) > 0 else 1
    lng = lang_of(request)
    listing = await threaded(applications._own, c, identity, number, PAGE_SIZE, lng)
    for a in listing["items"]:
        a["deadline_note"] = deadline_note(c.package, a, lng)
    pages = max(1, -(-listing["total"] // PAGE_SIZE))
    filings = await threaded(bundles._own, c, identity, 1, PAGE_SIZE, lng) if number == 1 else None
    notes = await threaded(profiles._notifications, c, identity, lng)
    unread = [n for n in notes["items"] if not n["read"]]
    return render(
        request,
        "me.jinja",
        listing=listing,
        page=number,
        pages=pages,
        filings=filings,
        unread=unread,
    )


async def _detail(request: Request, identity: Identity) -> dict[str, Any]:
    c = ctx(request)
    app_id = request.path_params["id"]
    lng = lang_of(request)
    result: dict[str, Any] = await threaded(applications._detail, request, c, identity, app_id, lng)
    for step in result["transitions"]:
        if step["transition"] == "submit" and step["from"] == "":  # the filing itself
            step["transition_name"] = text("apply.submit", lng)
    return result


def _matter(c: Context, app: dict[str, Any]) -> Matter:
    matter = matter_of(c.package, app["region"], app["matter"])
    if matter is None:
        raise ApiError(404, "unknown_matter", {"matter": app["matter"]})
    return matter


def _rules(c: Context, app: dict[str, Any]) -> CaseRules | None:
    """The rules the case was filed under: its form and materials (runtime/rules.py)."""
    return rules_of(c.package, app)


def _data_rows(c: Context, app: dict[str, Any], lng: str) -> list[tuple[str, list[Any]]]:
    """The submitted data as (section name, [(label, shown value) | (group rows)])."""
    rules = _rules(c, app)
    if rules is None:
        return []
    form = rules.form
    verdict = conditions(form, app["data"])
    out: list[tuple[str, list[Any]]] = []
    for section in form_sections(c.package, form, app["data"], {}, verdict, lng):
        items: list[Any] = []
        if section.group is not None:
            for n, row in enumerate(section.group.rows, start=1):
                shown = [(f.label, _shown(f, lng)) for f in row if not f.hidden and f.value]
                items.append((text("apply.row", lng, n=n), shown))
        else:
            items = [(f.label, _shown(f, lng)) for f in section.fields if not f.hidden and f.value]
        if items:
            out.append((section.name, items))
    return out


def _shown(f: Any, lng: str) -> str:
    if f.kind == "yesno":
        return text("apply.yes" if f.value == "true" else "apply.no", lng)
    if f.choices:
        names = {c.code: c.name for c in f.choices}
        values = f.value if isinstance(f.value, list) else [f.value]
        return text("p.list", lng).join(str(names.get(v, v)) for v in values)
    return str(f.value)


def _materials(c: Context, app: dict[str, Any], lng: str) -> list[Any]:
    rules = _rules(c, app)
    if rules is None:
        return []
    extra = material_conditions(list(rules.materials))
    verdict = conditions(rules.form, app["data"], extra=extra)
    uploaded = {m["material"]: m for m in app["materials"]}
    return material_views(list(rules.materials), verdict, {}, lng, uploaded)


@page
async def application(request: Request) -> Response:
    """``GET /me/applications/{id}`` (and ``…/filed`` right after filing)."""
    c = ctx(request)
    lng = lang_of(request)
    identity = applicant(request)
    app = await _detail(request, identity)
    app["deadline_note"] = deadline_note(c.package, app, lng)
    matter = _matter(c, app)
    workflow = c.package.workflows.get(matter.workflow)
    steps = []
    for step_id in app["actions"]:
        step = workflow.transitions[step_id] if workflow else None
        if step is None:
            continue
        correct = workflow is not None and workflow.takes_data(step)
        steps.append(
            {
                "id": step_id,
                "name": localized(step.name, lng),
                "correct": correct,
                "reason": step.reason == "required",
            }
        )
    views = _materials(c, app, lng)
    missing = [
        m
        for m in views
        if not m.government and not m.hidden and m.necessity == "required" and not m.uploaded
    ]
    filed = request.url.path.endswith("/filed")
    return render(
        request,
        "filed.jinja" if filed else "application.jinja",
        app=app,
        matter=matter,
        region=c.package.regions.get(app["region"]),
        data=_data_rows(c, app, lng),
        materials=views,
        missing=missing,
        steps=steps,
        upload_limits=lambda m: upload_limits({"accept": m.accept, "max_size_mb": m.max_mb}, lng),
        notice=_notice(request.query_params.get("done")),
    )


def _notice(done: str | None) -> str | None:
    return f"app.done_{done}" if done in ("step", "corrected", "uploaded", "evaluated") else None


@page
async def act(request: Request) -> Response:
    """``POST /me/applications/{id}/actions/{transition}``: withdraw and the like."""
    c = ctx(request)
    identity = applicant(request)
    form = await checked_form(request)
    app_id = request.path_params["id"]
    transition = request.path_params["transition"]
    reason = form.get("reason")
    reason = reason.strip()[:4000] if isinstance(reason, str) and reason.strip() else None
    await threaded(find_application, request, identity, app_id, for_action=True)
    await threaded(
        take_step,
        c,
        identity,
        app_id,
        transition,
        reason=reason,
        data=None,
        lng=lang_of(request),
        rid=request_id(request),
    )
    return redirect(request, with_query(f"/me/applications/{app_id}", done="step"))


@page
async def correct(request: Request) -> Response:
    """``GET``/``POST /me/applications/{id}/correct``: 补正 — the form with the data as filed,
    corrected and sent back with the applicant's resubmission step (its new files too)."""
    c = ctx(request)
    lng = lang_of(request)
    identity = applicant(request)
    app = await _detail(request, identity)
    matter = _matter(c, app)
    workflow = c.package.workflows[matter.workflow]
    step = next((t for t in app["actions"] if workflow.takes_data(workflow.transitions[t])), None)
    if step is None:
        raise ApiError(409, "wrong_state", {"transition": "补正", "status": app["status_name"]})
    rules = _rules(c, app)  # a 补正 shows and checks the form the case was filed with
    if rules is None:
        raise ApiError(404, "unknown_matter", {"matter": app["matter"]})
    form_spec, case_materials = rules.form, list(rules.materials)
    data: dict[str, Any] = app["data"]
    errors: dict[str, str] = {}
    summary: list[tuple[str, str]] = []
    if request.method == "POST":
        form = await checked_form(
            request, max_files=len(case_materials) + 1, max_bytes=files_cap(case_materials)
        )
        try:
            data = posted_data(form_spec, form)
            action = form.get("_action")
            if not (isinstance(action, str) and action):
                problems = await _resubmit(
                    request, c, identity, app, case_materials, step, data, form
                )
                if not problems:
                    return redirect(
                        request, with_query(f"/me/applications/{app['id']}", done="corrected")
                    )
                errors = error_map(problems)
                summary = [(dom_id(p), m) for p, m in errors.items()]
            else:
                data, _ = change_rows(form_spec, data, action)
        finally:
            await form.close()
    extra = material_conditions(case_materials)
    verdict = conditions(
        form_spec, data, identity=identity.prefill(), today=local_date(c.now()), extra=extra
    )
    uploaded = {m["material"]: m for m in app["materials"]}
    reasons = [s for s in app["transitions"] if s["reason"]]
    return render(
        request,
        "correct.jinja",
        status=422 if errors else 200,
        app=app,
        matter=matter,
        reason=reasons[-1]["reason"] if reasons else None,
        sections=form_sections(c.package, form_spec, data, errors, verdict, lng),
        materials=material_views(case_materials, verdict, errors, lng, uploaded),
        upload_limits=lambda m: upload_limits({"accept": m.accept, "max_size_mb": m.max_mb}, lng),
        summary=summary,
        step_name=localized(workflow.transitions[step].name, lng),
        action=f"/me/applications/{app['id']}/correct",
    )


async def _resubmit(
    request: Request,
    c: Context,
    identity: Identity,
    app: dict[str, Any],
    case_materials: list[dict[str, Any]],
    step: str,
    data: dict[str, Any],
    form: FormData,
) -> list[tuple[str, str]]:
    """Store the new files, then take the resubmission step with the corrected data;
    the problems, if any (nothing is changed then)."""
    lng = lang_of(request)
    chosen, problems = check_files(case_materials, form, frozenset(), lng)
    if problems:
        return problems
    try:
        row = await threaded(find_application, request, identity, app["id"], for_action=True)
        await threaded(
            take_step,
            c,
            identity,
            app["id"],
            step,
            reason=None,
            data=data,
            lng=lng,
            rid=request_id(request),
        )
    except ApiError as exc:
        if exc.status == 422 and exc.fields:
            return [(p.path, p.message) for p in exc.fields]
        raise
    for material, upload, media in chosen:
        got = await threaded(keep_upload, c, row, material, upload)
        await threaded(store_material, request, c, identity, row, material, got, media)
    return []


@page
async def material(request: Request) -> Response:
    """``GET``: download my file; ``POST`` (multipart ``file``): upload or replace it."""
    c = ctx(request)
    identity = applicant(request)
    if request.method == "GET":
        found = await threaded(materials.open_download, request, c, identity)
        return found.response()
    lng = lang_of(request)
    row, spec = await threaded(materials._check_upload, request, c, identity)
    cap = int(spec.get("max_size_mb") or 10) * MB + 64 * 1024
    form = await checked_form(request, max_files=1, max_bytes=cap)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ApiError(422, "file_missing")
        problem, media = file_problem(spec, upload, lng)
        if problem:
            return error_page(request, 422, problem)
        got = await threaded(keep_upload, c, row, spec, upload)
        await threaded(store_material, request, c, identity, row, spec, got, media)
    finally:
        await form.close()
    return redirect(request, with_query(f"/me/applications/{row.id}", done="uploaded"))


@page
async def evaluate(request: Request) -> Response:
    """``POST /me/applications/{id}/evaluation``: 好差评, 1 to 5 with a comment."""
    c = ctx(request)
    identity = applicant(request)
    form = await checked_form(request)
    raw = form.get("score")
    score = int(raw) if isinstance(raw, str) and raw in ("1", "2", "3", "4", "5") else None
    if score is None:
        return error_page(request, 422, message("field.range", lang_of(request), low=1, high=5))
    comment = form.get("comment")
    comment = comment.strip()[: evaluations.MAX_COMMENT] if isinstance(comment, str) else ""
    app_id = request.path_params["id"]
    await threaded(evaluations._evaluate, request, c, identity, app_id, score, comment or None)
    return redirect(request, with_query(f"/me/applications/{app_id}", done="evaluated"))
