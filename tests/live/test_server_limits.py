"""``govstd serve`` as an operator expects it: idle and half-sent connections are closed,
a concurrency cap answers 503 instead of piling up, and killing the master (SIGKILL)
takes its workers down with it and frees the port.

These are properties of the server, not of the database: SQLite only.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live.conftest import HOST, LiveDB, LiveServer, migrate, report

IDLE_CONNECTIONS = 200
HEADER_TIMEOUT_S = 2


@pytest.fixture(scope="module")
def sqlite_db(live_package_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> LiveDB:
    db = LiveDB("sqlite", f"sqlite:///{tmp_path_factory.mktemp('limits') / 'govstd.db'}")
    migrate(live_package_dir, db.url)
    return db


@contextlib.contextmanager
def running(server: LiveServer) -> Iterator[LiveServer]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def open_idle(port: int, count: int) -> list[socket.socket]:
    """``count`` connections: half send nothing, half stop in the middle of the headers."""
    conns = []
    for n in range(count):
        s = socket.create_connection((HOST, port), timeout=5)
        if n % 2:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        conns.append(s)
    return conns


def seconds_until_closed(conns: list[socket.socket], limit: float) -> list[float]:
    """For each connection, the seconds until the server closed it (stops at ``limit``)."""
    started = time.monotonic()
    closed: dict[socket.socket, float] = {}
    with selectors.DefaultSelector() as sel:
        for s in conns:
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
        while len(closed) < len(conns) and time.monotonic() - started < limit:
            for key, _ in sel.select(timeout=0.2):
                s = key.fileobj
                assert isinstance(s, socket.socket)
                try:
                    data = s.recv(4096)
                except ConnectionResetError:
                    data = b""
                if not data:
                    closed[s] = time.monotonic() - started
                    sel.unregister(s)
    for s in conns:
        s.close()
    return [closed[s] for s in conns if s in closed]


def test_idle_and_half_sent_connections_are_closed(
    live_package_dir: Path, sqlite_db: LiveDB, tmp_path: Path
) -> None:
    server = LiveServer(
        live_package_dir,
        sqlite_db,
        tmp_path,
        extra_env={"GOVSTD_HEADER_TIMEOUT": str(HEADER_TIMEOUT_S)},
    )
    with running(server):
        conns = open_idle(server.port, IDLE_CONNECTIONS)
        with httpx.Client(base_url=server.url, timeout=5) as client:
            assert client.get("/healthz").status_code == 200  # served meanwhile
        closed = seconds_until_closed(conns, limit=60)
        report(
            f"header timeout {HEADER_TIMEOUT_S} s: {len(closed)} of {IDLE_CONNECTIONS} idle or "
            f"half-sent connections closed by the server, the last after "
            f"{max(closed, default=float('nan')):.1f} s"
        )
        assert len(closed) == IDLE_CONNECTIONS
        assert max(closed) < HEADER_TIMEOUT_S + 5
        # a keep-alive connection that goes on sending a request in full is not cut
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for _ in range(3):
                assert client.get("/healthz").status_code == 200
                time.sleep(HEADER_TIMEOUT_S / 2)


def test_oversized_headers_are_refused_and_the_server_goes_on(
    live_package_dir: Path, sqlite_db: LiveDB, tmp_path: Path
) -> None:
    """64 KiB of headers (16 KiB is the limit, as h11's): 400 and the connection closed;
    headers just under the limit are served."""
    server = LiveServer(live_package_dir, sqlite_db, tmp_path, workers=1)
    with running(server):
        s = socket.create_connection((HOST, server.port), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n")
        answer = b""
        with contextlib.suppress(OSError):
            while chunk := s.recv(65536):
                answer += chunk
        s.close()
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        with httpx.Client(base_url=server.url, timeout=5) as client:
            assert client.get("/healthz", headers={"X-Big": "a" * 15000}).status_code == 200


def test_past_the_concurrency_limit_requests_get_503_until_connections_go(
    live_package_dir: Path, sqlite_db: LiveDB, tmp_path: Path
) -> None:
    server = LiveServer(
        live_package_dir,
        sqlite_db,
        tmp_path,
        workers=1,
        extra_env={"GOVSTD_LIMIT_CONCURRENCY": "20", "GOVSTD_HEADER_TIMEOUT": "3"},
    )
    with running(server):
        conns = open_idle(server.port, 25)
        with httpx.Client(base_url=server.url, timeout=5) as client:
            assert client.get("/healthz").status_code == 503
            closed = seconds_until_closed(conns, limit=30)
            assert len(closed) == 25
            assert client.get("/healthz").status_code == 200
    assert "Exceeded concurrency limit" in server.logs()


def children_of(pid: int) -> list[int]:
    """The pids whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_workers_exit_when_the_master_is_killed(
    live_package_dir: Path, sqlite_db: LiveDB, tmp_path: Path
) -> None:
    server = LiveServer(live_package_dir, sqlite_db, tmp_path, workers=2)
    with running(server):
        assert server.proc is not None
        workers = children_of(server.proc.pid)
        assert len(workers) >= 2, workers
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=10)
        started = time.monotonic()
        while time.monotonic() - started < 20:
            if not any(alive(w) for w in workers) and port_is_free(server.port):
                break
            time.sleep(0.1)
        gone = time.monotonic() - started
        left = [w for w in workers if alive(w)]
        report(f"master SIGKILLed: {len(workers)} child processes gone, port free in {gone:.1f} s")
        assert not left, f"workers {left} outlived their master"
        assert port_is_free(server.port)
