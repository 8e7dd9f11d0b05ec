"""Errors leak nothing: an unhandled error answers a generic 500 with the request id —
no stack, no SQL, no personal data — and the log says where it failed under that id,
never what the exception's message (SQL, stored values) said.

Besides these tests, the folder's conftest fails any test whose logs hold an 18-digit
ID number.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, Table, text

from runtime import submission
from tests.helpers import ID_A, Api, all_tables, unemployment_data
from tests.security.conftest import ID_NUMBER, LogWatch, table_contents

pytestmark = pytest.mark.anyio
SUBMIT = "/api/matters/unemployment_registration/applications"
LEAKS = re.compile(r"Traceback|SELECT|INSERT|File \"|sqlalche\.me|" + ID_A)
EMPLOYER = f"某某公司（统一代码 {ID_A}）"  # personal data in a plain-text column


def body() -> dict[str, Any]:
    return {"region": "nanshan", "data": unemployment_data(last_employer_name=EMPLOYER)}


async def call(api: Api, **kw: Any) -> httpx.Response:
    """The request through the app, letting any exception it raises fly (none may)."""
    app = api.client._transport.app  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post(SUBMIT, **kw)


def assert_generic_500(r: httpx.Response, rid: str) -> None:
    assert r.status_code == 500
    assert r.json() == {
        "error": {"code": "internal", "message": "服务器内部错误", "request_id": rid}
    }
    assert r.headers["x-request-id"] == rid
    assert r.headers["x-content-type-options"] == "nosniff"
    assert not LEAKS.search(r.text)


def logged(caplog: pytest.LogCaptureFixture, watch: LogWatch, since: int) -> str:
    """Everything logged (messages and tracebacks), by caplog and by the folder's watch."""
    return caplog.text + "\n".join(watch.texts[since:])


def assert_clean_log(text_: str, rid: str) -> None:
    assert rid in text_, "the failure must be logged under its request id"
    assert not LEAKS.search(text_), LEAKS.search(text_)
    assert not ID_NUMBER.search(text_)
    assert "赵六" not in text_ and EMPLOYER not in text_


async def test_unhandled_error_is_generic(
    api: Api,
    db: Engine,
    caplog: pytest.LogCaptureFixture,
    log_watch: LogWatch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exception whose message holds SQL and the submitted ID number."""

    def broken(form: Any, data: Any, **kw: Any) -> Any:
        raise RuntimeError(
            f"INSERT INTO form_x (citizen_id_number) VALUES ('{data['citizen_id_number']}'); "
            f"SELECT * FROM applications -- {data['person_name']}"
        )

    monkeypatch.setattr(submission, "validate_submission", broken)
    since = len(log_watch.texts)
    before = table_contents(db, api.package)
    rid = "leak-test-1"
    r = await call(api, json=body(), headers={**api.token("applicant"), "X-Request-ID": rid})
    assert_generic_500(r, rid)
    assert_clean_log(logged(caplog, log_watch, since), rid)
    failure = next(t for t in log_watch.texts[since:] if rid in t)
    assert "RuntimeError" in failure and "runtime/submission.py" in failure  # where, not what
    assert "/api/matters/{matter}/applications" in failure  # the route, not the path
    assert table_contents(db, api.package) == before


@pytest.fixture
def failing_insert(api: Api, db: Engine) -> Iterator[Table]:
    """A trigger that makes the database refuse the form's row — on PostgreSQL with the
    row's values in the error message, as constraint errors do."""
    table = next(
        t
        for t in all_tables(api.package).sorted_tables
        if t.name.startswith("form_unemployment_registration")
    )
    if db.dialect.name == "sqlite":
        create = [
            f'CREATE TRIGGER govstd_block BEFORE INSERT ON "{table.name}" '
            "BEGIN SELECT RAISE(ABORT, 'blocked by test'); END"
        ]
        drop = ["DROP TRIGGER IF EXISTS govstd_block"]
    else:
        create = [
            "CREATE FUNCTION govstd_block() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'blocked: %', row_to_json(NEW); END $$ LANGUAGE plpgsql",
            f'CREATE TRIGGER govstd_block BEFORE INSERT ON "{table.name}" '
            "FOR EACH ROW EXECUTE FUNCTION govstd_block()",
        ]
        drop = [
            f'DROP TRIGGER IF EXISTS govstd_block ON "{table.name}"',
            "DROP FUNCTION IF EXISTS govstd_block()",
        ]
    with db.begin() as conn:
        for statement in create:
            conn.execute(text(statement))
    try:
        yield table
    finally:
        with db.begin() as conn:
            for statement in drop:
                conn.execute(text(statement))


async def test_database_failure_is_generic(
    api: Api,
    db: Engine,
    failing_insert: Table,
    caplog: pytest.LogCaptureFixture,
    log_watch: LogWatch,
) -> None:
    since = len(log_watch.texts)
    before = table_contents(db, api.package)
    rid = "leak-test-2"
    h = {**api.token("applicant"), "X-Request-ID": rid}
    r = await call(api, json=body(), headers=h)
    assert_generic_500(r, rid)
    log = logged(caplog, log_watch, since)
    assert_clean_log(log, rid)
    assert "sqlalchemy.exc." in log  # the kind of failure is there for the operator
    assert table_contents(db, api.package) == before  # the transaction rolled back whole


async def test_sql_logging_shows_no_values(
    api: Api, caplog: pytest.LogCaptureFixture, log_watch: LogWatch
) -> None:
    """With SQLAlchemy's statement log on, statements are logged but never their values."""
    since = len(log_watch.texts)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    r = await api.post(SUBMIT, json=body(), headers=api.token("applicant"))
    assert r.status_code == 201, r.text
    log = logged(caplog, log_watch, since)
    assert "INSERT INTO" in log  # the statement log was on
    assert ID_A not in log and EMPLOYER not in log and not ID_NUMBER.search(log)


def test_log_watch_sees_id_numbers() -> None:
    """The folder's watch finds an ID number in a message and in a traceback."""
    watch = LogWatch()
    logger = logging.getLogger("govstd.security.selftest")
    logger.propagate = False
    logger.addHandler(watch)
    try:
        logger.error("plain %s", "11010519491231002X")
        try:
            raise ValueError(ID_A)
        except ValueError:
            logger.exception("with a traceback")
    finally:
        logger.removeHandler(watch)
    assert [bool(ID_NUMBER.search(t)) for t in watch.texts] == [True, True]
    assert not ID_NUMBER.search("request 1b2acb4050744247b3c444d0d8dd2d6d 13812345678")


@pytest.mark.parametrize(
    "text",
    [
        "身份证号440305199003070014重复",  # glued to Chinese on both sides
        "号11010519491231002X。",
        "证件:440305199003070014",
        "id=440305199003070014&x",
        "440305199003070014",
        "身份证号11010519491231002x",
        "申请人（440305199003070014）",
    ],
)
def test_log_watch_sees_id_numbers_glued_to_text(text: str) -> None:
    assert ID_NUMBER.search(text), text


@pytest.mark.parametrize(
    "text",
    [
        "4403051990030700145",  # 19 digits: not an ID number
        "94403051990030700145",
        "request 1b2acb4050744247b3c444d0d8dd2d6d took 13 ms",
        "at 1764979200123456 µs",
        "mobile 13812345678, order 20260302000123",
    ],
)
def test_log_watch_ignores_other_numbers(text: str) -> None:
    assert not ID_NUMBER.search(text), text


def test_a_database_error_psycopg_drops_is_logged_without_its_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """psycopg logs an error it ignores while ending a pipeline (seen in CI when a filing's
    insert failed on PostgreSQL: the database's message quoted the row, ID number and
    all); runtime.db keeps only the error's class in psycopg's records."""
    import runtime.db  # noqa: F401  (installs the filter)

    error = RuntimeError(f'blocked: {{"citizen_id_number": "{ID_A}"}}')
    with caplog.at_level(logging.WARNING, logger="psycopg"):
        logging.getLogger("psycopg").warning("error ignored terminating %r: %s", "pipe", error)
    assert "error ignored terminating 'pipe': RuntimeError" in caplog.text
    assert ID_A not in caplog.text
