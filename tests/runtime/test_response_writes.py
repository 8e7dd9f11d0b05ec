"""``govstd serve`` sends a response's head and body in one write (runtime/server.py
``OneWritePerTurn``), still streams a streaming answer as it comes, and sends what it
holds before it closes a connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route
from uvicorn.server import ServerState

from runtime.server import HeaderTimeoutHttpTools

pytestmark = pytest.mark.anyio


class Transport:
    """What the protocol writes, write by write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, _name: str, default: Any = None) -> Any:
        return default

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _json(_request: Request) -> JSONResponse:
    return JSONResponse({"办件": "已受理", "padding": "x" * 2000})


async def _stream(_request: Request) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"first chunk;"
        await asyncio.sleep(0.3)
        yield b"second chunk"

    return StreamingResponse(chunks(), media_type="text/plain")


APP = Starlette(routes=[Route("/json", _json), Route("/stream", _stream)])


def _connection() -> tuple[HeaderTimeoutHttpTools, Transport]:
    config = uvicorn.Config(APP, log_config=None, http=HeaderTimeoutHttpTools)
    protocol = HeaderTimeoutHttpTools(config, ServerState(), {}, _loop=asyncio.get_running_loop())
    transport = Transport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    return protocol, transport


async def _settled(transport: Transport, *, writes: int, within: float = 2.0) -> None:
    for _ in range(int(within / 0.01)):
        if len(transport.writes) >= writes:
            await asyncio.sleep(0.05)  # and nothing more comes of this turn
            return
        await asyncio.sleep(0.01)


async def test_head_and_body_go_out_in_one_write() -> None:
    protocol, transport = _connection()
    protocol.data_received(b"GET /json HTTP/1.1\r\nHost: x\r\n\r\n")
    await _settled(transport, writes=1)
    assert len(transport.writes) == 1
    head, _, body = transport.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and b"content-length" in head
    assert body.startswith('{"办件":"已受理"'.encode())
    protocol.data_received(b"GET /json HTTP/1.1\r\nHost: x\r\n\r\n")  # kept alive: the next
    await _settled(transport, writes=2)
    assert len(transport.writes) == 2 and transport.writes[1] == transport.writes[0]


async def test_a_streaming_answer_is_not_held_back() -> None:
    protocol, transport = _connection()
    protocol.data_received(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
    await _settled(transport, writes=1, within=0.2)
    assert len(transport.writes) == 1  # the head and the first chunk, while the second waits
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK")
    assert transport.writes[0].endswith(b"first chunk;\r\n")
    await _settled(transport, writes=2)
    assert b"second chunk" in b"".join(transport.writes[1:])


async def test_what_is_held_goes_out_before_the_connection_closes() -> None:
    protocol, transport = _connection()
    protocol.data_received(b"GET /json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    for _ in range(200):
        if transport.closed:
            break
        await asyncio.sleep(0.01)
    assert transport.closed
    assert len(transport.writes) == 1 and transport.writes[0].endswith(b'"}')
