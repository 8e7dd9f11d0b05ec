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
- PostgreSQL: one statement, ``INSERT … SELECT * FROM unnest(%s::type[], …)``, a
  column per array: one result for the whole group, and one statement text however
  many rows (psycopg prepares it once). An array keeps its elements' order, and
  ``unnest`` of several arrays zips them row by row.

A table with a column default that is not a plain value (a function, a SQL
expression) is left to SQLAlchemy, which knows how to compute it; the core and form
tables have none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Dialect, Table, insert


@dataclass(frozen=True)
class _Plan:
    sql: str
    given: tuple[tuple[str, Callable[[Any], Any] | None], ...]  # column, bind processor
    defaults: tuple[Any, ...]  # values of the defaulted columns, after the given ones


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, at least one) into ``table``."""
    columns = tuple(rows[0])
    plan = _plan(table, columns, conn.dialect)
    if plan is None:
        conn.execute(insert(table), list(rows))
        return
    given = plan.given
    values = [
        tuple(row[c] if p is None else p(row[c]) for c, p in given) + plan.defaults for row in rows
    ]
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(plan.sql, tuple(map(list, zip(*values, strict=True))))
    else:
        conn.exec_driver_sql(plan.sql, values)


@lru_cache(maxsize=1024)
def _plan(table: Table, columns: tuple[str, ...], dialect: Dialect) -> _Plan | None:
    given = [table.c[name] for name in columns]
    defaulted = [c for c in table.columns if c.name not in columns and c.default is not None]
    if any(not getattr(c.default, "is_scalar", False) for c in defaulted):
        return None
    quote = dialect.identifier_preparer.quote
    every = given + defaulted
    names = ", ".join(quote(c.name) for c in every)
    if dialect.name == "postgresql":
        arrays = ", ".join(f"%s::{c.type.compile(dialect=dialect)}[]" for c in every)
        source = f"SELECT * FROM unnest({arrays})"
    else:
        source = f"VALUES ({', '.join('?' for _ in every)})"
    return _Plan(
        sql=f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) {source}",
        given=tuple((c.name, c.type.dialect_impl(dialect).bind_processor(dialect)) for c in given),
        defaults=tuple(
            _processed(c.default.arg, c.type, dialect)  # type: ignore[union-attr]
            for c in defaulted
        ),
    )


def _processed(value: Any, type_: Any, dialect: Dialect) -> Any:
    processor = type_.dialect_impl(dialect).bind_processor(dialect)
    return value if processor is None else processor(value)
