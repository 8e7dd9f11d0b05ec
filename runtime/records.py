"""Applications in the database: form rows (sensitive values encrypted), clocks, JSON views.

Sensitive values are encrypted with :class:`runtime.crypto.Cipher` before they are
written, with the context :func:`sealing_context` (``<table>.<column>`` as the column was
created); they are decrypted only to build the applicant's own view, a staff reveal, or a
resubmission's validation.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Connection, Row, Select, Table, bindparam, delete, insert, select, update

from runtime.answers import Application, ApplicationSummary, HandedIn, Rating, Step
from runtime.auth import Identity
from runtime.checklist import checklist
from runtime.clock import ClockState, WorkCalendar
from runtime.crypto import Cipher
from runtime.formspec import FieldSpec, FormSpec, localized
from runtime.licences import outcomes
from runtime.masking import mask_data
from runtime.package import Matter, Package
from runtime.rules import CaseRules
from runtime.subjects import shown
from runtime.types import DATE_TYPES, TEXT_TYPES
from runtime.workflow import Workflow

log = logging.getLogger("govstd.runtime")


def aware(value: datetime | None) -> datetime | None:
    """Datetimes from SQLite come back naive (they were written in UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return aware(value).isoformat()  # type: ignore[union-attr]
    if isinstance(value, date):
        return value.isoformat()
    return value


def json_value(value: Any) -> Any:
    """A stored value as it appears in JSON (and as validation accepts it back)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return iso(value)


# --- statements -------------------------------------------------------------------


@lru_cache(maxsize=512)
def rows_where(table: Table, column: str, order_by: str | None = None) -> Select[Any]:
    """``SELECT * FROM table WHERE column = :key [ORDER BY order_by]``, built once per table.

    Execute with ``{"key": value}``: the statement and its compiled form are reused, where
    building ``select(t).where(t.c.x == value)`` again costs more than running it."""
    stmt = select(table).where(table.c[column] == bindparam("key"))
    return stmt.order_by(table.c[order_by]) if order_by else stmt


def lock_case(conn: Connection, pkg: Package, application_id: str) -> Row[Any]:
    """The case's row, read inside the write transaction and locked until it ends.

    On PostgreSQL ``SELECT … FOR NO KEY UPDATE`` waits for a transaction that is changing
    the case (a decision, another upload) and then returns the row as that one committed
    it (rows that merely refer to the case, such as audit entries, are not held up); on
    SQLite the write transaction (``BEGIN IMMEDIATE``) already holds the database's write
    lock. A check made on this row holds until the commit: a request that began before a
    decision sees the decision here."""
    apps = pkg.tables.applications
    locked = select(apps).where(apps.c.id == application_id).with_for_update(key_share=True)
    return conn.execute(locked).one()


def is_final(pkg: Package, case: Row[Any]) -> bool:
    """Whether the case is in a final state of its matter's workflow."""
    matter = matter_of(pkg, case.region, case.matter)
    workflow = pkg.workflows.get(matter.workflow) if matter else None
    return workflow is not None and workflow.is_final(case.status)


# --- form data --------------------------------------------------------------------


@lru_cache(maxsize=4096)
def sealing_context(table: Table, column: str) -> str:
    """The encryption context of a sensitive column's values: ``<table>.<column>`` as the
    column was created, which a rename does not change (the package names it in the
    column's ``info`` once the column or its table was renamed, generator/render/sealing.py)."""
    sealed_as: str | None = table.c[column].info.get("sealed_as")
    return sealed_as or f"{table.name}.{column}"


def _seal(cipher: Cipher, table: Table, spec: FieldSpec | None, value: Any) -> Any:
    if value is None or spec is None or not spec.sensitive:
        return value
    text = value if isinstance(value, str) else json.dumps(json_value(value), ensure_ascii=False)
    return cipher.encrypt(text, context=sealing_context(table, spec.id))


def open_value(cipher: Cipher, table: Table, spec: FieldSpec | None, value: Any) -> Any:
    """A stored value as JSON gives it, decrypted when the field is sensitive."""
    if value is None or spec is None or not spec.sensitive:
        return json_value(value)
    text = cipher.decrypt(value, context=sealing_context(table, spec.id))
    if (spec.type in TEXT_TYPES | DATE_TYPES or spec.type == "file") and not spec.multiple:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def store_data(
    conn: Connection,
    pkg: Package,
    cipher: Cipher,
    form: FormSpec,
    application_id: str,
    cleaned: Mapping[str, Any],
    *,
    replace: bool = False,
) -> None:
    """Write the form row and the group rows (replacing the old ones with ``replace``)."""
    table = pkg.tables.forms[form.id]
    columns = set(table.columns.keys())
    row = {f.id: _seal(cipher, table, f, cleaned.get(f.id)) for f in form.fields if f.id in columns}
    groups = pkg.tables.groups.get(form.id, {})
    if replace:
        for gtable in groups.values():
            conn.execute(delete(gtable).where(gtable.c.application_id == application_id))
        conn.execute(update(table).where(table.c.application_id == application_id).values(**row))
    else:
        conn.execute(insert(table), {"application_id": application_id, **row})
    for group in form.groups:
        found = groups.get(group.id)
        rows = cleaned.get(group.id)
        if found is None or not isinstance(rows, list) or not rows:
            continue
        gtable = found
        gcolumns = set(gtable.columns.keys())
        values = [
            {
                "application_id": application_id,
                "position": position,
                **{
                    f.id: _seal(cipher, gtable, f, item.get(f.id))
                    for f in group.fields
                    if f.id in gcolumns
                },
            }
            for position, item in enumerate(rows)
            if isinstance(item, Mapping)
        ]
        conn.execute(insert(gtable), values)


def load_data(
    conn: Connection, pkg: Package, cipher: Cipher, form: FormSpec, application_id: str
) -> dict[str, Any]:
    """The submission's data, decrypted (absent values left out)."""
    table = pkg.tables.forms[form.id]
    row = conn.execute(rows_where(table, "application_id"), {"key": application_id}).first()
    data: dict[str, Any] = {}
    if row is not None:
        mapping = row._mapping
        for f in form.fields:
            value = mapping.get(f.id)
            if value is not None:
                data[f.id] = open_value(cipher, table, f, value)
    for group in form.groups:
        gtable = pkg.tables.groups.get(form.id, {}).get(group.id)
        if gtable is None:
            continue
        query = rows_where(gtable, "application_id", "position")
        items = []
        for grow in conn.execute(query, {"key": application_id}):
            m = grow._mapping
            values = ((f, m.get(f.id)) for f in group.fields)
            items.append(
                {f.id: open_value(cipher, gtable, f, v) for f, v in values if v is not None}
            )
        if items:
            data[group.id] = items
    return data


# --- clocks -----------------------------------------------------------------------


def matter_of(pkg: Package, region: str, matter: str) -> Matter | None:
    r = pkg.regions.get(region)
    if r is not None and matter in r.matters:
        return r.matters[matter]
    return pkg.matter_anywhere(matter)


def calendar_of(pkg: Package, region: str) -> WorkCalendar:
    r = pkg.regions.get(region)
    return r.calendar if r is not None else WorkCalendar()


def rules_of(pkg: Package, app: Mapping[Any, Any]) -> CaseRules | None:
    """The rules the case was filed under (runtime/rules.py).

    A case filed before cases recorded their rules (``rules`` null) follows the
    current package; so does one whose version the package lost (logged: the
    package folder was regenerated from scratch instead of over the old one)."""
    matter = matter_of(pkg, app["region"], app["matter"])
    digest = app["rules"]
    if digest is not None:
        found = pkg.rules(digest, matter)
        if found is not None:
            return found
        log.warning(
            "案件 %s 的规则版本 %s 不在部署包中，按现行规则处理 / case %s: rules %s are not in "
            "the package (regenerated into a new folder?); the current rules apply",
            app["id"],
            digest[:16],
            app["id"],
            digest[:16],
        )
    if matter is None or matter.form not in pkg.forms:
        return None
    return pkg.current_rules(matter)


def case_limit(app: Mapping[Any, Any]) -> dict[str, Any] | None:
    """The limit recorded in the case's row (filed with recorded rules)."""
    if app["limit_value"] is None or app["limit_unit"] is None:
        return None
    return {"value": int(app["limit_value"]), "unit": app["limit_unit"]}


def clock_of(pkg: Package, app: Mapping[Any, Any]) -> ClockState:
    if app["rules"] is not None:  # the limit it was filed under, whatever the package says now
        promised = case_limit(app)
    else:
        matter = matter_of(pkg, app["region"], app["matter"])
        promised = matter.promised if matter else None
    base = ClockState.for_limit(promised, calendar_of(pkg, app["region"]))
    return ClockState(
        base.calendar,
        base.limit_value,
        base.unit,
        started_at=aware(app["clock_started_at"]),
        paused_at=aware(app["paused_at"]),
        paused_days=int(app["paused_days"] or 0),
        finished_at=aware(app["finished_at"]),
    )


def rules_columns(rules: CaseRules) -> dict[str, Any]:
    """What a new case records of the rules it is filed under."""
    promised = rules.promised
    return {
        "rules": rules.hash,
        "limit_value": int(promised["value"]) if promised is not None else None,
        "limit_unit": str(promised["unit"]) if promised is not None else None,
    }


def clock_columns(clock: ClockState) -> dict[str, Any]:
    """The clock's columns; a deadline past the calendar's last year is stored unknown (NULL)
    and logged for the supervisors (``deadline_unknown``), never guessed."""
    if clock.deadline_unknown and not clock.final:
        log.warning(
            "deadline_unknown: 办结期限超出工作日历 %s 的年份，无法计算 / the deadline runs past "
            "the years of calendar %s and cannot be computed: add next year's calendar",
            clock.calendar.id,
            clock.calendar.id,
        )
    return {
        "clock_started_at": clock.started_at,
        "paused_at": clock.paused_at,
        "paused_days": clock.paused_days,
        "finished_at": clock.finished_at,
        "deadline": clock.deadline,
    }


# --- views ------------------------------------------------------------------------


def urgency(clock: ClockState, workflow: Workflow | None, now: datetime) -> tuple[bool, bool]:
    """(overdue, due soon) of a case: what every list, count and statistic shows."""
    warn_before = workflow.warn_before if workflow else None
    return clock.is_overdue(now), clock.is_due_soon(now, warn_before)


def summary(
    pkg: Package, app: Mapping[Any, Any], *, lang: str, now: datetime, staff: bool
) -> ApplicationSummary:
    """The list view of one application (no form data)."""
    workflow: Workflow | None = None
    matter = matter_of(pkg, app["region"], app["matter"])
    if matter is not None:
        workflow = pkg.workflows.get(matter.workflow)
    state = workflow.states.get(app["status"]) if workflow else None
    clock = clock_of(pkg, app)
    deadline = clock.deadline_at(now)
    overdue, due_soon = urgency(clock, workflow, now)
    out: ApplicationSummary = {
        "id": app["id"],
        "number": app["number"],
        "matter": app["matter"],
        "matter_name": localized(matter.name, lang) if matter else app["matter"],
        "form": app["form"],
        "region": app["region"],
        "status": app["status"],
        "status_name": localized(state.name, lang) if state else app["status"],
        "final": bool(state and state.final),
        "created_at": iso(app["created_at"]),
        "updated_at": iso(app["updated_at"]),
        "clock_started_at": iso(app["clock_started_at"]),
        "paused": app["paused_at"] is not None,
        "paused_days": int(app["paused_days"] or 0),
        "finished_at": iso(app["finished_at"]),
        "deadline": iso(deadline),
        "deadline_unknown": deadline is None and clock.deadline_unknown_at(now),
        "overdue": overdue,
        "due_soon": due_soon,
        "standards_version": app["standards_version"],
        "bundle_filing": app["bundle_id"],  # GET /api/bundles/applications/{id}: one item
    }
    if staff:
        out["applicant"] = shown(app["applicant_sub"])
    return out


def detail(
    pkg: Package,
    app: Mapping[Any, Any],
    data: dict[str, Any],
    steps: Sequence[Row[Any]],
    evaluation: Any,  # None, or with .score, .comment, .created_at
    materials: Sequence[Row[Any]],
    *,
    viewer: Identity,
    lang: str,
    now: datetime,
    fetches: Sequence[Row[Any]] = (),
) -> Application:
    """One application in full: data (masked for staff), history, materials, next steps;
    ``fetches``: its government-sourced materials' fetches (runtime/licences.py)."""
    staff = viewer.is_staff
    rules = rules_of(pkg, app)
    form = rules.form if rules is not None else pkg.forms.get(app["form"])
    matter = matter_of(pkg, app["region"], app["matter"])
    workflow = pkg.workflows.get(matter.workflow) if matter else None
    rating: Rating | None = None
    if evaluation is not None:
        rating = {
            "score": evaluation.score,
            "comment": evaluation.comment,
            "at": iso(evaluation.created_at),
        }
    handed_in: list[HandedIn] = [
        {
            "material": m.material,
            "name": _material_name(rules, m.material, lang),
            "filename": m.filename if not staff else None,
            "content_type": m.content_type,
            "size": m.size,
            "sha256": m.sha256,
            "uploaded_at": iso(m.uploaded_at),
        }
        for m in materials
    ]
    out = cast(Application, summary(pkg, app, lang=lang, now=now, staff=staff))
    out["data"] = mask_data(form, data) if staff and form is not None else data
    out["standards_hash"] = app["standards_hash"]
    out["rules"] = app["rules"]  # the rules it was filed under (runtime/rules.py)
    out["transitions"] = [_step(s, workflow, lang=lang, staff=staff) for s in steps]
    out["actions"] = workflow.available(app["status"], viewer.role) if workflow else []
    out["evaluation"] = rating
    out["materials"] = handed_in
    uploaded = {m.material for m in materials}
    out["checklist"] = (
        checklist(rules, data, uploaded, lang, outcomes(fetches, lang)) if rules is not None else []
    )
    return out


def _step(step: Row[Any], workflow: Workflow | None, *, lang: str, staff: bool) -> Step:
    out: Step = {
        "transition": step.transition,
        "transition_name": _transition_name(workflow, step.transition, lang),
        "from": step.from_state,
        "to": step.to_state,
        "actor_role": step.actor_role,
        "reason": step.reason,
        "at": iso(step.at),
    }
    if staff:
        out["actor"] = shown(step.actor_sub, step.actor_role)
    return out


def _material_name(rules: CaseRules | None, material_id: str, lang: str) -> str:
    found = rules.material(material_id) if rules is not None else None
    return localized(found.get("name"), lang) if found else material_id


def _transition_name(workflow: Workflow | None, transition: str, lang: str) -> str:
    if workflow is None or transition not in workflow.transitions:
        return transition
    return localized(workflow.transitions[transition].name, lang)
