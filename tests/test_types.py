"""runtime.types: the shared words — one exception root, bilingual messages, field types."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import get_args

import generator
import runtime
from generator.kinds.element import DataElement
from runtime.formspec import FieldSpec
from runtime.types import FIELD_TYPES, GovstdError, bilingual

# Raised to stop work, not to refuse input: not errors of govstd's.
NOT_REFUSALS = {"generator.render.Abandoned"}


def _modules() -> list[str]:
    names = []
    for package in (generator, runtime):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            names.append(info.name)
    return names


def test_every_exception_of_govstd_is_a_govstd_error() -> None:
    found = []
    for name in _modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == name
                and f"{name}.{value.__name__}" not in NOT_REFUSALS
            ):
                found.append(value)
                assert issubclass(value, GovstdError), f"{name}.{value.__name__}"
    assert len(found) >= 15


def test_a_message_is_printed_in_both_languages() -> None:
    assert bilingual("区域不存在", "no such region") == "区域不存在 / no such region"
    refusal = GovstdError("区域不存在", "no such region")  # kept apart, joined when printed
    assert refusal.args == ("区域不存在", "no such region")
    assert str(refusal) == "区域不存在 / no such region"


def test_the_element_kind_and_the_form_spec_know_the_same_field_types() -> None:
    element_types = get_args(DataElement.model_fields["type"].annotation)
    spec_types = get_args(inspect.get_annotations(FieldSpec, eval_str=True)["type"])
    assert element_types == spec_types == FIELD_TYPES
