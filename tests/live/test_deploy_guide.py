"""docs/deploy.md, followed on PostgreSQL: generate, migrate, serve with two workers, then
upgrade the region's package with zero downtime (diff, generate, migrate, SIGHUP).

The commands run here are the guide's (tests/test_deploy_doc.py checks the guide shows them).
While the package is upgraded a client keeps asking ``/healthz`` and reading the case
filed before: every answer must be 200.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import ROOT, govstd
from tests.live.conftest import (
    LiveDB,
    LiveServer,
    ibr_body,
    local_postgres,
    report,
    token,
)

pytestmark = pytest.mark.postgres
FORM = "national/forms/ibr_form.yaml"
OLD_FIELD = "      - element: email\n        required: false\n"
NEW_FIELD = OLD_FIELD + "      - element: postal_code\n        required: false\n"


def run_govstd(*args: str, cwd: Path) -> str:
    done = govstd(*args, cwd=cwd, timeout=300)
    assert done.returncode == 0, f"govstd {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture
def pg_db() -> Iterator[LiveDB]:
    with local_postgres("govstd_deploy") as url:
        yield LiveDB("postgresql", url)


def test_upgrade_with_zero_downtime(tmp_path: Path, pg_db: LiveDB) -> None:
    work = tmp_path / "srv"
    shutil.copytree(ROOT / "standards", work / "standards")
    shutil.copytree(ROOT / "standards", work / "standards.old")
    package = work / "package"
    # first deployment: generate, migrate, serve
    run_govstd("generate", "standards", "--region", "nanshan", "--out", str(package), cwd=work)
    said = run_govstd("migrate", "--app", str(package), "--db", pg_db.url, cwd=work)
    assert "1 revision(s) applied" in said
    server = LiveServer(package, pg_db, tmp_path / "server", workers=2)
    server.folder.mkdir()
    server.start()
    try:
        applicant = token(
            "applicant", "deploy-1", id_number=ibr_body(1)["data"]["citizen_id_number"]
        )
        with httpx.Client(base_url=server.url, timeout=10) as client:
            filed = client.post(
                "/api/matters/ibr/applications", json=ibr_body(1), headers=applicant
            )
            assert filed.status_code == 201, filed.text
            case = f"/api/applications/{filed.json()['id']}"
            new_data = ibr_body(2)
            new_data["data"]["postal_code"] = "518000"
            before = client.post("/api/matters/ibr/applications", json=new_data, headers=applicant)
            assert before.status_code == 422  # not a field yet

            # while the package is upgraded, a client keeps using the service
            answers: list[int] = []
            stop = threading.Event()

            def keep_asking() -> None:
                with httpx.Client(base_url=server.url, timeout=10) as other:
                    while not stop.is_set():
                        for path in ("/healthz", case):
                            try:
                                answers.append(other.get(path, headers=applicant).status_code)
                            except httpx.HTTPError:
                                answers.append(0)
                        time.sleep(0.02)

            asking = threading.Thread(target=keep_asking)
            asking.start()
            started = time.monotonic()
            try:
                form = work / "standards" / FORM
                form.write_text(
                    form.read_text(encoding="utf-8").replace(OLD_FIELD, NEW_FIELD), "utf-8"
                )
                preview = run_govstd(
                    "diff", str(work / "standards.old"), "standards", "--region", "nanshan",
                    cwd=work,
                )  # fmt: skip
                assert "add column form_ibr_form.postal_code" in preview
                assert "steps that lose data" not in preview
                run_govstd(
                    "generate", "standards", "--region", "nanshan", "--out", str(package), cwd=work
                )
                said = run_govstd("migrate", "--app", str(package), "--db", pg_db.url, cwd=work)
                assert re.search(r"applied 0002_\w+", said), said
                assert server.proc is not None
                os.kill(server.proc.pid, signal.SIGHUP)  # the workers restart one by one
                deadline = time.monotonic() + 90
                while True:
                    after = client.post(
                        "/api/matters/ibr/applications", json=new_data, headers=applicant
                    )
                    if after.status_code == 201 or time.monotonic() > deadline:
                        break
                    time.sleep(0.2)
                assert after.status_code == 201, f"{after.text}\n{server.logs()[-3000:]}"
                upgraded = time.monotonic() - started
                time.sleep(1.0)  # the other worker restarts too
            finally:
                stop.set()
                asking.join(timeout=30)
            assert answers and set(answers) == {200}, sorted(set(answers))
            assert "not ready in time" not in server.logs()
            assert client.get(case, headers=applicant).status_code == 200
            report(
                f"deploy guide (PostgreSQL, 2 workers): upgrade to a package with a new field "
                f"in {upgraded:.1f} s, {len(answers)} requests meanwhile, all 200"
            )
    finally:
        server.stop()
