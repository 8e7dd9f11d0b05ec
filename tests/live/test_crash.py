"""Crash safety: SIGKILL the whole server (master and both workers) in the middle of a
stream of submissions and uploads, restart it on the same database, and check that

- every submission answered 201 before the kill is there and complete: application
  row, form row, group rows, its first transition; every upload answered 201 has its
  material row and its stored file with the same sha256;
- nothing is half written: every application has its form row and its ``submit``
  transition; no form, group, transition or material row without its application;
  every material row's file is on disk with its sha256;
- the restarted server files new applications with fresh numbers;
- no file is left that no row refers to: what the kill cut off (partial uploads, a file
  moved into place before its row was committed) is removed by the start-up sweep once
  old enough (the test ages the files by two hours).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, Table, func, select

from runtime.package import Package
from tests.live.conftest import (
    LiveServer,
    ibr_body,
    report,
    stored_file,
    stored_subject,
    token,
)

THREADS = 4
KILL_AFTER = 40  # acknowledged submissions before the kill
MAX_PER_THREAD = 2_000
STREAM_DEADLINE_S = 60.0
SUBMIT = "/api/matters/ibr/applications"
MATERIAL = "registration_application"  # ibr: PDF, up to 10 MB
MEMBER = {"person_name": "张小三", "citizen_id_number": "310115197806150038", "kinship": "20"}


@dataclass(frozen=True)
class Acked:
    id: str
    number: str
    sub: str


def _pdf(tag: str) -> bytes:
    return b"%PDF-1.7\n% " + tag.encode() + b"\n" + os.urandom(3000).hex().encode() + b"\n%%EOF\n"


def _sha256(upload_dir: Path, row: Any) -> str:
    """The sha256 of a stored material file's plaintext (files are encrypted at rest)."""
    return hashlib.sha256(stored_file(upload_dir, row)).hexdigest()


def _orphans(conn: Connection, table: Table, apps: Table) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(table)
            .where(table.c.application_id.not_in(select(apps.c.id)))
        ).scalar_one()
    )


def _files(upload_dir: Path) -> list[Path]:
    return [p for p in upload_dir.rglob("*") if p.is_file()]


def _age_files(upload_dir: Path) -> set[str]:
    """Every stored file made two hours old; their names."""
    then = time.time() - 2 * 3600
    for path in _files(upload_dir):
        os.utime(path, (then, then))
    return {str(p.relative_to(upload_dir)) for p in _files(upload_dir)}


@pytest.mark.slow
def test_sigkill_mid_stream_loses_nothing_acknowledged(
    live_server: LiveServer, live_package: Package
) -> None:
    run = uuid.uuid4().hex[:8]
    acked: dict[str, Acked] = {}
    uploaded: dict[str, str] = {}  # application id -> sha256 of the file answered 201
    unexpected: list[str] = []
    interrupted: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    deadline = time.monotonic() + STREAM_DEADLINE_S

    def stream(k: int) -> None:
        with httpx.Client(base_url=live_server.url, timeout=15.0) as client:
            for i in range(MAX_PER_THREAD):
                if stop.is_set() or time.monotonic() > deadline:
                    return
                sub = f"crash-{run}-{k}-{i}"
                headers = token("applicant", sub)
                body = ibr_body(
                    600_000 + k * MAX_PER_THREAD + i,
                    organization_form="2",
                    employees=3,
                    members=[MEMBER],
                )
                try:
                    r = client.post(SUBMIT, json=body, headers=headers)
                except httpx.HTTPError as exc:
                    with lock:
                        interrupted.append(f"submit: {type(exc).__name__}")
                    return
                if r.status_code != 201:
                    with lock:
                        unexpected.append(f"submit {r.status_code} {r.text[:200]}")
                    continue
                got = r.json()
                with lock:
                    acked[got["id"]] = Acked(got["id"], got["number"], sub)
                pdf = _pdf(f"{run}-{k}-{i}")
                try:
                    r = client.put(
                        f"/api/applications/{got['id']}/materials/{MATERIAL}",
                        files={"file": ("登记申请书.pdf", pdf, "application/pdf")},
                        headers=headers,
                    )
                except httpx.HTTPError as exc:
                    with lock:
                        interrupted.append(f"upload: {type(exc).__name__}")
                    return
                if r.status_code != 201:
                    with lock:
                        unexpected.append(f"upload {r.status_code} {r.text[:200]}")
                    continue
                assert r.json()["sha256"] == hashlib.sha256(pdf).hexdigest()
                with lock:
                    uploaded[got["id"]] = hashlib.sha256(pdf).hexdigest()

    threads = [threading.Thread(target=stream, args=(k,), daemon=True) for k in range(THREADS)]
    for t in threads:
        t.start()
    while time.monotonic() < deadline and len(acked) < KILL_AFTER and not unexpected:
        if not any(t.is_alive() for t in threads):
            break
        time.sleep(0.01)
    assert not unexpected, unexpected[:5]
    assert len(acked) >= KILL_AFTER, f"only {len(acked)} submissions before the deadline"
    live_server.kill()  # SIGKILL to master and workers, requests in flight
    killed_at = len(acked)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert not unexpected, unexpected[:5]
    left = _age_files(live_server.upload_dir)  # as if the restart came two hours later

    live_server.start()  # same database, same upload folder
    t = live_package.tables
    apps = t.applications
    form_table = t.forms["ibr_form"]
    members = t.groups["ibr_form"]["members"]
    engine = live_server.db.engine()
    try:
        with engine.connect() as conn:
            # every acknowledged submission is there, complete
            for a in acked.values():
                row = conn.execute(select(apps).where(apps.c.id == a.id)).one_or_none()
                assert row is not None, f"acknowledged application {a.number} lost"
                assert (row.number, row.applicant_sub, row.status) == (
                    a.number,
                    stored_subject(a.sub),
                    "submitted",
                )
                form_row = conn.execute(
                    select(form_table).where(form_table.c.application_id == a.id)
                ).one_or_none()
                assert form_row is not None and form_row.citizen_id_number
                n_members = conn.execute(
                    select(func.count())
                    .select_from(members)
                    .where(members.c.application_id == a.id)
                ).scalar_one()
                assert n_members == 1
                steps = (
                    conn.execute(
                        select(t.transitions.c.transition)
                        .where(t.transitions.c.application_id == a.id)
                        .order_by(t.transitions.c.id)
                    )
                    .scalars()
                    .all()
                )
                assert steps == ["submit"]
            # every acknowledged upload: its row and its file, same sha256
            for app_id, sha in uploaded.items():
                mf = conn.execute(
                    select(t.material_files).where(
                        t.material_files.c.application_id == app_id,
                        t.material_files.c.material == MATERIAL,
                    )
                ).one_or_none()
                assert mf is not None, f"acknowledged upload of {app_id} lost"
                assert mf.sha256 == sha
                assert _sha256(live_server.upload_dir, mf) == sha
            # nothing half written, acknowledged or not
            all_apps = conn.execute(select(apps.c.id, apps.c.form)).all()
            for app_id, form_id in all_apps:
                ftable = t.forms[form_id]
                assert (
                    conn.execute(
                        select(func.count())
                        .select_from(ftable)
                        .where(ftable.c.application_id == app_id)
                    ).scalar_one()
                    == 1
                ), f"application {app_id} has no form row"
                first = conn.execute(
                    select(t.transitions.c.transition)
                    .where(t.transitions.c.application_id == app_id)
                    .order_by(t.transitions.c.id)
                    .limit(1)
                ).scalar_one_or_none()
                assert first == "submit", f"application {app_id} has no first transition"
            for table in [
                *t.forms.values(),
                *(g for groups in t.groups.values() for g in groups.values()),
                t.transitions,
                t.material_files,
            ]:
                assert _orphans(conn, table, apps) == 0, f"orphan rows in {table.name}"
            for mf in conn.execute(select(t.material_files)).all():
                path = live_server.upload_dir / mf.storage_name
                assert path.is_file(), f"material row without its file: {mf.storage_name}"
                assert _sha256(live_server.upload_dir, mf) == mf.sha256
            referenced = set(conn.execute(select(t.material_files.c.storage_name)).scalars())
            on_disk = {
                str(p.relative_to(live_server.upload_dir)) for p in _files(live_server.upload_dir)
            }
            assert on_disk == referenced, f"files no row refers to: {sorted(on_disk - referenced)}"
            numbers = conn.execute(select(apps.c.number)).scalars().all()
    finally:
        engine.dispose()
    assert len(numbers) == len(set(numbers))

    # the restarted server works: reads back what was acknowledged, files new cases
    with httpx.Client(base_url=live_server.url, timeout=15.0) as client:
        for a in list(acked.values())[:5]:
            r = client.get(f"/api/applications/{a.id}", headers=token("applicant", a.sub))
            assert r.status_code == 200, r.text
            assert r.json()["data"]["members"] == [MEMBER]
        sub = f"crash-{run}-after"
        r = client.post(SUBMIT, json=ibr_body(699_999), headers=token("applicant", sub))
        assert r.status_code == 201, r.text
        assert r.json()["number"] not in numbers
    logs = live_server.logs()
    assert "database is locked" not in logs.lower()
    report(
        f"[{live_server.db.kind}] crash: SIGKILL after {killed_at} acknowledged submissions "
        f"({len(uploaded)} uploads); after restart {len(all_apps)} applications, all complete; "
        f"{len(interrupted)} requests cut off by the kill; {len(left - referenced)} files "
        "without a row after the kill, 0 after the start-up sweep"
    )
