"""PostgreSQL scale-out: submissions/s with 1 and 2 workers, against SQLite with 1, in one run.

    /work/bin/heavy .venv/bin/python bench/pg_scale_bench.py [--duration 24] [--connections 16]
    … --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres   # the default, or
                                                                   # GOVSTD_TEST_POSTGRES_URL

It generates the nanshan package, creates two fresh PostgreSQL databases (dropped at
the end) and one SQLite file, migrates each with ``govstd migrate`` and starts three
``govstd serve`` side by side: PostgreSQL with 1 worker, PostgreSQL with 2 workers,
SQLite (WAL) with 1 worker. wrk drives ``POST /api/matters/ibr/applications`` (one
valid body, one applicant token, as bench/load_bench.py does) at a fixed number of
connections; each figure is taken in slices that rotate between the three servers
(A B C, C B A, …; 24 s a figure in 12 slices), so a shared machine whose load drifts
weighs on all alike; a short warm-up is not counted. Only 2xx answers count. At the
end every database must hold as many distinct numbers as applications.

It prints submissions/s and p99 of each, and the ratios PostgreSQL 2 workers / 1
worker (target ≥ 1.3) and PostgreSQL 2 workers / SQLite 1 worker (target ≥ 1.0);
it exits 1 when a ratio is below its target (``--no-check``: print only).
PostgreSQL runs on the same machine and shares its cores with the servers and wrk.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import Table, create_engine, func, select, text
from sqlalchemy.engine import URL, make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load_bench import (
    SECRET,
    Result,
    Server,
    endpoint,
    generate_nanshan,
    govstd,
    load_average,
    merge,
    run,
    seed,
    serving,
    wrk,
)
from runtime.auth import issue_token
from runtime.package import load_package
from runtime.settings import Settings

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGET_2W_OVER_1W = 1.3
TARGET_2W_OVER_SQLITE = 1.0
CONFIGS = [("postgresql", 1), ("postgresql", 2), ("sqlite", 1)]


def label(kind: str, workers: int) -> str:
    return f"{'PostgreSQL' if kind == 'postgresql' else 'SQLite'} {workers}w"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=os.environ.get("GOVSTD_TEST_POSTGRES_URL", DEFAULT_PG))
    parser.add_argument("--duration", type=float, default=24.0, help="seconds per figure")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up, uncounted")
    parser.add_argument("--rounds", type=int, default=12, help="rotating slices per figure")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-check", action="store_true", help="do not fail below target")
    args = parser.parse_args()
    if not (1 <= args.duration <= 120 and 0 <= args.warmup <= 30 and 1 <= args.rounds <= 20):
        sys.exit("--duration 1..120, --warmup 0..30, --rounds 1..20")
    if args.duration / args.rounds < 1:
        sys.exit("each slice (--duration / --rounds) must last at least 1 s")

    admin_url = make_url(args.pg)
    if admin_url.drivername == "postgresql":
        admin_url = admin_url.set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    token = issue_token(
        Settings(secret=SECRET, secret_is_dev=False), role="applicant", sub="bench", ttl=3600
    )
    created: list[str] = []
    results: dict[tuple[str, int], Result] = {}
    urls: dict[tuple[str, int], str] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="govstd-pgscale-") as tmp, ExitStack() as stack:
            work = Path(tmp)
            app_dir = work / "nanshan"
            generate_nanshan(app_dir)
            print(
                f"pg scale bench: wrk, {args.connections} connections, submit, "
                f"{args.duration:g} s per figure in {args.rounds} rotating slices "
                f"(+{args.warmup:g} s warm-up), {os.cpu_count()} CPUs (shared with "
                f"PostgreSQL), load average {load_average()}",
                flush=True,
            )
            servers: dict[tuple[str, int], Server] = {}
            for kind, workers in CONFIGS:
                folder = work / f"{kind}-{workers}"
                folder.mkdir()
                if kind == "postgresql":
                    name = f"pgscale_bench_{uuid.uuid4().hex[:10]}"
                    with admin.connect() as conn:
                        conn.execute(text(f'CREATE DATABASE "{name}"'))
                    created.append(name)
                    url = _render(admin_url.set(database=name))
                else:
                    url = f"sqlite:///{folder / 'bench.db'}"
                run([*govstd(), "migrate", "--app", str(app_dir), "--db", url])
                server = Server("generated", workers, app_dir, url, folder)
                servers[(kind, workers)] = stack.enter_context(serving(server))
                urls[(kind, workers)] = url
                seed(server, token)
            ep = endpoint(token, "-", "submit")
            for server in servers.values():
                if args.warmup > 0:
                    wrk(server.url, ep, args.warmup, args.connections, server.folder)
            slices: dict[tuple[str, int], list[Result]] = {k: [] for k in servers}
            order = list(servers)
            for i in range(args.rounds):  # A B C, C B A, …: drift hits all alike
                for key in order if i % 2 == 0 else order[::-1]:
                    s = servers[key]
                    slices[key].append(
                        wrk(s.url, ep, args.duration / args.rounds, args.connections, s.folder)
                    )
            for key, parts in slices.items():
                results[key] = merge(parts)
            for key, server in servers.items():
                if "Traceback" in server.logs():
                    print(f"  warning: a traceback in the {label(*key)} server's log")
            print(f"load average at the end: {load_average()}")
            pkg = load_package(app_dir)
            for key, url in urls.items():
                _check_numbers(label(*key), url, pkg.tables.applications)
    finally:
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    print()
    print(f"{'server':15} {'2xx/s':>8} {'p99':>9} {'non-2xx':>8} {'socket errors':>14}")
    rate = {}
    for key, r in results.items():
        rate[key] = r.rps  # 2xx answers only
        print(
            f"{label(*key):15} {rate[key]:8.0f} {r.p99_ms:7.1f}ms {r.non_2xx:8} "
            f"{r.socket_errors:14}"
        )
    pg1, pg2, lite = (rate[k] for k in CONFIGS)
    ratios = [
        ("PostgreSQL 2w / 1w", pg2 / pg1 if pg1 else 0.0, TARGET_2W_OVER_1W),
        ("PostgreSQL 2w / SQLite 1w", pg2 / lite if lite else 0.0, TARGET_2W_OVER_SQLITE),
    ]
    print()
    failed = False
    for name, value, target in ratios:
        verdict = "ok" if value >= target else "BELOW TARGET"
        failed |= value < target
        print(f"{name:27} {value:5.2f}  (target ≥ {target:.1f}) {verdict}")
    if failed and not args.no_check:
        sys.exit(1)


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _check_numbers(name: str, url: str, apps: Table) -> None:
    """Every application of the run has its own number."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows, distinct = conn.execute(
                select(func.count(), func.count(apps.c.number.distinct()))
            ).one()
    finally:
        engine.dispose()
    print(f"  {name}: {rows} applications, {distinct} distinct numbers")
    if rows != distinct:
        sys.exit(f"{name}: {rows - distinct} numbers given twice")


if __name__ == "__main__":
    main()
