"""Concurrency against a live server with two workers: load, idempotency, racing officers.

(a) 32 clients × 50 submissions: every one stored once, numbers unique, no
    "database is locked", no 5xx; requests/s and latency printed.
(b) 20 simultaneous requests with one Idempotency-Key: one application, 20 equal answers.
(c) Two officers accept the same case at once (10 cases): one 200 and one 409 each.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from runtime.package import Package
from tests.helpers import PDF, query
from tests.live.conftest import (
    LiveServer,
    citizen_id,
    ibr_body,
    percentile,
    report,
    stored_subject,
    token,
)

CLIENTS = 32
PER_CLIENT = 50
LOAD_DEADLINE_S = 120.0
SUBMIT = "/api/matters/ibr/applications"


def _post_json(
    client: httpx.Client, url: str, body: Any, headers: dict[str, str]
) -> httpx.Response:
    return client.post(
        url,
        content=json.dumps(body, ensure_ascii=False).encode(),
        headers={**headers, "Content-Type": "application/json"},
    )


def _hand_in(client: httpx.Client, app_id: str, headers: dict[str, str]) -> None:
    """Upload each required material the case misses (受理 needs them)."""
    case = client.get(f"/api/applications/{app_id}", headers=headers).json()
    for m in case["checklist"]:
        if m["missing"]:
            url = f"/api/applications/{app_id}/materials/{m['material']}"
            r = client.put(url, files={"file": ("f.pdf", PDF)}, headers=headers)
            assert r.status_code == 201, r.text


def _assert_clean_logs(server: LiveServer) -> None:
    logs = server.logs()
    assert "database is locked" not in logs.lower(), logs[-4000:]
    assert "Traceback" not in logs, logs[-4000:]


@pytest.mark.slow
def test_load_every_submission_stored_once(live_server: LiveServer, live_package: Package) -> None:
    run = uuid.uuid4().hex[:8]
    prefix = f"load-{run}-"
    # Requests prepared up front: the clock measures the server, not token signing.
    work = [
        [
            (token("applicant", f"{prefix}{c}-{i}"), ibr_body(c * PER_CLIENT + i))
            for i in range(PER_CLIENT)
        ]
        for c in range(CLIENTS)
    ]
    results: list[tuple[int, float, str | None]] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS + 1)
    deadline = time.monotonic() + LOAD_DEADLINE_S

    def client_thread(requests: list[tuple[dict[str, str], dict[str, Any]]]) -> None:
        mine: list[tuple[int, float, str | None]] = []
        with httpx.Client(base_url=live_server.url, timeout=30.0) as client:
            barrier.wait(timeout=30)
            for headers, body in requests:
                if time.monotonic() > deadline:
                    break
                started = time.perf_counter()
                try:
                    r = _post_json(client, SUBMIT, body, headers)
                except httpx.HTTPError as exc:
                    with lock:
                        errors.append(repr(exc))
                    continue
                elapsed = time.perf_counter() - started
                number = r.json().get("number") if r.status_code == 201 else None
                if r.status_code != 201:
                    with lock:
                        errors.append(f"{r.status_code} {r.text[:300]}")
                mine.append((r.status_code, elapsed, number))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client_thread, args=(w,)) for w in work]
    for t in threads:
        t.start()
    barrier.wait(timeout=30)
    started = time.perf_counter()
    for t in threads:
        t.join(timeout=LOAD_DEADLINE_S + 30)
    wall = time.perf_counter() - started
    assert not any(t.is_alive() for t in threads), "client threads did not finish in time"

    statuses = Counter(status for status, _, _ in results)
    latencies = [elapsed for _, elapsed, _ in results]
    total = CLIENTS * PER_CLIENT
    report(
        f"[{live_server.db.kind}] load: {total} submissions by {CLIENTS} clients, "
        f"{live_server.workers} workers: {len(results) / wall:.0f} req/s, "
        f"p50 {percentile(latencies, 0.50) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, "
        f"max {max(latencies, default=0) * 1000:.1f} ms, statuses {dict(statuses)}, "
        f"{wall:.1f} s"
    )
    assert not errors, errors[:10]
    assert statuses == Counter({201: total})
    assert not [s for s in statuses if s >= 500]
    numbers = [n for _, _, n in results if n is not None]
    assert len(set(numbers)) == total

    apps = live_package.tables.applications
    subjects = [
        stored_subject(f"{prefix}{c}-{i}") for c in range(CLIENTS) for i in range(PER_CLIENT)
    ]
    mine = apps.c.applicant_sub.in_(subjects)
    stored = [n for (n,) in query(live_server.db.url, select(apps.c.number).where(mine))]
    assert len(stored) == len(set(stored)) == total  # every one stored once, numbers unique
    assert set(stored) == set(numbers)
    _assert_clean_logs(live_server)


def test_idempotency_key_under_concurrency(live_server: LiveServer, live_package: Package) -> None:
    sub = f"idem-{uuid.uuid4().hex[:8]}"
    headers = {**token("applicant", sub), "Idempotency-Key": f"key-{uuid.uuid4().hex}"}
    body = ibr_body(900_001)
    n = 20
    barrier = threading.Barrier(n)

    def one(_: int) -> httpx.Response:
        with httpx.Client(base_url=live_server.url, timeout=30.0) as client:
            barrier.wait(timeout=30)
            return _post_json(client, SUBMIT, body, headers)

    with ThreadPoolExecutor(max_workers=n) as pool:
        responses = list(pool.map(one, range(n)))

    assert [r.status_code for r in responses] == [201] * n, [r.text[:200] for r in responses]
    bodies = [r.json() for r in responses]
    assert all(b == bodies[0] for b in bodies)
    replayed = [r.headers.get("idempotent-replayed") == "true" for r in responses]
    assert replayed.count(False) == 1  # the one that filed it; the others were replayed
    t, db, mine = live_package.tables, live_server.db.url, stored_subject(sub)
    apps, keys = t.applications, t.idempotency_keys
    ids = [i for (i,) in query(db, select(apps.c.id).where(apps.c.applicant_sub == mine))]
    assert ids == [bodies[0]["id"]]
    assert len(query(db, select(keys).where(keys.c.applicant_sub == mine))) == 1
    _assert_clean_logs(live_server)


def test_two_officers_accept_at_once(live_server: LiveServer, live_package: Package) -> None:
    cases = 10
    run = uuid.uuid4().hex[:8]
    ids: list[str] = []
    with httpx.Client(base_url=live_server.url, timeout=30.0) as client:
        for i in range(cases):
            r = _post_json(
                client, SUBMIT, ibr_body(910_000 + i), token("applicant", f"race-{run}-{i}")
            )
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
            _hand_in(client, ids[-1], token("applicant", f"race-{run}-{i}"))
    officers = [token("officer", f"officer-a-{run}"), token("officer", f"officer-b-{run}")]
    jobs = [(app_id, officer) for app_id in ids for officer in officers]
    barrier = threading.Barrier(len(jobs))

    def accept(job: tuple[str, dict[str, str]]) -> tuple[str, int, str]:
        app_id, headers = job
        with httpx.Client(base_url=live_server.url, timeout=30.0) as client:
            barrier.wait(timeout=30)
            r = _post_json(client, f"/api/applications/{app_id}/actions/accept", {}, headers)
            return app_id, r.status_code, r.text[:300]

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        outcomes = list(pool.map(accept, jobs))

    by_case: dict[str, list[int]] = {app_id: [] for app_id in ids}
    for app_id, status, _ in outcomes:
        by_case[app_id].append(status)
    report(
        f"[{live_server.db.kind}] racing officers: {cases} cases, statuses "
        f"{dict(Counter(s for _, s, _ in outcomes))}"
    )
    assert all(sorted(s) == [200, 409] for s in by_case.values()), outcomes
    t, db = live_package.tables, live_server.db.url
    apps, steps = t.applications, t.transitions
    found = query(
        db, select(apps.c.id, apps.c.status, apps.c.row_version).where(apps.c.id.in_(ids))
    )
    assert sorted(tuple(r) for r in found) == sorted((i, "accepted", 2) for i in ids)
    taken = query(db, select(steps).where(steps.c.application_id.in_(ids)).order_by(steps.c.id))
    for app_id in ids:
        assert [s.transition for s in taken if s.application_id == app_id] == ["submit", "accept"]
    _assert_clean_logs(live_server)


def test_keep_alive_requests_are_not_delayed(live_server: LiveServer) -> None:
    """With several workers, requests on a kept-alive connection answer at once.

    uvicorn's multi-worker socket leaves TCP_NODELAY off (uvicorn issue #3149): every
    request after the first on a connection then waited ~40 ms for a delayed ACK.
    """
    latencies: list[float] = []
    with httpx.Client(base_url=live_server.url, timeout=10.0) as client:
        for _ in range(30):
            started = time.perf_counter()
            r = client.get("/api/matters")
            latencies.append(time.perf_counter() - started)
            assert r.status_code == 200
    median = percentile(latencies[1:], 0.5)
    report(
        f"[{live_server.db.kind}] keep-alive: median {median * 1000:.1f} ms over "
        f"{len(latencies) - 1} requests on one connection"
    )
    assert median < 0.035, f"median {median * 1000:.1f} ms: TCP_NODELAY off?"


def test_the_access_log_names_the_route_and_the_request_id_not_the_path(
    live_server: LiveServer,
) -> None:
    """One line per request on the server's output (runtime/access_log.py): the route's
    template, the status and the request id, and not the path or query that held an ID
    number; in every worker (two here)."""
    person = citizen_id(7)
    ids = [f"access-log-{live_server.db.kind}-{n}" for n in range(6)]
    with httpx.Client(base_url=live_server.url, timeout=10.0) as client:
        for rid in ids:  # several connections: both workers answer some
            r = client.get(
                f"/api/applications/{person}?q={person}",
                headers={"X-Request-ID": rid, "Connection": "close"},
            )
            assert r.status_code == 401
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(rid in live_server.logs() for rid in ids):
        time.sleep(0.1)
    lines = [line for line in live_server.logs().splitlines() if "access-log-" in line]
    assert len([line for line in lines if any(line.endswith(rid) for rid in ids)]) == len(ids)
    for line in lines:
        assert line.startswith("INFO govstd.access: 127.0.0.1:"), line
        assert '"GET /api/applications/{id}" 401 ' in line, line
    assert person not in live_server.logs()
