"""How ``govstd serve`` runs uvicorn: connection time limits, a concurrency cap, and
workers that never outlive their master.

| variable (per worker; read by :mod:`runtime.settings`) | default | meaning |
|---|---|---|
| ``GOVSTD_HEADER_TIMEOUT`` | 10 | seconds to send a request's headers (from the connection, |
| | | or from the first byte of a further keep-alive request) |
| ``GOVSTD_KEEP_ALIVE_TIMEOUT`` | 5 | seconds an idle keep-alive connection is kept |
| ``GOVSTD_LIMIT_CONCURRENCY`` | 1000 | open connections (or requests) past which it answers 503 |
| ``GOVSTD_SHUTDOWN_TIMEOUT`` | 30 | seconds a stopping worker waits for requests in flight |

uvicorn itself has no limit on the time to send the headers: a connection that
sends nothing, or half a request line, is kept for ever, so a few hundred of them
hold every file descriptor of a worker. :class:`HeaderTimeoutHttpTools` (uvicorn's
httptools protocol) closes such a connection once :data:`header_timeout` has passed.
httptools (llhttp, in C) parses a request in a fraction of h11's time, and uvicorn
runs its workers on uvloop when it is installed (both are dependencies): issue 13
measured the HTTP layer at about as much CPU per request as a filing's own work.
The request body is not timed here: uploads may be slow; a reverse proxy bounds
it (``client_body_timeout``, docs/deploy.md, appendix).

Workers (``--workers N``) are separate processes started by uvicorn's master.
Killed with SIGKILL, the master cannot stop them, and they went on serving and
holding the port. Each worker now asks Linux to send it SIGTERM when its parent
dies (``prctl(PR_SET_PDEATHSIG)``; elsewhere a thread watches the parent's pid),
and stops at once if the master died before it asked.

A response goes out in one write, head and body together (:class:`OneWritePerTurn`):
uvicorn writes the head when the app starts its answer and the body when it sends it,
two ``send`` calls and two TCP segments for every answer that fits in one; the client
(and, on one machine, the kernel for both ends) handles each. Measured under wrk,
reads of one application: 1.01 → 1.08–1.12 times the hand-written baseline.

The workers share one listening socket, and asyncio accepts up to ``backlog``
connections each time it is woken: the first worker to wake took a whole burst of new
connections (measured: 14 of 16 wrk connections on one worker, 2 on the other), and
kept-alive connections stay where they landed, so one worker did the work of two.
:class:`OneAtATimeSocket` lets a worker take one connection per wake-up; the others,
woken too, take the next ones.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing import reduction
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from runtime import access_log
from runtime.settings import Settings

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
MAX_HEADER_BYTES = 16 * 1024  # request line and headers: h11's default limit
GC_YOUNG = 20_000  # allocations between two collections of the youngest generation


class ServeConfig(uvicorn.Config):
    """uvicorn's configuration plus the header timeout; in a worker, it ties the worker's
    life to the master's (it is pickled into each worker process)."""

    def __init__(
        self,
        app: Any,
        *,
        settings: Settings,
        forwarded_allow_ips: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            app,
            http="runtime.server:HeaderTimeoutHttpTools",
            timeout_keep_alive=settings.keep_alive_timeout,
            limit_concurrency=settings.limit_concurrency,
            timeout_graceful_shutdown=settings.shutdown_timeout,
            # forwarded headers believed only from the proxies named (default: none)
            proxy_headers=forwarded_allow_ips is not None,
            forwarded_allow_ips=forwarded_allow_ips,
            server_header=False,
            access_log=False,  # runtime/access_log.py writes it, in RequestIdMiddleware
            log_config=access_log.log_config(),
            **kwargs,
        )
        self.header_timeout = settings.header_timeout
        self.master_pid = os.getpid()

    def load(self) -> None:
        if self.workers > 1 and os.getpid() != self.master_pid:
            die_with_parent(self.master_pid)
        super().load()
        # What start-up built (the package, its models, the tables) lives as long as the
        # worker: out of the cyclic collector's way, so a full collection no longer walks
        # it while requests wait (issue 13: the long tail of submissions under load).
        gc.collect()
        gc.freeze()
        # And a young generation collected after GC_YOUNG allocations, not 700: with 16
        # requests in flight, 700 was reached by the requests' own live objects about
        # every 8 filings (921 collections in 5 s, 2.6 % of the worker's time), while
        # cyclic garbage, what the collector is for, fills 20,000 in seconds.
        gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])


class OneWritePerTurn:
    """A connection's transport whose writes within one turn of the event loop go out
    together: the first is held, and what is written until the loop's next turn is
    added to it. uvicorn writes a response's head and its body in one turn when the
    app sends both at once (every non-streaming answer); a streaming answer's later
    chunks, written in later turns, each go out at the end of their own turn, so
    nothing waits for more than the turn it was written in. Closing sends what is held
    first; anything else is the transport's own."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._held:
            self._loop.call_soon(self._send)
        self._held.append(data)

    def _send(self) -> None:
        held, self._held = self._held, []
        if held and not self._transport.is_closing():
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self._send()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HeaderTimeoutHttpTools(HttpToolsProtocol):
    """httptools writing each turn's output at once (:class:`OneWritePerTurn`), with a
    time limit on receiving a request's headers (see the module doc):
    armed when the connection opens and at the first byte of a further keep-alive
    request, disarmed once the request's headers are complete. And a size limit: request
    line and headers of at most :data:`MAX_HEADER_BYTES`, as h11 has (httptools has none,
    so a client could fill the worker's memory with one endless header): past it, 400 and
    the connection closed."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._awaiting_headers = True
        self._header_bytes = 0
        self._header_timeout = float(getattr(config, "header_timeout", 10))
        self._timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        if self._timer is None and self._awaiting_headers:
            self._timer = self.loop.call_later(self._header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        if self._awaiting_headers and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(OneWritePerTurn(transport, self.loop))  # type: ignore[arg-type]
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._arm()

    def on_message_begin(self) -> None:
        self._header_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_HEADER_BYTES:  # httptools answers it as a bad request
            raise ValueError("request headers too large")

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        self._awaiting_headers = True  # the next request's; armed at its first byte
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def die_with_parent(parent_pid: int) -> None:
    """Get SIGTERM when the parent process dies; stop now if it is already gone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    else:
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:  # died before the request above: nobody will tell us
        os.kill(os.getpid(), signal.SIGTERM)


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)


class OneAtATimeSocket(socket.socket):
    """A listening socket that gives asyncio one connection per wake-up (see the module doc).

    asyncio calls ``accept()`` in a loop until it raises :class:`BlockingIOError`; every
    second call raises it, so each loop takes one connection. (After a wake-up where
    another worker was faster, the next wake-up takes none; the socket is still ready,
    so the one after takes it.) It travels to the worker processes as itself."""

    _turn = False

    def accept(self) -> tuple[socket.socket, Any]:
        self._turn = not self._turn
        if not self._turn:
            raise BlockingIOError
        return super().accept()

    @classmethod
    def listening(cls, sock: socket.socket) -> OneAtATimeSocket:
        """``sock`` (bound and listening) as a :class:`OneAtATimeSocket` that says it is
        TCP: asyncio turns on TCP_NODELAY only for sockets that say ``IPPROTO_TCP``."""
        proto = socket.IPPROTO_TCP if sock.family in (socket.AF_INET, socket.AF_INET6) else 0
        made = cls(sock.family, sock.type, proto, fileno=sock.detach())
        made.set_inheritable(True)
        return made


def _reduce(sock: OneAtATimeSocket) -> tuple[Any, tuple[Any, ...]]:
    return _rebuild, (reduction.DupFd(sock.fileno()), sock.family, sock.type, sock.proto)


def _rebuild(df: Any, family: int, kind: int, proto: int) -> OneAtATimeSocket:
    return OneAtATimeSocket(family, kind, proto, fileno=df.detach())


reduction.register(OneAtATimeSocket, _reduce)
