"""A case keeps the rules it was filed under (services.md §1), across a regenerated package.

File cases under one package, then change the standards — a shorter promised
limit, a new required form field, a new required material — and regenerate into
the same folder, migrate and serve again on the same database: the old cases keep
their deadline, their 补正 is validated against their own form and their 受理
needs their own materials; new cases follow the new package.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from generator.pipeline import generate
from generator.render import GenerateError, json_bytes
from runtime.auth import issue_token
from runtime.migrate import upgrade
from runtime.package import PackageError, import_package, load_package
from runtime.packs import RULES, pack_name
from runtime.settings import Settings
from tests.helpers import (
    BACKENDS,
    Api,
    Browser,
    FrozenClock,
    client_of,
    edited_standards,
    execute,
    file_food,
    food_data,
    generate_package,
    hand_in,
    new_database,
    pack_documents,
    replace_once,
)

pytestmark = pytest.mark.anyio
URL = "/api/matters/food_business_license/applications"
NEW_MATERIAL = """  - id: hygiene_certificate
    name: {zh: 从业人员健康证明, en: "Staff health certificates"}
    medium: electronic
    copies: 1
    necessity: required
    source: applicant
    accept: [application/pdf]
    max_size_mb: 10
"""


def _change_standards(root: Path) -> None:
    """Promised limit 3 → 1 working day, a new required field, a new required material."""
    region = root / "regions/shenzhen.yaml"
    text = region.read_text(encoding="utf-8")
    head, block = text.split("\n  food_business_license:\n", 1)
    three = "time_limit: {promised: {value: 3, unit: working_day}}"
    assert block.index(three) < block.index("\n  public_place")  # the food licence's own
    block = block.replace(three, three.replace("3", "1"), 1)
    region.write_text(head + "\n  food_business_license:\n" + block, encoding="utf-8")
    replace_once(
        root / "national/forms/food_business_license_form.yaml",
        "      - element: business_division\n",
        "      - element: business_division\n      - element: email\n",
    )
    replace_once(
        root / "national/matters/food_business_license.yaml",
        "result:\n",
        NEW_MATERIAL + "result:\n",
    )


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with new_database(request.param, tmp_path / "rules.db", "govstd_rules") as url:
        yield url


@asynccontextmanager
async def serving(app_dir: Path, db: str, settings: Settings) -> AsyncIterator[Api]:
    """``govstd serve``: a fresh app on the package as it is now (a restart: a new process,
    so the package's modules are imported again)."""
    name = import_package(app_dir).__name__
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]
    async with client_of(app_dir, db, settings) as client:
        yield Api(client, settings, load_package(app_dir))


def _token(settings: Settings, role: str, sub: str, **claims: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings, role=role, sub=sub, **claims)}"}


async def test_old_cases_keep_their_rules_new_cases_follow_the_new_package(
    tmp_path: Path, database: str, settings: Settings, clock: FrozenClock
) -> None:
    root = edited_standards(tmp_path / "standards")
    app_dir = tmp_path / "app"
    generate_package("nanshan", app_dir, root)
    upgrade(app_dir, database)
    applicant = _token(settings, "applicant", "citizen-r")
    officer = _token(settings, "officer", "officer-r", region="nanshan")

    clock.set("2026-03-02T10:00:00")  # Monday
    async with serving(app_dir, database, settings) as api:
        accepted = await file_food(api, "citizen-r")
        await hand_in(api, accepted, applicant)
        r = await api.post(f"/api/applications/{accepted}/actions/accept", headers=officer)
        assert r.status_code == 200, r.text
        assert r.json()["deadline"] == "2026-03-05"  # 3 working days
        corrected = await file_food(api, "citizen-r")
        r = await api.post(
            f"/api/applications/{corrected}/actions/request_supplement",
            json={"reason": "经营面积有误"},
            headers=officer,
        )
        assert r.status_code == 200, r.text

    _change_standards(root)
    generate_package("nanshan", app_dir, root)
    upgrade(app_dir, database)  # govstd migrate: the new form's column
    assert len(pack_documents(app_dir, RULES)) > 5  # both versions

    clock.set("2026-03-03T10:00:00")
    async with serving(app_dir, database, settings) as api:
        # the accepted case's deadline does not move (the new limit would give 03-03)
        r = await api.get(f"/api/applications/{accepted}", headers=officer)
        assert r.json()["deadline"] == "2026-03-05"
        listed = await api.get("/api/staff/applications", headers=officer)
        assert {i["id"]: i["deadline"] for i in listed.json()["items"]}[accepted] == "2026-03-05"
        # the 补正 page shows the case's own form and materials, not the new ones
        browser = Browser(api.client, settings)
        await browser.sign_in("applicant", "citizen-r")
        page = await browser.get(f"/me/applications/{corrected}/correct")
        assert page.status_code == 200, page.text
        assert 'name="operating_area"' in page.text
        assert 'name="email"' not in page.text and "从业人员健康证明" not in page.text
        # 补正 of the old case: its own form (no email field), its own materials
        r = await api.post(
            f"/api/applications/{corrected}/actions/resubmit",
            json={"data": {"operating_area": 90}},
            headers=applicant,
        )
        assert r.status_code == 200, r.text
        uploaded = await hand_in(api, corrected, applicant)
        assert "hygiene_certificate" not in uploaded
        r = await api.post(f"/api/applications/{corrected}/actions/accept", headers=officer)
        assert r.status_code == 200, r.text
        assert r.json()["deadline"] == "2026-03-06"  # its own 3 working days
        # a new case: the new form, the new materials, the new limit
        r = await api.post(URL, json={"region": "nanshan", "data": food_data()}, headers=applicant)
        assert r.status_code == 422
        assert [f["path"] for f in r.json()["error"]["fields"]] == ["email"]
        new = await file_food(api, "citizen-r", email="li@example.com")
        assert "hygiene_certificate" in await hand_in(api, new, applicant)
        r = await api.post(f"/api/applications/{new}/actions/accept", headers=officer)
        assert r.status_code == 200, r.text
        assert r.json()["deadline"] == "2026-03-04"  # 1 working day


async def test_a_package_regenerated_over_lost_rules_refuses(tmp_path: Path) -> None:
    """The old version is kept in the rules packs and served; a rules pack of the previous
    package missing or edited: generation stops (cases need it)."""
    root = edited_standards(tmp_path / "standards")
    app_dir = tmp_path / "app"
    generate_package("nanshan", app_dir, root)
    before = pack_documents(app_dir, RULES)
    _change_standards(root)
    generate_package("nanshan", app_dir, root)
    after = pack_documents(app_dir, RULES)
    assert before.items() < after.items()  # the old versions are kept beside the new ones
    pkg = load_package(app_dir)
    current = {m.rules for r in pkg.regions.values() for m in r.matters.values()}
    superseded = sorted(set(before) - current)
    assert superseded  # the food licence's old version
    old = pkg.rules(superseded[0])  # served from its pack
    assert old is not None and "email" not in {f.id for f in old.form.fields}
    assert pkg.rules("0" * 64) is None
    pack = app_dir / pack_name(RULES, superseded[0])
    data = pack.read_bytes()
    pack.write_bytes(data.replace(b'"operating_area"', b'"operating_areb"', 1))
    with pytest.raises(GenerateError, match=r"rules/.\.jsonl \(changed\)"):
        generate([root], "nanshan", app_dir)
    pack.unlink()
    with pytest.raises(GenerateError, match=r"rules/.\.jsonl \(missing\)"):
        generate([root], "nanshan", app_dir)


async def test_rules_written_before_packs_are_carried_into_them(tmp_path: Path) -> None:
    """A package of the format before packs (``rules/<hash>.json``, one file each)
    regenerated: every version it kept is in the rules packs after."""
    root = edited_standards(tmp_path / "standards")
    app_dir = tmp_path / "app"
    generate_package("nanshan", app_dir, root)
    documents = pack_documents(app_dir, RULES)
    manifest = json.loads((app_dir / "package.json").read_text(encoding="utf-8"))
    for name in [n for n in manifest["files"] if n.startswith("rules/")]:
        (app_dir / name).unlink()
        del manifest["files"][name]
    for digest, raw in documents.items():  # as the earlier generator wrote them
        data = json_bytes(json.loads(raw))
        (app_dir / f"rules/{digest}.json").write_bytes(data)
        manifest["files"][f"rules/{digest}.json"] = hashlib.sha256(data).hexdigest()
    manifest["format"] = 1
    (app_dir / "package.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(PackageError, match="generate it again"):
        load_package(app_dir)
    _change_standards(root)
    generate_package("nanshan", app_dir, root)
    after = pack_documents(app_dir, RULES)
    assert documents.items() < after.items()
    assert not list((app_dir / "rules").glob("*.json"))
    pkg = load_package(app_dir)
    assert all(pkg.rules(digest) is not None for digest in documents)


async def test_a_case_whose_rules_are_not_in_the_package_follows_the_current_ones(
    api: Api, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Regenerated into a new folder, the package lost a version: logged, current rules."""
    app_id = await file_food(api, "citizen-s")
    apps = api.package.tables.applications
    execute(db_url, sa.update(apps).where(apps.c.id == app_id).values(rules="0" * 64))
    with caplog.at_level("WARNING", logger="govstd.runtime"):
        r = await api.get(f"/api/applications/{app_id}", headers=api.token("officer"))
    assert r.status_code == 200, r.text
    assert r.json()["checklist"]  # the current materials list
    assert any("0000000000000000" in m and "current rules" in m for m in caplog.messages)
