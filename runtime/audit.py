"""The append-only audit log (``audit_log``): who did what to which application, and when.

Actions written by the runtime:

| action | when |
|---|---|
| ``submit`` | an application is filed |
| ``transition`` | a workflow step is taken (``detail``: transition, from, to) |
| ``read`` | a staff member reads one application (masked) |
| ``list`` | a staff member lists applications or reads statistics (token use) |
| ``reveal`` | a staff member reveals sensitive values (``detail``: which fields, never values) |
| ``denied`` | access to an application refused (403/404 on object access) |
| ``evaluate`` | the applicant rates a finished case |
| ``material_upload`` / ``material_download`` | a material file is stored / read |

Details never hold sensitive values: only ids, field paths and codes. ``actor_sub`` is
the actor's stored subject: a staff member's login id, an applicant's pseudonym
(:mod:`runtime.subjects`). Rows are only ever inserted; the runtime has no code path
that updates or deletes them, except the one-time replacement of applicants' login
ids stored before pseudonyms, by ``govstd migrate``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert

from runtime.auth import Identity
from runtime.db import write


def entry(
    *,
    at: datetime,
    action: str,
    identity: Identity | None,
    request_id: str,
    application_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "at": at,
        "actor_sub": identity.subject if identity else None,
        "actor_role": identity.role if identity else None,
        "action": action,
        "application_id": application_id,
        "detail": json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
        "request_id": request_id[:64],
    }


def record(conn: Connection, table: Table, **kwargs: Any) -> None:
    """Append one entry inside the caller's transaction (see :func:`entry` for the keys)."""
    conn.execute(insert(table), entry(**kwargs))


def record_now(engine: Engine, table: Table, **kwargs: Any) -> None:
    """Append one entry in a transaction of its own (e.g. a refused access)."""
    with write(engine) as conn:
        record(conn, table, **kwargs)
