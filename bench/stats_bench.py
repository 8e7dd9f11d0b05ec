"""Supervisor statistics at scale: average handling time in SQL vs row by row in Python.

``GET /api/staff/stats`` reports the average handling time of finished cases.
This benchmark fills an SQLite database migrated for the bundled 南山区 package
with N finished applications and times the query the runtime makes
(``runtime.routes.staff._handling_days``, one aggregate) against the baseline of
reading every finished case into Python and averaging there (what the runtime
did before), checking that both give the same figure.

    python bench/stats_bench.py [--cases 300000]
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

from sqlalchemy import MetaData, Table, create_engine, func, insert, select  # noqa: E402

from runtime import migrate  # noqa: E402
from runtime.records import aware  # noqa: E402
from runtime.routes.staff import _handling_days  # noqa: E402


def fill(url: str, cases: int) -> Table:
    engine = create_engine(url)
    metadata = MetaData()
    metadata.reflect(engine)
    apps = metadata.tables["applications"]
    start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    rows: list[dict[str, Any]] = []
    for i in range(cases):
        created = start - dt.timedelta(days=i % 300, hours=i % 24)
        rows.append(
            {
                "id": str(uuid.uuid4()),
                "number": f"440305-20260301-{i:07d}",
                "matter": "ibr",
                "form": "ibr_form",
                "region": "nanshan",
                "applicant_sub": f"citizen-{i}",
                "status": "done",
                "created_at": created,
                "updated_at": created,
                "finished_at": created + dt.timedelta(days=3, hours=i % 7),
                "paused_days": 0,
                "standards_hash": "bench",
                "row_version": 1,
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(apps), rows)
    engine.dispose()
    return apps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="govstd-statsbench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'stats.db'}"
        migrate.upgrade(ROOT / "generated" / "nanshan", url)
        apps = fill(url, args.cases)
        engine = create_engine(url)
        where = (apps.c.region == "nanshan", apps.c.finished_at.is_not(None))
        baseline, in_sql = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            with engine.connect() as conn:
                spans = conn.execute(select(apps.c.created_at, apps.c.finished_at).where(*where))
                days = [(aware(f) - aware(s)).total_seconds() / 86400 for s, f in spans]  # type: ignore[operator]
            baseline.append((time.perf_counter() - t, round(sum(days) / len(days), 2)))
            t = time.perf_counter()
            with engine.connect() as conn:
                _, average = conn.execute(
                    select(func.count(), func.avg(_handling_days("sqlite", apps))).where(*where)
                ).one()
            in_sql.append((time.perf_counter() - t, round(float(average), 2)))
        engine.dispose()
    base, new = min(baseline), min(in_sql)
    assert base[1] == new[1], (base, new)
    print(
        f"{args.cases} finished cases: average {new[1]} days either way; "
        f"rows to Python {base[0]:.3f} s, one SQL aggregate {new[0]:.3f} s "
        f"(best of {args.repeat}; {base[0] / new[0]:.1f}x faster)"
    )


if __name__ == "__main__":
    main()
