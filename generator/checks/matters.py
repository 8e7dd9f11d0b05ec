"""Checks of matters: references, codes, limits and the quality rules of regional reviews."""

from __future__ import annotations

import re
from functools import partial

from generator.checks.context import Checker
from generator.checks.expressions import check_expr, form_env
from generator.kinds import Form, Matter, Workflow
from runtime.identifiers import check_gb32100
from runtime.types import bilingual

IMPLEMENTATION_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}[1-6]\d{12}\Z")
MIME = re.compile(r"[a-z]+/[a-z0-9.+-]+\Z")
UNITS_ZH = {"working_day": "工作日", "calendar_day": "自然日"}


def check_matter(c: Checker, m: Matter, context: str = "") -> None:
    """Check one matter; ``context`` says which region's overrides produced it."""
    c.code("matter_type", m.type, lambda: m.at("type"), "matter type", "事项类型")
    for index, obj in enumerate(m.service_objects):
        c.code(
            "service_object",
            obj,
            partial(m.at, "service_objects", index),
            "service object",
            "服务对象",
        )
    if not m.service_objects:
        c.error(
            m.at("service_objects"),
            bilingual(
                "service_objects 至少需要一个代码", "service_objects needs at least one code"
            ),
        )
    if m.exercise_level is not None:
        c.code(
            "exercise_level",
            m.exercise_level,
            lambda: m.at("exercise_level"),
            "exercise level",
            "行使层级",
        )
    for index, depth in enumerate(m.online_depth):
        c.code(
            "online_depth", depth, partial(m.at, "online_depth", index), "online depth", "网办深度"
        )
    if m.result is not None and m.result.type is not None:
        result = m.result
        c.code("result_type", result.type, lambda: result.at("type"), "result type", "办理结果类型")
    form = c.ref(Form, m.form, lambda: m.at("form"))
    c.ref(Workflow, m.workflow, lambda: m.at("workflow"))
    _check_limits(c, m, context)
    _check_service(c, m, context)
    _check_codes(c, m)
    c.unique(m.materials, "id", "material id", "材料 id")
    env = form_env(c.tree, form) if form is not None else None
    for material in m.materials:
        if material.type is not None:
            c.code(
                "material_type",
                material.type,
                partial(material.at, "type"),
                "material type",
                "材料类型",
            )
        for index, mime in enumerate(material.accept):
            if not MIME.match(mime):
                c.error(
                    material.at("accept", index),
                    bilingual(
                        f"'{mime}' 不是媒体类型（如 application/pdf、image/jpeg）",
                        f"'{mime}' is not a media type (e.g. application/pdf, image/jpeg)",
                    ),
                )
        if material.when is not None and env is not None:
            check_expr(c, material.when, env, material, "when")


def _check_limits(c: Checker, m: Matter, context: str) -> None:
    promised, legal = m.time_limit.promised, m.time_limit.legal
    if legal is not None:
        if promised.unit != legal.unit:
            at = legal.at("unit")
            c.error(
                promised.at("unit"),
                bilingual(
                    f"承诺时限以{UNITS_ZH[promised.unit]}计，而法定时限（{at}）以"
                    f"{UNITS_ZH[legal.unit]}计；请使用同一单位",
                    f"promised limit is in {promised.unit} but the legal "
                    f"limit ({at}) in {legal.unit}; use one unit{context}",
                ),
            )
        elif promised.value > legal.value:
            at = legal.at("value")
            c.error(
                promised.at("value"),
                bilingual(
                    f"承诺时限 {promised.value} 个{UNITS_ZH[promised.unit]}超过法定时限 "
                    f"{legal.value}（{at}）",
                    f"promised limit {promised.value} {promised.unit} is "
                    f"above the legal limit {legal.value} ({at}){context}",
                ),
            )
    if (m.case_type == "instant") != (promised.value == 0):
        instant = m.case_type == "instant"
        at = promised.at("value")
        c.error(
            m.at("case_type"),
            bilingual(
                f"case_type {m.case_type} 要求承诺时限{'为 0' if instant else '大于 0'}"
                f"（即办件 ⇔ 0），但实际为 {promised.value}（{at}）",
                f"case_type {m.case_type} needs a promised limit "
                f"{'of 0' if instant else 'above 0'} (即办件 ⇔ 0), "
                f"but it is {promised.value} ({at}){context}",
            ),
        )


def _check_service(c: Checker, m: Matter, context: str) -> None:
    if m.visits == 0 and not {"online", "mail"} & set(m.channels):
        c.error(
            m.at("visits"),
            bilingual(
                "visits: 0 需要 'online' 或 'mail' 办理渠道",
                "visits: 0 needs an 'online' or 'mail' channel "
                f"(channels: {', '.join(m.channels) or 'none'}){context}",
            ),
        )
    if m.visits > 0 and m.visits_reason is None:
        c.error(
            m.at("visits"),
            bilingual(
                f"visits: {m.visits} 需要填写 'visits_reason'",
                f"visits: {m.visits} needs a 'visits_reason'{context}",
            ),
        )
    if m.fee.charged and not m.fee.items:
        c.error(
            m.fee.at("charged"),
            bilingual(
                "charged: true 需要列出收费 'items'（名称、金额和依据）",
                f"charged: true needs fee 'items' with name, amount and basis{context}",
            ),
        )
    contact = m.contact
    if contact is None or not contact.phone or not contact.complaint_phone:
        c.warning(
            m.at("contact") if contact else m.at(),
            bilingual(
                "办事指南须同时提供咨询电话 'phone' 和投诉电话 'complaint_phone'",
                "a service guide needs both a consultation 'phone' and a 'complaint_phone'",
            ),
        )
    elif contact.phone == contact.complaint_phone:
        c.warning(
            contact.at("complaint_phone"),
            bilingual(
                "投诉电话 complaint_phone 应与咨询电话不同",
                "complaint_phone should differ from the consultation phone",
            ),
        )


def _check_codes(c: Checker, m: Matter) -> None:
    if m.agency.code is not None and check_gb32100(m.agency.code) is not None:
        c.warning(
            m.agency.at("code"),
            bilingual(
                f"实施机构代码 '{m.agency.code}' 不是有效的统一社会信用代码（GB 32100）",
                f"agency code '{m.agency.code}' is not a valid unified social credit code "
                "(GB 32100)",
            ),
        )
    if m.basic_code is not None and len(m.basic_code) != 12:
        c.warning(
            m.at("basic_code"),
            bilingual(
                f"basic_code 应为 12 位，而不是 {len(m.basic_code)} 位",
                f"basic_code should have 12 characters, not {len(m.basic_code)}",
            ),
        )
    code = m.implementation_code
    if code is not None:
        if not IMPLEMENTATION_CODE.match(code):
            c.warning(
                m.at("implementation_code"),
                bilingual(
                    "implementation_code 应由实施机构的 18 位代码、行使层级（1-6）"
                    "和 12 位基本编码组成",
                    "implementation_code should be the agency's "
                    "18-character code, the exercise level (1-6) and the 12-digit basic code",
                ),
            )
        elif check_gb32100(code[:18]) is not None:
            c.warning(
                m.at("implementation_code"),
                bilingual(
                    "implementation_code 的前 18 位未通过 GB 32100 校验",
                    "the first 18 characters of implementation_code fail the GB 32100 check",
                ),
            )
        elif m.basic_code is not None and code[19:] != m.basic_code:
            c.warning(
                m.at("implementation_code"),
                bilingual(
                    "implementation_code 未以 basic_code 结尾",
                    "implementation_code does not end with the basic_code",
                ),
            )
