"""Material uploads: streamed with a cap, typed by magic bytes, generated names."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from runtime.filecrypt import CHUNK
from tests.helpers import DATA_KEY, PDF, Api, client_of, file_unemployment

pytestmark = pytest.mark.anyio


async def test_upload_and_download(api: Api) -> None:
    app_id = await file_unemployment(api)
    h = api.token("applicant", "citizen-a")
    url = f"/api/applications/{app_id}/materials/commitment_letter"
    r = await api.put(
        url, files={"file": ("../../etc/passwd 承诺书.pdf", PDF, "image/png")}, headers=h
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["content_type"] == "application/pdf"
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["filename"] == "passwd 承诺书.pdf"
    stored = list((api.settings.upload_dir / app_id).iterdir())
    assert len(stored) == 1 and "passwd" not in stored[0].name
    got = await api.get(url, headers=h)
    assert got.status_code == 200
    assert got.content == PDF
    staff = await api.get(url, headers=api.token("officer"))
    assert staff.status_code == 200
    assert "passwd" not in staff.headers["content-disposition"]
    other = await api.get(url, headers=api.token("applicant", "citizen-b"))
    assert other.status_code == 404
    # a second upload replaces the first
    r = await api.put(url, files={"file": ("b.pdf", PDF + b"x", "application/pdf")}, headers=h)
    assert r.status_code == 201
    assert len(list((api.settings.upload_dir / app_id).iterdir())) == 1
    detail = await api.get(f"/api/applications/{app_id}", headers=h)
    assert [m["material"] for m in detail.json()["materials"]] == ["commitment_letter"]


async def test_upload_refusals(api: Api) -> None:
    """Types, sizes and content types (streamed too): security/test_abuse.py."""
    app_id = await file_unemployment(api)
    h = api.token("applicant", "citizen-a")
    base = f"/api/applications/{app_id}/materials"
    r = await api.put(
        f"{base}/insurance_record", files={"file": ("a.pdf", PDF, "application/pdf")}, headers=h
    )
    assert r.status_code == 409  # source: government
    r = await api.put(f"{base}/nope", files={"file": ("a.pdf", PDF, "application/pdf")}, headers=h)
    assert r.status_code == 404
    r = await api.put(
        f"{base}/commitment_letter", files={"other": ("a.pdf", PDF, "application/pdf")}, headers=h
    )
    assert r.status_code == 422
    r = await api.put(
        f"{base}/commitment_letter",
        files={"file": ("a.pdf", PDF, "application/pdf")},
        headers=api.token("officer"),
    )
    assert r.status_code == 403
    incoming = api.settings.upload_dir / ".incoming"
    assert not incoming.exists() or not any(incoming.iterdir())


def _stored_bytes(api: Api) -> list[bytes]:
    """Every file under the upload folder (stored and temporary ones)."""
    return [p.read_bytes() for p in api.settings.upload_dir.rglob("*") if p.is_file()]


@asynccontextmanager
async def _app_with_keys(
    api: Api, package_dir: Path, db_url: str, keys: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The same database and upload folder, served with ``GOVSTD_DATA_KEY=keys``."""
    settings = replace(api.settings, env={**api.settings.env, "GOVSTD_DATA_KEY": keys})
    async with client_of(package_dir, db_url, settings) as client:
        yield client


@pytest.mark.parametrize("size", [1000, 2 * CHUNK, 3 * CHUNK + 7])
async def test_files_are_encrypted_at_rest_and_survive_key_rotation(
    api: Api, package_dir: Path, db_url: str, size: int
) -> None:
    app_id = await file_unemployment(api)
    h = api.token("applicant", "citizen-a")
    url = f"/api/applications/{app_id}/materials/commitment_letter"
    marker = "身份证号440305199003070014 承诺书".encode()
    body = (b"%PDF-1.7\n" + marker * (size // len(marker) + 1))[:size]
    r = await api.put(url, files={"file": ("承诺书.pdf", body, "application/pdf")}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["sha256"] == hashlib.sha256(body).hexdigest()
    stored = _stored_bytes(api)
    assert len(stored) == 1
    assert marker not in stored[0] and b"%PDF" not in stored[0]
    assert len(stored[0]) > size  # header and a tag per 64 KiB
    got = await api.get(url, headers=h)
    assert got.status_code == 200 and got.content == body
    assert got.headers["content-length"] == str(size)
    staff = await api.get(url, headers=api.token("officer"))
    assert staff.status_code == 200 and staff.content == body

    new_key = base64.urlsafe_b64encode(b"n" * 32).decode()
    async with _app_with_keys(api, package_dir, db_url, f"{new_key},{DATA_KEY}") as rotated:
        got = await rotated.get(url, headers=h)
        assert got.status_code == 200 and got.content == body  # written under the old key
        again = body[:-1] + b"!"
        r = await rotated.put(url, files={"file": ("b.pdf", again, "application/pdf")}, headers=h)
        assert r.status_code == 201
        assert (await rotated.get(url, headers=h)).content == again
    officer = api.token("officer")  # (the applicant's pseudonym is under the old key)
    async with _app_with_keys(api, package_dir, db_url, new_key) as new_only:
        assert (await new_only.get(url, headers=officer)).content == again  # under the new key
    async with _app_with_keys(api, package_dir, db_url, DATA_KEY) as old_only:
        r = await old_only.get(url, headers=h)
        assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"


async def test_a_tampered_or_moved_file_is_not_served(api: Api) -> None:
    h = api.token("applicant", "citizen-a")
    first, second = await file_unemployment(api), await file_unemployment(api)
    for app_id in (first, second):
        url = f"/api/applications/{app_id}/materials/commitment_letter"
        r = await api.put(url, files={"file": ("a.pdf", PDF, "application/pdf")}, headers=h)
        assert r.status_code == 201
    (a,) = (api.settings.upload_dir / first).iterdir()
    (b,) = (api.settings.upload_dir / second).iterdir()
    b.write_bytes(a.read_bytes())  # another case's file in its place
    r = await api.get(f"/api/applications/{second}/materials/commitment_letter", headers=h)
    assert r.status_code == 503, r.text
    damaged = bytearray(a.read_bytes())
    damaged[-1] ^= 1
    a.write_bytes(bytes(damaged))
    r = await api.get(f"/api/applications/{first}/materials/commitment_letter", headers=h)
    assert r.status_code == 503, r.text
    assert PDF[:50] not in r.content
    a.write_bytes(PDF)  # a file stored before files were encrypted: served as it is
    r = await api.get(f"/api/applications/{first}/materials/commitment_letter", headers=h)
    assert r.status_code == 200 and r.content == PDF
