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
from tests.live.conftest import LiveServer, report, stored_file, token

UPLOADERS = 50
APPLICANT = "race-uploader"


def _unemployment(n: int) -> dict[str, object]:
    return {
        "region": "nanshan",
        "data": {
            "person_name": "赵六",
            "citizen_id_number": "310115197806150038",
            "sex": "1",
            "education_level": "21",
            "household_type": "3",
            "household_division": "440305",
            "household_address": f"深圳市南山区蛇口 {n} 号",
            "residence_division": "440305",
            "residence_address": "深圳市南山区蛇口 3 号",
            "mobile_phone": "13700001111",
            "unemployment_date": "2026-02-20",
            "unemployment_reason": "5",
        },
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
    engine = live_server.db.engine()
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(mf).where(mf.c.application_id == app_id)).all()
    finally:
        engine.dispose()
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
