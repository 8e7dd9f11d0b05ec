"""Events (outbox): every change a neighbouring system may care about is one CloudEvent,
written in the same transaction as the change, and read back in order.

| type (``cn.gov.govstd.…``) | when |
|---|---|
| ``application.submitted`` | a case is filed |
| ``application.transitioned`` | a workflow step that does not end the case |
| ``application.decided`` | a step into a final state (办结: approved, refused, withdrawn) |
| ``application.corrected`` | a stored value corrected on an objection (异议) |
| ``objection.filed`` / ``objection.rejected`` | an objection raised / rejected |
| ``sharing.granted`` / ``sharing.revoked`` | data shared by a request / no longer |

``data`` (docs/data.md lists its keys per type) holds ids, codes and state names only —
never a form value, a name, an ID number, a reason typed by a person (it may hold personal
data), nor an applicant's login.

Order: ``events.id`` is the order of the events, and a reader paging by id
(``GET /api/staff/events?after=ID``, the webhook courier) must never step past an event
that commits later with a lower id. On SQLite every write transaction holds the
database's write lock, so ids are taken in commit order. On PostgreSQL ids come from a
sequence when the row is inserted, and two transactions may commit in the other order.
So a writer takes a *shared* transaction-level advisory lock (``pg_advisory_xact_lock_shared``)
before its first event insert, held to its commit: writers never wait for each other
(the groups of all workers commit side by side). A reader first takes the same lock
*exclusively* in a short transaction of its own (:func:`settled`): it waits until no
transaction that may hold an event id is under way — every id taken by then is committed
or rolled back — reads the highest id committed, and lets go; it then reads only up to
that id. An id taken after that moment is higher (a sequence only rises), so every event
at or below it is in the reader's view now and none can appear there later. While a
reader waits, new writers queue behind it (PostgreSQL's lock queue), for as long as the
writers under way take to commit — milliseconds; a reader gives up after
:data:`SETTLE_TIMEOUT` (a 503 for the pull, the next round for the courier) so a
transaction stuck with the lock cannot hold every filing behind it. (Ordering by
``pg_current_xact_id()`` and the snapshot's xmin, as some outboxes do, would need a cursor
of (transaction, id) rather than the id the API and the receivers' cursors use.) Callers
write the event last in their transaction. Events of one application are in order anyway
(its writers lock its row).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Row,
    Select,
    Table,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.exc import OperationalError

from runtime.answers import Event
from runtime.db import read
from runtime.package import Package, Tables
from runtime.record_ids import new_id
from runtime.records import iso
from runtime.types import GovstdError

PREFIX = "cn.gov.govstd."
SUBMITTED = PREFIX + "application.submitted"
TRANSITIONED = PREFIX + "application.transitioned"
DECIDED = PREFIX + "application.decided"
CORRECTED = PREFIX + "application.corrected"
OBJECTION_FILED = PREFIX + "objection.filed"
OBJECTION_REJECTED = PREFIX + "objection.rejected"
SHARING_GRANTED = PREFIX + "sharing.granted"
SHARING_REVOKED = PREFIX + "sharing.revoked"

ADVISORY_LOCK = 0x676F76_7374_6576  # "govstdev": the order of events on PostgreSQL
_KEY = bindparam("key", ADVISORY_LOCK, type_=BigInteger)
# Writers share it; in a group commit taken once, just before the group's inserts
# (runtime/db.py _Deferred). Readers take it alone (settled).
_WRITING = select(func.pg_advisory_xact_lock_shared(_KEY)).execution_options(
    before_kept_inserts=True
)
_SETTLING = select(func.pg_advisory_xact_lock(_KEY))
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout ran out
SETTLE_TIMEOUT = "2s"  # the longest a reader waits for the event writers under way
MAX_PAGE = 500


def emit(
    conn: Connection,
    tables: Tables,
    type_: str,
    *,
    region: str,
    at: datetime,
    data: dict[str, Any],
    application_id: str | None = None,
) -> None:
    """Write one event in the caller's transaction (write it last: see the module doc).

    ``data`` must hold no sensitive value (ids, codes, state names)."""
    if conn.dialect.name == "postgresql":
        conn.execute(_WRITING)
    conn.execute(
        insert(tables.events),
        {
            "event_id": new_id(),
            "type": type_,
            "application_id": application_id,
            "region": region,
            "time": at,
            "data": json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
        },
    )


def application_data(app: Mapping[Any, Any], **more: Any) -> dict[str, Any]:
    """What every application event says of its case (``app``: its row's mapping)."""
    keys = ("id", "number", "matter", "region")
    return {("application" if k == "id" else k): app[k] for k in keys} | more


def cloudevent(row: Row[Any]) -> Event:
    """The CloudEvents 1.0 (JSON format) form of an ``events`` row."""
    event: Event = {
        "specversion": "1.0",
        "id": row.event_id,
        "source": f"urn:govstd:region:{row.region}",
        "type": row.type,
        "time": iso(row.time),
        "datacontenttype": "application/json",
        "sequence": str(row.id),  # the CloudEvents sequence extension: the order, as text
        "data": json.loads(row.data),
    }
    if row.application_id:
        event["subject"] = row.application_id
    return event


def body(row: Row[Any]) -> bytes:
    """The bytes POSTed to a webhook receiver for an ``events`` row."""
    return json.dumps(cloudevent(row), ensure_ascii=False, separators=(",", ":")).encode()


def settled(engine: Engine, t: Table) -> int:
    """The highest event id up to which the events are final: each one at or below it is
    committed, or never will be (0: none yet). Read events only up to it (the module doc).

    PostgreSQL: waits, at most :data:`SETTLE_TIMEOUT`, for the transactions writing events
    under way to end (:class:`Unsettled` past that). SQLite: the highest id committed."""
    if engine.dialect.name != "postgresql":
        with read(engine) as conn:
            return int(conn.execute(_highest(t)).scalar_one())
    with engine.connect() as conn, conn.begin():
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{SETTLE_TIMEOUT}'")
        try:
            conn.execute(_SETTLING)
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise Unsettled from exc
            raise
        return int(conn.execute(_highest(t)).scalar_one())  # a snapshot taken after the lock


class Unsettled(GovstdError):
    """Transactions writing events did not end within :data:`SETTLE_TIMEOUT`."""


@lru_cache(maxsize=8)
def _highest(t: Table) -> Select[Any]:
    return select(func.coalesce(func.max(t.c.id), 0))


@lru_cache(maxsize=8)
def _page(t: Table) -> Select[Any]:
    return (
        select(t)
        .where(
            t.c.id > bindparam("after"),
            t.c.id <= bindparam("upto"),
            t.c.region.in_(bindparam("regions", expanding=True)),
        )
        .order_by(t.c.id)
        .limit(bindparam("limit"))
    )


def page(
    engine: Engine, pkg: Package, regions: frozenset[str], after: int, limit: int
) -> dict[str, Any]:
    """Events after ``after`` of ``regions``, oldest first; ``next``: the ``after`` to go on.

    Only events up to :func:`settled` (:class:`Unsettled` when it gives up)."""
    t = pkg.tables.events
    upto = settled(engine, t)
    with read(engine) as conn:
        rows = conn.execute(
            _page(t), {"after": after, "upto": upto, "regions": sorted(regions), "limit": limit}
        ).all()
    items = [cloudevent(r) for r in rows]
    return {"items": items, "next": rows[-1].id if rows else after}
