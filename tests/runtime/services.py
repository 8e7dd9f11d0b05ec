"""Helpers of the bundle and policy tests: combined data, and a tree where not every
region offers every member and the policies differ in regions and dates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from runtime.package import load_package
from runtime.settings import Settings
from tests.helpers import (
    Api,
    client_of,
    create_schema,
    edited_standards,
    food_data,
    generate_package,
    ibr_data,
)


def restaurant_data(**overrides: Any) -> dict[str, Any]:
    """The combined data of ``open_restaurant``: every member's fields, each asked once."""
    data = {**food_data(), **ibr_data(), "enterprise_name": "南山小馆"}
    data.update(
        {
            "public_place_category": "09",
            "health_certified_staff": 2,
            "uses_central_ac": False,
        }
    )
    data.update(overrides)
    return data


POLICIES = {
    # in force from the day after the tests' "now" (2026-03-02 CST) — see test_policies
    "later.yaml": """kind: Policy
id: later_2026
name: {zh: 稍后生效的政策, en: "A later policy"}
issuer: {zh: 深圳市人力资源和社会保障局}
regions: [shenzhen]
valid: {from: 2026-03-03, to: 2026-12-31}
profile: enterprise_profile
eligible: "employees >= 1"
benefit: {zh: 示例}
apply: startup_subsidy
""",
    "expired.yaml": """kind: Policy
id: expired_2026
name: {zh: 已过期的政策, en: "An expired policy"}
issuer: {zh: 广东省人力资源和社会保障厅}
regions: [guangdong]
valid: {from: 2026-01-01, to: 2026-03-01}
profile: enterprise_profile
eligible: "employees >= 1"
benefit: {zh: 示例}
apply: startup_subsidy
""",
}


def services_tree(root: Path) -> Path:
    """The bundled standards, except: 南山 does not implement the public place health licence
    (so 开餐馆 is offered in 深圳 only), the start-up subsidy is issued by 深圳 (in force in
    南山 below it), plus a later and an expired policy; the profile asks a sensitive field."""
    members = ", food_business_license, public_place_health_license]"
    tree = edited_standards(
        root / "standards",
        ("regions/nanshan.yaml", members, ", food_business_license]"),
        (
            "national/policies/startup_subsidy_2026.yaml",
            "regions: [nanshan]",
            "regions: [shenzhen]",
        ),
    )
    profile = tree / "national" / "forms" / "enterprise_profile.yaml"
    profile.write_text(
        profile.read_text(encoding="utf-8")
        + "      - element: legal_representative_name\n        required: false\n",
        encoding="utf-8",
    )
    for name, content in POLICIES.items():
        (tree / "national" / "policies" / name).write_text(content, encoding="utf-8")
    return tree


def services_package(root: Path) -> Path:
    """The 深圳 package (深圳, 南山) of :func:`services_tree`."""
    out = root / "shenzhen"
    generate_package("shenzhen", out, services_tree(root))
    return out


async def serve(app_dir: Path, url: str, settings: Settings) -> AsyncIterator[Api]:
    package = load_package(app_dir)
    create_schema(app_dir, package, url)
    async with client_of(app_dir, url, settings) as client:
        yield Api(client, settings, package)


CREDIT_CODE = "914403001318609160"


def claim_data(**overrides: Any) -> dict[str, Any]:
    """What a start-up subsidy claim adds to the profile (bank account, category…)."""
    return {
        "mobile_phone": "13812345678",
        "entrepreneur_category": "2",
        "unified_social_credit_code": CREDIT_CODE,
        "established_date": "2025-06-01",
        "industry_code": "H",
        "insured_employees": 3,
        "bank_account_name": "南山小馆",
        "bank_name": "中国银行深圳南山支行",
        "bank_account": "6217000000000001",
        "subsidy_amount": 10000,
        "previously_subsidized": False,
    } | overrides


def profile_data(**overrides: Any) -> dict[str, Any]:
    """A 南山 start-up that fits the start-up subsidy (employees ≥ 3, founded < 3 years)."""
    return {
        "enterprise_name": "南山小馆",
        "service_object": "2",
        "industry_code": "H",
        "enterprise_scale": "4",
        "business_division": "440305",
        "established_date": "2025-06-01",
        "established_days": 274,
        "employees": 5,
        "insured_employees": 3,
        "registered_capital": 10,
    } | overrides
