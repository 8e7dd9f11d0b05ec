"""The workers' shared listening socket hands out one connection per wake-up
(runtime.server.OneAtATimeSocket), in the worker processes too."""

from __future__ import annotations

import asyncio
import socket
from multiprocessing.reduction import ForkingPickler

from runtime.server import OneAtATimeSocket

HOST = "127.0.0.1"


def _listening() -> OneAtATimeSocket:
    plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    plain.bind((HOST, 0))
    plain.listen(64)
    return OneAtATimeSocket.listening(plain)


def test_each_event_loop_wake_up_takes_one_of_a_burst() -> None:
    """asyncio accepts until accept() says "no more": one connection per wake-up, so
    another worker woken by the same burst takes the next one."""
    sock = _listening()
    made: list[asyncio.BaseTransport] = []
    accepted: list[int] = []

    class Counting(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            made.append(transport)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Counting, sock=sock, backlog=64)
        port = sock.getsockname()[1]
        clients = [socket.create_connection((HOST, port)) for _ in range(8)]
        for _ in range(40):  # one loop iteration each
            await asyncio.sleep(0)
            accepted.append(len(made))
        for c in clients:
            c.close()
        server.close()
        for t in made:
            t.close()
        await server.wait_closed()

    asyncio.run(main())
    assert accepted[-1] == 8  # the whole burst taken in the end …
    steps = [b - a for a, b in zip([0, *accepted[:-1]], accepted, strict=True)]
    assert max(steps) == 1  # … one per iteration (asyncio alone: all 8 at once)
    assert sock.proto == socket.IPPROTO_TCP  # so asyncio sets TCP_NODELAY on its connections


def test_it_reaches_the_worker_processes_as_itself() -> None:
    """uvicorn hands the socket to spawned workers by pickling it."""
    sock = _listening()
    copy = ForkingPickler.loads(ForkingPickler.dumps(sock))
    try:
        assert isinstance(copy, OneAtATimeSocket)
        assert copy.getsockname() == sock.getsockname()
    finally:
        copy.close()
        sock.close()
