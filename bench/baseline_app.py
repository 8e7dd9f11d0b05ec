"""The baseline of ``load_bench.py``: a hand-written Starlette app filing 个体工商户设立登记.

What a developer writes by hand for one form, without this project: it imports nothing
from ``runtime/`` or ``generator/`` (``tests/test_bench_baseline.py`` checks that).

| endpoint | does |
|---|---|
| ``GET /api/matters`` | the deployment region's matters, built from ``catalog.json`` |
| ``POST /api/matters/ibr/applications`` | token (pyjwt), body (its own pydantic model with |
| | GB 11643 check digits, mobile number, codes, the form's rules), AES-GCM of the |
| | sensitive fields (``cryptography``), then in one transaction: the day's number |
| | (a counter row), the application row, the form row, the member rows, the first |
| | history row |
| ``GET /api/applications/{id}`` | the applicant's own application with its data decrypted |

Its own SQLite tuning: WAL, ``synchronous=NORMAL`` (a commit survives the process
being killed; 201 is answered after it), a busy timeout and ``BEGIN IMMEDIATE`` for
writes. Tables are reflected from the database ``govstd migrate`` made (so both apps
write the same rows into the same schema); statements are built once at start-up.
Database work runs inline in the ``async def`` handlers: SQLite is a local file, and
one process with one connection at a time never waits for its own lock.

Run: ``BASELINE_APP_DIR=… BASELINE_DB_URL=sqlite:///… GOVSTD_SECRET=… GOVSTD_DATA_KEY=…
python bench/baseline_app.py --port 8001``. Only what the benchmark sends is served.
"""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import jwt
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import MetaData, bindparam, create_engine, event, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

CHINA = ZoneInfo("Asia/Shanghai")
MATTER = "ibr"
FORM = "ibr_form"
SENSITIVE = {
    "person_name",
    "citizen_id_number",
    "mobile_phone",
    "email",
    "residence_address",
    "agent_name",
    "agent_id_number",
}
MEMBER_SENSITIVE = {"person_name", "citizen_id_number"}
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
MOBILE = re.compile(r"1[3-9][0-9]{9}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# --- validation -------------------------------------------------------------------


def citizen_id(value: str) -> str:
    """GB 11643-1999: 17 digits, a real birth date, the ISO 7064 MOD 11-2 check character."""
    value = value.upper()
    if len(value) != 18 or not value[:17].isascii() or not value[:17].isdigit():
        raise ValueError("公民身份号码应为18位，前17位为数字")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValueError("公民身份号码中的出生日期无效") from None
    if not date(1800, 1, 1) <= born <= datetime.now(CHINA).date():
        raise ValueError("公民身份号码中的出生日期无效")
    total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS, strict=True))
    if "10X98765432"[total % 11] != value[17]:
        raise ValueError("公民身份号码校验位不正确")
    return value


Text50 = Annotated[str, Field(min_length=1, max_length=50)]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


class Member(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    person_name: Text50
    citizen_id_number: str
    kinship: Literal["10", "20", "30", "51", "52", "70"]

    @field_validator("citizen_id_number")
    @classmethod
    def _id(cls, value: str) -> str:
        return citizen_id(value)


class IbrForm(BaseModel):
    """个体工商户登记（备案）申请书."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    person_name: Text50
    citizen_id_number: str
    mobile_phone: str
    email: Annotated[str, Field(max_length=100)] | None = None
    residence_address: Text200
    enterprise_name: Annotated[str, Field(max_length=50)] | None = None
    organization_form: Literal["1", "2"]
    business_scope: Annotated[str, Field(min_length=1, max_length=1000)]
    business_address: Text200
    business_division: str
    premises_ownership: Literal["1", "2", "3"]
    operating_area: Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)] | None = None
    registered_capital: Money
    employees: Annotated[int, Field(ge=0)]
    agent_used: bool
    agent_name: Text50 | None = None
    agent_id_number: str | None = None
    members: Annotated[list[Member], Field(max_length=10)] = []

    @field_validator("citizen_id_number")
    @classmethod
    def _id(cls, value: str) -> str:
        return citizen_id(value)

    @field_validator("agent_id_number")
    @classmethod
    def _agent_id(cls, value: str | None) -> str | None:
        return None if value is None else citizen_id(value)

    @field_validator("mobile_phone")
    @classmethod
    def _mobile(cls, value: str) -> str:
        if not MOBILE.fullmatch(value):
            raise ValueError("手机号码格式不正确")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL.fullmatch(value):
            raise ValueError("电子邮箱格式不正确")
        return value

    @field_validator("business_division")
    @classmethod
    def _division(cls, value: str) -> str:
        if value not in DIVISIONS:
            raise ValueError("行政区划代码不在代码表中")
        return value

    @model_validator(mode="after")
    def _rules(self) -> IbrForm:
        if self.agent_used and not self.agent_name:
            raise ValueError("委托代理人的，应填写代理人姓名")
        if not self.agent_used:
            self.agent_name = self.agent_id_number = None
        if self.organization_form != "2":
            self.members = []
        if self.registered_capital <= 0:
            raise ValueError("资金数额必须大于零")
        if self.employees < 1:
            raise ValueError("从业人数应包含经营者本人，至少为 1 人")
        if self.organization_form == "2" and not self.members:
            raise ValueError("家庭经营的，应至少填写一名参加经营的家庭成员")
        if self.organization_form == "2" and self.employees < len(self.members) + 1:
            raise ValueError("从业人数不能少于经营者与参加经营的家庭成员人数之和")
        return self


class Submission(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: str
    data: IbrForm


DIVISIONS: frozenset[str] = frozenset()  # the admin_division code set, read at start-up

# --- the app ----------------------------------------------------------------------


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _name(names: dict[str, str] | None, lng: str) -> str | None:
    return None if names is None else names.get(lng) or names.get("zh")


def _lang(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh"


def _error(status: int, code: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, **extra}}, status_code=status)


class Baseline:
    """Read once at start-up: the catalogue, the key, the tables and the statements."""

    def __init__(self, app_dir: Path, db_url: str) -> None:
        global DIVISIONS
        catalog = json.loads((app_dir / "catalog.json").read_text(encoding="utf-8"))
        header = json.loads((app_dir / "package.json").read_text(encoding="utf-8"))
        self.source_hash = str(header.get("source_hash") or catalog.get("source_hash", ""))
        self.region_id: str = catalog["region"]
        self.regions = {r["id"]: r for r in catalog["regions"]}
        codesets = {c["id"]: c for c in catalog["codesets"]}
        DIVISIONS = frozenset(v["code"] for v in codesets["admin_division"]["values"])
        self.matter_types = {v["code"]: v["name"] for v in codesets["matter_type"]["values"]}
        self.matters = {rid: {m["id"]: m for m in r["matters"]} for rid, r in self.regions.items()}
        self.workflows = {w["id"]: w for w in catalog["workflows"]}
        self.secret = os.environ["GOVSTD_SECRET"]
        key = os.environ["GOVSTD_DATA_KEY"].split(",")[0].strip()
        self.aead = AESGCM(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)))
        self.engine = create_engine(db_url, connect_args={"check_same_thread": False})

        @event.listens_for(self.engine, "connect")
        def _connect(dbapi: Any, _record: Any) -> None:
            dbapi.isolation_level = None  # we say BEGIN ourselves
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
                dbapi.execute(f"PRAGMA {pragma}")

        @event.listens_for(self.engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('begin', 'IMMEDIATE')}")

        meta = MetaData()
        meta.reflect(bind=self.engine)
        t = self.t = meta.tables
        key_param = bindparam("key")
        self.app_by_id = select(t["applications"]).where(t["applications"].c.id == key_param)
        form, members = t[f"form_{FORM}"], t[f"form_{FORM}__members"]
        self.form_row = select(form).where(form.c.application_id == key_param)
        self.member_rows = (
            select(members)
            .where(members.c.application_id == key_param)
            .order_by(members.c.position)
        )
        transitions = t["transitions"]
        self.history = (
            select(transitions)
            .where(transitions.c.application_id == key_param)
            .order_by(transitions.c.id)
        )
        files = t["material_files"]
        self.files = select(files.c.material).where(files.c.application_id == key_param)
        counters = t["counters"]
        self.increment = (
            sqlite_insert(counters)
            .on_conflict_do_update(
                index_elements=[counters.c.name], set_={"value": counters.c.value + 1}
            )
            .returning(counters.c.value)
        )
        self.insert_app = insert(t["applications"])
        self.insert_form = insert(form)
        self.insert_members = insert(members)
        self.insert_history = insert(transitions)

    def claims(self, request: Request) -> dict[str, Any] | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                token.strip(),
                self.secret,
                algorithms=["HS256"],
                audience="govstd",
                options={"require": ["exp", "aud", "sub"]},
            )
        except jwt.PyJWTError:
            return None
        return claims

    def seal(self, value: Any, column: str) -> str | None:
        if value is None:
            return None
        nonce = os.urandom(12)
        sealed = self.aead.encrypt(nonce, str(value).encode(), column.encode())
        return "b1." + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, token: str | None, column: str) -> str | None:
        if token is None:
            return None
        raw = base64.urlsafe_b64decode(token.removeprefix("b1."))
        return self.aead.decrypt(raw[:12], raw[12:], column.encode()).decode()


async def list_matters(request: Request) -> JSONResponse:
    b: Baseline = request.app.state.b
    lng = _lang(request)
    items = []
    for m in sorted(b.regions[b.region_id]["matters"], key=lambda m: m["id"]):
        type_name = b.matter_types.get(m["type"])
        items.append(
            {
                "id": m["id"],
                "name": _name(m["name"], lng),
                "names": m["name"],
                "type": m["type"],
                "type_name": _name(type_name, lng),
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


async def submit(request: Request) -> JSONResponse:
    b: Baseline = request.app.state.b
    claims = b.claims(request)
    if claims is None:
        return _error(401, "unauthorized")
    if claims.get("role") != "applicant":
        return _error(403, "forbidden")
    if request.path_params["matter"] != MATTER:
        return _error(404, "unknown_matter")
    try:
        body = Submission.model_validate_json(await request.body())
    except ValidationError as exc:
        fields = [{"path": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
        return _error(422, "validation", fields=fields)
    matter = b.matters.get(body.region, {}).get(MATTER)
    if matter is None:
        return _error(422, "validation", fields=[{"path": "region"}])
    workflow = b.workflows[matter["workflow"]]
    initial = next(s for s in workflow["states"] if s["id"] == workflow["initial"])
    if initial["clock"] is not None:
        return _error(501, "not_in_this_baseline")  # the benchmark's matter starts unclocked
    data = body.data.model_dump()
    members = data.pop("members")
    now = datetime.now(UTC)
    day = now.astimezone(CHINA).date()
    app_id = str(uuid.uuid4())
    code = b.regions[body.region]["code"]
    form_row = {"application_id": app_id}
    for field, value in data.items():
        form_row[field] = b.seal(value, f"form_{FORM}.{field}") if field in SENSITIVE else value
    member_rows = [
        {
            "application_id": app_id,
            "position": position,
            **{
                k: b.seal(v, f"form_{FORM}__members.{k}") if k in MEMBER_SENSITIVE else v
                for k, v in member.items()
            },
        }
        for position, member in enumerate(members)
    ]
    with b.engine.begin() as conn:
        counter = f"application:{code}:{day:%Y%m%d}"
        sequence = conn.execute(b.increment, {"name": counter, "value": 1}).scalar_one()
        number = f"{code}-{day:%Y%m%d}-{sequence:06d}"
        conn.execute(
            b.insert_app,
            {
                "id": app_id,
                "number": number,
                "matter": MATTER,
                "form": FORM,
                "region": body.region,
                "applicant_sub": claims["sub"],
                "status": workflow["initial"],
                "created_at": now,
                "updated_at": now,
                "standards_version": matter.get("version"),
                "standards_hash": b.source_hash,
                "row_version": 1,
                "paused_days": 0,
            },
        )
        conn.execute(b.insert_form, form_row)
        if member_rows:
            conn.execute(b.insert_members, member_rows)
        conn.execute(
            b.insert_history,
            {
                "application_id": app_id,
                "transition": "submit",
                "from_state": "",
                "to_state": workflow["initial"],
                "actor_sub": claims["sub"],
                "actor_role": "applicant",
                "at": now,
            },
        )
    answer = {
        "id": app_id,
        "number": number,
        "matter": MATTER,
        "region": body.region,
        "status": workflow["initial"],
        "status_name": _name(initial["name"], _lang(request)),
        "deadline": None,
        "created_at": now.isoformat(),
        "standards_version": matter.get("version"),
        "standards_hash": b.source_hash,
    }
    return JSONResponse(
        answer, status_code=201, headers={"Location": f"/api/applications/{app_id}"}
    )


def _value(field: str, value: Any) -> Any:
    if field in ("registered_capital", "operating_area") and isinstance(value, str):
        return _iso(Decimal(value))
    if field in ("employees",) and isinstance(value, str):
        return int(value)
    return _iso(value)


async def get_one(request: Request) -> JSONResponse:
    b: Baseline = request.app.state.b
    claims = b.claims(request)
    if claims is None:
        return _error(401, "unauthorized")
    lng = _lang(request)
    key = {"key": request.path_params["id"]}
    with b.engine.connect() as raw:
        conn = raw.execution_options(begin="DEFERRED")
        with conn.begin():
            app = conn.execute(b.app_by_id, key).first()
            if app is None or app.applicant_sub != claims["sub"] or app.form != FORM:
                return _error(404, "unknown_application")
            row = conn.execute(b.form_row, key).one()._mapping
            members = [m._mapping for m in conn.execute(b.member_rows, key)]
            history = conn.execute(b.history, key).all()
            files = conn.execute(b.files, key).all()
    data: dict[str, Any] = {}
    for field, value in row.items():
        if field == "application_id" or value is None:
            continue
        if field in SENSITIVE:
            value = b.open(value, f"form_{FORM}.{field}")
        data[field] = _value(field, value)
    if data.get("agent_used") is not None:
        data["agent_used"] = bool(data["agent_used"])
    if members:
        data["members"] = [
            {
                k: b.open(v, f"form_{FORM}__members.{k}") if k in MEMBER_SENSITIVE else v
                for k, v in m.items()
                if k not in ("application_id", "position", "id") and v is not None
            }
            for m in members
        ]
    matter = b.matters[app.region][app.matter]
    workflow = b.workflows[matter["workflow"]]
    states = {s["id"]: s for s in workflow["states"]}
    transitions = {t["id"]: t for t in workflow["transitions"]}
    state = states[app.status]
    if app.clock_started_at is not None:
        return _error(501, "not_in_this_baseline")  # the benchmark reads unclocked cases
    answer = {
        "id": app.id,
        "number": app.number,
        "matter": app.matter,
        "matter_name": _name(matter["name"], lng),
        "form": app.form,
        "region": app.region,
        "status": app.status,
        "status_name": _name(state["name"], lng),
        "final": state["final"],
        "created_at": _iso(app.created_at),
        "updated_at": _iso(app.updated_at),
        "clock_started_at": None,
        "paused": False,
        "paused_days": 0,
        "finished_at": _iso(app.finished_at),
        "deadline": None,
        "overdue": False,
        "standards_version": app.standards_version,
        "standards_hash": app.standards_hash,
        "data": data,
        "transitions": [
            {
                "transition": h.transition,
                "transition_name": h.transition
                if h.transition not in transitions
                else _name(transitions[h.transition]["name"], lng),
                "from": h.from_state,
                "to": h.to_state,
                "actor_role": h.actor_role,
                "reason": h.reason,
                "at": _iso(h.at),
            }
            for h in history
        ],
        "actions": [
            t["id"]
            for t in workflow["transitions"]
            if t["by"] == "applicant" and app.status in t["sources"]
        ],
        "materials": [{"material": f.material} for f in files],
    }
    return JSONResponse(answer)


def create_app(app_dir: Path, db_url: str) -> Starlette:
    app = Starlette(
        routes=[
            Route("/healthz", lambda _r: JSONResponse({"status": "ok"}), methods=["GET"]),
            Route("/api/matters", list_matters, methods=["GET"]),
            Route("/api/matters/{matter}/applications", submit, methods=["POST"]),
            Route("/api/applications/{id}", get_one, methods=["GET"]),
        ]
    )
    app.state.b = Baseline(app_dir, db_url)
    return app


def app_from_env() -> Starlette:
    return create_app(Path(os.environ["BASELINE_APP_DIR"]), os.environ["BASELINE_DB_URL"])


def main() -> None:
    """``--port``, ``--host``, ``--workers`` for uvicorn (one process per worker).

    With several workers the listening socket says it is TCP, as ``govstd serve``'s
    does: uvicorn leaves ``proto`` at 0 and asyncio then never sets TCP_NODELAY (every
    keep-alive request after the first waits ~40 ms for a delayed ACK, uvicorn #3149)."""
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
