"""Rows of one table inserted together: a group commit's inserts (runtime/db.py ``_Deferred``).

``conn.execute(insert(table), rows)`` does per row what a group of filings repeats a
hundred times over: SQLAlchemy builds and processes each row's parameters, and on
PostgreSQL psycopg sends each row as a statement of its own in its pipeline and
reads its result back in Python (issue 13's profiles: about a fifth of a worker's
time in a group). :func:`insert_rows` plans a table's insert once per set of columns
(:func:`_plan`: the SQL, each column's bind processor, the scalar defaults of the
columns not given) and sends all the rows at once:

- SQLite: ``INSERT … VALUES (?, …)`` through the driver's ``executemany`` (one C
  loop), with the values processed as SQLAlchemy would (a datetime as SQLite's text,
  a boolean as 0/1).
- PostgreSQL: one statement, ``INSERT … SELECT … FROM json_populate_recordset(NULL::t,
  %s::json)``, the rows as one JSON text (orjson): one parameter and one result for the
  whole group, one statement text however many rows (psycopg prepares it once), each
  value read by PostgreSQL's input function of its column's type, and the rows in
  their order. Arrays (``unnest(%s::type[], …)``, a parameter a column) were measured
  first: psycopg builds an array parameter element by element in Python, 11 % of a
  worker's time under load.

A table with a column default that is not a plain value (a function, a SQL
expression) is left to SQLAlchemy, which knows how to compute it; the core and form
tables have none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Dialect, Table, insert


@dataclass(frozen=True)
class _Plan:
    sql: str
    given: tuple[tuple[str, Callable[[Any], Any] | None], ...]  # column, bind processor
    defaults: dict[str, Any]  # the defaulted columns' values


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, at least one) into ``table``."""
    plan = _plan(table, tuple(rows[0]), conn.dialect)
    if plan is None:
        conn.execute(insert(table), list(rows))
        return
    given = plan.given
    if conn.dialect.name == "postgresql":
        records = [
            {c: row[c] if p is None else p(row[c]) for c, p in given} | plan.defaults
            for row in rows
        ]
        conn.exec_driver_sql(plan.sql, (orjson.dumps(records, default=str).decode(),))
        return
    defaults = tuple(plan.defaults.values())
    values = [
        tuple(row[c] if p is None else p(row[c]) for c, p in given) + defaults for row in rows
    ]
    conn.exec_driver_sql(plan.sql, values)


@lru_cache(maxsize=1024)
def _plan(table: Table, columns: tuple[str, ...], dialect: Dialect) -> _Plan | None:
    """``None`` for what SQLAlchemy must do: a column default that is not a plain value,
    a column whose key is not its name."""
    given = [table.c[key] for key in columns]
    defaulted = [c for c in table.columns if c.key not in columns and c.default is not None]
    if any(not getattr(c.default, "is_scalar", False) for c in defaulted) or any(
        c.key != c.name for c in given + defaulted
    ):
        return None
    quote = dialect.identifier_preparer.quote
    name = dialect.identifier_preparer.format_table(table)
    names = ", ".join(quote(c.name) for c in given + defaulted)
    if dialect.name == "postgresql":
        source = f"SELECT {names} FROM json_populate_recordset(NULL::{name}, %s::json)"
    else:
        source = f"VALUES ({', '.join('?' for _ in given + defaulted)})"
    return _Plan(
        sql=f"INSERT INTO {name} ({names}) {source}",
        given=tuple((str(c.name), _processor(c.type, dialect)) for c in given),
        defaults={
            str(c.name): _processed(c.default.arg, c.type, dialect)  # type: ignore[union-attr]
            for c in defaulted
        },
    )


def _processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """What SQLAlchemy does to a value of ``type_`` before the driver gets it; nothing for
    a JSON column on PostgreSQL, whose value goes into the rows' JSON as it is (its own
    processor would make it a JSON string inside it)."""
    if dialect.name == "postgresql" and isinstance(type_, JSON):
        return None
    processor: Callable[[Any], Any] | None = type_.dialect_impl(dialect).bind_processor(dialect)
    return processor


def _processed(value: Any, type_: Any, dialect: Dialect) -> Any:
    processor = _processor(type_, dialect)
    return value if processor is None else processor(value)
