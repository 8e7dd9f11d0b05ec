"""Data quality (issue 15 item 4) over HTTP, on SQLite and PostgreSQL: values stored, then
the standards tightened (a pattern on 经营场所, a shorter 姓名), and the report of the
tightened package finds what was stored before; one ID number given with two names."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from runtime.package import load_package
from runtime.settings import Settings
from tests.helpers import Api, client_of, edited_standards, file_food, generate_package, rows

pytestmark = pytest.mark.anyio
URL = "/api/staff/data-quality"


ADDRESS = "type: string\nformat: c..200\n---"  # business_address
NAME = "format: c..50\nsensitive: true\n---\nkind: DataElement\nid: sex"  # person_name
TIGHTEN = (
    ("national/elements/enterprise.yaml", ADDRESS, ADDRESS[:-3] + 'pattern: ".*号"\n---'),
    ("national/elements/person.yaml", NAME, NAME.replace("true\n", "true\nmax_length: 3\n")),
)


@pytest.fixture(scope="module")
def tightened_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tightened")
    return generate_package("shenzhen", root / "shenzhen", edited_standards(root / "s", *TIGHTEN))


@pytest.fixture
async def tightened(
    tightened_dir: Path, shenzhen_db: str, settings: Settings
) -> AsyncIterator[Api]:
    """The tightened package served on the same database (same tables, same revision)."""
    async with client_of(tightened_dir, shenzhen_db, settings) as client:
        yield Api(client, settings, load_package(tightened_dir))


async def test_checks_added_later_find_values_stored_before(sz: Api, tightened: Api) -> None:
    await file_food(sz, "a", business_address="深圳市南山区南头街 9 号")
    await file_food(sz, "b", business_address="深圳市南山区南头街九栋", person_name="欧阳娜娜")
    await file_food(sz, "c", person_name="李 四")  # the same person, written with a space
    await file_food(sz, "d", person_name="王二")  # the same ID number, another name
    await file_food(sz, "e", region="shenzhen", business_address="无门牌")
    before = (await sz.get(URL, headers=sz.token("supervisor", region="nanshan"))).json()
    assert all(e["failures"] == 0 for e in before["elements"])
    r = await tightened.get(URL, headers=tightened.token("data_steward", "s", region="nanshan"))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["regions"] == ["nanshan"]
    by = {e["element"]: e for e in report["elements"]}
    assert by["business_address"]["failures"] == 1
    assert by["business_address"]["failure_codes"] == {"pattern": 1}
    assert by["person_name"]["failure_codes"] == {"max_length": 1}  # decrypted to be checked
    assert by["citizen_id_number"]["conflicts"] == 1
    assert by["enterprise_name"] == {**by["enterprise_name"], "filled": 4, "empty": 0}
    assert by["agent_name"]["empty"] == 4 and by["agent_name"]["filled"] == 0
    worst = [e["element"] for e in report["elements"][:3]]
    assert sorted(worst) == ["business_address", "citizen_id_number", "person_name"]
    (example,) = report["conflict_examples"]
    assert example["element"] == "citizen_id_number" and len(example["applications"]) == 4
    assert example["identifier"] == "4403**********0014"
    assert "440305199003070014" not in r.text and "王二" not in r.text  # masked
    assert sorted(example["names"]) == sorted(["*四", "欧**娜", "*二"])  # 李四 = 李 四
    tree = await tightened.get(URL, headers=tightened.token("supervisor", region="shenzhen"))
    assert tree.json()["regions"] == ["shenzhen", "nanshan"]
    sz_rows = [e for e in tree.json()["elements"] if e["region"] == "shenzhen"]
    assert {e["element"]: e["failures"] for e in sz_rows}["business_address"] == 1
    assert len(rows(sz, "audit_log", action="list")) == 3


async def test_who_may_read_the_report(sz: Api) -> None:
    steward = sz.token("data_steward", "s", region="nanshan")
    assert (await sz.get(URL, headers=steward)).status_code == 200
    assert (await sz.get(URL, params={"region": "shenzhen"}, headers=steward)).status_code == 403
    nanshan_sup = sz.token("supervisor", region="nanshan")
    r = await sz.get(URL, params={"region": "shenzhen"}, headers=nanshan_sup)
    assert r.status_code == 403
    assert (await sz.get(URL, headers=sz.token("officer", region="nanshan"))).status_code == 403
    assert (await sz.get(URL, headers=sz.token("applicant", "a"))).status_code == 403
    assert (await sz.get(URL)).status_code == 401
    r = await sz.get(URL, params={"region": "atlantis"}, headers=steward)
    assert r.status_code == 422
