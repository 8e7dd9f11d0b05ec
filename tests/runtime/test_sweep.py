"""Material files no row refers to, left by a crash, are swept (runtime/sweep.py).

A process that dies between moving an upload's file into place and committing its row
leaves the new file unreferenced; one that dies after the commit but before removing
the replaced file leaves the old one. The sweep removes both (and dead partial
uploads) once they are older than the safe age, and nothing else: not the file a row
names, not a file written a moment ago (an upload in progress), not a name the runtime
does not make. ``govstd sweep-uploads`` runs it on demand, ``govstd serve`` at start-up.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from runtime.db import make_engine
from runtime.package import Package
from runtime.sweep import sweep_uploads
from tests.helpers import DATA_KEY, PDF, SECRET, Api, file_unemployment, govstd
from tests.live.conftest import LiveDB, LiveServer

pytestmark = pytest.mark.anyio
HOURS_AGO = 2 * 3600


def _age(path: Path, seconds: float = HOURS_AGO) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _plant(path: Path, content: bytes = PDF, *, aged: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    if aged:
        _age(path)
    return path


async def _case_with_a_file(api: Api) -> tuple[str, str, Path]:
    """A case, its uploaded material (url) and the stored file (made old)."""
    h = api.token("applicant", "citizen-a")
    case = await file_unemployment(api, "citizen-a")
    url = f"/api/applications/{case}/materials/commitment_letter"
    up = await api.put(url, files={"file": ("a.pdf", PDF, "application/pdf")}, headers=h)
    assert up.status_code == 201, up.text
    [stored] = (api.settings.upload_dir / case).iterdir()
    _age(stored)
    return case, url, stored


def _crash_leftovers(upload_dir: Path, case: str) -> dict[str, Path]:
    """What a crash leaves, and what looks like it but must stay."""

    def hexname() -> str:
        return secrets.token_hex(16)

    return {
        # removed: the file a committed upload replaced, a file never committed, a
        # partial upload of a dead process
        "replaced": _plant(upload_dir / case / f"{hexname()}.pdf"),
        "uncommitted": _plant(upload_dir / case / f"{hexname()}.png"),
        "partial": _plant(upload_dir / ".incoming" / ".upload-k3j_9x2a.part"),
        # kept: an upload in progress (just written), names the runtime does not make
        "in_progress": _plant(upload_dir / case / f"{hexname()}.pdf", aged=False),
        "foreign_top": _plant(upload_dir / "README.txt"),
        "foreign_in_case": _plant(upload_dir / case / "notes.txt"),
        "foreign_folder": _plant(upload_dir / "backup" / f"{hexname()}.pdf"),
    }


REMOVED = ("replaced", "uncommitted", "partial")


async def test_the_sweep_removes_unreferenced_old_files_only(api: Api) -> None:
    case, url, stored = await _case_with_a_file(api)
    upload_dir = api.settings.upload_dir
    planted = _crash_leftovers(upload_dir, case)
    ctx = api.client._transport.app.state.ctx  # type: ignore[attr-defined]

    dry = sweep_uploads(ctx.engine, ctx.package, upload_dir, dry_run=True)
    assert len(dry.removed) == 3 and all(p.exists() for p in planted.values())

    swept = sweep_uploads(ctx.engine, ctx.package, upload_dir)
    expected = sorted(str(planted[k].relative_to(upload_dir)) for k in REMOVED)
    assert sorted(swept.removed) == expected
    assert swept.removed_bytes == 3 * len(PDF)
    assert swept.referenced == 1 and swept.too_recent == 1
    for name, path in planted.items():
        assert path.exists() is (name not in REMOVED), name
    assert stored.exists()  # the row's file, however old
    got = await api.get(url, headers=api.token("applicant", "citizen-a"))
    assert got.status_code == 200 and got.content == PDF

    again = sweep_uploads(ctx.engine, ctx.package, upload_dir)  # nothing more to do
    assert again.removed == []


def _command(
    package_dir: Path, db_url: str, upload_dir: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVSTD_")}
    env.update(GOVSTD_SECRET=SECRET, GOVSTD_DATA_KEY=DATA_KEY, GOVSTD_UPLOAD_DIR=str(upload_dir))
    return govstd("sweep-uploads", "--app", str(package_dir), "--db", db_url, *args, env=env)


async def test_govstd_sweep_uploads(api: Api, package_dir: Path, db_url: str) -> None:
    case, _, stored = await _case_with_a_file(api)
    upload_dir = api.settings.upload_dir
    planted = _crash_leftovers(upload_dir, case)

    refused = _command(package_dir, db_url, upload_dir, "--older-than", "0")
    assert refused.returncode == 1 and "--older-than" in refused.stderr, refused.stderr
    dry = _command(package_dir, db_url, upload_dir, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would remove 3 material files" in dry.stderr and "将删除 3 个" in dry.stderr
    assert all(p.exists() for p in planted.values())

    done = _command(package_dir, db_url, upload_dir)
    assert done.returncode == 0, done.stderr
    assert "removed 3 material files" in done.stderr, done.stderr
    assert [n for n, p in planted.items() if not p.exists()] == list(REMOVED)
    assert stored.exists()


@pytest.mark.parametrize("workers", [1, 2])
async def test_serve_sweeps_at_start_up(
    api: Api, package_dir: Path, db_url: str, tmp_path: Path, workers: int
) -> None:
    case, url, stored = await _case_with_a_file(api)
    server = LiveServer(package_dir, LiveDB("db", db_url), tmp_path / "serve", workers=workers)
    server.upload_dir = api.settings.upload_dir
    planted = _crash_leftovers(server.upload_dir, case)
    server.folder.mkdir()
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30.0) as client:
            got = client.get(url, headers=api.token("applicant", "citizen-a"))
        assert got.status_code == 200 and got.content == PDF
    finally:
        server.stop()
    assert [n for n, p in planted.items() if not p.exists()] == list(REMOVED)
    assert stored.exists()
    assert "removed 3 material files no row refers to" in server.logs()


def test_a_sweep_of_a_missing_folder_does_nothing(tmp_path: Path, package: Package) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'unused.db'}")
    try:
        swept = sweep_uploads(engine, package, tmp_path / "none", older_than=timedelta(hours=1))
    finally:
        engine.dispose()
    assert swept.removed == [] and not (tmp_path / "none").exists()
