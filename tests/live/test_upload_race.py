"""Concurrent uploads of one material against a live server with two workers.

50 clients upload a different file for the same material of one case at once. Each
answer is 201 (or 409); none is a 5xx. At the end there is exactly one row for the
material, its file is on disk with the row's hash, and no other file is left in the
case's folder or among the half-received ones.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import select

from runtime.package import Package
from tests.helpers import query, unemployment_data
from tests.live.conftest import LiveServer, report, stored_file, token

UPLOADERS = 50
APPLICANT = "race-uploader"


def _unemployment(n: int) -> dict[str, object]:
    return {
        "region": "nanshan",
        "data": unemployment_data(household_address=f"深圳市南山区蛇口 {n} 号"),
    }


def test_fifty_uploads_of_one_material_at_once(
    live_server: LiveServer, live_package: Package
) -> None:
    h = token("applicant", APPLICANT)
    with httpx.Client(base_url=live_server.url, timeout=60.0) as client:
        r = client.post(
            "/api/matters/unemployment_registration/applications", json=_unemployment(1), headers=h
        )
        assert r.status_code == 201, r.text
    app_id = r.json()["id"]
    url = f"/api/applications/{app_id}/materials/commitment_letter"
    files = [b"%PDF-1.7\n" + f"upload {i}\n".encode() * 2000 + b"%%EOF\n" for i in range(UPLOADERS)]
    barrier = threading.Barrier(UPLOADERS)

    def upload(content: bytes) -> tuple[int, str]:
        with httpx.Client(base_url=live_server.url, timeout=60.0) as client:
            barrier.wait(timeout=30)
            r = client.put(url, files={"file": ("x.pdf", content, "application/pdf")}, headers=h)
            return r.status_code, r.text

    started = time.perf_counter()
    with ThreadPoolExecutor(UPLOADERS) as pool:
        answers = list(pool.map(upload, files))
    elapsed = time.perf_counter() - started
    statuses = Counter(status for status, _ in answers)
    report(
        f"upload race ({live_server.db.kind}): {UPLOADERS} uploads of one material at once "
        f"in {elapsed:.1f} s: {dict(sorted(statuses.items()))}"
    )
    assert set(statuses) <= {201, 409}, [text for status, text in answers if status >= 500][:3]
    mf = live_package.tables.material_files
    rows = query(live_server.db.url, select(mf).where(mf.c.application_id == app_id))
    assert len(rows) == 1
    stored = live_server.upload_dir / rows[0].storage_name
    assert stored.is_file()
    assert (
        hashlib.sha256(stored_file(live_server.upload_dir, rows[0])).hexdigest() == rows[0].sha256
    )
    assert rows[0].sha256 in {hashlib.sha256(f).hexdigest() for f in files}
    on_disk = {p.name for p in (live_server.upload_dir / app_id).iterdir()}
    assert on_disk == {stored.name}, f"{len(on_disk) - 1} unreferenced files left"
    incoming = live_server.upload_dir / ".incoming"
    assert not incoming.exists() or not any(incoming.iterdir())
    assert "Traceback" not in live_server.logs()


DOWNLOADERS = 8
REPLACERS = 4
RACE_S = 6.0


def test_downloads_while_the_file_is_replaced(live_server: LiveServer) -> None:
    """Downloads and replacements of one material interleave for a few seconds: every
    download answers 200 with one whole file that was uploaded (a replacement committed
    between reading the row and opening the file is followed; one during the transfer does
    not cut it off); none answers 5xx or 404."""
    h = token("applicant", APPLICANT + "-dl")
    with httpx.Client(base_url=live_server.url, timeout=60.0) as client:
        r = client.post(
            "/api/matters/unemployment_registration/applications", json=_unemployment(2), headers=h
        )
        assert r.status_code == 201, r.text
        url = f"/api/applications/{r.json()['id']}/materials/commitment_letter"
        first = b"%PDF-1.7\n" + b"first\n" * 200_000 + b"%%EOF\n"
        assert client.put(url, files={"file": ("0.pdf", first, "application/pdf")}, headers=h)
    uploaded = {hashlib.sha256(first).hexdigest()}
    lock = threading.Lock()
    stop = time.monotonic() + RACE_S
    statuses: Counter[int] = Counter()
    wrong: list[str] = []

    def replace(k: int) -> None:
        with httpx.Client(base_url=live_server.url, timeout=60.0) as client:
            n = 0
            while time.monotonic() < stop:
                n += 1
                body = b"%PDF-1.7\n" + f"{k}-{n}\n".encode() * 150_000 + b"%%EOF\n"
                with lock:  # known before it can be served
                    uploaded.add(hashlib.sha256(body).hexdigest())
                r = client.put(url, files={"file": ("n.pdf", body, "application/pdf")}, headers=h)
                with lock:
                    statuses[r.status_code] += 1

    def download(_: int) -> None:
        with httpx.Client(base_url=live_server.url, timeout=60.0) as client:
            while time.monotonic() < stop:
                try:
                    with client.stream("GET", url, headers=h) as r:
                        parts = []
                        for i, part in enumerate(r.iter_bytes(64 * 1024)):
                            parts.append(part)
                            if i == 0:
                                time.sleep(0.02)  # let a replacement land mid-transfer
                        body = b"".join(parts)
                except httpx.HTTPError as exc:  # e.g. cut off after its headers were sent
                    with lock:
                        wrong.append(f"{type(exc).__name__}: {exc}")
                    continue
                with lock:
                    statuses[r.status_code] += 1
                    if r.status_code != 200:
                        wrong.append(f"{r.status_code} {body[:200]!r}")
                    elif hashlib.sha256(body).hexdigest() not in uploaded:
                        wrong.append(f"200 with {len(body)} bytes of no uploaded file")

    with ThreadPoolExecutor(DOWNLOADERS + REPLACERS) as pool:
        jobs = [pool.submit(replace, k) for k in range(REPLACERS)]
        jobs += [pool.submit(download, k) for k in range(DOWNLOADERS)]
        for job in jobs:
            job.result()
    report(
        f"download race ({live_server.db.kind}): {DOWNLOADERS} downloaders and {REPLACERS} "
        f"replacers for {RACE_S:.0f} s: {dict(sorted(statuses.items()))}"
    )
    assert not wrong, wrong[:5]
    assert set(statuses) <= {200, 201, 409}
    assert statuses[200] > 0 and statuses[201] > 0
