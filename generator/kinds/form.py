"""Form (申请表单): sections of fields built from data elements, and rules."""

from __future__ import annotations

from pydantic import Field as F

from generator.kinds.common import Code, Id, Item, Localized, Model, Number, Text, empty


class Field(Model):
    element: Id
    id: Id | None = None
    label: Localized | None = None
    help: Localized | None = None
    required: bool | Text = True
    when: Text | None = None
    prefill: Text | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: Text | None = None
    choices: list[Code] | None = None
    minimum: Number | None = None
    maximum: Number | None = None
    renamed_from: list[Id] = empty()

    @property
    def field_id(self) -> str:
        return self.id or self.element


class Repeat(Model):
    min: int = F(default=0, ge=0)
    max: int = F(default=100, ge=1)


class Section(Model):
    id: Id
    name: Localized
    description: Localized | None = None
    repeat: Repeat | None = None
    when: Text | None = None
    fields: list[Field]
    renamed_from: list[Id] = empty()


class Rule(Model):
    id: Id
    assert_: Text = F(alias="assert")
    message: Localized


class Form(Item):
    kind: str = "Form"
    sections: list[Section]
    rules: list[Rule] = empty()
