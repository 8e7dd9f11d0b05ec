"""Masking for staff, encryption at rest, audited reveal."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, update
from typer.testing import CliRunner

from runtime.cli import app as cli
from runtime.identifiers import mask
from tests.helpers import (
    DATA_KEY,
    ID_A,
    ID_AGENT,
    ID_B,
    Api,
    all_tables,
    hand_in,
    ibr_data,
    query,
    unemployment_data,
)

pytestmark = pytest.mark.anyio
ID18 = re.compile(r"\d{17}[\dX]")


async def _family_business(api: Api) -> str:
    data = ibr_data(
        organization_form="2",
        employees=3,
        members=[{"person_name": "张小三", "citizen_id_number": ID_B, "kinship": "20"}],
        agent_used=True,
        agent_name="代理人",
        agent_id_number=ID_AGENT,
        email="zhang@example.com",
    )
    return await api.file("ibr", data)


async def test_staff_see_masked_values_everywhere(api: Api) -> None:
    app_id = await _family_business(api)
    await hand_in(api, app_id, api.token("applicant", "citizen-a"))
    officer = api.token("officer", "officer-1")
    responses = [
        await api.get(f"/api/applications/{app_id}", headers=officer),
        await api.get("/api/staff/applications", headers=officer),
        await api.get("/api/staff/stats", headers=officer),
        await api.post(f"/api/applications/{app_id}/actions/accept", headers=officer),
        await api.get(f"/api/applications/{app_id}", headers=api.token("supervisor", "s")),
    ]
    for r in responses:
        assert r.status_code == 200, r.text
        assert not ID18.search(r.text), r.text
        assert "13812345678" not in r.text and "张三" not in r.text
    data = responses[0].json()["data"]
    assert data["citizen_id_number"] == "4403**********0014"
    assert data["mobile_phone"] == "138****5678"
    assert data["members"][0]["citizen_id_number"] == "3101**********0038"
    assert data["agent_id_number"].startswith("4408") and "*" in data["agent_id_number"]
    assert data["business_scope"] == "零售：日用百货"  # not sensitive

    own = await api.get(f"/api/applications/{app_id}", headers=api.token("applicant", "citizen-a"))
    assert own.json()["data"]["citizen_id_number"] == ID_A
    assert own.json()["data"]["members"][0]["citizen_id_number"] == ID_B


async def test_reveal_is_audited(api: Api, db_url: str) -> None:
    app_id = await _family_business(api)
    officer = api.token("officer", "officer-1")
    r = await api.post(
        f"/api/staff/applications/{app_id}/reveal", json={"reason": "核验身份"}, headers=officer
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["citizen_id_number"] == ID_A
    applicant_reveal = await api.post(
        f"/api/staff/applications/{app_id}/reveal", headers=api.token("applicant", "citizen-a")
    )
    assert applicant_reveal.status_code == 403
    audit = api.package.tables.audit_log
    rows = query(db_url, select(audit).where(audit.c.action == "reveal"))
    everything = " ".join(json.dumps([str(v) for v in r]) for r in query(db_url, select(audit)))
    assert len(rows) == 1
    assert rows[0].actor_sub == "officer-1" and rows[0].application_id == app_id
    assert "citizen_id_number" in rows[0].detail
    assert rows[0].request_id
    assert not ID18.search(everything)


async def test_reveal_needs_a_reason_of_1_to_200_characters(api: Api, db_url: str) -> None:
    app_id = await _family_business(api)
    officer = api.token("officer", "officer-1")
    url = f"/api/staff/applications/{app_id}/reveal"
    for body in (
        None,
        {},
        {"reason": None},
        {"reason": ""},
        {"reason": "   "},
        {"reason": "因" * 201},
        {"reason": 7},
    ):
        r = await api.post(url, headers=officer, **({} if body is None else {"json": body}))
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"]["fields"][0]["path"] == "reason", r.text
        assert ID_A not in r.text
    r = await api.post(url, json={"reason": "核" * 200}, headers=officer)
    assert r.status_code == 200, r.text
    audit = api.package.tables.audit_log
    rows = query(db_url, select(audit).where(audit.c.action == "reveal"))
    assert len(rows) == 1  # the refused attempts revealed nothing
    assert json.loads(rows[0].detail)["reason"] == "核" * 200


async def test_database_holds_ciphertext(api: Api, db_url: str) -> None:
    await _family_business(api)
    [row] = query(db_url, select(api.package.tables.forms["ibr_form"]))
    assert row.citizen_id_number.startswith("v1.")
    assert row.business_scope == "零售：日用百货"
    if db_url.startswith("sqlite:///"):
        api.client._transport.app.state.ctx.engine.dispose()  # type: ignore[attr-defined]
        path = Path(db_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        for secret in (ID_A, ID_B, ID_AGENT, "13812345678", "zhang@example.com"):
            assert secret.encode() not in raw
            assert secret.encode("utf-16-le") not in raw


def _everything_stored(db_url: str, api: Api) -> str:
    """Every row of every table, as text."""
    return "\n".join(
        json.dumps([str(v) for v in row], ensure_ascii=False)
        for table in all_tables(api.package).sorted_tables
        for row in query(db_url, select(table))
    )


async def _applicant_history(api: Api, login: str) -> str:
    """Two cases of the applicant ``login``: one filed with a material, withdrawn and
    rated; one filed with an Idempotency-Key. Returns the first one's id."""
    applicant = api.token("applicant", login)
    url = "/api/matters/unemployment_registration/applications"
    body = {"region": "nanshan", "data": unemployment_data()}
    r = await api.post(url, json=body, headers=applicant)
    assert r.status_code == 201, r.text
    app_id = str(r.json()["id"])
    pdf = b"%PDF-1.7\n" + b"0" * 100
    r = await api.put(
        f"/api/applications/{app_id}/materials/commitment_letter",
        files={"file": ("a.pdf", pdf, "application/pdf")},
        headers=applicant,
    )
    assert r.status_code == 201, r.text
    r = await api.post(f"/api/applications/{app_id}/actions/withdraw", headers=applicant)
    assert r.status_code == 200, r.text
    r = await api.post(
        f"/api/applications/{app_id}/evaluation", json={"score": 5}, headers=applicant
    )
    assert r.status_code == 201, r.text
    r = await api.post(url, json=body, headers={**applicant, "Idempotency-Key": "k-1"})
    assert r.status_code == 201, r.text
    return app_id


async def test_the_applicants_login_id_is_neither_shown_to_staff_nor_stored(
    api: Api, db_url: str
) -> None:
    login = ID_A  # a login id that is an ID number
    app_id = await _applicant_history(api, login)
    applicant = api.token("applicant", login)
    own = await api.get("/api/applications", headers=applicant)
    assert own.json()["total"] == 2  # lookups by owner still work
    assert (await api.get(f"/api/applications/{app_id}", headers=applicant)).status_code == 200
    stranger = await api.get(f"/api/applications/{app_id}", headers=api.token("applicant", "b"))
    assert stranger.status_code == 404

    officer, supervisor = api.token("officer", "officer-1"), api.token("supervisor", "sup-1")
    staff_views = [
        await api.get(f"/api/applications/{app_id}", headers=officer),
        await api.get(f"/api/applications/{app_id}", headers=supervisor),
        await api.get("/api/staff/applications", headers=officer),
        await api.get("/api/staff/stats", headers=officer),
        await api.post(
            f"/api/staff/applications/{app_id}/reveal", json={"reason": "核验"}, headers=officer
        ),
        await api.get(f"/api/applications/{app_id}/materials/commitment_letter", headers=officer),
    ]
    for r in staff_views:
        assert r.status_code == 200, r.text
        seen = r.text + json.dumps(dict(r.headers))
        assert login not in seen and mask(login) not in seen, r.text
    detail = staff_views[0].json()
    shown = detail["applicant"]
    assert re.fullmatch(r"[0-9a-f]{12}", shown), shown
    assert [(t["transition"], t["actor"]) for t in detail["transitions"]] == [
        ("submit", shown),
        ("withdraw", shown),
    ]
    listed = staff_views[2].json()["items"]
    assert {i["applicant"] for i in listed} == {shown}

    stored = _everything_stored(db_url, api)
    assert login not in stored
    assert "officer-1" in stored  # staff stay named in the audit log
    if db_url.startswith("sqlite:///"):
        api.client._transport.app.state.ctx.engine.dispose()  # type: ignore[attr-defined]
        path = Path(db_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert login.encode() not in raw


async def test_migrate_replaces_login_ids_stored_before_pseudonyms(
    api: Api, db_url: str, package_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    login = ID_A
    app_id = await _applicant_history(api, login)
    tables = api.package.tables
    engine = create_engine(db_url)
    with engine.begin() as conn:  # as an earlier version stored them
        for table, column in (
            (tables.applications, "applicant_sub"),
            (tables.evaluations, "applicant_sub"),
            (tables.idempotency_keys, "applicant_sub"),
            (tables.material_files, "uploaded_by"),
        ):
            conn.execute(update(table).values({column: login}))
        for table in (tables.transitions, tables.audit_log):
            conn.execute(
                update(table).where(table.c.actor_role == "applicant").values(actor_sub=login)
            )
    engine.dispose()
    applicant = api.token("applicant", login)
    assert login in _everything_stored(db_url, api)
    assert (await api.get("/api/applications", headers=applicant)).json()["total"] == 0

    monkeypatch.setenv("GOVSTD_DATA_KEY", DATA_KEY)
    result = CliRunner().invoke(cli, ["migrate", "--app", str(package_dir), "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "pseudonyms" in result.output and "假名" in result.output
    assert login not in _everything_stored(db_url, api)
    assert (await api.get("/api/applications", headers=applicant)).json()["total"] == 2
    assert (await api.get(f"/api/applications/{app_id}", headers=applicant)).status_code == 200
    again = CliRunner().invoke(cli, ["migrate", "--app", str(package_dir), "--db", db_url])
    assert again.exit_code == 0 and "pseudonyms" not in again.output
