"""Event delivery throughput (issue 15 item 5), with hand-written baselines side by side.

A receiver runs in its own process on 127.0.0.1 (a threading HTTP server answering 204).
N events of A applications (``events.emit``, as filings write them) are delivered by:

1. **govstd**: the webhook courier (runtime/webhooks.py): lease, schedule, applications
   side by side (each in order), signed POSTs, acknowledgements recorded per round;
2. **baseline, naive outbox**: the loop one writes by hand — read the oldest undelivered
   event, POST it signed, mark it delivered in its own transaction, next; in order
   overall, so in order per application too;
3. **ceiling**: the same signed POSTs in one loop with no database at all.

Also the cost of writing the event: N one-row transactions (an audit entry, as a filing's
smallest write) with and without ``events.emit`` in them.

    python bench/event_bench.py [--events 2000] [--applications 200] [--db URL]

Run it under /work/bin/heavy; it prints events/s and the ratios.
"""

from __future__ import annotations

import argparse
import base64
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import delete, insert, select, update  # noqa: E402

from generator.pipeline import generate  # noqa: E402
from runtime import audit, events, migrate, webhooks  # noqa: E402
from runtime.context import Context  # noqa: E402
from runtime.crypto import Cipher, dev_key  # noqa: E402
from runtime.db import make_engine, read, write  # noqa: E402
from runtime.package import load_package  # noqa: E402
from runtime.settings import Settings  # noqa: E402

KEY = b"bench-webhook-key-0123456789abcdef"
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
RECEIVER = textwrap.dedent(
    """
    import sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """
)


def write_events(c: Context, count: int, applications: int) -> None:
    apps = [str(uuid.uuid4()) for _ in range(applications)]
    t = c.package.tables
    for start in range(0, count, 500):
        with write(c.engine) as conn:
            for i in range(start, min(count, start + 500)):
                app = apps[i % applications]
                data = {"application": app, "number": f"N{i}", "matter": "ibr", "region": "nanshan"}
                events.emit(
                    conn,
                    t,
                    events.SUBMITTED,
                    region="nanshan",
                    at=NOW,
                    data=data,
                    application_id=app,
                )


def govstd(c: Context, url: str, count: int) -> float:
    webhooks.register(c)
    r = c.package.tables.event_receivers
    with write(c.engine) as conn:  # deliver what is there
        conn.execute(update(r).values(cursor=0, delivered=0))
    courier = webhooks.Courier(c, url, "bench")
    started = time.perf_counter()
    while True:
        courier.round()
        with read(c.engine) as conn:
            where = r.c.receiver == courier.receiver
            done = conn.execute(select(r.c.delivered).where(where)).scalar_one()
        if done >= count:
            courier.close()
            return count / (time.perf_counter() - started)


def baseline(c: Context, url: str, count: int) -> float:
    """The naive outbox: oldest undelivered first, one POST, one transaction, next."""
    t = c.package.tables
    d = t.event_deliveries
    receiver = "baseline"
    with write(c.engine) as conn:
        ids = conn.execute(select(t.events.c.id).order_by(t.events.c.id)).scalars().all()
        conn.execute(
            insert(d),
            [{"receiver": receiver, "event": i, "attempts": 0, "next_at": NOW} for i in ids],
        )
    started = time.perf_counter()
    with httpx.Client(timeout=10) as client:
        while True:
            with read(c.engine) as conn:
                row = conn.execute(
                    select(d.c.id, t.events)
                    .join(t.events, t.events.c.id == d.c.event)
                    .where(d.c.receiver == receiver)
                    .order_by(d.c.event)
                    .limit(1)
                ).first()
            if row is None:
                break
            body = events.body(row)
            stamp = int(time.time())
            client.post(
                url,
                content=body,
                headers={
                    "webhook-id": row.event_id,
                    "webhook-timestamp": str(stamp),
                    "webhook-signature": webhooks.sign(KEY, row.event_id, stamp, body),
                },
            ).raise_for_status()
            with write(c.engine) as conn:
                conn.execute(delete(d).where(d.c.id == row.id))
    return count / (time.perf_counter() - started)


def ceiling(c: Context, url: str, count: int) -> float:
    with read(c.engine) as conn:
        rows = conn.execute(
            select(c.package.tables.events).order_by(c.package.tables.events.c.id)
        ).all()
    bodies = [(r.event_id, events.body(r)) for r in rows[:count]]
    started = time.perf_counter()
    with httpx.Client(timeout=10) as client:
        for event_id, body in bodies:
            stamp = int(time.time())
            sig = webhooks.sign(KEY, event_id, stamp, body)
            headers = {
                "webhook-id": event_id,
                "webhook-timestamp": str(stamp),
                "webhook-signature": sig,
            }
            client.post(url, content=body, headers=headers).raise_for_status()
    return len(bodies) / (time.perf_counter() - started)


def write_cost(c: Context, count: int) -> tuple[float, float]:
    """Transactions per second: one audit row; one audit row and its event. The two kinds
    alternate in rounds of 50, so a load change on the machine touches both alike."""
    t = c.package.tables
    spent = [0.0, 0.0]
    done = [0, 0]
    for round_ in range(2 * (count // 50)):
        with_event = round_ % 2 == 1
        started = time.perf_counter()
        for i in range(50):
            with write(c.engine) as conn:
                audit.record(
                    conn, t.audit_log, at=NOW, action="bench", identity=None, request_id=str(i)
                )
                if with_event:
                    events.emit(conn, t, events.SUBMITTED, region="nanshan", at=NOW, data={"n": i})
        spent[with_event] += time.perf_counter() - started
        done[with_event] += 50
    return done[0] / spent[0], done[1] / spent[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--applications", type=int, default=200)
    parser.add_argument("--db", default=None, help="database URL (default: a new SQLite file)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="event-bench-"))
    result, diagnostics = generate([ROOT / "standards"], "nanshan", folder / "nanshan")
    assert result is not None, diagnostics
    url = args.db or f"sqlite:///{folder / 'bench.db'}"
    migrate.upgrade(folder / "nanshan", url)
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        assert receiver.stdout is not None
        hook = f"http://127.0.0.1:{receiver.stdout.readline().strip()}/hook"
        settings = Settings(
            webhook_urls=(hook,),
            webhook_key=KEY,
            webhook_timeout=10.0,
            env={"GOVSTD_DATA_KEY": base64.urlsafe_b64encode(dev_key()).decode()},
        )
        c = Context(load_package(folder / "nanshan"), make_engine(url), settings, Cipher(dev_key()))
        write_events(c, args.events, args.applications)
        ours = govstd(c, hook, args.events)
        naive = baseline(c, hook, args.events)
        top = ceiling(c, hook, args.events)
        plain, with_event = write_cost(c, 500)
        load = os.getloadavg()
        kind = c.engine.dialect.name
        print(f"event delivery, {args.events} events of {args.applications} applications, {kind}")
        print(f"  govstd courier:          {ours:8.0f} events/s")
        print(
            f"  baseline (naive outbox): {naive:8.0f} events/s  govstd/baseline {ours / naive:.2f}"
        )
        print(f"  ceiling (POSTs, no DB):  {top:8.0f} events/s  govstd/ceiling  {ours / top:.2f}")
        print(
            f"event write: {plain:.0f} tx/s without, {with_event:.0f} tx/s with the event "
            f"({with_event / plain:.2f}×)"
        )
        print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        c.engine.dispose()
    finally:
        receiver.kill()
        receiver.wait()


if __name__ == "__main__":
    main()
