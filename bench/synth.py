"""A synthetic, valid standards tree of N matters, for benchmarks.

Run: ``.venv/bin/python bench/synth.py OUT --matters 2000`` (OUT should be empty
or absent). Importable: :func:`write_tree` writes the tree, :func:`matter_id`
names the i-th matter (0-based).

What is written (deterministic: the same arguments give the same bytes):

* ``codesets/common.yaml`` — matter_type (01..10, 20), service_object (1..6, 9),
  exercise_level, material_type, online_depth, sex, org_form, education,
  admin_division (the two region codes);
* ``workflows/licensing.yaml`` — the licensing workflow of the spec;
* ``calendars/cn_2026.yaml`` — the 2026 holidays and make-up working days;
* per matter ``elements/M.yaml`` (its own data elements, one per field: text
  ``c..50``, one GB 11643 citizen id (sensitive), integer, decimal ``n..12,2``,
  date, code over a code set, boolean, in turn), ``forms/M.yaml`` (two sections,
  some forms with a section ``when``, field ``when``/``required`` expressions,
  a repeating group and rules) and ``matters/M.yaml``;
* ``regions/province.yaml`` (root, all matters) and ``regions/city.yaml``
  (child: overrides the promised limit of a few matters, removes one material
  and adds another);
* with 2 or more matters, one bundle and one policy.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_FIELDS", "matter_id", "overridden_matters", "write_tree"]

DEFAULT_FIELDS = 20
SHARED_SETS = 5  # with shared=True: the forms' data elements come from this many sets

MATTER_TYPES = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "20"]
SERVICE_OBJECTS = ["1", "2", "3", "4", "5", "6", "9"]

# The code sets every tree shares, as written to codesets/common.yaml (admin_division,
# made from REGIONS, follows them).
CODESETS_YAML = """\
kind: CodeSet
id: matter_type
name: {zh: "事项类型", en: "Matter type"}
values:
  - {code: "01", name: {zh: "行政许可", en: "Administrative licensing"}}
  - {code: "02", name: {zh: "行政处罚", en: "Administrative penalty"}}
  - {code: "03", name: {zh: "行政强制", en: "Administrative enforcement"}}
  - {code: "04", name: {zh: "行政征收", en: "Administrative levy"}}
  - {code: "05", name: {zh: "行政给付", en: "Administrative benefit payment"}}
  - {code: "06", name: {zh: "行政检查", en: "Administrative inspection"}}
  - {code: "07", name: {zh: "行政确认", en: "Administrative confirmation"}}
  - {code: "08", name: {zh: "行政奖励", en: "Administrative reward"}}
  - {code: "09", name: {zh: "行政裁决", en: "Administrative adjudication"}}
  - {code: "10", name: {zh: "其他行政权力", en: "Other administrative power"}}
  - {code: "20", name: {zh: "公共服务", en: "Public service"}}
---
kind: CodeSet
id: service_object
name: {zh: "服务对象", en: "Service object"}
values:
  - {code: "1", name: {zh: "自然人", en: "Natural person"}}
  - {code: "2", name: {zh: "企业法人", en: "Enterprise legal person"}}
  - {code: "3", name: {zh: "事业法人", en: "Public institution legal person"}}
  - {code: "4", name: {zh: "社会组织法人", en: "Social organization legal person"}}
  - {code: "5", name: {zh: "非法人企业", en: "Unincorporated enterprise"}}
  - {code: "6", name: {zh: "行政机关", en: "Administrative organ"}}
  - {code: "9", name: {zh: "其他组织", en: "Other organization"}}
---
kind: CodeSet
id: exercise_level
name: {zh: "行使层级", en: "Exercise level"}
values:
  - {code: "1", name: {zh: "国家级", en: "National"}}
  - {code: "2", name: {zh: "省级", en: "Provincial"}}
  - {code: "3", name: {zh: "市级", en: "Municipal"}}
  - {code: "4", name: {zh: "县级", en: "County"}}
---
kind: CodeSet
id: material_type
name: {zh: "材料类型", en: "Material type"}
values:
  - {code: "1", name: {zh: "证件证书证明", en: "Certificate or proof"}}
  - {code: "2", name: {zh: "申请表格文书", en: "Application form or document"}}
  - {code: "3", name: {zh: "其他", en: "Other"}}
---
kind: CodeSet
id: online_depth
name: {zh: "网上办理深度", en: "Depth of online handling"}
values:
  - {code: "1", name: {zh: "互联网咨询", en: "Online consultation"}}
  - {code: "2", name: {zh: "互联网收件", en: "Online submission"}}
  - {code: "3", name: {zh: "互联网预审", en: "Online pre-review"}}
  - {code: "4", name: {zh: "互联网受理", en: "Online acceptance"}}
---
kind: CodeSet
id: sex
name: {zh: "人的性别代码", en: "Sex"}
values:
  - {code: "0", name: {zh: "未知的性别", en: "Unknown"}}
  - {code: "1", name: {zh: "男性", en: "Male"}}
  - {code: "2", name: {zh: "女性", en: "Female"}}
  - {code: "9", name: {zh: "未说明的性别", en: "Not stated"}}
---
kind: CodeSet
id: org_form
name: {zh: "组成形式", en: "Organization form"}
values:
  - {code: "1", name: {zh: "个人经营", en: "Individual"}}
  - {code: "2", name: {zh: "家庭经营", en: "Family"}}
---
kind: CodeSet
id: education
name: {zh: "学历代码", en: "Education"}
values:
  - {code: "10", name: {zh: "研究生教育", en: "Postgraduate"}}
  - {code: "20", name: {zh: "大学本科", en: "Bachelor"}}
  - {code: "30", name: {zh: "专科教育", en: "Junior college"}}
  - {code: "90", name: {zh: "其他", en: "Other"}}
---
"""
CODE_ELEMENT_SETS = ["sex", "org_form", "education"]

REGIONS = [
    # id, code, zh, parent
    ("province", "440000", "广东省", None),
    ("city", "440300", "深圳市", "province"),
]

HOLIDAYS_2026 = [
    "2026-01-01",
    "2026-01-02",
    "2026-01-03",
    "2026-02-15",
    "2026-02-16",
    "2026-02-17",
    "2026-02-18",
    "2026-02-19",
    "2026-02-20",
    "2026-02-21",
    "2026-02-22",
    "2026-02-23",
    "2026-04-04",
    "2026-04-05",
    "2026-04-06",
    "2026-05-01",
    "2026-05-02",
    "2026-05-03",
    "2026-05-04",
    "2026-05-05",
    "2026-06-19",
    "2026-06-20",
    "2026-06-21",
    "2026-09-25",
    "2026-09-26",
    "2026-09-27",
    "2026-10-01",
    "2026-10-02",
    "2026-10-03",
    "2026-10-04",
    "2026-10-05",
    "2026-10-06",
    "2026-10-07",
]
WORKDAYS_2026 = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]

LICENSING = """\
kind: Workflow
id: licensing
name: {zh: 行政许可办理流程, en: Administrative licensing procedure}
initial: submitted
warn_before: 2
states:
  - {id: submitted, name: {zh: 已申请, en: Submitted}}
  - {id: supplement, name: {zh: 补齐补正, en: Awaiting supplement}}
  - {id: accepted, name: {zh: 已受理, en: Accepted}, clock: running}
  - {id: special, name: {zh: 特别程序, en: Special procedure}, clock: paused}
  - {id: approved, name: {zh: 准予许可, en: Approved}, final: true}
  - {id: denied, name: {zh: 不予许可, en: Denied}, final: true}
  - {id: refused, name: {zh: 不予受理, en: Not accepted}, final: true}
  - {id: withdrawn, name: {zh: 已撤回, en: Withdrawn}, final: true}
transitions:
  - {id: accept, from: submitted, to: accepted, by: officer,
     name: {zh: 受理, en: Accept}}
  - {id: refuse, from: submitted, to: refused, by: officer, reason: required,
     name: {zh: 不予受理, en: Refuse to accept}}
  - {id: request_supplement, from: submitted, to: supplement, by: officer, reason: required,
     name: {zh: 一次性告知补正, en: Request supplement}}
  - {id: resubmit, from: supplement, to: submitted, by: applicant,
     name: {zh: 补正后重新提交, en: Resubmit}}
  - {id: start_special, from: accepted, to: special, by: officer, reason: required,
     name: {zh: 启动特别程序, en: Start special procedure}}
  - {id: end_special, from: special, to: accepted, by: officer,
     name: {zh: 结束特别程序, en: End special procedure}}
  - {id: approve, from: accepted, to: approved, by: approver, not_same_as: accept,
     name: {zh: 准予许可, en: Approve}}
  - {id: deny, from: accepted, to: denied, by: approver, reason: required,
     name: {zh: 不予许可, en: Deny}}
  - {id: withdraw, from: [submitted, supplement, accepted], to: withdrawn, by: applicant,
     name: {zh: 撤回申请, en: Withdraw}}
"""

_GB32100_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_GB32100_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def q(text: str) -> str:
    """A double-quoted YAML scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def loc(zh: str, en: str | None = None) -> str:
    """Localized text as a flow mapping."""
    return f"{{zh: {q(zh)}, en: {q(en)}}}" if en else f"{{zh: {q(zh)}}}"


def gb32100(body17: str) -> str:
    """``body17`` with its GB 32100 check character appended."""
    total = sum(
        _GB32100_ALPHABET.index(ch) * w for ch, w in zip(body17, _GB32100_WEIGHTS, strict=True)
    )
    return body17 + _GB32100_ALPHABET[(31 - total % 31) % 31]


def _width(matters: int) -> int:
    return max(4, len(str(max(matters - 1, 0))))


def matter_id(index: int, matters: int) -> str:
    """The id of the ``index``-th (0-based) matter of a tree of ``matters`` matters."""
    return f"m{index:0{_width(matters)}d}"


def overridden_matters(matters: int) -> list[int]:
    """Indexes of the matters whose promised limit and materials the city overrides."""
    count = max(1, min(10, matters // 100))
    step = max(1, matters // count)
    picked = []
    for k in range(count):
        i = k * step
        while i < matters and _is_instant(i):
            i += 1
        if i < matters and i not in picked:
            picked.append(i)
    return picked


def _is_instant(i: int) -> bool:
    return i % 5 == 0


# --- elements and forms ----------------------------------------------------------------

# kind, type suffix of the id, YAML body lines, zh name
_KINDS = ["text", "integer", "decimal", "date", "code", "boolean"]


@dataclass(frozen=True)
class _Element:
    id: str
    kind: str  # text | idnum | integer | decimal | date | code | boolean
    codeset: str | None = None


def _elements(mid: str, fields: int) -> list[_Element]:
    result: list[_Element] = []
    for j in range(fields):
        if j == 0:
            kind = "text"
        elif j == 1:
            kind = "idnum"
        else:
            kind = _KINDS[(j - 2) % len(_KINDS)]
        codeset = (
            CODE_ELEMENT_SETS[(j // len(_KINDS)) % len(CODE_ELEMENT_SETS)]
            if kind == "code"
            else None
        )
        result.append(_Element(f"{mid}_{kind}_{j:02d}", kind, codeset))
    return result


def _element_yaml(e: _Element, n: int, j: int, *, shared: bool = False) -> str:
    head = f"kind: DataElement\nid: {e.id}\nidentifier: DE{8 if shared else 9}{n:05d}{j:02d}\n"
    owner = (f"共用{n}", f"Shared {n}") if shared else (f"事项{n}", f"Matter {n}")
    name = f"name: {loc(f'{owner[0]}数据项{j}', f'{owner[1]} item {j}')}\n"
    body = {
        "text": "type: string\nformat: c..50\n",
        "idnum": "type: string\nformat: an18\ncheck: gb11643\nsensitive: true\n",
        "integer": "type: integer\nformat: n..9\nminimum: 0\nmaximum: 100000000\n",
        "decimal": "type: decimal\nformat: n..12,2\nunit: 元\nminimum: 0\n",
        "date": "type: date\nformat: YYYY-MM-DD\n",
        "code": f"type: code\ncodeset: {e.codeset}\n",
        "boolean": "type: boolean\n",
    }[e.kind]
    return head + name + body


def _first(elements: list[_Element], kind: str) -> _Element | None:
    return next((e for e in elements if e.kind == kind), None)


def _field_yaml(e: _Element, extra: dict[str, str]) -> str:
    parts = [f"element: {e.id}", *(f"{k}: {v}" for k, v in extra.items())]
    return "      - {" + ", ".join(parts) + "}\n"


def _form_yaml(mid: str, n: int, i: int, elements: list[_Element]) -> str:
    half = max(1, (len(elements) + 1) // 2)
    basic, detail = elements[:half], elements[half:]
    group: list[_Element] = []
    if i % 10 == 5 and len(detail) >= 4:  # a repeating group of the last 3 fields
        detail, group = detail[:-3], detail[-3:]
    flag = _first(basic, "boolean")
    code = _first(basic, "code")
    number = _first(basic, "integer")

    def extras(e: _Element, where: str) -> dict[str, str]:
        extra: dict[str, str] = {}
        if e.kind == "idnum" and where == "basic":
            extra["prefill"] = "identity.id_number"
        if e.kind == "text" and e is elements[0]:
            extra["prefill"] = "identity.name"
            extra["max_length"] = "30"  # narrows c..50
        if e.kind == "code" and e.codeset == "sex":
            extra["choices"] = '["1", "2"]'  # narrows the code set
        if e.kind == "integer" and where == "detail":
            extra["maximum"] = "5000"  # narrows 100000000
        if e.kind in {"date", "boolean"} and where == "detail":
            extra["required"] = "false"
        if where == "detail" and i % 3 == 1 and e is (detail[0] if detail else None) and code:
            extra["when"] = q(f"{code.id} == '1'")
        if where == "detail" and i % 3 == 1 and len(detail) > 1 and e is detail[1] and number:
            extra["required"] = q(f"{number.id} > 10")
        return extra

    out = [
        f"kind: Form\nid: {mid}_form\nname: {loc(f'事项{n}申请表', f'Matter {n} application')}\n",
        "sections:\n",
        f"  - id: basic\n    name: {loc('基本信息', 'Basic')}\n    fields:\n",
        *(_field_yaml(e, extras(e, "basic")) for e in basic),
    ]
    if detail:
        out.append(f"  - id: detail\n    name: {loc('详细信息', 'Details')}\n")
        if i % 3 == 0 and flag is not None:
            out.append(f"    when: {q(flag.id)}\n")
        out.append("    fields:\n")
        out.extend(_field_yaml(e, extras(e, "detail")) for e in detail)
    if group:
        out.append(
            f"  - id: members\n    name: {loc('家庭成员', 'Members')}\n"
            "    repeat: {min: 0, max: 10}\n    fields:\n"
        )
        out.extend(_field_yaml(e, {}) for e in group)
    rules: list[tuple[str, str, str]] = []
    decimal = _first(elements, "decimal")
    text = elements[0] if elements and elements[0].kind == "text" else None
    if i % 4 == 0 and decimal is not None and decimal not in group:
        rules.append(("amount_not_negative", f"{decimal.id} >= 0.0", "金额不能为负数"))
    if i % 4 == 2 and text is not None:
        rules.append(("name_not_blank", f"size({text.id}) >= 1", "姓名不能为空"))
    if group:
        rules.append(("members_limit", "size(members) <= 10", "家庭成员最多 10 人"))
    if rules:
        out.append("rules:\n")
        for rule_id, expr, message in rules:
            out.append(f"  - {{id: {rule_id}, assert: {q(expr)}, message: {loc(message)}}}\n")
    return "".join(out)


# --- matters ---------------------------------------------------------------------------


def _agency_code(n: int) -> str:
    return gb32100(f"11440300{n:09d}")


def _promised(i: int) -> int:
    return 0 if _is_instant(i) else 5 + i % 10


def _matter_yaml(mid: str, n: int, i: int, elements: list[_Element]) -> str:
    instant = _is_instant(i)
    legal = 1 if instant else 20
    level = "3" if i % 2 else "4"
    basic_code = f"{n:012d}"
    agency = _agency_code(n)
    objects = ", ".join(
        q(SERVICE_OBJECTS[(i + k) % len(SERVICE_OBJECTS)]) for k in range(1 + i % 2)
    )
    flag = _first(elements, "boolean")
    lines = [
        f"kind: Matter\nid: {mid}\n",
        f"name: {loc(f'合成事项{n}', f'Synthetic matter {n}')}\n",
        f"version: {q('2026.1')}\n",
        f"type: {q(MATTER_TYPES[i % len(MATTER_TYPES)])}\n",
        f"service_objects: [{objects}]\n",
        f"exercise_level: {q(level)}\n",
        f"basic_code: {q(basic_code)}\n",
        f"implementation_code: {q(agency + level + basic_code)}\n",
        f"agency: {{name: {loc(f'合成局{n % 50}')}, code: {q(agency)}}}\n",
        "basis:\n",
        f"  - {{title: {q('合成管理条例')}, article: {q(f'第{1 + i % 40}条')}}}\n",
        f"case_type: {'instant' if instant else 'commitment'}\n",
        "time_limit:\n",
        f"  legal: {{value: {legal}, unit: working_day}}\n",
        f"  promised: {{value: {_promised(i)}, unit: working_day}}\n",
    ]
    if i % 7 == 3:
        lines.append(
            "fee:\n  charged: true\n  items:\n"
            f"    - {{name: {loc('工本费')}, amount: 10, basis: {q('合成收费标准')}}}\n"
        )
    else:
        lines.append("fee: {charged: false}\n")
    if i % 6 == 4:
        lines.append(f"visits: 1\nvisits_reason: {loc('需现场核验原件')}\nchannels: [window]\n")
    else:
        lines.append("visits: 0\nchannels: [online, window]\n")
    lines += [
        'online_depth: ["1", "2", "3"]\n',
        f"form: {mid}_form\nworkflow: licensing\n",
        "materials:\n",
        f'  - {{id: id_proof, name: {loc("身份证明")}, type: "1", medium: electronic, '
        "copies: 1, necessity: required, source: applicant, "
        "accept: [application/pdf, image/jpeg, image/png], max_size_mb: 10}\n",
        f'  - {{id: application_form, name: {loc("申请书")}, type: "2", medium: both, '
        "copies: 1, necessity: required, source: applicant, accept: [application/pdf]}\n",
    ]
    if flag is not None:
        lines.append(
            f'  - {{id: agent_authorization, name: {loc("授权委托书")}, type: "2", '
            "necessity: required, source: applicant, accept: [application/pdf], "
            f"when: {q(flag.id)}}}\n"
        )
    if i % 2 == 1:
        lines.append(
            f'  - {{id: business_license, name: {loc("营业执照")}, type: "1", '
            "necessity: required, source: government}\n"
        )
    lines += [
        f"result: {{name: {loc(f'合成证照{n}')}}}\n",
        f'contact: {{phone: {q(f"0755-8{n % 10_000_000:07d}")}, complaint_phone: "12345"}}\n',
    ]
    return "".join(lines)


# --- the tree ----------------------------------------------------------------------------


def _codesets_yaml() -> str:
    rows = "".join(
        f"  - {{code: {q(code)}, name: {loc(zh)}"
        + (f", parent: {q(next(r[1] for r in REGIONS if r[0] == parent))}" if parent else "")
        + "}\n"
        for _, code, zh, parent in REGIONS
    )
    return (
        f"{CODESETS_YAML}kind: CodeSet\nid: admin_division\nname: {loc('行政区划', 'Divisions')}\n"
        f"source: GB/T 2260\nvalues:\n{rows}"
    )


def _calendar_yaml() -> str:
    return (
        f"kind: Calendar\nid: cn_2026\nname: {loc('2026 年工作日历', 'Working days 2026')}\n"
        "weekend: [sat, sun]\n"
        f"holidays: [{', '.join(HOLIDAYS_2026)}]\n"
        f"workdays: [{', '.join(WORKDAYS_2026)}]\n"
    )


def _regions(matters: int) -> Iterator[tuple[str, str]]:
    yield (
        "regions/province.yaml",
        (
            f'kind: Region\nid: province\ncode: "440000"\nname: {loc("广东省")}\n'
            "calendar: cn_2026\nmatters: {include: all}\n"
        ),
    )
    lines = [f'kind: Region\nid: city\ncode: "440300"\nname: {loc("深圳市")}\nparent: province\n']
    picked = overridden_matters(matters) if matters else []
    if picked:
        lines.append("overrides:\n")
    for i in picked:
        mid = matter_id(i, matters)
        lines += [
            f"  {mid}:\n",
            f"    time_limit: {{promised: {{value: {max(1, _promised(i) - 3)}, "
            "unit: working_day}}\n",
            f"    agency: {{name: {loc('深圳市合成局')}}}\n",
            "    materials:\n",
            "      remove: [application_form]\n",
            "      add:\n",
            f"        - {{id: lease_contract, name: {loc('租赁合同')}, medium: electronic, "
            "copies: 1, necessity: required, source: applicant, accept: [application/pdf]}\n",
        ]
    yield "regions/city.yaml", "".join(lines)


def _owner(i: int, mid: str, shared: bool) -> str:
    """Whose data elements the i-th matter's form uses: its own, or one of the shared sets."""
    return f"s{i % SHARED_SETS}" if shared else mid


def _extras(matters: int, fields: int, shared: bool) -> Iterator[tuple[str, str]]:
    if matters < 2:
        return
    a, b = matter_id(0, matters), matter_id(1, matters)
    yield (
        "bundles/pair.yaml",
        (f"kind: Bundle\nid: first_pair\nname: {loc('合成一件事')}\nmatters: [{a}, {b}]\n"),
    )
    number = _first(_elements(_owner(0, a, shared), fields), "integer")
    if number is not None:
        yield (
            "policies/subsidy.yaml",
            (
                f"kind: Policy\nid: synthetic_subsidy\nname: {loc('合成补贴')}\n"
                f"issuer: {loc('深圳市合成局')}\nregions: [city]\n"
                "valid: {from: 2026-01-01, to: 2026-12-31}\n"
                f'audience: ["1", "2"]\nprofile: {a}_form\n'
                f"eligible: {q(f'{number.id} >= 3')}\n"
                f"benefit: {loc('最高 1 万元')}\napply: {a}\n"
            ),
        )


def files(
    matters: int, fields_per_form: int = DEFAULT_FIELDS, *, shared: bool = False
) -> Iterator[tuple[str, str]]:
    """Every (relative path, text) of the tree, in a fixed order.

    ``shared``: the forms use data elements of :data:`SHARED_SETS` shared sets (as a
    province's forms share its data dictionary) instead of each its own."""
    if matters < 0 or fields_per_form < 1:
        raise ValueError("need matters >= 0 and fields_per_form >= 1")
    yield "codesets/common.yaml", _codesets_yaml()
    yield "workflows/licensing.yaml", LICENSING
    yield "calendars/cn_2026.yaml", _calendar_yaml()
    yield from _regions(matters)
    yield from _extras(matters, fields_per_form, shared)
    if shared:
        for k in range(SHARED_SETS):
            elements = _elements(f"s{k}", fields_per_form)
            yield (
                f"elements/s{k}.yaml",
                "---\n".join(_element_yaml(e, k, j, shared=True) for j, e in enumerate(elements)),
            )
    for i in range(matters):
        mid, n = matter_id(i, matters), i
        elements = _elements(_owner(i, mid, shared), fields_per_form)
        if not shared:
            yield (
                f"elements/{mid}.yaml",
                "---\n".join(_element_yaml(e, n, j) for j, e in enumerate(elements)),
            )
        yield f"forms/{mid}.yaml", _form_yaml(mid, n, i, elements)
        yield f"matters/{mid}.yaml", _matter_yaml(mid, n, i, elements)


def write_tree(
    root: Path, matters: int, fields_per_form: int = DEFAULT_FIELDS, *, shared: bool = False
) -> None:
    """Write a valid standards tree of ``matters`` matters below ``root`` (created)."""
    root = Path(root)
    made: set[Path] = set()
    for rel, text in files(matters, fields_per_form, shared=shared):
        path = root / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write (empty or absent)")
    parser.add_argument("--matters", type=int, default=2000)
    parser.add_argument("--fields", type=int, default=DEFAULT_FIELDS, help="fields per form")
    parser.add_argument(
        "--shared", action="store_true", help=f"forms over {SHARED_SETS} shared element sets"
    )
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        print(f"error: {args.out} is not empty", file=sys.stderr)
        return 2
    write_tree(args.out, args.matters, args.fields, shared=args.shared)
    count = sum(1 for _ in args.out.rglob("*.yaml"))
    print(f"wrote {count} files, {args.matters} matters, to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
