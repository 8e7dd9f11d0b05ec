"""Taking a workflow step on a case: checks, corrected data, clock, optimistic locking.

One write transaction: read the case and its history, check the step
(:func:`runtime.workflow.check_transition`), re-validate corrected data on a
resubmission against the form the case was filed with (runtime/rules.py), refuse
受理 while a required material of the case's own list has no file (409
``materials_missing``, runtime/checklist.py), step the clock, then ``UPDATE …
WHERE row_version = :seen``. When
another request changed the case in between, no row matches and the answer is
409 ``conflict`` — of two officers acting at once, one wins.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from runtime import audit, events
from runtime.answers import ApplicationSummary
from runtime.auth import Identity
from runtime.checklist import require_materials
from runtime.clock import local_date
from runtime.context import Context
from runtime.db import write
from runtime.errors import ApiError
from runtime.records import (
    clock_columns,
    clock_of,
    load_data,
    matter_of,
    rows_where,
    rules_of,
    store_data,
    summary,
)
from runtime.validation import validate_submission
from runtime.workflow import PastStep, check_transition


def take_step(
    c: Context,
    identity: Identity,
    application_id: str,
    transition_id: str,
    *,
    reason: str | None,
    data: dict[str, Any] | None,
    lng: str,
    rid: str,
) -> ApplicationSummary:
    """Take ``transition_id`` on the case (blocking: run in a thread); its new summary."""
    pkg = c.package
    t = pkg.tables
    now = c.now()
    with write(c.engine) as conn:
        app = conn.execute(
            select(t.applications).where(t.applications.c.id == application_id)
        ).one()
        matter = matter_of(pkg, app.region, app.matter)
        if matter is None or matter.workflow not in pkg.workflows:
            raise ApiError(409, "wrong_state", {"transition": transition_id, "status": app.status})
        workflow = pkg.workflows[matter.workflow]
        steps = conn.execute(
            select(t.transitions.c.transition, t.transitions.c.actor_sub)
            .where(t.transitions.c.application_id == application_id)
            .order_by(t.transitions.c.id)
        ).all()
        step = check_transition(
            workflow,
            transition_id,
            status=app.status,
            role=identity.role,
            actor_sub=identity.subject,
            reason=reason,
            has_data=data is not None,
            history=[PastStep(s.transition, s.actor_sub) for s in steps],
            lang=lng,
        )
        rules = rules_of(pkg, app._mapping)  # the case's own, not the current package's
        if data is not None:
            form = rules.form if rules is not None else pkg.forms[app.form]
            merged = {**load_data(conn, pkg, c.cipher, form, application_id), **data}
            cleaned, errors = validate_submission(
                form, merged, lang=lng, identity=identity.prefill(), today=local_date(now)
            )
            errors = errors or c.extensions.problems(form.id, cleaned, lng)
            if errors:
                raise ApiError(422, "validation", fields=errors)
            store_data(conn, pkg, c.cipher, form, application_id, cleaned, replace=True)
        if rules is not None and workflow.needs_materials(step, app.status):
            uploaded = conn.execute(
                rows_where(t.material_files, "application_id"), {"key": application_id}
            ).all()
            require_materials(
                rules,
                load_data(conn, pkg, c.cipher, rules.form, application_id),
                {m.material for m in uploaded},
                lng,
            )
        clock = clock_of(pkg, app._mapping).enter(workflow.states[step.to].as_spec(), now)
        result = conn.execute(
            update(t.applications)
            .where(
                t.applications.c.id == application_id,
                t.applications.c.row_version == app.row_version,
            )
            .values(
                status=step.to,
                updated_at=now,
                row_version=app.row_version + 1,
                **clock_columns(clock),
            )
        )
        if result.rowcount != 1:
            raise ApiError(409, "conflict")
        conn.execute(
            insert(t.transitions).values(
                application_id=application_id,
                transition=step.id,
                from_state=app.status,
                to_state=step.to,
                actor_sub=identity.subject,
                actor_role=identity.role,
                reason=(reason or "").strip() or None,
                at=now,
            )
        )
        audit.record(
            conn,
            t.audit_log,
            at=now,
            action="transition",
            identity=identity,
            request_id=rid,
            application_id=application_id,
            detail={
                "transition": step.id,
                "from": app.status,
                "to": step.to,
                "data_changed": data is not None,
            },
        )
        fresh = conn.execute(
            select(t.applications).where(t.applications.c.id == application_id)
        ).one()
        events.emit(
            conn,
            t,
            events.DECIDED if workflow.is_final(step.to) else events.TRANSITIONED,
            region=app.region,
            at=now,
            data=events.application_data(
                fresh._mapping, transition=step.id, **{"from": app.status, "to": step.to}
            ),
            application_id=application_id,
        )
    return summary(pkg, fresh._mapping, lang=lng, now=now, staff=identity.is_staff)
