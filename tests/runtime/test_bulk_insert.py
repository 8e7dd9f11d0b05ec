"""A group's rows inserted at once (runtime/bulk_insert.py) are stored as SQLAlchemy's
own insert stores them, on SQLite and PostgreSQL: every column type of the core and
form tables, NULLs (a column NULL in every row too), defaults, and the rows' order."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    insert,
    select,
)

from runtime.bulk_insert import insert_rows
from runtime.db import make_engine

META = MetaData()
KINDS = Table(
    "bulk_kinds",
    META,
    Column("id", Integer, primary_key=True),
    Column("code", String(36), nullable=False),
    Column("note", Text),
    Column("count", BigInteger),
    Column("amount", Numeric(12, 2)),
    Column("flag", Boolean),
    Column("day", Date),
    Column("at", DateTime(timezone=True)),
    Column("items", JSON),
    Column("version", Integer, nullable=False, default=1, server_default="1"),
)
AT = datetime(2026, 12, 6, 10, 30, 15, 123456, tzinfo=UTC)
ROWS: list[dict[str, Any]] = [
    {
        "code": f"c{i}",
        "note": None if i % 2 else f"第{i}条 'quoted' \"and\" {{braces}}, commas",
        "count": 2**40 + i,
        "amount": Decimal("1234.50") + i,
        "flag": bool(i % 2),
        "day": date(2026, 12, i + 1),
        "at": AT,
        "items": None if i == 3 else ["01", f"第{i}项"] if i % 2 else {"code": [i], "note": "x"},
    }
    for i in range(5)
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'b.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    META.drop_all(engine)
    META.create_all(engine)
    yield engine
    META.drop_all(engine)
    engine.dispose()


def _stored(engine: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(KINDS).order_by(KINDS.c.id)).mappings().all()
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]


def _normal(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """SQLite gives a naive datetime and a float back for what PostgreSQL keeps typed."""
    out = []
    for row in rows:
        row = dict(row)
        if isinstance(row["at"], datetime) and row["at"].tzinfo is None:
            row["at"] = row["at"].replace(tzinfo=UTC)
        row["amount"] = Decimal(str(row["amount"])).quantize(Decimal("0.01"))
        out.append(row)
    return out


def test_rows_are_stored_as_sqlalchemy_stores_them(engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(insert(KINDS), ROWS)
    expected = _stored(engine)
    with engine.begin() as conn:
        conn.execute(KINDS.delete())
        insert_rows(conn, KINDS, ROWS)
    assert _normal(_stored(engine)) == _normal(expected)
    assert [r["code"] for r in _stored(engine)] == [f"c{i}" for i in range(5)]  # in order
    assert {r["version"] for r in _stored(engine)} == {1}  # the column's default


def test_a_column_null_in_every_row_and_a_single_row(engine: Any) -> None:
    rows = [{"code": "a", "note": None, "flag": None}, {"code": "b", "note": None, "flag": None}]
    with engine.begin() as conn:
        insert_rows(conn, KINDS, rows)
        insert_rows(conn, KINDS, [{"code": "c", "note": "only one", "flag": True}])
    stored = _stored(engine)
    assert [(r["code"], r["note"], r["flag"]) for r in stored] == [
        ("a", None, None),
        ("b", None, None),
        ("c", "only one", True),
    ]
