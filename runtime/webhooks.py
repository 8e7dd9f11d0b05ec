"""Webhook delivery of the event outbox (runtime/events.py): signed, retried, in order per
application, at least once, across restarts and with any number of workers.

Each receiver of ``GOVSTD_WEBHOOK_URLS`` has a row in ``event_receivers``: its ``cursor``
(the last event scheduled for it) and a **lease** (``holder``, ``lease_until``). Every
worker process runs a :class:`Courier` per receiver, in a thread of its own (blocking
database calls and HTTP with a pool of :data:`PARALLEL` threads and connections: httpx's
blocking client sent about twice the events per second of its asyncio client here, where
the CPU is the limit), but only the lease holder delivers;
the others look again each :data:`IDLE_S`, and take over once the lease has run out (a
holder killed with SIGKILL is replaced after at most :func:`lease_seconds`). So two
workers, or two servers on one PostgreSQL database, never send to a receiver in parallel.

A round of the holder, each database step a short transaction of its own (no transaction
is open while it waits for a receiver):

1. renew the lease (or take it), and schedule the events after the cursor, up to
   :func:`runtime.events.settled` (none that a transaction under way may still put
   before them): one ``event_deliveries`` row each (at most :data:`BACKLOG` waiting),
   cursor moved on;
2. read the waiting deliveries, oldest first, and group them by application (an event
   without one is its own group);
3. send each group's events one after another, the groups side by side (at most
   :data:`PARALLEL` at once); a group stops at its first failure (anything but 2xx, a
   timeout, a refused connection) or while its first event waits for its retry time, so
   a later event of an application never goes before an earlier one; no new event is
   started once the round has run for the receiver timeout;
4. delete what was acknowledged (every :data:`FLUSH_S` while the round goes on, so a slow
   answer does not keep the others unrecorded); a failed delivery is tried again after
   ``GOVSTD_WEBHOOK_BACKOFF`` × 2^(attempts − 1) seconds, at most :data:`MAX_BACKOFF_S`.

A worker killed between sending and step 4 leaves the rows: their events are sent again
(at least once — receivers drop repeats by the event ``id``, the ``webhook-id`` header).

Signature (Standard Webhooks, https://www.standardwebhooks.com): each POST carries
``webhook-id`` (the event id), ``webhook-timestamp`` (Unix seconds) and
``webhook-signature: v1,<base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``, the key
being the bytes of ``GOVSTD_WEBHOOK_SECRET`` (``whsec_`` + base64). The body is the
CloudEvent in JSON (``Content-Type: application/cloudevents+json``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
from sqlalchemy import Connection, Row, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from runtime import events
from runtime.context import Context
from runtime.db import read, write

log = logging.getLogger("govstd.runtime")

IDLE_S = 0.5  # how often an idle courier (or one without the lease) looks again
BACKLOG = 2_000  # deliveries waiting per receiver; the cursor keeps the rest
PARALLEL = 8  # applications sent to side by side (threads, connections)
MAX_BACKOFF_S = 600.0
FLUSH_S = 0.1  # how often a round records the acknowledgements so far
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


def receiver_key(url: str) -> str:
    """The receiver's key in the tables: a digest of its address."""
    return hashlib.sha256(url.encode()).hexdigest()[:32]


def lease_seconds(timeout: float) -> float:
    """How long a lease lasts: longer than the longest round (2 × the timeout)."""
    return 3 * timeout + 5


def sign(key: bytes, event_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value (Standard Webhooks, version 1)."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def _utc() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def register(c: Context) -> None:
    """Create the rows of receivers not seen before; a new receiver starts with the events
    written from now on (earlier ones: ``GET /api/staff/events``). Workers starting at
    once may both try: ``ON CONFLICT DO NOTHING``."""
    t = c.package.tables
    dialect = sqlite if c.engine.dialect.name == "sqlite" else postgresql
    last = events.settled(c.engine, t.events)
    with write(c.engine) as conn:
        for url in c.settings.webhook_urls:
            row = {"receiver": receiver_key(url), "url": url, "cursor": last, "delivered": 0}
            conn.execute(dialect.insert(t.event_receivers).on_conflict_do_nothing(), row)


@dataclass(frozen=True)
class Pending:
    delivery: int
    attempts: int
    next_at: datetime
    event: Row[Any]

    @property
    def key(self) -> str:
        return str(self.event.application_id or f"#{self.event.id}")


@dataclass
class Round:
    """What one round did: acknowledged deliveries, failures (id, attempts, error)."""

    delivered: list[int]
    failed: list[tuple[int, int, str]]
    waiting: int = 0  # deliveries left for a later round (retry time, round full)


class Courier:
    """Delivers the events to one receiver while it holds the receiver's lease."""

    def __init__(self, c: Context, url: str, holder: str | None = None) -> None:
        self.c = c
        self.url = url
        self.receiver = receiver_key(url)
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.timeout = c.settings.webhook_timeout
        self.lease = timedelta(seconds=lease_seconds(self.timeout))
        self.client = httpx.Client(
            timeout=self.timeout, limits=httpx.Limits(max_connections=PARALLEL)
        )
        self.pool = ThreadPoolExecutor(PARALLEL, thread_name_prefix="govstd-webhook")

    # --- database steps (blocking: run in a thread) ---------------------------------

    def claim(self) -> bool:
        """Renew or take the lease, and schedule new events; whether this courier holds it."""
        t = self.c.package.tables
        r = t.event_receivers
        now = _utc()
        mine = r.c.receiver == self.receiver
        upto = events.settled(self.c.engine, t.events)  # before: it may wait for writers
        with write(self.c.engine) as conn:
            held = conn.execute(
                update(r)
                .where(
                    mine,
                    (r.c.holder == self.holder) | r.c.holder.is_(None) | (r.c.lease_until < now),
                )
                .values(holder=self.holder, lease_until=now + self.lease)
            ).rowcount
            if held != 1:
                return False
            self._schedule(conn, now, upto)
        return True

    def _schedule(self, conn: Connection, now: datetime, upto: int) -> None:
        t = self.c.package.tables
        r, d, e = t.event_receivers, t.event_deliveries, t.events
        waiting = conn.execute(
            select(func.count()).select_from(d).where(d.c.receiver == self.receiver)
        ).scalar_one()
        room = BACKLOG - int(waiting)
        if room <= 0:
            return
        cursor = conn.execute(select(r.c.cursor).where(r.c.receiver == self.receiver)).scalar_one()
        ids = (
            conn.execute(
                select(e.c.id).where(e.c.id > cursor, e.c.id <= upto).order_by(e.c.id).limit(room)
            )
            .scalars()
            .all()
        )
        if not ids:
            return
        conn.execute(
            insert(d),
            [{"receiver": self.receiver, "event": i, "attempts": 0, "next_at": now} for i in ids],
        )
        conn.execute(update(r).where(r.c.receiver == self.receiver).values(cursor=ids[-1]))

    def pending(self) -> list[Pending]:
        t = self.c.package.tables
        d, e = t.event_deliveries, t.events
        with read(self.c.engine) as conn:
            rows = conn.execute(
                select(d.c.id.label("delivery"), d.c.attempts, d.c.next_at, e)
                .join(e, e.c.id == d.c.event)
                .where(d.c.receiver == self.receiver)
                .order_by(d.c.event)
                .limit(BACKLOG)
            ).all()
        return [Pending(r.delivery, r.attempts, _aware(r.next_at), r) for r in rows]

    def settle(self, delivered: Sequence[int], failed: Sequence[tuple[int, int, str]]) -> None:
        """Delete the acknowledged deliveries; reschedule the failed ones (lease kept)."""
        if not (delivered or failed):
            return
        t = self.c.package.tables
        d, r = t.event_deliveries, t.event_receivers
        now = _utc()
        base = self.c.settings.webhook_backoff
        with write(self.c.engine) as conn:
            if delivered:
                conn.execute(delete(d).where(d.c.id.in_(delivered)))
                conn.execute(
                    update(r)
                    .where(r.c.receiver == self.receiver)
                    .values(delivered=r.c.delivered + len(delivered))
                )
            for delivery, attempts, error in failed:
                wait = min(base * 2 ** (attempts - 1), MAX_BACKOFF_S)
                conn.execute(
                    update(d)
                    .where(d.c.id == delivery)
                    .values(
                        attempts=attempts,
                        next_at=now + timedelta(seconds=wait),
                        last_error=error[:255],
                    )
                )

    def release(self) -> None:
        """Give the lease up (a clean stop), so another worker takes over at once."""
        r = self.c.package.tables.event_receivers
        with write(self.c.engine) as conn:
            conn.execute(
                update(r)
                .where(r.c.receiver == self.receiver, r.c.holder == self.holder)
                .values(holder=None, lease_until=None)
            )

    # --- sending --------------------------------------------------------------------

    def post(self, item: Pending) -> str | None:
        """Send one event; ``None`` when acknowledged (2xx), else what went wrong."""
        payload = events.body(item.event)
        stamp = int(time.time())
        headers = {
            "content-type": CONTENT_TYPE,
            "webhook-id": item.event.event_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(
                self.c.settings.webhook_key, item.event.event_id, stamp, payload
            ),
        }
        try:
            answer = self.client.post(self.url, content=payload, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:255]
        if 200 <= answer.status_code < 300:
            return None
        return f"HTTP {answer.status_code}"

    def send(self, items: Sequence[Pending]) -> Round:
        """Send the waiting events and record the outcomes (the module doc, steps 3 and 4)."""
        groups: dict[str, list[Pending]] = {}
        for item in items:
            groups.setdefault(item.key, []).append(item)
        done = Round([], [])
        now = _utc()
        started = time.monotonic()

        def one_group(group: list[Pending]) -> None:  # list.append is atomic: no lock
            for position, item in enumerate(group):
                if time.monotonic() - started > self.timeout:
                    done.waiting += len(group) - position
                    return
                error = self.post(item)
                if error is not None:
                    done.failed.append((item.delivery, item.attempts + 1, error))
                    done.waiting += len(group) - position - 1
                    return
                done.delivered.append(item.delivery)

        due = [g for g in groups.values() if g[0].next_at <= now]
        done.waiting += sum(len(g) for g in groups.values() if g[0].next_at > now)
        running = {self.pool.submit(one_group, g) for g in due}
        settled = [0, 0]
        while True:  # record what is acknowledged every FLUSH_S: one slow receiver answer
            _, running = wait(running, timeout=FLUSH_S)  # does not hold the others back
            ends = [len(done.delivered), len(done.failed)]
            self.settle(done.delivered[settled[0] : ends[0]], done.failed[settled[1] : ends[1]])
            settled = ends
            if not running:
                return done

    def round(self) -> Round | None:
        """One round (blocking); ``None`` when another worker holds the lease."""
        if not self.claim():
            return None
        done = self.send(self.pending())
        for _, attempts, error in done.failed:
            log.warning(
                "事件推送失败 / webhook delivery failed (%s, try %d): %s", self.url, attempts, error
            )
        return done

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set; every error is logged and the loop goes on."""
        try:
            while not stop.is_set():
                try:
                    done = self.round()
                except Exception:
                    log.exception("事件推送出错 / webhook delivery error (%s)", self.url)
                    done = None
                if done is None or not done.delivered:  # idle, not holding, or failing
                    stop.wait(IDLE_S)
        finally:
            with contextlib.suppress(Exception):
                self.release()
            self.close()

    def close(self) -> None:
        self.pool.shutdown(wait=False)
        self.client.close()


@contextlib.asynccontextmanager
async def delivering(c: Context) -> AsyncIterator[None]:
    """Run a courier per receiver, each in a thread of its own, for as long as the
    application serves (its lifespan); a clean stop gives the leases up."""
    if not c.settings.webhook_urls:
        yield
        return
    await anyio.to_thread.run_sync(register, c)
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=Courier(c, url).run, args=(stop,), name="govstd-webhooks", daemon=True
        )
        for url in c.settings.webhook_urls
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:  # a round ends within twice the timeout
            await anyio.to_thread.run_sync(thread.join, 2 * c.settings.webhook_timeout + 5)
