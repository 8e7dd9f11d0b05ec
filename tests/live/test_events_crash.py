"""Events survive a crash: the receiver example of docs/data.md (run as written) receives
every event at least once and each application's in order, although the server (master
and both workers) is killed with SIGKILL while it delivers, and restarted.

Three threads file cases and take steps on them (four events each) while the server
delivers; once the receiver has logged some, the server is killed, mid-stream (events
written, some sent and not yet recorded as acknowledged, some not yet sent). After the
restart, the test waits until every event in the database has reached the receiver.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from runtime.package import Package
from tests.helpers import ROOT, free_port, query
from tests.live.conftest import (
    HOST,
    LiveDB,
    LiveServer,
    ibr_body,
    report,
    token,
)

SECRET = "whsec_" + base64.b64encode(b"live-webhook-key-0123456789abcdef").decode()
THREADS = 3
SUBMIT = "/api/matters/ibr/applications"
DELIVERY_DEADLINE_S = 90.0


def receiver_example() -> str:
    """The receiver example of docs/data.md, as written there."""
    text = (ROOT / "docs" / "data.md").read_text(encoding="utf-8")
    section = text.split("### Webhooks", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "docs/data.md has no receiver example under ### Webhooks"
    return found.group(1)


def receiver_lines(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    lines = log.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.endswith("}")]


@pytest.fixture
def example_receiver(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    script = tmp_path / "receiver.py"
    script.write_text(receiver_example(), encoding="utf-8")
    log = tmp_path / "events.jsonl"
    port = free_port()
    env = {
        **os.environ,
        "GOVSTD_WEBHOOK_SECRET": SECRET,
        "RECEIVER_LOG": str(log),
        "RECEIVER_PORT": str(port),
    }
    proc = subprocess.Popen([sys.executable, str(script)], env=env, cwd=tmp_path)
    url = f"http://{HOST}:{port}/events"
    deadline = time.monotonic() + 15
    forged = {"webhook-id": "x", "webhook-timestamp": str(int(time.time()))}
    forged["webhook-signature"] = "v1," + base64.b64encode(b"0" * 32).decode()
    answer = None
    while answer is None and time.monotonic() < deadline:
        try:
            answer = httpx.post(url, content=b"{}", headers=forged, timeout=1)
        except httpx.HTTPError:
            time.sleep(0.05)
    assert answer is not None and answer.status_code == 401  # the example checks signatures
    assert not log.exists()
    try:
        yield url, log
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _stream(base: str, stop: threading.Event, n: int) -> None:
    """File a case and take three steps on it, again and again, until stopped or refused."""
    officer = token("officer", "officer-live")
    with httpx.Client(base_url=base, timeout=10) as client:
        k = 0
        while not stop.is_set():
            sub = f"events-{n}-{k}"
            applicant = token("applicant", sub)
            try:
                r = client.post(SUBMIT, json=ibr_body(n * 10_000 + k), headers=applicant)
                app = r.json()["id"]
                act = f"/api/applications/{app}/actions"
                client.post(f"{act}/request_supplement", json={"reason": "补"}, headers=officer)
                client.post(f"{act}/resubmit", json={}, headers=applicant)
                client.post(f"{act}/refuse", json={"reason": "不予"}, headers=officer)
            except (httpx.HTTPError, KeyError, ValueError):
                return  # the server is gone
            k += 1


@pytest.mark.slow
def test_every_event_arrives_in_order_across_a_sigkill(
    live_db: LiveDB,
    live_package_dir: Path,
    live_package: Package,
    tmp_path: Path,
    example_receiver: tuple[str, Path],
) -> None:
    url, log = example_receiver
    server = LiveServer(live_package_dir, live_db, tmp_path)
    server.extra_env = {
        "GOVSTD_WEBHOOK_URLS": url,
        "GOVSTD_WEBHOOK_SECRET": SECRET,
        "GOVSTD_WEBHOOK_TIMEOUT": "1",  # a killed courier's lease runs out in 8 s
        "GOVSTD_WEBHOOK_BACKOFF": "0.2",
    }
    server.start()
    stop = threading.Event()
    threads = [threading.Thread(target=_stream, args=(server.url, stop, n)) for n in range(THREADS)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(receiver_lines(log)) < 120 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert receiver_lines(log), f"nothing delivered:\n{server.logs()[-3000:]}"
        server.kill()  # mid-stream: cases being filed, events being sent
        before_kill = len(receiver_lines(log))
        stop.set()
        for t in threads:
            t.join(timeout=30)
        server.start()
        events = live_package.tables.events
        written = dict(query(live_db.url, select(events.c.event_id, events.c.id)))
        started = time.monotonic()
        while time.monotonic() - started < DELIVERY_DEADLINE_S:
            got = {line["id"] for line in receiver_lines(log)}
            if set(written) <= got:
                break
            time.sleep(0.2)
        lines = receiver_lines(log)
        assert len(written) > before_kill  # the kill left events written and not yet sent
        missing = set(written) - {line["id"] for line in lines}
        assert not missing, f"{len(missing)} of {len(written)} events never arrived"
        firsts: dict[str, list[int]] = {}
        for line in lines:
            if not line["repeat"]:
                firsts.setdefault(line["subject"], []).append(int(line["sequence"]))
        for subject, sequence in firsts.items():
            assert sequence == sorted(sequence), f"application {subject}: {sequence}"
        repeats = sum(1 for line in lines if line["repeat"])
        report(
            f"events across SIGKILL ({live_db.kind}): {len(written)} written, "
            f"{before_kill} received before the kill, all received after the restart "
            f"in {time.monotonic() - started:.1f} s, {repeats} sent twice, "
            f"{len(firsts)} applications each in order"
        )
    finally:
        stop.set()
        server.stop()
