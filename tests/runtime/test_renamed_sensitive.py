"""Renaming never loses a sensitive value (generator/render/sealing.py, runtime/records.py).

A sensitive value is sealed with its column as associated data. The newer package renames
the data element ``mobile_phone`` (→ ``mobile_number``: the column of every form using it),
the operator's ID number field of the 个体工商户 form (→ ``operator_id_number``) and the
form itself (→ ``ibr_application``: its table and its group table ``members``). After
``govstd migrate`` the case filed before reads back the same values for its applicant, a
staff reveal shows them, the applicant still finds the case in their list, a case filed
on the newer package reads back too, and after a downgrade the older package reads both.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from runtime import migrate
from runtime.auth import issue_token
from runtime.package import load_package
from runtime.settings import Settings
from tests.helpers import (
    BACKENDS,
    ID_A,
    ID_B,
    client_of,
    edited_standards,
    generate_package,
    ibr_data,
    new_database,
    query,
)

pytestmark = pytest.mark.anyio

PHONE = "13812345678"


def _renamed_standards(root: Path) -> None:
    """The bundled standards with the three renames of the module docstring."""
    operator = "      - element: citizen_id_number\n        label: {zh: 经营者公民身份号码"
    ibr = "national/forms/ibr_form.yaml"
    edited_standards(
        root,
        (
            "national/elements/contact.yaml",
            "id: mobile_phone\n",
            "id: mobile_number\nrenamed_from: [mobile_phone]\n",
        ),
        (
            ibr,
            operator,
            "      - id: operator_id_number\n        element: citizen_id_number\n"
            "        renamed_from: [citizen_id_number]\n        label: {zh: 经营者公民身份号码",
        ),
        (ibr, "id: ibr_form\n", "id: ibr_application\nrenamed_from: [ibr_form]\n"),
        ("national/matters/ibr.yaml", "form: ibr_form\n", "form: ibr_application\n"),
    )
    users = 0
    for form in (root / "national/forms").glob("*.yaml"):
        text_ = form.read_text(encoding="utf-8")
        if "element: mobile_phone\n" in text_:
            users += 1
            form.write_text(
                text_.replace("element: mobile_phone\n", "element: mobile_number\n"),
                encoding="utf-8",
            )
    assert users >= 2  # the element's columns are renamed in several forms


@pytest.fixture(scope="module")
def renamed_package(package_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's package folder regenerated from the renamed standards."""
    folder = tmp_path_factory.mktemp("renamed")
    _renamed_standards(folder / "standards")
    app = folder / "nanshan"
    shutil.copytree(package_dir, app, ignore=shutil.ignore_patterns("__pycache__"))
    generate_package("nanshan", app, folder / "standards")
    [_, second] = sorted((app / "migrations/versions").glob("*.py"))
    step = second.read_text(encoding="utf-8")
    assert (
        'new_column_name="mobile_number"' in step
        and "drop_column" not in step.split("def downgrade")[0]
    )
    return app


@pytest.fixture(params=BACKENDS)
def own_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own (it is migrated to and fro)."""
    with new_database(request.param, tmp_path / "govstd.db", "govstd_renamed") as url:
        yield url


class Client:
    def __init__(self, client: httpx.AsyncClient, settings: Settings) -> None:
        self.http = client
        self.settings = settings

    def token(self, role: str, sub: str) -> dict[str, str]:
        region = None if role == "applicant" else "nanshan"
        signed = issue_token(self.settings, role=role, sub=sub, region=region)
        return {"Authorization": f"Bearer {signed}"}


@asynccontextmanager
async def served(app_dir: Path, url: str, settings: Settings) -> AsyncIterator[Client]:
    async with client_of(app_dir, url, settings) as c:
        yield Client(c, settings)


async def _file(client: Client, phone: str, *, renamed: bool) -> str:
    data = ibr_data(
        mobile_phone=phone,
        organization_form="2",
        employees=3,
        members=[{"person_name": "张小三", "citizen_id_number": ID_B, "kinship": "20"}],
    )
    if renamed:
        data["mobile_number"] = data.pop("mobile_phone")
        data["operator_id_number"] = data.pop("citizen_id_number")
    r = await client.http.post(
        "/api/matters/ibr/applications",
        json={"region": "nanshan", "data": data},
        headers=client.token("applicant", "citizen-a"),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _values(data: dict[str, Any], *, renamed: bool) -> tuple[Any, ...]:
    phone = data["mobile_number" if renamed else "mobile_phone"]
    id_number = data["operator_id_number" if renamed else "citizen_id_number"]
    return phone, id_number, data["members"][0]["citizen_id_number"]


async def _read_back(client: Client, case: str, phone: str, *, renamed: bool) -> None:
    """The applicant's view, the list, the masked staff view and the reveal."""
    applicant = client.token("applicant", "citizen-a")
    own = await client.http.get(f"/api/applications/{case}", headers=applicant)
    assert own.status_code == 200, own.text
    assert _values(own.json()["data"], renamed=renamed) == (phone, ID_A, ID_B)
    listed = await client.http.get("/api/applications", headers=applicant)
    assert listed.status_code == 200, listed.text
    assert case in [item["id"] for item in listed.json()["items"]]
    officer = client.token("officer", "officer-1")
    masked = await client.http.get(f"/api/applications/{case}", headers=officer)
    assert masked.status_code == 200, masked.text
    assert _values(masked.json()["data"], renamed=renamed) == (
        phone[:3] + "****" + phone[-4:],
        ID_A[:4] + "*" * 10 + ID_A[-4:],
        ID_B[:4] + "*" * 10 + ID_B[-4:],
    )
    revealed = await client.http.post(
        f"/api/staff/applications/{case}/reveal", json={"reason": "核验身份"}, headers=officer
    )
    assert revealed.status_code == 200, revealed.text
    assert _values(revealed.json()["data"], renamed=renamed) == (phone, ID_A, ID_B)


async def test_a_renamed_sensitive_field_keeps_its_values(
    package_dir: Path, renamed_package: Path, own_db: str, settings: Settings
) -> None:
    migrate.upgrade(package_dir, own_db)
    async with served(package_dir, own_db, settings) as client:
        before = await _file(client, PHONE, renamed=False)
        await _read_back(client, before, PHONE, renamed=False)

    migrate.upgrade(renamed_package, own_db)
    tables = load_package(renamed_package).tables
    [row] = query(own_db, select(tables.forms["ibr_application"]))  # the same ciphertext
    assert row.mobile_number.startswith("v1.") and row.operator_id_number.startswith("v1.")
    async with served(renamed_package, own_db, settings) as client:
        await _read_back(client, before, PHONE, renamed=True)
        after = await _file(client, "13900002222", renamed=True)
        await _read_back(client, after, "13900002222", renamed=True)

    migrate.downgrade(renamed_package, own_db, "-1")  # the older package reads both
    async with served(package_dir, own_db, settings) as client:
        await _read_back(client, before, PHONE, renamed=False)
        await _read_back(client, after, "13900002222", renamed=False)
