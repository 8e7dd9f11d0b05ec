"""Decided cases are frozen, even for a request that began before the decision
(services.md §1): the final-state check is made inside the write transaction.

Each test streams a request body and, half-way through it, lets another person
decide the case (a second request, answered before the first body ends); then the
first request finishes. Through the ASGI app on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from tests.helpers import Api, file_unemployment, food_data, query

pytestmark = pytest.mark.anyio
PDF_A = b"%PDF-1.7\n" + b"A" * 2000 + b"\n%%EOF\n"
PDF_B = b"%PDF-1.7\n" + b"B" * 200_000 + b"\n%%EOF\n"
BOUNDARY = "decided-case-boundary"
APPLICANT = "citizen-frozen"


async def _accepted_case(api: Api) -> str:
    """A public-service case with its applicant's materials, accepted by an officer."""
    h = api.token("applicant", APPLICANT)
    app_id = await file_unemployment(api, APPLICANT)
    matter = api.package.matter_anywhere("unemployment_registration")
    assert matter is not None
    for material in matter.materials:
        if material.get("source") != "government":
            url = f"/api/applications/{app_id}/materials/{material['id']}"
            r = await api.put(url, files={"file": ("a.pdf", PDF_A, "application/pdf")}, headers=h)
            assert r.status_code == 201, r.text
    r = await api.post(f"/api/applications/{app_id}/actions/accept", headers=api.token("officer"))
    assert r.status_code == 200, r.text
    return app_id


def _slow_body(
    head: bytes, tail: bytes, meanwhile: Callable[[], Awaitable[None]]
) -> AsyncIterator[bytes]:
    """``head``, then (the server has begun reading) ``meanwhile``, then ``tail`` in pieces."""

    async def body() -> AsyncIterator[bytes]:
        yield head
        await meanwhile()
        for start in range(0, len(tail), 65536):
            yield tail[start : start + 65536]

    return body()


def _multipart(content: bytes) -> tuple[bytes, bytes]:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="b.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode() + content[:1000]
    return head, content[1000:] + f"\r\n--{BOUNDARY}--\r\n".encode()


def _stored_files(api: Api, app_id: str) -> set[str]:
    folder = api.settings.upload_dir / app_id
    return {f"{app_id}/{p.name}" for p in folder.iterdir()} if folder.exists() else set()


def _material_rows(api: Api, db_url: str, app_id: str) -> dict[str, Any]:
    mf = api.package.tables.material_files
    return {r.material: r for r in query(db_url, select(mf).where(mf.c.application_id == app_id))}


async def test_an_upload_begun_before_the_decision_does_not_land(api: Api, db_url: str) -> None:
    app_id = await _accepted_case(api)
    h = api.token("applicant", APPLICANT)
    url = f"/api/applications/{app_id}/materials/commitment_letter"
    before = _material_rows(api, db_url, app_id)
    decided: list[int] = []

    async def decide() -> None:
        r = await api.post(
            f"/api/applications/{app_id}/actions/complete", headers=api.token("officer")
        )
        decided.append(r.status_code)

    head, tail = _multipart(PDF_B)
    r = await api.put(
        url,
        content=_slow_body(head, tail, decide),
        headers={**h, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert decided == [200], "the decision was taken while the upload streamed"
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "case_final"
    # the file the officer decided on is kept, byte for byte
    got = await api.get(url, headers=h)
    assert got.status_code == 200 and got.content == PDF_A
    after = _material_rows(api, db_url, app_id)
    assert after["commitment_letter"].sha256 == hashlib.sha256(PDF_A).hexdigest()
    assert {m: r.storage_name for m, r in after.items()} == {
        m: r.storage_name for m, r in before.items()
    }
    # no orphan: every file on disk is a row's, and nothing is left half-received
    assert _stored_files(api, app_id) == {r.storage_name for r in after.values()}
    incoming = api.settings.upload_dir / ".incoming"
    assert not incoming.exists() or not any(incoming.iterdir())


async def test_a_step_begun_before_the_decision_is_refused(api: Api) -> None:
    app_id = await _accepted_case(api)
    h = api.token("applicant", APPLICANT)

    async def decide() -> None:
        r = await api.post(
            f"/api/applications/{app_id}/actions/complete", headers=api.token("officer")
        )
        assert r.status_code == 200, r.text

    r = await api.post(
        f"/api/applications/{app_id}/actions/withdraw",
        content=_slow_body(b'{"reason": "', "不再需要".encode() + b'"}', decide),
        headers={**h, "Content-Type": "application/json"},
    )
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] in ("wrong_state", "conflict")
    detail = (await api.get(f"/api/applications/{app_id}", headers=h)).json()
    assert detail["status"] == "completed"
    assert [t["transition"] for t in detail["transitions"]][-1] == "complete"


async def test_a_resubmission_begun_before_a_withdrawal_changes_no_data(api: Api) -> None:
    """补正: the corrected data of a resubmission that lost the race is not stored."""
    h = api.token("applicant", APPLICANT)
    app_id = await api.file("food_business_license", food_data(), APPLICANT)
    r = await api.post(
        f"/api/applications/{app_id}/actions/request_supplement",
        json={"reason": "请补正经营面积"},
        headers=api.token("officer"),
    )
    assert r.status_code == 200, r.text

    async def withdraw() -> None:
        r = await api.post(f"/api/applications/{app_id}/actions/withdraw", headers=h)
        assert r.status_code == 200, r.text

    r = await api.post(
        f"/api/applications/{app_id}/actions/resubmit",
        content=_slow_body(b'{"data": {"operating_area": ', b"120}}", withdraw),
        headers={**h, "Content-Type": "application/json"},
    )
    assert r.status_code == 409, r.text
    detail = (await api.get(f"/api/applications/{app_id}", headers=h)).json()
    assert detail["status"] == "withdrawn"
    assert detail["data"]["operating_area"] == 80
