"""Material uploads: streamed with a cap, typed by magic bytes, generated names."""

from __future__ import annotations

import hashlib

import pytest

from tests.runtime.conftest import Api, unemployment_data

pytestmark = pytest.mark.anyio
PDF = b"%PDF-1.7\n" + b"0" * 1000 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


async def _file(api: Api) -> str:
    r = await api.post(
        "/api/matters/unemployment_registration/applications",
        json={"region": "nanshan", "data": unemployment_data()},
        headers=api.token("applicant", "citizen-a"),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_upload_and_download(api: Api) -> None:
    app_id = await _file(api)
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
    app_id = await _file(api)
    h = api.token("applicant", "citizen-a")
    base = f"/api/applications/{app_id}/materials"
    r = await api.put(
        f"{base}/commitment_letter", files={"file": ("a.png", PNG, "image/png")}, headers=h
    )
    assert r.status_code == 422  # commitment_letter accepts PDF only
    assert r.json()["error"]["code"] == "file_type"
    r = await api.put(
        f"{base}/commitment_letter",
        files={"file": ("a.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
        headers=h,
    )
    assert r.status_code == 422
    r = await api.put(
        f"{base}/insurance_record", files={"file": ("a.pdf", PDF, "application/pdf")}, headers=h
    )
    assert r.status_code == 409  # source: government
    r = await api.put(f"{base}/nope", files={"file": ("a.pdf", PDF, "application/pdf")}, headers=h)
    assert r.status_code == 404
    big = b"%PDF-" + b"0" * (5 * 1024 * 1024 + 10)  # commitment_letter: max 5 MB
    r = await api.put(
        f"{base}/commitment_letter", files={"file": ("big.pdf", big, "application/pdf")}, headers=h
    )
    assert r.status_code == 413
    r = await api.put(
        f"{base}/commitment_letter", content=PDF, headers={**h, "Content-Type": "application/pdf"}
    )
    assert r.status_code == 415
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


async def test_streamed_upload_stops_at_cap(api: Api) -> None:
    """Without Content-Length the cap still holds: the stream is cut when it passes it."""
    app_id = await _file(api)
    h = api.token("applicant", "citizen-a")
    boundary = "xyz"
    sent = 0

    async def body():  # type: ignore[no-untyped-def]
        nonlocal sent
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-'
        ).encode()
        for _ in range(200):  # 200 × 64 KiB = 12.5 MiB
            sent += 1
            yield b"0" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    r = await api.put(
        f"/api/applications/{app_id}/materials/commitment_letter",
        content=body(),
        headers={**h, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 413
    assert sent < 100
