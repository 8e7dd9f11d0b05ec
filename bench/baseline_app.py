"""A hand-written minimal Starlette + SQLAlchemy Core app: the baseline of ``load_bench.py``.

It serves the three endpoints the benchmark measures, for a package written by
``govstd generate`` and a database migrated by ``govstd migrate`` (SQLite):

| endpoint | does |
|---|---|
| ``GET /api/matters`` | the deployment region's matters, as the runtime lists them |
| ``POST /api/matters/{matter}/applications`` | token, body, validate ``data``, number, insert |
| ``GET /api/applications/{id}`` | the applicant's own application in full (data decrypted) |

What it shares with the generated runtime, and what it does not:

- validation: the **same checks of the same form** — :func:`runtime.validation.validate_submission`
  with the package's own ``FormSpec`` (imported from ``forms/``), the same prefill and "today";
- the legal clock (:mod:`runtime.clock`) and field encryption (:class:`runtime.crypto.Cipher`)
  are the same library calls, so the rows and the JSON are the same;
- everything else is written here by hand: token check (pyjwt), body checks, tables
  reflected from the database, the statements, the JSON views, the SQLite pragmas and
  ``BEGIN IMMEDIATE``; no middleware, no audit log, no Idempotency-Key handling;
- inserts per submission: the counter (``INSERT … ON CONFLICT … RETURNING``), the
  application row, the form row, group rows, the first transition — the runtime adds
  one ``audit_log`` row in the same transaction;
- statements as a careful hand-writer keeps them: selects and the counter increment
  built once at start-up and run with bound parameters, inserts as
  ``execute(insert(t), {…})`` (compiled once per set of columns) — the runtime does
  the same since the first profile of this benchmark;
- database work runs inline in the ``async def`` handlers (SQLite is local; no
  threadpool hop), one worker process each.

Run: ``BASELINE_APP_DIR=… BASELINE_DB_URL=sqlite:///… python bench/baseline_app.py
--port 8001 --workers 2`` (see :func:`main`). Only what the benchmark sends is handled;
other input gets a plain 4xx.
"""

from __future__ import annotations

import importlib
import json
import os
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jwt
from sqlalchemy import MetaData, Table, bindparam, create_engine, event, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from runtime.clock import ClockState, WorkCalendar, application_number, counter_name, local_date
from runtime.crypto import Cipher, load_keys
from runtime.formspec import FormSpec, localized
from runtime.package import import_package
from runtime.validation import validate_submission

DEV_SECRET = "govstd-development-secret-do-not-use-in-production"


def _error(status: int, code: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, **extra}}, status_code=status)


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return _iso(value)


def _lang(request: Request) -> str:
    header = request.headers.get("accept-language", "")
    return "en" if header.lower().startswith("en") else "zh"


class Baseline:
    """Everything read once at start-up: catalog, forms, tables, keys."""

    def __init__(self, app_dir: Path, db_url: str) -> None:
        catalog = json.loads((app_dir / "catalog.json").read_text(encoding="utf-8"))
        self.region_id: str = catalog["region"]
        header = json.loads((app_dir / "package.json").read_text(encoding="utf-8"))
        self.source_hash = str(header.get("source_hash") or catalog.get("source_hash", ""))
        calendars = {c["id"]: c for c in catalog.get("calendars", [])}
        self.regions = {r["id"]: r for r in catalog["regions"]}
        self.calendars: dict[str, WorkCalendar] = {}
        for rid in self.regions:
            spec, cursor, seen = None, rid, set()
            while cursor and cursor in self.regions and cursor not in seen:
                seen.add(cursor)
                if self.regions[cursor].get("calendar"):
                    spec = calendars.get(self.regions[cursor]["calendar"])
                    break
                cursor = self.regions[cursor].get("parent")
            self.calendars[rid] = WorkCalendar.from_spec(spec)
        self.matters = {rid: {m["id"]: m for m in r["matters"]} for rid, r in self.regions.items()}
        self.workflows = {w["id"]: w for w in catalog["workflows"]}
        self.states = {wid: {s["id"]: s for s in w["states"]} for wid, w in self.workflows.items()}
        self.matter_types = {
            v["code"]: v["name"]
            for c in catalog.get("codesets", [])
            if c["id"] == "matter_type"
            for v in c.get("values", [])
        }
        package = import_package(app_dir)
        forms_module = importlib.import_module(f"{package.__name__}.forms")
        self.forms: dict[str, FormSpec] = dict(forms_module.FORMS)
        keys, _ = load_keys(os.environ)
        self.cipher = Cipher(keys)
        self.secret = os.environ.get("GOVSTD_SECRET") or DEV_SECRET
        self.engine = create_engine(
            db_url, connect_args={"check_same_thread": False, "timeout": 30}
        )

        @event.listens_for(self.engine, "connect")
        def _connect(dbapi: Any, _record: Any) -> None:
            dbapi.isolation_level = None
            for pragma in (
                "journal_mode=WAL",
                "busy_timeout=30000",
                "foreign_keys=ON",
                "synchronous=NORMAL",
            ):
                dbapi.execute(f"PRAGMA {pragma}")

        @event.listens_for(self.engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('begin', 'IMMEDIATE')}")

        meta = MetaData()
        meta.reflect(bind=self.engine)
        self.t: dict[str, Table] = dict(meta.tables)
        # Statements built once, run with {"key": …}: building them again for every
        # request costs more than running them.
        key = bindparam("key")
        t = self.t
        self.app_by_id = select(t["applications"]).where(t["applications"].c.id == key)
        self.rows_of: dict[str, Any] = {}
        for name, table in t.items():
            if name.startswith("form_") or name in ("evaluations", "transitions", "material_files"):
                stmt = select(table).where(table.c.application_id == key)
                order = {"transitions": "id", "material_files": "material"}.get(name)
                if "position" in table.c:
                    order = "position"
                self.rows_of[name] = stmt.order_by(table.c[order]) if order else stmt
        counters = t["counters"]
        self.increment = (
            sqlite_insert(counters)
            .on_conflict_do_update(
                index_elements=[counters.c.name], set_={"value": counters.c.value + 1}
            )
            .returning(counters.c.value)
        )

    def matter_anywhere(self, matter_id: str) -> tuple[str, dict[str, Any]] | None:
        for rid, matters in self.matters.items():
            if matter_id in matters:
                return rid, matters[matter_id]
        return None

    def subject(self, request: Request) -> dict[str, Any] | None:
        scheme, _, tok = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                tok.strip(),
                self.secret,
                algorithms=["HS256"],
                audience="govstd",
                options={"require": ["exp", "aud", "sub"]},
                leeway=30,
            )
        except jwt.PyJWTError:
            return None
        return claims

    def seal(self, table: Table, form: FormSpec, field_id: str, value: Any) -> Any:
        spec = form.field_map.get(field_id)
        if value is None or spec is None or not spec.sensitive:
            return value
        text = value if isinstance(value, str) else json.dumps(_json_value(value))
        return self.cipher.encrypt(text, context=f"{table.name}.{field_id}")

    def open(self, table: Table, spec: Any, value: Any) -> Any:
        if value is None or spec is None or not spec.sensitive:
            return _json_value(value)
        text = self.cipher.decrypt(value, context=f"{table.name}.{spec.id}")
        textual = ("string", "text", "code", "date", "datetime", "file")
        if spec.type in textual and not spec.multiple:
            return text
        try:
            return json.loads(text)
        except ValueError:
            return text


def _form_table(b: Baseline, form_id: str) -> Table:
    return b.t[f"form_{form_id}"]


def _group_table(b: Baseline, form_id: str, group_id: str) -> Table:
    return b.t[f"form_{form_id}__{group_id}"]


# --- GET /api/matters -------------------------------------------------------------


async def list_matters(request: Request) -> JSONResponse:
    b: Baseline = request.app.state.b
    lng = _lang(request)
    region = b.regions[b.region_id]
    items = []
    for m in sorted(region["matters"], key=lambda m: m["id"]):
        type_name = b.matter_types.get(m["type"])
        items.append(
            {
                "id": m["id"],
                "name": localized(m["name"], lng),
                "names": m["name"],
                "type": m["type"],
                "type_name": localized(type_name, lng) if type_name else None,
                "case_type": m.get("case_type", "commitment"),
                "promised": m.get("promised"),
                "service_objects": list(m.get("service_objects", [])),
                "form": m["form"],
                "region": b.region_id,
                "regions": [rid for rid, ms in b.matters.items() if m["id"] in ms],
                "version": m.get("version"),
            }
        )
    return JSONResponse({"region": b.region_id, "items": items, "total": len(items)})


# --- POST /api/matters/{matter}/applications ---------------------------------------


async def submit(request: Request) -> JSONResponse:
    b: Baseline = request.app.state.b
    claims = b.subject(request)
    if claims is None:
        return _error(401, "unauthorized")
    if claims.get("role") != "applicant":
        return _error(403, "forbidden")
    lng = _lang(request)
    found = b.matter_anywhere(request.path_params["matter"])
    if found is None:
        return _error(404, "unknown_matter")
    try:
        body = json.loads(await request.body())
    except ValueError:
        return _error(400, "malformed_json")
    if not isinstance(body, dict) or set(body) != {"region", "data"}:
        return _error(422, "validation")
    region_id = body["region"]
    if region_id not in b.matters or found[1]["id"] not in b.matters[region_id]:
        return _error(422, "validation")
    matter = b.matters[region_id][found[1]["id"]]
    form = b.forms[matter["form"]]
    now = datetime.now(UTC)
    prefill = {
        k: v for k in ("sub", "name", "id_number") if isinstance(v := claims.get(k), str) and v
    }
    cleaned, errors = validate_submission(
        form, body["data"], lang=lng, identity=prefill, today=local_date(now)
    )
    if errors:
        fields = [{"path": e.path, "code": e.code, "message": e.message} for e in errors]
        return _error(422, "validation", fields=fields)
    workflow = b.workflows[matter["workflow"]]
    initial = b.states[workflow["id"]][workflow["initial"]]
    clock = ClockState.for_limit(matter.get("promised"), b.calendars[region_id]).enter(initial, now)
    app_id = str(uuid.uuid4())
    region_code = b.regions[region_id]["code"]
    day = local_date(now)
    form_table = _form_table(b, form.id)
    with b.engine.begin() as conn:
        sequence = conn.execute(
            b.increment, {"name": counter_name(region_code, day), "value": 1}
        ).scalar_one()
        number = application_number(region_code, day, int(sequence))
        conn.execute(
            insert(b.t["applications"]),
            {
                "id": app_id,
                "number": number,
                "matter": matter["id"],
                "form": form.id,
                "region": region_id,
                "applicant_sub": claims["sub"],
                "status": workflow["initial"],
                "created_at": now,
                "updated_at": now,
                "standards_version": matter.get("version"),
                "standards_hash": b.source_hash,
                "row_version": 1,
                "clock_started_at": clock.started_at,
                "paused_at": clock.paused_at,
                "paused_days": clock.paused_days,
                "finished_at": clock.finished_at,
                "deadline": clock.deadline,
            },
        )
        columns = form_table.columns.keys()
        conn.execute(
            insert(form_table),
            {
                "application_id": app_id,
                **{
                    f.id: b.seal(form_table, form, f.id, cleaned.get(f.id))
                    for f in form.fields
                    if f.id in columns
                },
            },
        )
        for group in form.groups:
            rows = cleaned.get(group.id)
            if not isinstance(rows, list) or not rows:
                continue
            gtable = _group_table(b, form.id, group.id)
            gcols = gtable.columns.keys()
            values = []
            for position, item in enumerate(rows):
                row = {"application_id": app_id, "position": position}
                for f in group.fields:
                    if f.id in gcols:
                        value = item.get(f.id)
                        if value is not None and f.sensitive:
                            text = value if isinstance(value, str) else json.dumps(value)
                            value = b.cipher.encrypt(text, context=f"{gtable.name}.{f.id}")
                        row[f.id] = value
                values.append(row)
            conn.execute(insert(gtable), values)
        conn.execute(
            insert(b.t["transitions"]),
            {
                "application_id": app_id,
                "transition": "submit",
                "from_state": "",
                "to_state": workflow["initial"],
                "actor_sub": claims["sub"],
                "actor_role": "applicant",
                "reason": None,
                "at": now,
            },
        )
    body_out = {
        "id": app_id,
        "number": number,
        "matter": matter["id"],
        "region": region_id,
        "status": workflow["initial"],
        "status_name": localized(initial.get("name"), lng),
        "deadline": _iso(clock.deadline),
        "created_at": _iso(now),
        "standards_version": matter.get("version"),
        "standards_hash": b.source_hash,
    }
    return JSONResponse(
        body_out, status_code=201, headers={"Location": f"/api/applications/{app_id}"}
    )


# --- GET /api/applications/{id} ----------------------------------------------------


async def get_one(request: Request) -> JSONResponse:
    b: Baseline = request.app.state.b
    claims = b.subject(request)
    if claims is None:
        return _error(401, "unauthorized")
    if claims.get("role") != "applicant":
        return _error(403, "forbidden")  # the benchmark reads as the applicant
    lng = _lang(request)
    app_id = request.path_params["id"]
    key = {"key": app_id}
    with b.engine.connect() as raw:
        conn = raw.execution_options(begin="DEFERRED")
        with conn.begin():
            app = conn.execute(b.app_by_id, key).first()
            if app is None or app.applicant_sub != claims["sub"]:
                return _error(404, "unknown_application")
            form = b.forms[app.form]
            ftable = _form_table(b, form.id)
            frow = conn.execute(b.rows_of[ftable.name], key).first()
            data: dict[str, Any] = {}
            if frow is not None:
                m = frow._mapping
                for f in form.fields:
                    if f.id in m and m[f.id] is not None:
                        data[f.id] = b.open(ftable, f, m[f.id])
            for group in form.groups:
                gtable = _group_table(b, form.id, group.id)
                items = []
                for g in conn.execute(b.rows_of[gtable.name], key):
                    gm = g._mapping
                    items.append(
                        {
                            f.id: b.open(gtable, f, gm[f.id])
                            for f in group.fields
                            if gm.get(f.id) is not None
                        }
                    )
                if items:
                    data[group.id] = items
            steps = conn.execute(b.rows_of["transitions"], key).all()
            evaluation = conn.execute(b.rows_of["evaluations"], key).first()
            materials = conn.execute(b.rows_of["material_files"], key).all()
    now = datetime.now(UTC)
    matter = (
        b.matters.get(app.region, {}).get(app.matter)
        or (b.matter_anywhere(app.matter) or (None, None))[1]
    )
    workflow = b.workflows.get(matter["workflow"]) if matter else None
    state = b.states[workflow["id"]].get(app.status) if workflow else None
    clock = ClockState(
        b.calendars.get(app.region, WorkCalendar()),
        *(
            (int(matter["promised"]["value"]), str(matter["promised"]["unit"]))
            if matter and matter.get("promised")
            else (None, None)
        ),
        started_at=_aware(app.clock_started_at),
        paused_at=_aware(app.paused_at),
        paused_days=int(app.paused_days or 0),
        finished_at=_aware(app.finished_at),
    )
    transitions = {t["id"]: t for t in workflow["transitions"]} if workflow else {}
    out = {
        "id": app.id,
        "number": app.number,
        "matter": app.matter,
        "matter_name": localized(matter["name"], lng) if matter else app.matter,
        "form": app.form,
        "region": app.region,
        "status": app.status,
        "status_name": localized(state.get("name"), lng) if state else app.status,
        "final": bool(state and state.get("final")),
        "created_at": _iso(app.created_at),
        "updated_at": _iso(app.updated_at),
        "clock_started_at": _iso(app.clock_started_at),
        "paused": app.paused_at is not None,
        "paused_days": int(app.paused_days or 0),
        "finished_at": _iso(app.finished_at),
        "deadline": _iso(clock.deadline_at(now)),
        "overdue": clock.is_overdue(now),
        "due_soon": clock.is_due_soon(now, workflow.get("warn_before") if workflow else None),
        "standards_version": app.standards_version,
        "data": data,
        "standards_hash": app.standards_hash,
        "transitions": [
            {
                "transition": s.transition,
                "transition_name": localized(
                    transitions[s.transition].get("name") or {"zh": s.transition}, lng
                )
                if s.transition in transitions
                else s.transition,
                "from": s.from_state,
                "to": s.to_state,
                "actor_role": s.actor_role,
                "reason": s.reason,
                "at": _iso(s.at),
            }
            for s in steps
        ],
        "actions": [
            t["id"]
            for t in workflow["transitions"]
            if app.status in t["sources"] and t["by"] == "applicant"
        ]
        if workflow
        else [],
        "evaluation": {
            "score": evaluation.score,
            "comment": evaluation.comment,
            "at": _iso(evaluation.created_at),
        }
        if evaluation is not None
        else None,
        "materials": [
            {
                "material": f.material,
                "filename": f.filename,
                "content_type": f.content_type,
                "size": f.size,
                "sha256": f.sha256,
                "uploaded_at": _iso(f.uploaded_at),
            }
            for f in materials
        ],
    }
    return JSONResponse(out)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app(app_dir: str | Path, db_url: str) -> Starlette:
    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/api/matters", list_matters, methods=["GET"]),
            Route("/api/matters/{matter}/applications", submit, methods=["POST"]),
            Route("/api/applications/{id}", get_one, methods=["GET"]),
        ]
    )
    app.state.b = Baseline(Path(app_dir), db_url)
    return app


def app_from_env() -> Starlette:
    return create_app(os.environ["BASELINE_APP_DIR"], os.environ["BASELINE_DB_URL"])


def main() -> None:
    """``python bench/baseline_app.py --port P --workers N`` (BASELINE_* in the environment).

    Like ``uvicorn baseline_app:app_from_env --factory``, except that with several workers
    the listening socket says it is TCP, as ``govstd serve`` does: uvicorn leaves
    ``proto`` at 0 and asyncio then never sets TCP_NODELAY (every keep-alive request
    after the first waits ~40 ms for a delayed ACK, uvicorn issue #3149)."""
    import argparse
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    config = uvicorn.Config(
        "baseline_app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=False,
        server_header=False,
    )
    if args.workers == 1:
        uvicorn.Server(config).run()
        return
    sock = config.bind_socket()
    if sock.proto != socket.IPPROTO_TCP:
        sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        sock.set_inheritable(True)
    Multiprocess(config, sockets=[sock]).run()


if __name__ == "__main__":
    main()
