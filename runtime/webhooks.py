"""Webhook delivery of the event outbox (runtime/events.py): signed, retried, in order per
application, at least once, across restarts and with any number of workers.

Each receiver of ``GOVSTD_WEBHOOK_URLS`` has a row in ``event_receivers``: its ``cursor``
(the last event scheduled for it) and a **lease** (``holder``, ``lease_until``). Every
worker process runs a :class:`Courier` per receiver, but only the lease holder delivers;
the others look again each :data:`IDLE_S`, and take over once the lease has run out (a
holder killed with SIGKILL is replaced after at most :func:`lease_seconds`). So two
workers, or two servers on one PostgreSQL database, never send to a receiver in parallel.

A round of the holder, each database step a short transaction of its own (no transaction
is open while it waits for a receiver):

1. renew the lease (or take it), and schedule the events after the cursor: one
   ``event_deliveries`` row each (at most :data:`BACKLOG` waiting), cursor moved on;
2. read the waiting deliveries, oldest first, and group them by application (an event
   without one is its own group);
3. send each group's events one after another, the groups side by side (at most
   :data:`PARALLEL` at once); a group stops at its first failure (anything but 2xx, a
   timeout, a refused connection) or while its first event waits for its retry time, so
   a later event of an application never goes before an earlier one; no new event is
   started once the round has run for the receiver timeout;
4. delete what was acknowledged; a failed delivery is tried again after
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

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Sequence
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
PARALLEL = 32  # applications sent to side by side
MAX_BACKOFF_S = 600.0
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
    with write(c.engine) as conn:
        last = conn.execute(select(func.coalesce(func.max(t.events.c.id), 0))).scalar_one()
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

    # --- database steps (blocking: run in a thread) ---------------------------------

    def claim(self) -> bool:
        """Renew or take the lease, and schedule new events; whether this courier holds it."""
        t = self.c.package.tables
        r = t.event_receivers
        now = _utc()
        mine = r.c.receiver == self.receiver
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
            self._schedule(conn, now)
        return True

    def _schedule(self, conn: Connection, now: datetime) -> None:
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
            conn.execute(select(e.c.id).where(e.c.id > cursor).order_by(e.c.id).limit(room))
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

    def settle(self, done: Round) -> None:
        """Delete the acknowledged deliveries; reschedule the failed ones (lease kept)."""
        t = self.c.package.tables
        d, r = t.event_deliveries, t.event_receivers
        now = _utc()
        base = self.c.settings.webhook_backoff
        with write(self.c.engine) as conn:
            if done.delivered:
                conn.execute(delete(d).where(d.c.id.in_(done.delivered)))
                conn.execute(
                    update(r)
                    .where(r.c.receiver == self.receiver)
                    .values(delivered=r.c.delivered + len(done.delivered))
                )
            for delivery, attempts, error in done.failed:
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

    async def post(self, client: httpx.AsyncClient, item: Pending) -> str | None:
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
            answer = await client.post(self.url, content=payload, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:255]
        if 200 <= answer.status_code < 300:
            return None
        return f"HTTP {answer.status_code}"

    async def send(self, client: httpx.AsyncClient, items: Sequence[Pending]) -> Round:
        """Send the waiting events (see the module doc, step 3)."""
        groups: dict[str, list[Pending]] = {}
        for item in items:
            groups.setdefault(item.key, []).append(item)
        done = Round([], [])
        now = _utc()
        started = time.monotonic()
        limit = anyio.Semaphore(PARALLEL)

        async def one_group(group: list[Pending]) -> None:
            async with limit:
                for position, item in enumerate(group):
                    if time.monotonic() - started > self.timeout:
                        done.waiting += len(group) - position
                        return
                    error = await self.post(client, item)
                    if error is not None:
                        done.failed.append((item.delivery, item.attempts + 1, error))
                        done.waiting += len(group) - position - 1
                        return
                    done.delivered.append(item.delivery)

        async with anyio.create_task_group() as tg:
            for group in groups.values():
                if group[0].next_at > now:
                    done.waiting += len(group)
                    continue
                tg.start_soon(one_group, group)
        return done

    async def round(self, client: httpx.AsyncClient) -> Round | None:
        """One round; ``None`` when another worker holds the lease."""
        if not await anyio.to_thread.run_sync(self.claim):
            return None
        items = await anyio.to_thread.run_sync(self.pending)
        done = await self.send(client, items)
        if done.delivered or done.failed:
            await anyio.to_thread.run_sync(self.settle, done)
        for _, attempts, error in done.failed:
            log.warning(
                "事件推送失败 / webhook delivery failed (%s, try %d): %s", self.url, attempts, error
            )
        return done

    async def run(self) -> None:
        """Deliver until cancelled; every error is logged and the loop goes on."""
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            try:
                while True:
                    try:
                        done = await self.round(client)
                    except Exception:
                        log.exception("事件推送出错 / webhook delivery error (%s)", self.url)
                        done = None
                    if done is None or not done.delivered:  # idle, not holding, or failing
                        await asyncio.sleep(IDLE_S)
            finally:
                with contextlib.suppress(Exception):
                    await anyio.to_thread.run_sync(self.release)


@contextlib.asynccontextmanager
async def delivering(c: Context) -> AsyncIterator[None]:
    """Run a courier per receiver for as long as the application serves (its lifespan)."""
    if not c.settings.webhook_urls:
        yield
        return
    await anyio.to_thread.run_sync(register, c)
    tasks = [asyncio.create_task(Courier(c, url).run()) for url in c.settings.webhook_urls]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
