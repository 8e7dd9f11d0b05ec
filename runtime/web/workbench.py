"""工作台 (``/staff``): the staff member's queue, a case, its steps, reveal, material files.

Under /staff (the API's code each calls in brackets):

- GET /staff — the queue: tabs (all open, 待受理, 办理中, 即将超期, 已超期, 已办结)
  with counts, matter (and region) filter, the most urgent first
  (``staff._list``, ``staff.queue_counts``);
- GET /staff/cases/{id} — a case: data masked, materials (what is missing), history by
  name, one button per step (``applications._detail``);
- POST /staff/cases/{id}/steps/{transition} — a step, with its reason where the workflow
  requires one (``applications.step``);
- POST /staff/cases/{id}/reveal — the masked values, for a reason, audited
  (``staff._reveal``);
- GET /staff/cases/{id}/materials/{material} — a material's file
  (``materials.open_download``).

Who sees which case, which step is possible, the reasons, four eyes, materials needed
for 受理, masking and audit are all the API's: a refusal comes back as the API's message
on the case page (beside the reason box when it is about the reason). A staff page never
holds an unmasked sensitive value (only the answer to a reveal does) nor an applicant's
login id (history shows an applicant's steps by role).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from runtime.auth import STAFF_ROLES, Identity, visible_regions
from runtime.errors import ApiError, message, request_id
from runtime.formspec import FormSpec, localized
from runtime.masking import sensitive_paths
from runtime.package import Matter
from runtime.routes import applications, materials, staff
from runtime.routes.common import ctx, find_application, threaded
from runtime.web.deadline import deadline_note
from runtime.web.i18n import lang_of, text
from runtime.web.mine import _data_rows, _detail, _matter
from runtime.web.render import page, redirect, render, with_query
from runtime.web.session import checked_form, signed_in

PAGE_SIZE: Final = 20
MAX_REASON: Final = 4000  # what the API's step takes
# the queue's tabs: a stage of runtime.routes.staff.STAGES, or overdue / due soon
TABS: Final = ("open", "pending", "in_progress", "due_soon", "overdue", "finished")


def staff_member(request: Request) -> Identity:
    return signed_in(request, *sorted(STAFF_ROLES))


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 and int(raw) > 0 else 1


def scope_matters(request: Request, identity: Identity) -> tuple[list[Any], dict[str, str]]:
    """The regions the person sees (as the API decides) and their matters' names."""
    c = ctx(request)
    lng = lang_of(request)
    regions = [c.package.regions[r] for r in sorted(staff._scope(c, identity))]
    names: dict[str, str] = {}
    for region in regions:
        for matter in region.matters.values():
            names.setdefault(matter.id, localized(matter.name, lng))
    return regions, dict(sorted(names.items(), key=lambda kv: kv[1]))


def _region_name(request: Request, identity: Identity) -> str:
    region = ctx(request).package.regions.get(identity.region or "")
    return localized(region.name, lang_of(request)) if region else ""


@page
async def queue(request: Request) -> Response:
    """``GET /staff?tab=&matter=&region=&page=``: the queue, 20 a page."""
    c = ctx(request)
    lng = lang_of(request)
    identity = staff_member(request)
    regions, matters = scope_matters(request, identity)
    tab = request.query_params.get("tab") or "open"
    tab = tab if tab in TABS else "open"
    matter = request.query_params.get("matter") or None
    matter = matter if matter in matters else None
    region = request.query_params.get("region") or None
    region = region if region in {r.id for r in regions} else None
    number = _page_number(request)
    query: dict[str, Any] = {
        "status": None,
        "matter": matter,
        "region": region,
        "stage": tab if tab in staff.STAGES else None,
        "overdue": tab == "overdue",
        "due_soon": tab == "due_soon",
        "sort": None if tab == "finished" else "deadline",
    }
    rid = request_id(request)
    listing = await threaded(staff._list, c, identity, query, number, PAGE_SIZE, lng, rid)
    counts = await threaded(staff.queue_counts, c, identity, query)
    for a in listing["items"]:
        a["deadline_note"] = deadline_note(c.package, a, lng)
    pages = max(1, -(-listing["total"] // PAGE_SIZE))

    def url(**changes: Any) -> str:
        values = {"tab": tab, "matter": matter, "region": region, **changes}
        if values["tab"] == "open":
            values["tab"] = None
        return with_query("/staff", **values)

    tabs = [(key, text(f"staff.tab_{key}", lng), counts[key], url(tab=key)) for key in TABS]
    return render(
        request,
        "staff_queue.jinja",
        listing=listing,
        tab=tab,
        tabs=tabs,
        matters=matters,
        matter=matter,
        regions=regions if len(regions) > 1 else [],
        region=region,
        home=_region_name(request, identity),
        page=number,
        pages=pages,
        url=url,
    )


@dataclass(frozen=True)
class StepView:
    """A button on the case page: a transition the person may take."""

    id: str
    name: str
    reason: bool  # the workflow requires a reason
    supplement: bool  # it asks the applicant to correct (一次性告知: the reason says what)
    primary: bool


def _steps(c: Any, app: dict[str, Any], matter: Matter, lng: str) -> list[StepView]:
    workflow = c.package.workflows.get(matter.workflow)
    if workflow is None:
        return []
    views: list[StepView] = []
    for step_id in app["actions"]:
        t = workflow.transitions.get(step_id)
        if t is None:
            continue
        # a step into a state from which the applicant resubmits corrected data: 补正
        supplement = any(
            t.to in back.sources and workflow.takes_data(back)
            for back in workflow.transitions.values()
        )
        views.append(
            StepView(
                id=t.id,
                name=localized(t.name, lng),
                reason=t.reason == "required",
                supplement=supplement,
                primary=not views and t.reason != "required",
            )
        )
    return views


@dataclass(frozen=True)
class MaterialItem:
    id: str
    name: str
    required: bool
    uploaded: bool
    missing: bool
    government: bool
    fetch_missing: bool = False  # 电子证照 not fetched at filing (runtime/licences.py)
    fetch_note: str | None = None  # …and why, or that it was fetched


def _checklist(app: dict[str, Any]) -> list[MaterialItem]:
    """The case's materials: what is required, handed in, missing (the API's ``checklist``,
    of the rules the case was filed under)."""
    return [
        MaterialItem(
            id=str(m["material"]),
            name=str(m["name"]),
            required=bool(m["required"]),
            uploaded=bool(m["uploaded"]),
            missing=bool(m["missing"]),
            government=m.get("source") == "government",
            fetch_missing=(m.get("fetch") or {}).get("status") == "missing",
            fetch_note=(m.get("fetch") or {}).get("message"),
        )
        for m in app["checklist"]
    ]


@dataclass(frozen=True)
class Refusal:
    """Why the last step or reveal was not done: the API's message, the problem fields."""

    action: str  # a transition id, or "reveal"
    message: str
    fields: dict[str, str]
    status: int


async def _case(
    request: Request,
    identity: Identity,
    *,
    refusal: Refusal | None = None,
    reasons: dict[str, str] | None = None,
) -> Response:
    c = ctx(request)
    lng = lang_of(request)
    app = await _detail(request, identity)
    app["deadline_note"] = deadline_note(c.package, app, lng)
    matter = _matter(c, app)
    form = c.package.forms.get(app["form"])
    workflow = c.package.workflows.get(matter.workflow)
    done = request.query_params.get("done")  # shown only when it is the case's last step
    last = app["transitions"][-1]["transition"] if app["transitions"] else None
    done_name = (
        localized(workflow.transitions[done].name, lng)
        if workflow is not None and done == last and done in workflow.transitions
        else None
    )
    checklist = _checklist(app)
    return render(
        request,
        "staff_case.jinja",
        status=refusal.status if refusal else 200,
        app=app,
        matter=matter,
        data=_data_rows(c, app, lng),
        steps=_steps(c, app, matter, lng),
        checklist=checklist,
        missing=[m for m in checklist if m.missing],
        uploaded={m["material"] for m in app["materials"]},
        can_reveal=form is not None and bool(sensitive_paths(form)),
        refusal=refusal,
        reasons=reasons or {},
        done_name=done_name,
        siblings=_siblings(c, identity, app, lng),
    )


def _siblings(c: Any, identity: Identity, app: dict[str, Any], lng: str) -> list[dict[str, Any]]:
    """The applications of the case's bundle filing (一件事一次办), this case among them,
    each with whether this officer may open it (the API's own visibility rule)."""
    bundle = app.get("bundle")
    if not bundle:
        return []
    seen = visible_regions(identity, c.package.subtree(identity.region))
    return [
        {**a, "visible": a["region"] in seen, "deadline_note": deadline_note(c.package, a, lng)}
        for a in bundle["applications"]
    ]


@page
async def case(request: Request) -> Response:
    """``GET /staff/cases/{id}``."""
    return await _case(request, staff_member(request))


def _reason(form: Any) -> str | None:
    raw = form.get("reason")
    return raw.strip() or None if isinstance(raw, str) else None


def _refusal(exc: ApiError, action: str, lng: str) -> Refusal:
    fields = {p.path: p.message for p in exc.fields or ()}
    if exc.code == "validation" and "reason" in fields:
        msg = text("staff.give_reason", lng)
    else:
        msg = exc.message_override or message(exc.code, lng, **exc.params)
    return Refusal(action=action, message=msg, fields=fields, status=exc.status)


@page
async def take(request: Request) -> Response:
    """``POST /staff/cases/{id}/steps/{transition}`` (``reason``)."""
    c = ctx(request)
    lng = lang_of(request)
    identity = staff_member(request)
    form = await checked_form(request)
    app_id = request.path_params["id"]
    transition = request.path_params["transition"]
    reason = _reason(form)
    typed = {transition: reason or ""}
    if reason is not None and len(reason) > MAX_REASON:
        problem = text("staff.reason_too_long", lng, max=MAX_REASON)
        refusal = Refusal(transition, problem, {"reason": problem}, 422)
        return await _case(request, identity, refusal=refusal, reasons=typed)
    try:
        await applications.step(
            request, c, identity, app_id, transition, reason=reason, data=None, lng=lng
        )
    except ApiError as exc:
        if exc.status in (401, 404):
            raise
        return await _case(request, identity, refusal=_refusal(exc, transition, lng), reasons=typed)
    return redirect(request, with_query(f"/staff/cases/{app_id}", done=transition))


@dataclass(frozen=True)
class Revealed:
    label: str
    value: str


def _revealed(form: FormSpec, data: dict[str, Any], lng: str) -> list[Revealed]:
    """The sensitive values of ``data`` (unmasked), labelled, in the form's order."""
    out = []
    for f in form.fields:
        if f.sensitive and data.get(f.id) not in (None, ""):
            out.append(Revealed(localized(f.label, lng), _shown(data[f.id], lng)))
    for group in form.groups:
        rows = data.get(group.id)
        for n, row in enumerate(rows if isinstance(rows, list) else [], start=1):
            for f in group.fields:
                if f.sensitive and isinstance(row, dict) and row.get(f.id) not in (None, ""):
                    label = f"{localized(group.name, lng)} · {text('apply.row', lng, n=n)} · "
                    out.append(Revealed(label + localized(f.label, lng), _shown(row[f.id], lng)))
    return out


def _shown(value: Any, lng: str) -> str:
    return text("p.list", lng).join(map(str, value)) if isinstance(value, list) else str(value)


@page
async def reveal(request: Request) -> Response:
    """``POST /staff/cases/{id}/reveal`` (``reason``): the answer shows the masked values
    once; nothing of them is kept in a page that can be fetched again."""
    c = ctx(request)
    lng = lang_of(request)
    identity = staff_member(request)
    form = await checked_form(request)
    app_id = request.path_params["id"]
    reason = _reason(form)
    try:
        result = await threaded(staff._reveal, request, c, identity, app_id, reason, lng)
    except ApiError as exc:
        if exc.status in (401, 404):
            raise
        refusal = _refusal(exc, "reveal", lng)
        return await _case(request, identity, refusal=refusal, reasons={"reveal": reason or ""})
    row = await threaded(find_application, request, identity, app_id)
    matter = _matter(c, {"region": row.region, "matter": row.matter})
    spec = c.package.forms.get(row.form)
    values = _revealed(spec, result["data"], lng) if spec is not None else []
    return render(
        request,
        "staff_reveal.jinja",
        app_id=row.id,
        number=row.number,
        matter_name=localized(matter.name, lng),
        values=values,
        reason=reason,
    )


@page
async def material(request: Request) -> Response:
    """``GET /staff/cases/{id}/materials/{material}``: download (audited by the API)."""
    c = ctx(request)
    identity = staff_member(request)
    found = await threaded(materials.open_download, request, c, identity)
    return found.response()
