"""Hostile requests: each gets a clear 4xx and leaves no trace — the same rows in every
table (besides the audit entry of a refused access) and the same files in storage,
temporary ones included.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import Engine, select, update

from runtime.settings import Settings
from runtime.subjects import pseudonyms
from tests.helpers import PDF, PNG, SECRET, Api, file_unemployment, unemployment_data
from tests.security.conftest import files_under, report, table_contents

pytestmark = pytest.mark.anyio
SUBMIT = "/api/matters/unemployment_registration/applications"
MB = 1024 * 1024
QUICK_S = 2.0  # "refused quickly": a bound far above what the refusals take


@dataclass(frozen=True)
class Trace:
    """What a request could change: every row of every table, every stored file's bytes."""

    tables: dict[str, list[tuple[Any, ...]]]
    files: dict[Path, str]

    @property
    def rows(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.tables.items()}


def trace(api: Api, db: Engine) -> Trace:
    files = {
        p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files_under(api.settings.upload_dir)
    }
    return Trace(table_contents(db, api.package), files)


def assert_untouched(before: Trace, after: Trace, *, audited: int = 0) -> None:
    """The same rows, value for value, and the same files, byte for byte, plus ``audited``
    new audit entries (the entries already there unchanged)."""
    for name, rows in before.tables.items():
        if name == "audit_log":
            assert after.tables[name][: len(rows)] == rows, "audit entries changed"
            assert len(after.tables[name]) == len(rows) + audited, "audit entries added"
        else:
            assert after.tables[name] == rows, f"table {name} changed"
    assert after.files == before.files


def refused(r: httpx.Response, status: int, code: str | None = None) -> None:
    """A clear refusal: the status, the JSON error format, a request id."""
    assert r.status_code == status, r.text[:500]
    error = r.json()["error"]
    assert error["request_id"] == r.headers["x-request-id"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code


def multipart(boundary: str, parts: list[tuple[str, str | None, bytes]]) -> bytes:
    """A multipart/form-data body: ``(field name, filename or None, content)`` per part."""
    out = []
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode())
        out.append(content + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


async def test_assert_untouched_sees_a_changed_value(api: Api, db: Engine) -> None:
    """The check the tests below rely on: a status changed, an audit entry rewritten or a
    stored file's bytes changed is caught, though no row or file was added or removed."""
    app_id = await file_unemployment(api)
    r = await api.put(
        f"/api/applications/{app_id}/materials/commitment_letter",
        files={"file": ("a.pdf", PDF, "application/pdf")},
        headers=api.token("applicant", "citizen-a"),
    )
    assert r.status_code == 201, r.text
    before = trace(api, db)
    assert_untouched(before, trace(api, db))
    [stored] = files_under(api.settings.upload_dir)
    original = stored.read_bytes()
    stored.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))  # never the same
    with pytest.raises(AssertionError):
        assert_untouched(before, trace(api, db))
    stored.write_bytes(original)
    apps, audit = api.package.tables.applications, api.package.tables.audit_log
    with db.begin() as conn:
        conn.execute(update(apps).where(apps.c.id == app_id).values(status="accepted"))
    with pytest.raises(AssertionError, match="table applications changed"):
        assert_untouched(before, trace(api, db))
    with db.begin() as conn:
        conn.execute(update(apps).where(apps.c.id == app_id).values(status="submitted"))
    assert_untouched(before, trace(api, db))
    with db.begin() as conn:
        conn.execute(update(audit).values(actor_sub="someone-else"))
    with pytest.raises(AssertionError, match="audit entries changed"):
        assert_untouched(before, trace(api, db))


# --- uploads ---------------------------------------------------------------------------


async def test_upload_over_the_limit(api: Api, db: Engine) -> None:
    app_id = await file_unemployment(api)
    h = api.token("applicant", "citizen-a")
    url = f"/api/applications/{app_id}/materials/commitment_letter"  # max 5 MB
    before = trace(api, db)
    big = b"%PDF-" + b"0" * (5 * MB + 1)
    r = await api.put(url, files={"file": ("big.pdf", big, "application/pdf")}, headers=h)
    refused(r, 413, "too_large")
    assert_untouched(before, trace(api, db))

    sent = 0

    async def stream() -> AsyncIterator[bytes]:  # no Content-Length: the cap cuts the stream
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-'
        for _ in range(400):  # 25 MiB offered
            sent += 1
            yield b"0" * 65536
        yield b"\r\n--b--\r\n"

    r = await api.put(
        url, content=stream(), headers={**h, "Content-Type": "multipart/form-data; boundary=b"}
    )
    refused(r, 413, "too_large")
    assert sent < 100
    assert_untouched(before, trace(api, db))

    # a small file followed by endless padding: refused past the cap plus framing
    sent = 0

    async def padded() -> AsyncIterator[bytes]:
        nonlocal sent
        yield multipart("b", [("file", "a.pdf", PDF)])
        for _ in range(400):
            sent += 1
            yield b"x" * 65536

    r = await api.put(
        url, content=padded(), headers={**h, "Content-Type": "multipart/form-data; boundary=b"}
    )
    refused(r, 413, "too_large")
    assert sent < 120
    assert_untouched(before, trace(api, db))


@pytest.mark.parametrize(
    ("material", "content"),
    [
        ("commitment_letter", b"<html><script>alert(1)</script></html>"),  # said to be a PDF
        ("commitment_letter", b"\x7fELF\x02\x01\x01" + b"\x00" * 100),
        ("commitment_letter", b"MZ\x90\x00" + b"\x00" * 100),
        ("commitment_letter", PNG),  # a real PNG, but this material takes PDF only
        ("commitment_letter", b"PK\x03\x04" + b"\x00" * 100),  # ZIP / OFD: not accepted here
        ("commitment_letter", b""),
        ("id_proof", b"GIF89a" + b"\x00" * 100),
        ("id_proof", b" %PDF-1.7"),  # the signature must come first
    ],
)
async def test_upload_of_another_type(api: Api, db: Engine, material: str, content: bytes) -> None:
    app_id = await file_unemployment(api)
    before = trace(api, db)
    r = await api.put(
        f"/api/applications/{app_id}/materials/{material}",
        files={"file": ("scan.pdf", content, "application/pdf")},
        headers=api.token("applicant", "citizen-a"),
    )
    refused(r, 422, "file_type")
    assert_untouched(before, trace(api, db))


TRAVERSAL_NAMES = [
    "../../../../etc/passwd",
    "..\\..\\..\\windows\\system32\\drivers\\etc\\hosts",
    "/etc/shadow",
    "....//....//evil.pdf",
    "%2e%2e%2f%2e%2e%2fevil.pdf",
    "a/../../b.pdf",
    ".htaccess",
    "evil\x00.pdf",
    "line\r\nbreak.pdf",
    "x" * 1000 + ".pdf",
]


async def test_traversal_filename_is_metadata_only(api: Api, db: Engine, tmp_path: Path) -> None:
    app_id = await file_unemployment(api)
    h = api.token("applicant", "citizen-a")
    url = f"/api/applications/{app_id}/materials/commitment_letter"
    before = trace(api, db)
    mf = api.package.tables.material_files
    for n, name in enumerate(TRAVERSAL_NAMES, 1):
        r = await api.put(url, files={"file": (name, PDF, "application/pdf")}, headers=h)
        assert r.status_code == 201, (name, r.text)
        shown = r.json()["filename"]
        assert "/" not in shown and "\\" not in shown and not shown.startswith(".")
        assert len(shown) <= 255 and not re.search(r"[\x00-\x1f]", shown)
        stored = files_under(api.settings.upload_dir)
        assert len(stored) == 1  # the new upload replaced the previous one
        relative = stored[0].relative_to(api.settings.upload_dir).as_posix()
        assert re.fullmatch(rf"{app_id}/[0-9a-f]{{32}}\.pdf", relative), relative
        with db.connect() as conn:
            row = conn.execute(select(mf.c.storage_name, mf.c.filename)).one()
        assert row.storage_name == relative and row.filename == shown
        after = trace(api, db)
        assert after.rows["material_files"] == before.rows["material_files"] + 1
        assert after.rows["audit_log"] == before.rows["audit_log"] + n  # material_upload
    # nothing was written anywhere else below the test's folder
    elsewhere = [
        p
        for p in files_under(tmp_path)
        if not p.is_relative_to(api.settings.upload_dir) and not p.name.startswith("govstd.db")
    ]
    assert elsewhere == []
    # staff download under the material's own name, never the client's
    r = await api.get(url, headers=api.token("officer"))
    assert r.status_code == 200 and r.content == PDF
    assert "commitment_letter.pdf" in r.headers["content-disposition"]


async def test_multipart_with_thousands_of_parts(api: Api, db: Engine) -> None:
    app_id = await file_unemployment(api)
    h = {**api.token("applicant", "citizen-a"), "Content-Type": "multipart/form-data; boundary=b"}
    url = f"/api/applications/{app_id}/materials/commitment_letter"
    before = trace(api, db)
    parts = [(f"f{i}", None, b"x") for i in range(5000)] + [("file", "a.pdf", PDF)]
    read = 0

    async def one_part_a_chunk(
        parts: list[tuple[str, str | None, bytes]],
    ) -> AsyncIterator[bytes]:  # counts what the server took from the body stream
        nonlocal read
        body = multipart("b", parts)
        chunks = body.split(b"\r\n--b")
        for i, chunk in enumerate(chunks):
            read += 1
            yield chunk if i == 0 else b"\r\n--b" + chunk

    started = time.perf_counter()
    r = await api.put(url, content=one_part_a_chunk(parts), headers=h)
    took = time.perf_counter() - started
    refused(r, 400, "too_many_parts")
    assert took < QUICK_S
    assert read < 20, f"{read} parts read before the refusal"
    first_read = read
    assert_untouched(before, trace(api, db))
    # thousands of file parts, too
    read = 0
    r = await api.put(
        url, content=one_part_a_chunk([("file", f"{i}.pdf", PDF) for i in range(3000)]), headers=h
    )
    refused(r, 400, "too_many_parts")
    assert read < 20, f"{read} parts read before the refusal"
    assert_untouched(before, trace(api, db))
    # and with a declared length, all parts in one body
    r = await api.put(url, content=multipart("b", parts), headers=h)
    refused(r, 400, "too_many_parts")
    assert_untouched(before, trace(api, db))
    # one part with a megabyte of headers (python-multipart bounds them)
    body = b"--b\r\nX-Junk: " + b"a" * MB + b"\r\n" + multipart("b", [("file", "a.pdf", PDF)])[5:]
    r = await api.put(url, content=body, headers=h)
    refused(r, 400, "bad_request")
    assert_untouched(before, trace(api, db))
    report(
        f"abuse ({db.dialect.name}): upload of {len(parts)} parts streamed one by one "
        f"refused (400) after {first_read} parts read, in {took * 1000:.0f} ms"
    )


# --- JSON bodies -----------------------------------------------------------------------


async def test_ten_megabyte_json(api: Api, db: Engine) -> None:
    app_id = await file_unemployment(api)
    h = {"Content-Type": "application/json"}
    applicant, officer = api.token("applicant", "citizen-a"), api.token("officer")
    before = trace(api, db)
    data = unemployment_data(household_address="深" * (10 * MB // 3))
    body = json.dumps({"region": "nanshan", "data": data}, ensure_ascii=False).encode()
    assert len(body) >= 10 * MB
    document = (await api.get("/openapi.json")).json()
    timings = []
    for path, who in (
        (SUBMIT, applicant),
        ("/api/applications/{id}/actions/withdraw", applicant),
        ("/api/applications/{id}/evaluation", applicant),
        ("/api/staff/applications/{id}/reveal", officer),
    ):
        template = re.sub(r"/(withdraw)$", "/{transition}", path)
        template = template.replace("unemployment_registration", "{matter}")
        assert "413" in document["paths"][template]["post"]["responses"], template
        url = path.replace("{id}", app_id)
        started = time.perf_counter()
        r = await api.post(url, content=body, headers={**h, **who})
        timings.append(time.perf_counter() - started)
        refused(r, 413, "too_large")
        sent = 0

        async def stream() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
            nonlocal sent
            for start in range(0, len(body), 65536):
                sent += 1
                yield body[start : start + 65536]

        started = time.perf_counter()
        r = await api.post(url, content=stream(), headers={**h, **who})
        timings.append(time.perf_counter() - started)
        refused(r, 413, "too_large")
        assert sent <= MB // 65536 + 2  # the stream is cut just past the 1 MiB limit
    assert max(timings) < QUICK_S
    assert_untouched(before, trace(api, db))
    report(
        f"abuse ({db.dialect.name}): 10 MB JSON bodies refused (413) on 4 endpoints, "
        f"declared and streamed, slowest in {max(timings) * 1000:.0f} ms"
    )


async def test_deeply_nested_json(api: Api, db: Engine) -> None:
    h = {**api.token("applicant", "citizen-a"), "Content-Type": "application/json"}
    app_id = await file_unemployment(api)
    before = trace(api, db)
    for body in (
        b"[" * 200_000 + b"]" * 200_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    ):
        refused(await api.post(SUBMIT, content=body, headers=h), 400, "too_deep")
    nested: Any = "x"
    for _ in range(40):
        nested = {"k": nested}
    for url, body_value in (
        (SUBMIT, {"region": "nanshan", "data": unemployment_data(household_address=nested)}),
        (f"/api/applications/{app_id}/actions/withdraw", {"data": nested}),
        (f"/api/applications/{app_id}/evaluation", {"score": 5, "comment": nested}),
    ):
        r = await api.post(url, content=json.dumps(body_value), headers=h)
        refused(r, 400, "too_deep")
    assert_untouched(before, trace(api, db))


async def test_json_null_body_is_not_an_absent_one(api: Api, db: Engine) -> None:
    """A step or a reveal whose optional body is the JSON literal ``null`` (not an object,
    as the document requires) is refused with 422 — it was taken as no body: the step was
    taken, the data revealed."""
    app_id = await file_unemployment(api)
    h = {"Content-Type": "application/json"}
    before = trace(api, db)
    for url, who in (
        (f"/api/applications/{app_id}/actions/accept", api.token("officer")),
        (f"/api/applications/{app_id}/actions/withdraw", api.token("applicant", "citizen-a")),
        (f"/api/staff/applications/{app_id}/reveal", api.token("officer")),
    ):
        r = await api.post(url, content=b"null", headers={**h, **who})
        refused(r, 422, "validation")
    assert_untouched(before, trace(api, db))


async def test_wrong_content_type(api: Api, db: Engine) -> None:
    h = api.token("applicant", "citizen-a")
    app_id = await file_unemployment(api)
    before = trace(api, db)
    body = json.dumps({"region": "nanshan", "data": unemployment_data()}).encode()
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=b",
        "application/xml",
        "text/json",
        "",
    ):
        r = await api.post(SUBMIT, content=body, headers={**h, "Content-Type": content_type})
        refused(r, 415, "unsupported_media_type")
    r = await api.post(
        f"/api/applications/{app_id}/evaluation",
        content=b'{"score": 5}',
        headers={**h, "Content-Type": "text/plain"},
    )
    refused(r, 415)
    r = await api.post(
        f"/api/applications/{app_id}/actions/withdraw",
        content=b"{}",
        headers={**h, "Content-Type": "text/plain"},
    )
    refused(r, 415)
    for content_type in ("application/json", "application/pdf", "multipart/form-data"):
        r = await api.put(
            f"/api/applications/{app_id}/materials/commitment_letter",
            content=PDF,
            headers={**h, "Content-Type": content_type},
        )
        refused(r, 415, "upload_media_type")
    assert_untouched(before, trace(api, db))


async def test_nul_and_surrogates_in_text(api: Api, db: Engine) -> None:
    """Strings no database stores (PostgreSQL refuses NUL) are refused before any query."""
    h = {**api.token("applicant", "citizen-a"), "Content-Type": "application/json"}
    app_id = await file_unemployment(api)
    before = trace(api, db)
    for bad in ("张\\u0000三", "\\ud800", "\\udfff\\ud800"):
        body = json.dumps({"region": "nanshan", "data": unemployment_data()})
        body = body.replace("赵六", bad).replace("\\u8d75\\u516d", bad)
        refused(await api.post(SUBMIT, content=body.encode(), headers=h), 400, "bad_text")
        body = '{"reason": "' + bad + '"}'
        url = f"/api/applications/{app_id}/actions/withdraw"
        refused(await api.post(url, content=body.encode(), headers=h), 400, "bad_text")
        body = '{"' + bad + '": 1}'
        refused(await api.post(SUBMIT, content=body.encode(), headers=h), 400, "bad_text")
    r = await api.get("/api/staff/applications?status=a%00b", headers=api.token("officer"))
    refused(r, 422, "validation")
    r = await api.get(f"/api/applications/{quote(chr(0))}", headers=h)
    refused(r, 404, "unknown_application")
    assert_untouched(before, trace(api, db))


# --- tokens and roles --------------------------------------------------------------------


def signed(settings: Settings, **changes: object) -> str:
    """A genuine applicant token, its claims changed (``None``: left out), signed as ours."""
    claims = {"sub": "x", "role": "applicant", "aud": settings.audience}
    claims |= {"exp": int(time.time()) + 600, **changes}
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, settings.secret)


def forged_tokens(api: Api) -> dict[str, dict[str, str]]:
    """Authorization headers the API must refuse with 401, by what is wrong with them."""
    settings = api.settings
    claims = {
        "sub": "forger",
        "role": "admin",
        "region": "nanshan",
        "aud": settings.audience,
        "iat": int(time.time()),
        "exp": int(time.time()) + 600,
    }
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    genuine = jwt.encode({**claims, "role": "applicant"}, SECRET, algorithm="HS256")
    head, _, signature = genuine.split(".")
    promoted = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    unsigned = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    bearer = {
        "another key": jwt.encode(
            claims, "another-secret-0123456789abcdef-0123", algorithm="HS256"
        ),
        "another key, HS512": jwt.encode(claims, "x" * 64, algorithm="HS512"),
        "RS256 with a stranger's key": jwt.encode(claims, rsa_key, algorithm="RS256"),
        "alg none": f"{unsigned}.{promoted}.",
        "claims changed after signing": f"{head}.{promoted}.{signature}",
        "expired": jwt.encode({**claims, "iat": 1, "exp": 2}, settings.secret, algorithm="HS256"),
        "another audience": jwt.encode(
            {**claims, "aud": "someone-else"}, settings.secret, algorithm="HS256"
        ),
        "not a token": "' OR 1=1 --",
        "no audience": signed(settings, aud=None),
        "no expiry": signed(settings, exp=None),
        "an unknown role": signed(settings, role="root"),
        "staff without a region": signed(settings, role="officer"),
    }
    return {what: {"Authorization": f"Bearer {token}"} for what, token in bearer.items()} | {
        "another scheme": {"Authorization": "Basic eDp5"},
        "no token": {},
    }


async def test_token_signed_with_another_key(api: Api, db: Engine) -> None:
    app_id = await file_unemployment(api)
    genuine = {"Authorization": f"Bearer {signed(api.settings)}"}
    assert (await api.get("/api/applications", headers=genuine)).status_code == 200
    before = trace(api, db)
    for what, h in forged_tokens(api).items():
        for method, url, kw in (
            ("GET", "/api/applications", {}),
            ("GET", f"/api/applications/{app_id}", {}),
            ("GET", "/api/staff/applications", {}),
            ("POST", f"/api/staff/applications/{app_id}/reveal", {}),
            ("POST", f"/api/applications/{app_id}/actions/accept", {}),
            ("POST", SUBMIT, {"json": {"region": "nanshan", "data": unemployment_data()}}),
        ):
            r = await api.client.request(method, url, headers=h, **kw)
            assert r.status_code == 401, (what, url, r.text)
            refused(r, 401, "unauthorized")
            assert r.headers["www-authenticate"] == "Bearer"
    assert_untouched(before, trace(api, db))


async def test_token_of_another_region(api: Api, db: Engine) -> None:
    app_id = await file_unemployment(api)
    r = await api.put(
        f"/api/applications/{app_id}/materials/commitment_letter",
        files={"file": ("a.pdf", PDF, "application/pdf")},
        headers=api.token("applicant", "citizen-a"),
    )
    assert r.status_code == 201
    before = trace(api, db)
    audit = api.package.tables.audit_log
    attempts = 0
    for token in (
        api.token("officer", "hz-officer", region="hangzhou"),
        api.token("supervisor", "hz-supervisor", region="hangzhou"),
        api.token("approver", "gd-approver", region="guangdong"),  # above nanshan, may not act
    ):
        for method, url in (
            ("GET", f"/api/applications/{app_id}"),
            ("POST", f"/api/applications/{app_id}/actions/accept"),
            ("POST", f"/api/staff/applications/{app_id}/reveal"),
            ("GET", f"/api/applications/{app_id}/materials/commitment_letter"),
        ):
            r = await api.client.request(method, url, headers=token)
            refused(r, 404, "unknown_application")
            attempts += 1
    after = trace(api, db)
    assert_untouched(before, after, audited=attempts)
    with db.connect() as conn:
        denied = conn.execute(
            select(audit.c.actor_sub, audit.c.application_id).where(audit.c.action == "denied")
        ).all()
    assert len(denied) == attempts
    assert {d.application_id for d in denied} == {app_id}
    detail = await api.get(
        f"/api/applications/{app_id}", headers=api.token("applicant", "citizen-a")
    )
    assert detail.json()["status"] == "submitted"
    listed = await api.get(
        "/api/staff/applications", headers=api.token("officer", region="hangzhou")
    )
    assert listed.status_code == 200 and listed.json()["total"] == 0
    nanshan = api.token("officer", "ns-officer")  # the case's own region sees it
    assert (await api.get(f"/api/applications/{app_id}", headers=nanshan)).status_code == 200


async def test_applicant_on_staff_endpoints(api: Api, db: Engine) -> None:
    app_id = await file_unemployment(api)
    own = api.token("applicant", "citizen-a")
    before = trace(api, db)
    for method, url in (
        ("GET", "/api/staff/applications"),
        ("GET", "/api/staff/stats"),
        ("POST", f"/api/staff/applications/{app_id}/reveal"),
    ):
        refused(await api.client.request(method, url, headers=own), 403, "forbidden")
    assert_untouched(before, trace(api, db))
    # the staff's steps on one's own case: refused (the role is checked before the state),
    # each audited as denied
    for step in ("accept", "reject", "complete"):
        r = await api.post(f"/api/applications/{app_id}/actions/{step}", headers=own)
        refused(r, 403, "wrong_role")
    after = trace(api, db)
    assert_untouched(before, after, audited=3)
    audit = api.package.tables.audit_log
    with db.connect() as conn:
        actions = conn.execute(
            select(audit.c.action, audit.c.actor_sub).order_by(audit.c.id.desc()).limit(3)
        ).all()
    cipher = api.client._transport.app.state.ctx.cipher  # type: ignore[attr-defined]
    citizen_a = pseudonyms(cipher, "citizen-a")[0]  # applicants are stored by pseudonym
    assert [tuple(a) for a in actions] == [("denied", citizen_a)] * 3
    detail = await api.get(f"/api/applications/{app_id}", headers=own)
    assert detail.json()["status"] == "submitted"
    # another applicant: 404 for everything, audited
    other = api.token("applicant", "citizen-b")
    start = after.rows["audit_log"]
    for method, url in (
        ("GET", f"/api/applications/{app_id}"),
        ("POST", f"/api/applications/{app_id}/actions/withdraw"),
        ("GET", f"/api/applications/{app_id}/materials/commitment_letter"),
    ):
        refused(await api.client.request(method, url, headers=other), 404)
    assert trace(api, db).rows["audit_log"] == start + 3


HOSTILE_IDS = [
    "' OR '1'='1",
    "1' OR 1=1 --",
    '"; DROP TABLE applications; --',
    "1; SELECT pg_sleep(5)",
    "%' UNION SELECT * FROM audit_log --",
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "....//....//etc",
    "%2e%2e%2f%2e%2e%2f",
    "${jndi:ldap://127.0.0.1/a}",
    "{{7*7}}",
    "<script>alert(1)</script>",
    "\u202e\u0000\ufeff",
    "440305199003070014",
    "x" * 5000,
]


@pytest.mark.parametrize("hostile", HOSTILE_IDS, ids=range(len(HOSTILE_IDS)))
async def test_hostile_ids(api: Api, db: Engine, hostile: str) -> None:
    app_id = await file_unemployment(api)
    applicant, officer = api.token("applicant", "citizen-a"), api.token("officer")
    before = trace(api, db)
    h = quote(hostile, safe="")
    for method, url, who in (
        ("GET", f"/api/applications/{h}", applicant),
        ("GET", f"/api/applications/{h}", officer),
        ("POST", f"/api/applications/{h}/actions/withdraw", applicant),
        ("POST", f"/api/applications/{h}/evaluation", applicant),
        ("POST", f"/api/staff/applications/{h}/reveal", officer),
        ("GET", f"/api/applications/{h}/materials/commitment_letter", applicant),
        ("PUT", f"/api/applications/{h}/materials/commitment_letter", applicant),
        ("GET", f"/api/applications/{app_id}/materials/{h}", applicant),
        ("POST", f"/api/applications/{app_id}/actions/{h}", officer),
        ("GET", f"/api/matters/{h}", {}),
        ("POST", f"/api/matters/{h}/applications", applicant),
        ("GET", f"/api/forms/{h}/schema", {}),
        ("GET", f"/api/codesets/{h}", {}),
    ):
        kw: dict[str, Any] = {}
        if url.endswith("/evaluation"):
            kw["json"] = {"score": 5}
        elif method == "PUT":
            kw["files"] = {"file": ("a.pdf", PDF, "application/pdf")}
        elif method == "POST" and url.endswith("/applications"):
            kw["json"] = {"region": "nanshan", "data": unemployment_data()}
        r = await api.client.request(method, url, headers=who, **kw)
        assert r.status_code in (404, 405), (method, url[:80], r.status_code, r.text[:300])
        if r.status_code == 404:
            refused(r, 404)
    for query in ("status", "matter"):
        r = await api.get(f"/api/staff/applications?{query}={h}", headers=officer)
        if "\x00" in hostile:
            refused(r, 422)
        else:
            assert r.status_code == 200 and r.json()["total"] == 0, r.text[:300]
    r = await api.get(f"/api/matters?q={h}&type={h}")
    assert r.status_code == 200
    listed = 0 if "\x00" in hostile else 2  # each staff list is audited
    assert_untouched(before, trace(api, db), audited=listed)
