"""Checks of a loaded standards tree, one module per kind; :func:`check_all` runs them all."""

from __future__ import annotations

from generator.checks.context import Checker
from generator.checks.elements import check_codeset, check_element, check_identifiers
from generator.checks.forms import check_form
from generator.checks.matters import check_matter
from generator.checks.misc import check_bundle, check_calendar, check_policy
from generator.checks.workflows import check_workflow
from generator.diagnostics import Diagnostics
from generator.tree import StandardsTree
from runtime.types import bilingual

REQUIRED_CODESETS = ("matter_type", "service_object")


def check_all(tree: StandardsTree, diagnostics: Diagnostics) -> None:
    c = Checker(tree, diagnostics)
    for codeset in tree.codesets.values():
        check_codeset(c, codeset)
    for element in tree.elements.values():
        check_element(c, element)
    check_identifiers(c, list(tree.elements.values()))
    for form in tree.forms.values():
        check_form(c, form)
    for workflow in tree.workflows.values():
        check_workflow(c, workflow)
    for matter in tree.matters.values():
        check_matter(c, matter)
    for calendar in tree.calendars.values():
        check_calendar(c, calendar)
    for bundle in tree.bundles.values():
        check_bundle(c, bundle)
    for policy in tree.policies.values():
        check_policy(c, policy)
    if tree.matters:
        for codeset_id in REQUIRED_CODESETS:
            if codeset_id not in tree.codesets and codeset_id not in tree.broken["CodeSet"]:
                first = next(iter(tree.matters.values()))
                c.error(
                    first.at("type"),
                    bilingual(
                        f"每个标准树都须定义代码集 '{codeset_id}'（事项使用其代码）",
                        f"every tree defines the code set '{codeset_id}' (matters use its codes)",
                    ),
                )
