"""``govstd impact``: what uses a data element, a code set or a form, with locations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import make_tree, replace, run

M = "mini"


def _impact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    return run(tmp_path, monkeypatch, "impact", M, *args)


def test_an_element_through_forms_matters_bundles_policies_and_regions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path)
    code, out, _ = _impact(tmp_path, monkeypatch, "--element", "employees")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].endswith(
        "what uses data element 'employees' (mini/elements/enterprise.yaml:21:1)"
    )
    expected = [
        "mini/forms/enterprise_profile.yaml:8:9: 表单 enterprise_profile：",
        "mini/forms/ibr_form.yaml:26:9: 表单 ibr_form：字段 employees（数据元 employees） / "
        "form ibr_form: field employees (element employees)",
        "mini/matters/ibr.yaml:17:7: 事项 ibr：申请表单 ibr_form / matter ibr: form ibr_form",
        "mini/bundles/open_shop.yaml:4:11: 一件事 open_shop：事项 ibr / "
        "bundle open_shop: matter ibr",
        "mini/policies/startup.yaml:8:10: 惠企政策 startup_subsidy：画像表单 enterprise_profile，"
        "eligible 读取 employees / policy startup_subsidy: profile form enterprise_profile; "
        "eligible reads employees",
        "mini/regions/a.yaml:2:5: 区域 a：实施事项 ibr / region a: implements ibr",
        "mini/regions/c.yaml:2:5: 区域 c",
    ]
    for start in expected:
        assert any(line.startswith(start) for line in lines), f"{start}\n{out}"
    assert lines[-1].endswith("2 form(s), 1 matter(s), 1 bundle(s), 1 policy(s), 3 region(s)")


def test_a_region_that_excludes_the_matter_is_not_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path, replace("regions/c.yaml", "include: [ibr, food]", "include: [food]"))
    code, out, _ = _impact(tmp_path, monkeypatch, "--element", "employees", "--format", "json")
    assert code == 0
    result = json.loads(out)
    regions = [u["id"] for u in result["uses"] if u["kind"] == "region"]
    assert regions == ["a", "b"]
    assert result["target"] == {
        "kind": "element",
        "id": "employees",
        "location": "mini/elements/enterprise.yaml:21:1",
    }
    assert result["counts"]["region"] == 2


def test_a_code_set_through_its_elements(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path)
    code, out, _ = _impact(tmp_path, monkeypatch, "--codeset", "sex", "--format", "json")
    assert code == 0
    uses = json.loads(out)["uses"]
    assert {"kind": "element", "id": "sex"}.items() <= uses[0].items()
    assert uses[0]["location"] == "mini/elements/person.yaml:21:10"
    assert {(u["kind"], u["id"]) for u in uses} >= {("form", "ibr_form"), ("matter", "ibr")}


def test_a_form_used_as_a_policy_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path)
    code, out, _ = _impact(
        tmp_path, monkeypatch, "--form", "enterprise_profile", "--format", "json"
    )
    assert code == 0
    uses = json.loads(out)["uses"]
    assert [(u["kind"], u["id"], u["location"]) for u in uses] == [
        ("policy", "startup_subsidy", "mini/policies/startup.yaml:8:10")
    ]


def test_unknown_target_did_you_mean_and_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path)
    code, out, err = _impact(tmp_path, monkeypatch, "--element", "employes")
    assert code == 1 and out == ""
    assert "unknown data element 'employes'; did you mean 'employees'?" in err
    assert "（是否应为 'employees'？）" in err
    code, _, err = _impact(tmp_path, monkeypatch, "--element", "a", "--form", "b")
    assert code == 2
    assert "give exactly one of --element, --codeset, --form" in err
