"""Form validation: one submission of a typical form, next to a hand-written baseline.

What ``POST /api/matters/{matter}/applications`` runs on ``data``:
:func:`runtime.validation.validate_submission` on the 深圳 package's 个体工商户登记
form (17 fields, a repeating group of family members with a ``when``, four CEL rules),
for a valid submission with two member rows and for one with three errors. The
baseline is the same form checked by hand, as a careful developer would write it
for this one form: plain ``if`` statements, Python's ``re``, the same identifier
checks (:mod:`runtime.identifiers`), the rules as Python expressions, the same
cleaned values and Chinese messages; no CEL, no spec, nothing general.

Printed: µs per validation (median of repeats) and the ratio to the baseline.
Run under ``/work/bin/heavy`` on a shared machine:

    python bench/form_validation_bench.py [--number 2000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load_bench import BODY  # noqa: E402
from runtime import identifiers  # noqa: E402
from runtime.package import load_package  # noqa: E402
from runtime.validation import validate_submission  # noqa: E402

TODAY = date(2026, 3, 1)
VALID: dict[str, Any] = {  # load_bench's submission, with an agent and two members
    **BODY["data"],
    "operating_area": "35.5",
    "agent_used": True,
    "agent_name": "王五",
    "agent_id_number": "440882198503293017",
    "members": [
        {"person_name": "李四", "citizen_id_number": "310115197806150038", "kinship": "10"},
        {"person_name": "李小", "citizen_id_number": "11010519491231002X", "kinship": "20"},
    ],
}
INVALID: dict[str, Any] = {
    **VALID,
    "mobile_phone": "1381234567",  # too short
    "employees": "3",  # not an integer
    "members": [{**VALID["members"][0], "kinship": "99"}, VALID["members"][1]],
}


# --- the baseline: this one form by hand ------------------------------------------------

_LETTERS_DIGITS = re.compile(r"[^\W_]*")
_DIGITS = re.compile(r"[0-9]*")
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
KINSHIP = frozenset({"10", "20", "30", "51", "52", "70"})


def baseline(data: dict[str, Any], divisions: frozenset[str]) -> tuple[dict[str, Any], list[str]]:
    """The ibr_form's checks written out for this form only: (cleaned, messages)."""
    out: dict[str, Any] = {}
    errors: list[str] = []

    def text(key: str, label: str, low: int, high: int, required: bool = True) -> str | None:
        raw = data.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                errors.append(f"{label}不能为空")
            return None
        if not isinstance(raw, str):
            errors.append(f"{label}应为文本")
            return None
        value = raw.strip()
        if len(value) > high:
            errors.append(f"{label}不能超过{high}个字符")
        elif len(value) < low:
            errors.append(f"{label}不能少于{low}个字符")
        else:
            out[key] = value
            return value
        return None

    def citizen_id(row: dict[str, Any], key: str, label: str, into: dict[str, Any]) -> None:
        raw = row.get(key)
        if not isinstance(raw, str) or not raw.strip():
            errors.append(f"{label}不能为空")
            return
        value = raw.strip()
        problem = identifiers.check_gb11643(value, today=TODAY)
        if problem is not None:
            errors.append(identifiers.MESSAGES[problem]["zh-CN"])
        elif _LETTERS_DIGITS.fullmatch(value) is None:
            errors.append(f"{label}的格式不正确")
        else:
            into[key] = identifiers.normalize_gb11643(value)

    def code(key: str, label: str, allowed: frozenset[str]) -> str | None:
        raw = data.get(key)
        if not isinstance(raw, str) or raw.strip() not in allowed:
            errors.append(f"{label}不是允许的代码")
            return None
        out[key] = raw.strip()
        return raw.strip()

    def decimal(key: str, label: str, whole: int, required: bool) -> Decimal | None:
        raw = data.get(key)
        if raw is None or raw == "":
            if required:
                errors.append(f"{label}不能为空")
            return None
        if type(raw) is int:
            value = Decimal(raw)
        elif isinstance(raw, str) and _DECIMAL.fullmatch(raw.strip()):
            value = Decimal(raw.strip())
        else:
            errors.append(f"{label}应为数值")
            return None
        int_part, _, frac = format(value, "f").lstrip("-").partition(".")
        if len(frac.rstrip("0")) > 2 or len(int_part.lstrip("0")) > whole:
            errors.append(f"{label}最多{whole}位整数、2位小数")
        elif value < 0:
            errors.append(f"{label}不能小于0")
        else:
            out[key] = value
            return value
        return None

    for key in data:
        if key not in FIELDS:
            errors.append(f"表单中没有字段“{key}”")
    text("person_name", "姓名", 0, 50)
    citizen_id(data, "citizen_id_number", "公民身份号码", out)
    phone = text("mobile_phone", "手机号码", 11, 11)
    if phone is not None and identifiers.check_mobile_cn(phone) is not None:
        errors.append(identifiers.MESSAGES["mobile_cn.format"]["zh-CN"])
    email = text("email", "电子邮箱", 0, 100, required=False)
    if email is not None and identifiers.check_email(email) is not None:
        errors.append(identifiers.MESSAGES["email.format"]["zh-CN"])
    text("residence_address", "居住地址", 0, 200)
    text("enterprise_name", "个体工商户名称", 0, 50, required=False)
    form = code("organization_form", "组成形式", frozenset({"1", "2"}))
    text("business_scope", "经营范围", 0, 1000)
    text("business_address", "经营场所", 0, 200)
    division = data.get("business_division")
    if isinstance(division, str) and division in divisions:
        out["business_division"] = division
    else:
        errors.append("经营场所所在行政区划不是允许的代码")
    code("premises_ownership", "经营场所产权", frozenset({"1", "2", "3"}))
    decimal("operating_area", "经营面积", 8, required=False)
    capital = decimal("registered_capital", "资金数额", 10, required=True)
    employees = data.get("employees")
    if type(employees) is not int:
        errors.append("从业人数应为整数")
        employees = None
    elif employees < 0:
        errors.append("从业人数不能小于0")
    else:
        out["employees"] = employees
    agent = data.get("agent_used")
    if agent is True or agent is False:
        out["agent_used"] = agent
    else:
        errors.append("是否委托代理人应为是或否（true 或 false）")
    if agent is True:
        text("agent_name", "代理人姓名", 0, 50)
        citizen_id(data, "agent_id_number", "代理人身份证号码", out)
    members: list[dict[str, Any]] = []
    if form == "2":
        rows = data.get("members") or []
        if not isinstance(rows, list) or len(rows) > 10:
            errors.append("家庭成员最多可填写10行")
            rows = []
        for row in rows:
            cleaned: dict[str, Any] = {}
            name = row.get("person_name")
            if isinstance(name, str) and 0 < len(name.strip()) <= 50:
                cleaned["person_name"] = name.strip()
            else:
                errors.append("姓名不能为空")
            citizen_id(row, "citizen_id_number", "公民身份号码", cleaned)
            if row.get("kinship") in KINSHIP:
                cleaned["kinship"] = row["kinship"]
            else:
                errors.append("与经营者关系不是允许的代码")
            members.append(cleaned)
        out["members"] = members
    if capital is not None and capital <= 0:
        errors.append("资金数额必须大于零")
    if employees is not None and employees < 1:
        errors.append("从业人数应包含经营者本人，至少为 1 人")
    if form == "2" and not members:
        errors.append("家庭经营的，应至少填写一名参加经营的家庭成员")
    if form == "2" and employees is not None and employees < len(members) + 1:
        errors.append("从业人数不能少于经营者与参加经营的家庭成员人数之和")
    return out, errors


FIELDS = frozenset(
    [*VALID, "email", "enterprise_name"],
)


# --- timing ------------------------------------------------------------------------------


def per_call(fn: Callable[[], object], number: int, repeat: int) -> float:
    """Median µs per call over ``repeat`` runs of ``number`` calls."""
    fn()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    pkg = load_package(ROOT / "generated" / "shenzhen")
    form = pkg.forms["ibr_form"]
    divisions = form.field_map["business_division"].code_set or frozenset()
    for name, data, errors in (("valid", VALID, 0), ("3 errors", INVALID, 3)):
        cleaned, problems = validate_submission(form, data, today=TODAY)
        assert len(problems) == errors, problems
        hand, hand_problems = baseline(data, divisions)
        assert len(hand_problems) == errors, hand_problems
        if not errors:
            assert hand == cleaned, (hand, cleaned)
        ours = per_call(partial(validate_submission, form, data, today=TODAY), **vars(args))
        base = per_call(partial(baseline, data, divisions), **vars(args))
        print(
            f"ibr_form, {name:8}  validate_submission {ours:7.1f} µs   "
            f"hand-written {base:6.1f} µs   ratio {ours / base:4.2f}"
        )


if __name__ == "__main__":
    main()
