"""A server left running on its package after ``govstd migrate`` of a newer one.

The newer package renames a sensitive field of the unemployment form (``mobile_phone`` →
``contact_mobile``, ``renamed_from``): its migration renames the column. The server
still running the older package answers every request whose SQL needs the renamed
column 503 ``database_ahead`` (never 500) and serves the rest; ``/healthz`` stays 200
saying the database is ahead, and its log says so once. Restarted on the newer
package, it serves the case filed before, with its data.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from tests.helpers import edited_standards, generate_package, unemployment_data
from tests.live.conftest import LiveDB, LiveServer, migrate, report, token

FORM = "national/forms/unemployment_registration_form.yaml"
FIELD = "      - element: mobile_phone\n"
RENAMED = (
    "      - id: contact_mobile\n"
    "        element: mobile_phone\n"
    "        renamed_from: [mobile_phone]\n"
)
SUBMIT = "/api/matters/unemployment_registration/applications"


@pytest.fixture(scope="module")
def newer_package(live_package_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same package folder, regenerated from standards where a field is renamed."""
    folder = tmp_path_factory.mktemp("newer")
    app = folder / "nanshan"
    shutil.copytree(live_package_dir, app, ignore=shutil.ignore_patterns("__pycache__"))
    generate_package("nanshan", app, edited_standards(folder / "standards", (FORM, FIELD, RENAMED)))
    revisions = list((app / "migrations/versions").glob("*.py"))
    assert len(revisions) == 2, revisions
    return app


def _body() -> dict[str, object]:
    return {"region": "nanshan", "data": unemployment_data()}


def test_an_older_server_answers_503_after_the_database_moved_ahead(
    live_db: LiveDB,
    live_package_dir: Path,
    newer_package: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = LiveServer(
        live_package_dir, live_db, tmp_path_factory.mktemp(f"ahead-{live_db.kind}"), workers=1
    )
    server.start()
    h = token("applicant", "citizen-ahead")
    try:
        with httpx.Client(base_url=server.url, timeout=30.0) as client:
            created = client.post(SUBMIT, json=_body(), headers=h)
            assert created.status_code == 201, created.text
            case = f"/api/applications/{created.json()['id']}"
            since = len(server.logs())
            migrate(newer_package, live_db.url)  # the column is renamed under the server
            answers = {
                "submit": client.post(SUBMIT, json=_body(), headers=h),
                "read": client.get(case, headers=h),
                "list": client.get("/api/applications", headers=h),
                "catalogue": client.get("/api/matters", headers={"Accept-Language": "en"}),
            }
            health = client.get("/healthz")
        statuses = {name: r.status_code for name, r in answers.items()}
        report(f"database ahead ({live_db.kind}): {statuses}, /healthz {health.status_code}")
        for name in ("submit", "read"):  # their SQL names the renamed column
            r = answers[name]
            assert r.status_code == 503, (name, r.text)
            assert r.json()["error"]["code"] == "database_ahead", (name, r.text)
        assert "更新的部署包" in answers["submit"].json()["error"]["message"]
        # what does not touch the renamed column is served (a rolling upgrade needs no
        # downtime), and /healthz keeps the worker in the load balancer, saying why
        assert answers["list"].status_code == 200, answers["list"].text
        assert answers["catalogue"].status_code == 200, answers["catalogue"].text
        assert health.status_code == 200 and health.json()["database"] == "ahead"
        logs = server.logs()[since:]
        assert logs.count("database_ahead:") == 1, logs[-4000:]
        assert "failed:" not in logs and "Traceback" not in logs, logs[-4000:]
    finally:
        server.stop()
    server.app_dir = newer_package  # the operator deploys the matching package
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30.0) as client:
            r = client.get(case, headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["data"]["contact_mobile"] == "13700001111"  # decrypted after the rename
    finally:
        server.stop()
