"""Hostile-input tests: the runtime's fixtures (generated nanshan package, a fresh
database per test, tokens) plus a watch on everything logged during the session.

Every log record emitted while a test of this folder runs is formatted (message and
any traceback) and searched for an 18-digit citizen ID number; a test whose logs
hold one fails. Figures the tests measure are printed and repeated in the terminal
summary, so they show in the CI log.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, select

from runtime.package import Package
from tests.helpers import Figures, all_tables
from tests.runtime.conftest import (  # noqa: F401  (fixtures shared with tests/runtime)
    anyio_backend,
    api,
    clock,
    db_url,
    package,
    package_dir,
    postgres_url,
    settings,
)

# An 18-character citizen ID number (GB 11643: division, birth date, serial, check digit)
# that no other digit touches. Digit look-arounds, not ``\b``: in Python's Unicode
# patterns a Chinese character is a word character, so ``\b`` finds no boundary in
# ``身份证号440305199003070014重复``. The birth date keeps digit runs of request ids
# (hex) and timestamps from counting.
ID_NUMBER = re.compile(
    r"(?<![0-9])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
    r"[0-9]{3}[0-9Xx](?![0-9])"
)
FIGURES = Figures("govstd security figures")
report = FIGURES.report


class LogWatch(logging.Handler):
    """Keeps every record's formatted text (message and traceback) of the session."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.texts: list[str] = []
        self.formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.texts.append(self.format(record))
        except Exception:  # a record that cannot be formatted is still evidence
            self.texts.append(f"{record.name} {record.msg!r} {record.args!r}")


_WATCH = LogWatch()


@pytest.fixture(scope="session")
def log_watch() -> Iterator[LogWatch]:
    root = logging.getLogger()
    app_logger = logging.getLogger("govstd")
    previous = app_logger.level
    app_logger.setLevel(logging.DEBUG)
    root.addHandler(_WATCH)
    yield _WATCH
    root.removeHandler(_WATCH)
    app_logger.setLevel(previous)


@pytest.fixture(autouse=True)
def no_id_numbers_in_logs(log_watch: LogWatch) -> Iterator[None]:
    """Fails the test if anything it logged holds an 18-digit ID number."""
    start = len(log_watch.texts)
    yield
    leaked = [t for t in log_watch.texts[start:] if ID_NUMBER.search(t)]
    if leaked:
        pytest.fail(f"an ID number was logged: {leaked[0][:300]!r}", pytrace=False)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _WATCH.texts:
        FIGURES.lines.append(
            f"logs watched: {len(_WATCH.texts)} records, "
            f"{sum(bool(ID_NUMBER.search(t)) for t in _WATCH.texts)} with an ID number"
        )
    FIGURES.summary(terminalreporter)


# --- database and storage inspection ---------------------------------------------------


def table_contents(engine: Engine, pkg: Package) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the package, in primary-key order."""
    with engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
            for t in all_tables(pkg).sorted_tables
        }


def files_under(folder: Path) -> list[Path]:
    """Every file below ``folder`` (hidden temporary files included)."""
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture
def db(db_url: str) -> Iterator[Engine]:  # noqa: F811
    """A separate engine on the test's database, for counting rows."""
    engine = create_engine(db_url)
    yield engine
    engine.dispose()
