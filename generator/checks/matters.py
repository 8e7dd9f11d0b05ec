"""Checks of matters: references, codes, limits and the quality rules of regional reviews."""

from __future__ import annotations

import re
from functools import partial

from generator.checks.context import Checker
from generator.checks.expressions import check_expr, form_env
from generator.kinds import Form, Matter, Workflow
from runtime.identifiers import check_gb32100

IMPLEMENTATION_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}[1-6]\d{12}\Z")
MIME = re.compile(r"[a-z]+/[a-z0-9.+-]+\Z")


def check_matter(c: Checker, m: Matter, context: str = "") -> None:
    """Check one matter; ``context`` says which region's overrides produced it."""
    c.code("matter_type", m.type, lambda: m.at("type"), "matter type")
    for index, obj in enumerate(m.service_objects):
        c.code("service_object", obj, partial(m.at, "service_objects", index), "service object")
    if not m.service_objects:
        c.error(m.at("service_objects"), "service_objects needs at least one code")
    if m.exercise_level is not None:
        c.code("exercise_level", m.exercise_level, lambda: m.at("exercise_level"), "exercise level")
    for index, depth in enumerate(m.online_depth):
        c.code("online_depth", depth, partial(m.at, "online_depth", index), "online depth")
    if m.result is not None and m.result.type is not None:
        c.code("result_type", m.result.type, m.result.at("type"), "result type")
    form = c.ref(Form, m.form, lambda: m.at("form"))
    c.ref(Workflow, m.workflow, lambda: m.at("workflow"))
    _check_limits(c, m, context)
    _check_service(c, m, context)
    _check_codes(c, m)
    c.unique(m.materials, "id", "material id")
    env = form_env(c.tree, form) if form is not None else None
    for material in m.materials:
        if material.type is not None:
            c.code("material_type", material.type, partial(material.at, "type"), "material type")
        for index, mime in enumerate(material.accept):
            if not MIME.match(mime):
                c.error(
                    material.at("accept", index),
                    f"'{mime}' is not a media type (e.g. application/pdf, image/jpeg)",
                )
        if material.source == "government" and material.accept:
            c.warning(
                material.at("accept"),
                f"material '{material.id}' comes from data sharing "
                "(source: government); 'accept' is never used",
            )
        if material.when is not None and env is not None:
            check_expr(c, material.when, env, material, "when")


def _check_limits(c: Checker, m: Matter, context: str) -> None:
    promised, legal = m.time_limit.promised, m.time_limit.legal
    if legal is not None:
        if promised.unit != legal.unit:
            c.error(
                promised.at("unit"),
                f"promised limit is in {promised.unit} but the legal "
                f"limit ({legal.at('unit')}) in {legal.unit}; use one unit{context}",
            )
        elif promised.value > legal.value:
            c.error(
                promised.at("value"),
                f"promised limit {promised.value} {promised.unit} is "
                f"above the legal limit {legal.value} ({legal.at('value')}){context}",
            )
    if (m.case_type == "instant") != (promised.value == 0):
        c.error(
            m.at("case_type"),
            f"case_type {m.case_type} needs a promised limit "
            f"{'of 0' if m.case_type == 'instant' else 'above 0'} (即办件 ⇔ 0), "
            f"but it is {promised.value} ({promised.at('value')}){context}",
        )


def _check_service(c: Checker, m: Matter, context: str) -> None:
    if m.visits == 0 and not {"online", "mail"} & set(m.channels):
        c.error(
            m.at("visits"),
            "visits: 0 needs an 'online' or 'mail' channel "
            f"(channels: {', '.join(m.channels) or 'none'}){context}",
        )
    if m.visits > 0 and m.visits_reason is None:
        c.error(m.at("visits"), f"visits: {m.visits} needs a 'visits_reason'{context}")
    if m.fee.charged and not m.fee.items:
        c.error(
            m.fee.at("charged"),
            f"charged: true needs fee 'items' with name, amount and basis{context}",
        )
    contact = m.contact
    if contact is None or not contact.phone or not contact.complaint_phone:
        c.warning(
            m.at("contact") if contact else m.at(),
            "a service guide needs both a consultation 'phone' and a 'complaint_phone'",
        )
    elif contact.phone == contact.complaint_phone:
        c.warning(
            contact.at("complaint_phone"),
            "complaint_phone should differ from the consultation phone",
        )


def _check_codes(c: Checker, m: Matter) -> None:
    if m.agency.code is not None and check_gb32100(m.agency.code) is not None:
        c.warning(
            m.agency.at("code"),
            f"agency code '{m.agency.code}' is not a valid unified social credit code (GB 32100)",
        )
    if m.basic_code is not None and len(m.basic_code) != 12:
        c.warning(
            m.at("basic_code"), f"basic_code should have 12 characters, not {len(m.basic_code)}"
        )
    code = m.implementation_code
    if code is not None:
        if not IMPLEMENTATION_CODE.match(code):
            c.warning(
                m.at("implementation_code"),
                "implementation_code should be the agency's "
                "18-character code, the exercise level (1-6) and the 12-digit basic code",
            )
        elif check_gb32100(code[:18]) is not None:
            c.warning(
                m.at("implementation_code"),
                "the first 18 characters of implementation_code fail the GB 32100 check",
            )
        elif m.basic_code is not None and code[19:] != m.basic_code:
            c.warning(
                m.at("implementation_code"), "implementation_code does not end with the basic_code"
            )
