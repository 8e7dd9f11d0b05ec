"""The workbench's queue at scale: one page of the queue and the tabs' counts.

Fills an SQLite database migrated for the bundled 南山区 package with N open cases
(half 待受理, half accepted over the last 60 days, so many deadlines fall in the due-soon
window the clock must decide in Python) and M closed ones, then
times what ``GET /staff`` runs: ``staff._list`` (a page of 20, the most urgent first),
the same for the 已超期 tab, and ``staff.queue_counts`` (every tab's count).

    python bench/workbench_bench.py [--open 20000] [--closed 100000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert  # noqa: E402

from runtime import migrate  # noqa: E402
from runtime.auth import Identity  # noqa: E402
from runtime.context import Context  # noqa: E402
from runtime.package import load_package  # noqa: E402
from runtime.records import clock_of  # noqa: E402
from runtime.routes import staff  # noqa: E402
from runtime.settings import Settings  # noqa: E402

NOW = dt.datetime(2026, 6, 15, 2, 0, tzinfo=dt.UTC)  # a Monday, 10:00 in China


def fill(url: str, package: Any, open_cases: int, closed: int) -> None:
    apps = package.tables.applications
    rows: list[dict[str, Any]] = []
    for i in range(open_cases + closed):
        created = NOW - dt.timedelta(days=1 + i % 40, hours=i % 24)
        accepted = i % 2 == 1 or i >= open_cases
        row: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "number": f"440305-20260601-{i:07d}",
            "matter": "food_business_license",
            "form": "food_business_license_form",
            "region": "nanshan",
            "applicant_sub": f"citizen-{i}",
            "status": "accepted" if accepted else "submitted",
            "created_at": created,
            "updated_at": created,
            "clock_started_at": NOW - dt.timedelta(days=i % 60) if accepted else None,
            "paused_at": None,
            "finished_at": None,
            "paused_days": 0,
            "standards_hash": "bench",
            "row_version": 1,
        }
        if i >= open_cases:
            row.update(status="approved", finished_at=created + dt.timedelta(days=3))
        row["deadline"] = clock_of(package, row).deadline  # as the runtime stores it
        rows.append(row)
    engine = create_engine(url)
    with engine.begin() as conn:
        for start in range(0, len(rows), 10_000):
            conn.execute(insert(apps), rows[start : start + 10_000])
    engine.dispose()


def best(repeat: int, call: Any) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - t)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open", type=int, default=20_000)
    parser.add_argument("--closed", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    app_dir = ROOT / "generated" / "nanshan"
    package = load_package(app_dir)
    officer = Identity(sub="officer-bench", role="officer", region="nanshan")
    with tempfile.TemporaryDirectory(prefix="govstd-workbench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'queue.db'}"
        migrate.upgrade(app_dir, url)
        fill(url, package, args.open, args.closed)
        settings = Settings(secret="bench-" + "x" * 32, upload_dir=Path(tmp), now=lambda: NOW)
        c = Context(package, create_engine(url), settings, None)  # type: ignore[arg-type]
        base: dict[str, Any] = {"status": None, "matter": None, "region": None, "sort": "deadline"}
        page = {**base, "stage": "open", "overdue": False, "due_soon": False}
        overdue = {**base, "stage": None, "overdue": True, "due_soon": False}
        t_page, listing = best(args.repeat, lambda: staff._list(c, officer, page, 1, 20, "zh", "b"))
        t_over, late = best(args.repeat, lambda: staff._list(c, officer, overdue, 1, 20, "zh", "b"))
        t_counts, counts = best(args.repeat, lambda: staff.queue_counts(c, officer, page))
        c.engine.dispose()
    print(
        f"{args.open} open + {args.closed} closed cases: 全部待办 page {t_page * 1000:.0f} ms "
        f"({listing['total']} cases), 已超期 page {t_over * 1000:.0f} ms ({late['total']}), "
        f"tab counts {t_counts * 1000:.0f} ms {counts} (best of {args.repeat})"
    )


if __name__ == "__main__":
    main()
