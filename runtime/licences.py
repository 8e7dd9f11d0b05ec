"""电子证照: government-sourced materials fetched from the licence service when a case is filed.

With ``GOVSTD_LICENCE_URL`` set, each material of the case's rules with ``source:
government`` (and whose ``when`` holds on the case's data) is fetched once the filing has
committed — ``GET {url}/licences?holder={the applicant's ID number}&type={material id}`` —
and attached to the case as if the applicant had uploaded it: the same size cap
(``max_size_mb``), the type from the first bytes against the material's ``accept`` list
(the upload default when it is empty), encrypted at rest as it arrives
(:mod:`runtime.filecrypt`), a ``material_files`` row with ``uploaded_by`` :data:`FETCHER`,
and an audit entry ``material_fetch``.

The filing never waits on the service inside its transaction, and never fails because of
it: the filing transaction only writes a ``licence_fetches`` row per material (``pending``);
the fetch runs after the commit (in the request's thread, bounded by
``GOVSTD_LICENCE_TIMEOUT`` per material), and its outcome goes to the row in a short
transaction of its own: ``fetched``, or ``missing`` with the reason (:data:`REASONS`), which
the officer sees beside the material (the API's ``checklist``, the workbench). A row left
``pending`` (the server stopped in between) shows as such.

The applicant's ID number: the ``id_number`` of their sign-in, else the value of the
case's field collecting the data element ``citizen_id_number``. It is sent to the licence
service only, never logged or stored here.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from runtime import audit
from runtime.answers import Fetch
from runtime.auth import Identity
from runtime.context import Context
from runtime.db import read, write
from runtime.errors import message
from runtime.formspec import FormSpec

if TYPE_CHECKING:
    import httpx
from runtime.rules import CaseRules
from runtime.uploads import DEFAULT_ACCEPT, EXTENSIONS, sniff
from runtime.validation import condition_holds

log = logging.getLogger("govstd.runtime")

FETCHER = "govstd:licence"  # material_files.uploaded_by of a fetched material
HOLDER_ELEMENT = "citizen_id_number"
PENDING, FETCHED, MISSING = "pending", "fetched", "missing"
REASONS = ("not_found", "status", "timeout", "unreachable", "file_type", "too_large", "no_holder")
MB = 1024 * 1024


def government(rules: CaseRules, data: Mapping[str, object]) -> list[dict[str, Any]]:
    """The case's government-sourced materials (those whose ``when`` holds)."""
    return [
        m
        for m in rules.materials
        if m.get("source") == "government"
        and (not m.get("when") or condition_holds(m["when"], data))
    ]


def plan(
    conn: Connection,
    c: Context,
    rules: CaseRules,
    app_id: str,
    data: Mapping[str, object],
    now: datetime,
) -> None:
    """In the filing transaction: a ``pending`` row per material to fetch (none when the
    licence service is not configured)."""
    if c.settings.licence_url is None:
        return
    rows = [
        {"application_id": app_id, "material": m["id"], "status": PENDING, "at": now}
        for m in government(rules, data)
    ]
    if rows:
        conn.execute(insert(c.package.tables.licence_fetches), rows)


def holder_of(identity: Identity, form: FormSpec, data: Mapping[str, Any]) -> str | None:
    if identity.id_number:
        return identity.id_number
    for f in form.fields:
        value = data.get(f.id)
        if f.element == HOLDER_ELEMENT and isinstance(value, str) and value:
            return value
    return None


def fetch_pending(c: Context, rules: CaseRules, app_id: str, holder: str | None) -> None:
    """Fetch the case's pending materials (blocking; after the filing committed)."""
    url = c.settings.licence_url
    if url is None:
        return
    t = c.package.tables.licence_fetches
    with read(c.engine) as conn:
        pending = (
            conn.execute(
                select(t.c.material).where(t.c.application_id == app_id, t.c.status == PENDING)
            )
            .scalars()
            .all()
        )
    if not pending:
        return
    import httpx  # not at the top: the generator imports the routes, and httpx its CLI (rich)

    with httpx.Client(timeout=c.settings.licence_timeout) as client:
        for material_id in pending:
            material = rules.material(material_id)
            if material is not None:
                _fetch(c, client, url, app_id, material, holder)


def _fetch(
    c: Context,
    client: httpx.Client,
    url: str,
    app_id: str,
    material: dict[str, Any],
    holder: str | None,
) -> None:
    if holder is None:
        _record(c, app_id, material["id"], MISSING, "no_holder")
        return
    cap = int(material.get("max_size_mb") or 10) * MB
    accept = tuple(material.get("accept") or DEFAULT_ACCEPT)
    folder = c.settings.upload_dir / ".incoming"
    folder.mkdir(parents=True, exist_ok=True)
    import httpx

    from runtime.routes.materials import sealer  # the very encryption of uploads

    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".licence-", suffix=".part")
    path = Path(tmp)
    try:
        digest = hashlib.sha256()
        size = 0
        head = b""
        with open(fd, "wb") as raw:
            sealed = sealer(c, app_id, material["id"])(raw)
            params = {"holder": holder, "type": material["id"]}
            with client.stream("GET", f"{url}/licences", params=params) as answer:
                if answer.status_code != 200:
                    sealed.close()
                    reason = (
                        "not_found" if answer.status_code == 404 else f"status:{answer.status_code}"
                    )
                    _record(c, app_id, material["id"], MISSING, reason)
                    return
                for chunk in answer.iter_bytes():
                    size += len(chunk)
                    if size > cap:
                        sealed.close()
                        _record(c, app_id, material["id"], MISSING, "too_large")
                        return
                    if len(head) < 16:
                        head += chunk[: 16 - len(head)]
                    digest.update(chunk)
                    sealed.write(chunk)
            sealed.close()
        media = sniff(head)
        if media is None or media not in accept:
            _record(c, app_id, material["id"], MISSING, f"file_type:{media or 'unknown'}")
            return
        _attach(c, app_id, material, path, media, size, digest.hexdigest())
    except httpx.TimeoutException:
        _record(c, app_id, material["id"], MISSING, "timeout")
    except httpx.HTTPError as exc:
        log.warning("电子证照服务不可用 / licence service unreachable: %s", type(exc).__name__)
        _record(c, app_id, material["id"], MISSING, "unreachable")
    finally:
        path.unlink(missing_ok=True)


def _attach(
    c: Context, app_id: str, material: dict[str, Any], path: Path, media: str, size: int, sha: str
) -> None:
    t = c.package.tables
    storage_name = f"{app_id}/{secrets.token_hex(16)}{EXTENSIONS.get(media, '')}"
    target = c.settings.upload_dir / storage_name
    target.parent.mkdir(parents=True, exist_ok=True)
    path.replace(target)
    now = c.now()
    try:
        with write(c.engine) as conn:
            conn.execute(
                insert(t.material_files),
                {
                    "application_id": app_id,
                    "material": material["id"],
                    "storage_name": storage_name,
                    "filename": material["id"] + EXTENSIONS.get(media, ""),
                    "content_type": media,
                    "size": size,
                    "sha256": sha,
                    "uploaded_by": FETCHER,
                    "uploaded_at": now,
                },
            )
            _update(conn, c, app_id, material["id"], FETCHED, None, now, size=size, sha256=sha)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _record(c: Context, app_id: str, material_id: str, status: str, reason: str | None) -> None:
    with write(c.engine) as conn:
        _update(conn, c, app_id, material_id, status, reason, c.now())


def _update(
    conn: Connection,
    c: Context,
    app_id: str,
    material_id: str,
    status: str,
    reason: str | None,
    now: datetime,
    **detail: Any,
) -> None:
    t = c.package.tables
    f = t.licence_fetches
    conn.execute(
        update(f)
        .where(f.c.application_id == app_id, f.c.material == material_id)
        .values(status=status, reason=reason, at=now)
    )
    audit.record(
        conn,
        t.audit_log,
        at=now,
        action="material_fetch",
        identity=None,
        request_id="licence",
        application_id=app_id,
        detail={"material": material_id, "status": status, "reason": reason, **detail},
    )


def explain(status: str, reason: str | None, lang: str) -> str:
    """What the officer reads beside the material."""
    if status == FETCHED:
        return message("licence.fetched", lang)
    if status == PENDING:
        return message("licence.pending", lang)
    code, _, value = (reason or "").partition(":")
    return message(f"licence.{code}", lang, status=value, type=value)


def outcomes(rows: Sequence[Any], lang: str) -> dict[str, Fetch]:
    """material id → its fetch: status, reason code, the text for the officer
    (``rows``: the case's ``licence_fetches``)."""
    return {
        r.material: {
            "status": r.status,
            "reason": r.reason,
            "message": explain(r.status, r.reason, lang),
        }
        for r in rows
    }
