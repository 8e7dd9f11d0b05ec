"""What every route uses: the runtime context, JSON bodies with limits, responses, threads."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Row, Select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from runtime import audit
from runtime.auth import Identity, visible_regions
from runtime.context import Context
from runtime.db import read
from runtime.errors import ApiError, FieldProblem, message, request_id, request_language
from runtime.package import Package
from runtime.records import rows_where
from runtime.submission import Stored

_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_ID = 36  # applications.id: uuid4 text
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,128}")


def ctx(request: Request) -> Context:
    value: Context = request.app.state.ctx
    return value


lang = request_language  # the language of an API answer (Accept-Language)
threaded = run_in_threadpool  # blocking database work, outside the event loop


class FastJSONResponse(JSONResponse):
    """JSON encoded by orjson (the same compact UTF-8 JSON as Starlette's, several times
    faster; keys that are not strings are written as strings, as ``json`` does)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def ok(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return FastJSONResponse(data, status_code=status, headers=headers)


def filed(stored: Stored, location: str) -> JSONResponse:
    """The answer to a filing: 201 (or the remembered answer of its Idempotency-Key, marked
    ``Idempotent-Replayed``) with ``Location`` naming what was filed."""
    headers = {"Location": location}
    if stored.replayed:
        headers["Idempotent-Replayed"] = "true"
    return ok(stored.body, stored.status, headers)


def _problem(value: Any, limit: int) -> str | None:
    """``too_deep`` when ``value`` nests more than ``limit`` containers, ``bad_text`` when a
    string (key or value) holds NUL or an unpaired surrogate (no database stores them:
    PostgreSQL refuses NUL, UTF-8 has no surrogates); one walk, no recursion."""
    if isinstance(value, str):
        return "bad_text" if "\x00" in value or _SURROGATE.search(value) else None
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
            for key in item:
                if "\x00" in key or _SURROGATE.search(key):
                    return "bad_text"
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return "too_deep"
        for child in children:
            if isinstance(child, str):
                if "\x00" in child or _SURROGATE.search(child):
                    return "bad_text"
            elif isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return None


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def read_json(request: Request, *, optional: bool = False) -> Any:
    """The request's JSON body: 415 unless application/json, 413 past the limit, 400 if bad;
    ``optional``: an absent or empty body is ``None``, a JSON ``null`` one 422 (not an object)."""
    settings = ctx(request).settings
    limit = settings.max_json_bytes
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise ApiError(413, "too_large")
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if optional and not content_type and length in (None, "0"):
        return None
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        raise ApiError(415, "unsupported_media_type")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too_large")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if optional and not raw.strip():
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:  # what it refuses, the standard parser names (or takes)
        try:
            value = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
        except RecursionError:
            raise ApiError(400, "too_deep") from None
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "malformed_json") from None
    if optional and value is None:  # a body sent as JSON null is not an absent one
        problem = FieldProblem("", "type", message("field.type", lang(request), expected="object"))
        raise ApiError(422, "validation", fields=[problem])
    refused = _problem(value, settings.max_json_depth)
    if refused is not None:
        raise ApiError(400, refused)
    return value


def idempotency_key(request: Request) -> str | None:
    """The ``Idempotency-Key`` header (1-128 visible ASCII characters), or 400."""
    key = request.headers.get("idempotency-key")
    if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError(400, "bad_request")
    return key


def require_object(value: Any, allowed: set[str], required: set[str], lng: str) -> dict[str, Any]:
    """A JSON object with only ``allowed`` keys and every ``required`` one, or 422."""
    if not isinstance(value, dict):
        problem = FieldProblem("", "type", message("field.type", lng, expected="object"))
        raise ApiError(422, "validation", fields=[problem])
    problems = [
        FieldProblem(str(k)[:64], "unknown", message("field.unknown", lng))
        for k in value
        if k not in allowed
    ]
    problems += [
        FieldProblem(k, "required", message("field.required", lng))
        for k in sorted(required)
        if value.get(k) is None
    ]
    if problems:
        raise ApiError(422, "validation", fields=problems)
    return value


def find_application(
    request: Request,
    identity: Identity,
    application_id: str,
    *,
    for_action: bool = False,
    conn: Connection | None = None,
    denied: list[str] | None = None,
    statement: Select[Any] | None = None,
) -> Row[Any]:
    """The application if ``identity`` may see it; else 404 and an audit entry ``denied``.

    Blocking: call through :func:`threaded`. Reads in ``conn``'s transaction when
    given (one transaction for the whole request), else in a read transaction of its own.
    With ``denied`` the id of a case refused is appended to it for the caller to audit
    (a caller in the event loop audits through the group commit) instead of audited here.
    ``statement``: another ``SELECT`` of the application's row by ``:key`` (one that joins
    what the caller reads with it).

    Applicants see their own; staff see their region's (supervisors and admins
    read their subtree, but act only in their own region). Existence is never leaked.
    """
    if len(application_id) > MAX_ID or "\x00" in application_id:  # no such row; no query
        raise ApiError(404, "unknown_application", {"id": application_id[:64]})
    c = ctx(request)
    by_id = statement if statement is not None else rows_where(c.package.tables.applications, "id")
    if conn is not None:
        row = conn.execute(by_id, {"key": application_id}).first()
    else:
        with read(c.engine) as own:
            row = own.execute(by_id, {"key": application_id}).first()
    if row is not None and can_see(c.package, identity, row, for_action=for_action):
        return row
    if row is not None and denied is not None:
        denied.append(row.id)
    elif row is not None:
        record_denied(request, c, identity, row.id)
    raise ApiError(404, "unknown_application", {"id": application_id[:64]})


def record_denied(
    request: Request, c: Context, identity: Identity, app_id: str, code: str | None = None
) -> None:
    """Audit a refused access to an application (the refusal itself is the caller's)."""
    entry = denial(request, c, identity, app_id, code)
    audit.record_now(c.engine, c.package.tables.audit_log, **entry)


def denial(
    request: Request, c: Context, identity: Identity, app_id: str, code: str | None = None
) -> dict[str, Any]:
    """The audit entry (:func:`runtime.audit.entry`'s keys) of a refused access."""
    detail = {"path": request.url.path, "method": request.method}
    if code is not None:
        detail["code"] = code
    return {
        "at": c.now(),
        "action": "denied",
        "identity": identity,
        "request_id": request_id(request),
        "application_id": app_id,
        "detail": detail,
    }


def audit_access(
    c: Context,
    identity: Identity,
    rid: str,
    action: str,
    *,
    application_id: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """One audit entry for what ``identity`` did or tried (in a transaction of its own)."""
    audit.record_now(
        c.engine,
        c.package.tables.audit_log,
        at=at or c.now(),
        action=action,
        identity=identity,
        request_id=rid,
        application_id=application_id,
        detail=detail,
    )


def can_see(package: Package, identity: Identity, row: Row[Any], *, for_action: bool) -> bool:
    if identity.role == "applicant":
        return row.applicant_sub in identity.subjects
    if not identity.is_staff:  # a data steward sees cases only through a sharing grant
        return False
    if for_action:
        return bool(row.region == identity.region)
    return row.region in visible_regions(identity, package.subtree(identity.region))


def paging(request: Request, lng: str) -> tuple[int, int]:
    """``?page=`` (from 1) and ``?page_size=`` (1..100, default 20), or 422."""
    out = []
    for name, default, high in (("page", 1, 1_000_000), ("page_size", 20, 100)):
        raw = request.query_params.get(name)
        try:
            value = default if raw is None else int(raw)
        except ValueError:
            value = -1
        if not 1 <= value <= high:
            problem = FieldProblem(name, "range", message("field.range", lng, low=1, high=high))
            raise ApiError(422, "validation", fields=[problem])
        out.append(value)
    return out[0], out[1]
