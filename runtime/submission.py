"""Filing an application: one transaction for the application, its form and group rows,
its first status entry, the audit entry and the Idempotency-Key record.

Rows are inserted with their values as execution parameters (``execute(insert(t),
{…})``), not ``insert(t).values(…)``: the statement then compiles once per set of
columns and is reused from SQLAlchemy's cache, instead of coercing every value
into a new bound parameter and hashing them all on each request.

Numbers (受理编号): :mod:`runtime.numbers` (a counter row on SQLite, a sequence per
region and day on PostgreSQL, so filings never queue behind each other's commit).

Idempotency: ``(applicant_sub, key)`` is the primary key of ``idempotency_keys``.
The same key with the same request returns the stored response; with another
request, 422. Two concurrent first tries: one commits, the other's insert hits the
primary key, its whole transaction (application included) rolls back, and it
returns what the winner stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from runtime import audit, events, licences
from runtime.answers import Filed
from runtime.auth import Identity
from runtime.clock import ClockState, counter_name, local_date
from runtime.context import Context
from runtime.db import group_commit, is_sqlite, read, write
from runtime.errors import ApiError, FieldProblem, message
from runtime.formspec import localized
from runtime.numbers import (
    forget,
    next_number,
    numbers_ready,
    prepare,
    sequence_name,
    take_many,
)
from runtime.package import Matter, Package, Region
from runtime.record_ids import new_id
from runtime.records import clock_columns, iso, rules_columns, store_data
from runtime.validation import validate_submission


@dataclass(frozen=True)
class Stored:
    status: int
    body: Mapping[str, Any]
    replayed: bool = False


def request_hash(matter: str, body: Any) -> str:
    text = json.dumps([matter, body], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def resolve_region(pkg: Package, matter: Matter, region_id: Any, lng: str) -> Region:
    """The region the application is filed in: served by the package and offering the matter."""
    region = pkg.regions.get(region_id) if isinstance(region_id, str) else None
    if region is None or matter.id not in region.matters:
        known = ", ".join(r.id for r in pkg.regions.values() if matter.id in r.matters)
        shown = region_id if isinstance(region_id, str) else repr(region_id)
        problem = FieldProblem(
            "region", "region", message("field.region", lng, region=shown[:64], known=known)
        )
        raise ApiError(422, "validation", fields=[problem])
    return region


def replay(engine: Engine, pkg: Package, sub: str, key: str, digest: str) -> Stored | None:
    table = pkg.tables.idempotency_keys
    with read(engine) as conn:
        row = conn.execute(
            select(table).where(table.c.applicant_sub == sub, table.c.key == key)
        ).first()
    if row is None:
        return None
    if row.request_hash != digest:
        raise ApiError(422, "idempotency_mismatch")
    return Stored(int(row.status_code), json.loads(row.response), replayed=True)


def submit(
    c: Context,
    identity: Identity,
    matter: Matter,
    region: Region,
    data: Any,
    *,
    idempotency_key: str | None,
    digest: str,
    lng: str,
    rid: str,
    after: Callable[[Connection, Filed], None] | None = None,
) -> Stored:
    """Validate and file (blocking: run in a thread). 422 with ``fields`` when invalid.

    ``after(conn, body)`` runs in the same transaction once the application is written
    (a policy claim records itself there)."""
    prepared = _prepare(c, identity, matter, data, idempotency_key, digest, lng)
    if isinstance(prepared, Stored):
        return prepared
    job = _filing(c, identity, matter, region, prepared, lng, rid, idempotency_key, digest, after)
    try:
        with write(c.engine) as conn:
            body = job(conn)
    except IntegrityError as exc:
        return _replayed(c, identity, idempotency_key, digest, exc)
    fetch_licences(c, identity, matter, prepared[0], body["id"])
    return Stored(201, body)


async def submit_now(
    c: Context,
    identity: Identity,
    matter: Matter,
    region: Region,
    data: Any,
    *,
    idempotency_key: str | None,
    digest: str,
    lng: str,
    rid: str,
) -> Stored:
    """:func:`submit` from the event loop: validated in the loop and committed with the
    other filings of the moment (:class:`runtime.db.GroupCommit`). The reads before: on
    SQLite short WAL reads in the loop, that never wait for a writer; on PostgreSQL in a
    thread, and only when there is one (an Idempotency-Key's stored answer, the day's
    first number sequence), so a plain filing costs no thread hop of its own."""
    key, sqlite = idempotency_key, is_sqlite(c.engine)
    if key is not None and not sqlite:
        previous = await run_in_threadpool(
            replay, c.engine, c.package, identity.subject, key, digest
        )
        if previous is not None:
            return previous
    prepared = _prepare(c, identity, matter, data, key if sqlite else None, digest, lng)
    if isinstance(prepared, Stored):
        return prepared
    if not numbers_ready(c.engine, region, prepared[1]):
        await run_in_threadpool(prepare, c.engine, c.package, region, prepared[1])
    job = _filing(c, identity, matter, region, prepared, lng, rid, key, digest, None)
    try:
        body = await group_commit(c.engine).run(job)
    except IntegrityError as exc:
        if sqlite:
            return _replayed(c, identity, key, digest, exc)
        return await run_in_threadpool(_replayed, c, identity, key, digest, exc)
    if c.settings.licence_url is not None:
        await run_in_threadpool(fetch_licences, c, identity, matter, prepared[0], body["id"])
    return Stored(201, body)


def fetch_licences(
    c: Context, identity: Identity, matter: Matter, cleaned: dict[str, Any], app_id: str
) -> None:
    """After the filing committed, never inside it: its 电子证照 (runtime/licences.py)."""
    if c.settings.licence_url is None:
        return
    rules = c.package.current_rules(matter)
    holder = licences.holder_of(identity, rules.form, cleaned)
    licences.fetch_pending(c, rules, app_id, holder)


def _prepare(
    c: Context,
    identity: Identity,
    matter: Matter,
    data: Any,
    key: str | None,
    digest: str,
    lng: str,
) -> Stored | tuple[dict[str, Any], datetime]:
    """The answer stored for the Idempotency-Key, or the cleaned data and the time of filing;
    422 when the data is invalid."""
    pkg = c.package
    if key is not None:
        previous = replay(c.engine, pkg, identity.subject, key, digest)
        if previous is not None:
            return previous
    form = pkg.forms[matter.form]
    now = c.now()
    cleaned, errors = validate_submission(
        form, data, lang=lng, identity=identity.prefill(), today=local_date(now)
    )
    errors = errors or c.extensions.problems(form.id, cleaned, lng)  # the region's own
    if errors:
        raise ApiError(422, "validation", fields=errors)
    return cleaned, now


def _filing(
    c: Context,
    identity: Identity,
    matter: Matter,
    region: Region,
    prepared: tuple[dict[str, Any], datetime],
    lng: str,
    rid: str,
    key: str | None,
    digest: str,
    after: Callable[[Connection, Filed], None] | None,
) -> _Filing:
    """What a filing writes in its transaction (the answer's body comes back); made
    before the transaction begins, it makes ready the number's sequence."""
    cleaned, now = prepared
    prepare(c.engine, c.package, region, now)

    def write(conn: Connection, taken: int | None) -> Filed:
        number = next_number(conn, c.package, region, now, taken)
        body = file_application(
            conn, c, identity, matter, region, cleaned, now, lng, rid, number=number
        )
        if after is not None:
            after(conn, body)
        if key is not None:
            remember(conn, c.package, identity, key, digest, body, now)
        return body

    day = local_date(now)
    if is_sqlite(c.engine):
        return _Filing(
            write, counter=counter_name(region.code, day), counters=c.package.tables.counters
        )
    return _Filing(write, sequence=sequence_name(region.code, day))


class _Filing:
    """A filing's job (``job(conn)``; runtime/db.py GroupCommit). Its number is taken with
    those of the other filings of its group (``batch``: runtime/numbers.py take_many),
    else by the job itself, and kept in ``taken``: on PostgreSQL from the ``sequence``,
    whose value a second try (GroupCommit) files it with again; on SQLite from the
    ``counter`` row, raised once for the group in its transaction — when that try is
    rolled back, GroupCommit calls ``rolled_back`` and the number is taken again."""

    batch = staticmethod(take_many)
    rolled_back = staticmethod(forget)

    def __init__(
        self,
        write: Callable[[Connection, int | None], Filed],
        *,
        sequence: str | None = None,
        counter: str | None = None,
        counters: Table | None = None,
    ) -> None:
        self.write = write
        self.sequence = sequence
        self.counter = counter
        self.counters = counters
        self.taken: int | None = None

    def __call__(self, conn: Connection) -> Filed:
        if self.taken is None:
            take_many(conn, [self])
        return self.write(conn, self.taken)


def _replayed(
    c: Context, identity: Identity, key: str | None, digest: str, error: IntegrityError
) -> Stored:
    """After an IntegrityError: the answer of the concurrent first try of the same key
    (its insert into ``idempotency_keys`` made this one fail), else the error again."""
    previous = None if key is None else replay(c.engine, c.package, identity.subject, key, digest)
    if previous is None:
        raise error
    return previous


def file_application(
    conn: Connection,
    c: Context,
    identity: Identity,
    matter: Matter,
    region: Region,
    cleaned: dict[str, Any],
    now: datetime,
    lng: str,
    rid: str,
    *,
    bundle_id: str | None = None,
    number: str | None = None,
) -> Filed:
    """Insert one validated application (in the caller's write transaction, begun after
    :func:`runtime.numbers.prepare`); its response body.

    ``bundle_id``: the bundle filing it belongs to (``bundle_filings.id``); ``number``: its
    number when already taken (else the next one)."""
    pkg = c.package
    rules = pkg.current_rules(matter)  # the case keeps them for life (runtime/rules.py)
    form = rules.form
    workflow = pkg.workflows[matter.workflow]
    initial = workflow.states[workflow.initial]
    clock = ClockState.for_limit(rules.promised, region.calendar).enter(initial.as_spec(), now)
    app_id = new_id()
    t = pkg.tables
    number = number or next_number(conn, pkg, region, now)
    conn.execute(
        insert(t.applications),
        {
            "id": app_id,
            "number": number,
            "matter": matter.id,
            "form": form.id,
            "region": region.id,
            "applicant_sub": identity.subject,
            "status": workflow.initial,
            "bundle_id": bundle_id,
            "created_at": now,
            "updated_at": now,
            "standards_version": matter.version,
            "standards_hash": pkg.source_hash,
            "row_version": 1,
            **rules_columns(rules),
            **clock_columns(clock),
        },
    )
    store_data(conn, pkg, c.cipher, form, app_id, cleaned)
    conn.execute(
        insert(t.transitions),
        {
            "application_id": app_id,
            "transition": "submit",
            "from_state": "",
            "to_state": workflow.initial,
            "actor_sub": identity.subject,
            "actor_role": identity.role,
            "reason": None,
            "at": now,
        },
    )
    detail: dict[str, Any] = {"matter": matter.id, "region": region.id, "number": number}
    if bundle_id is not None:
        detail["bundle_filing"] = bundle_id
    audit.record(
        conn,
        t.audit_log,
        at=now,
        action="submit",
        identity=identity,
        request_id=rid,
        application_id=app_id,
        detail=detail,
    )
    body: Filed = {
        "id": app_id,
        "number": number,
        "matter": matter.id,
        "region": region.id,
        "status": workflow.initial,
        "status_name": localized(initial.name, lng),
        "deadline": iso(clock.deadline),
        "deadline_unknown": clock.deadline_unknown,
        "created_at": iso(now),
        "standards_version": matter.version,
        "standards_hash": pkg.source_hash,
    }
    licences.plan(conn, c, rules, app_id, cleaned, now)
    data = events.application_data(body, status=workflow.initial)
    events.emit(
        conn, t, events.SUBMITTED, region=region.id, at=now, data=data, application_id=app_id
    )
    return body


def remember(
    conn: Connection,
    pkg: Package,
    identity: Identity,
    key: str,
    digest: str,
    body: Mapping[str, Any],
    now: datetime,
    *,
    application_id: str | None = None,
) -> None:
    """Record the response of a request with an Idempotency-Key (same transaction)."""
    conn.execute(
        insert(pkg.tables.idempotency_keys),
        {
            "applicant_sub": identity.subject,
            "key": key,
            "request_hash": digest,
            "application_id": application_id or body.get("id"),
            "status_code": 201,
            "response": json.dumps(body, ensure_ascii=False),
            "created_at": now,
        },
    )
