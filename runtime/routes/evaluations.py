"""好差评: the applicant rates a final case once, 1 to 5, with an optional comment."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import Response

from runtime import audit
from runtime.answers import EvaluationResult
from runtime.auth import Identity, require
from runtime.context import Context
from runtime.db import write
from runtime.errors import ApiError, FieldProblem, message, request_id
from runtime.operations import WRITE_ERRORS, Operation
from runtime.records import is_final, iso, lock_case
from runtime.routes.common import (
    ctx,
    find_application,
    lang,
    ok,
    read_json,
    require_object,
    threaded,
)

MAX_COMMENT = 2000


def _evaluate(
    request: Request, c: Context, identity: Identity, app_id: str, score: int, comment: str | None
) -> EvaluationResult:
    row = find_application(request, identity, app_id)
    pkg = c.package
    t = pkg.tables
    now = c.now()
    try:
        with write(c.engine) as conn:
            if not is_final(pkg, lock_case(conn, pkg, row.id)):
                raise ApiError(409, "not_final")
            exists = conn.execute(
                select(t.evaluations.c.id).where(t.evaluations.c.application_id == row.id)
            ).first()
            if exists is not None:
                raise ApiError(409, "already_evaluated")
            conn.execute(
                insert(t.evaluations).values(
                    application_id=row.id,
                    applicant_sub=identity.subject,
                    score=score,
                    comment=comment,
                    created_at=now,
                )
            )
            audit.record(
                conn,
                t.audit_log,
                at=now,
                action="evaluate",
                identity=identity,
                request_id=request_id(request),
                application_id=row.id,
                detail={"score": score},
            )
    except IntegrityError:  # a concurrent second evaluation hit the unique key
        raise ApiError(409, "already_evaluated") from None
    return {"application_id": row.id, "score": score, "comment": comment, "created_at": iso(now)}


async def evaluate(request: Request) -> Response:
    """``POST /api/applications/{id}/evaluation`` — ``{"score": 1..5, "comment": …}``."""
    c = ctx(request)
    lng = lang(request)
    identity = require(request, "applicant")
    body = require_object(await read_json(request), {"score", "comment"}, {"score"}, lng)
    score, comment = body["score"], body.get("comment")
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        problem = FieldProblem("score", "range", message("field.range", lng, low=1, high=5))
        raise ApiError(422, "validation", fields=[problem])
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        expected = f"string (≤ {MAX_COMMENT})"
        problem = FieldProblem("comment", "type", message("field.type", lng, expected=expected))
        raise ApiError(422, "validation", fields=[problem])
    app_id = request.path_params["id"]
    result = await threaded(_evaluate, request, c, identity, app_id, score, comment or None)
    return ok(result, 201)


ROUTES = [
    Operation(
        "POST /api/applications/{id}/evaluation",
        evaluate,
        "evaluate",
        "好差评 / rate a final case (1-5), once",
        "applications",
        ("recorded", "EvaluationResult"),
        status=201,
        errors=WRITE_ERRORS,
        parameters=("application",),
        body="Evaluation",
        secured=True,
    )
]
