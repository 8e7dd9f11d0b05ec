"""The kinds of documents in a standards tree, one module each."""

from generator.kinds.bundle import Bundle
from generator.kinds.calendar import Calendar
from generator.kinds.codeset import CodeSet, CodeValue
from generator.kinds.common import Item, Model
from generator.kinds.element import DataElement
from generator.kinds.form import Field, Form, Section
from generator.kinds.matter import Material, Matter
from generator.kinds.policy import Policy
from generator.kinds.region import Region
from generator.kinds.workflow import State, Transition, Workflow

Document = CodeSet | DataElement | Form | Workflow | Matter | Region | Calendar | Bundle | Policy

KINDS: dict[str, type[Model]] = {
    "CodeSet": CodeSet,
    "DataElement": DataElement,
    "Form": Form,
    "Workflow": Workflow,
    "Matter": Matter,
    "Region": Region,
    "Calendar": Calendar,
    "Bundle": Bundle,
    "Policy": Policy,
}

__all__ = [
    "KINDS",
    "Bundle",
    "Calendar",
    "CodeSet",
    "CodeValue",
    "DataElement",
    "Document",
    "Field",
    "Form",
    "Item",
    "Material",
    "Matter",
    "Model",
    "Policy",
    "Region",
    "Section",
    "State",
    "Transition",
    "Workflow",
]
