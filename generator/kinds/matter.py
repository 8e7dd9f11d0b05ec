"""Matter (政务服务事项): one service with its complete service-guide elements."""

from __future__ import annotations

from typing import Literal

from pydantic import Field as F

from generator.kinds.common import Code, Id, Item, Localized, Model, Text, empty

Unit = Literal["working_day", "calendar_day"]


class Agency(Model):
    name: Localized
    code: Code | None = None
    nature: Localized | None = None


class Basis(Model):
    title: Text
    article: str | None = None
    url: str | None = None


class Limit(Model):
    value: int = F(ge=0)
    unit: Unit
    note: Localized | None = None


class TimeLimit(Model):
    legal: Limit | None = None
    promised: Limit


class FeeItem(Model):
    name: Localized
    amount: float | int | str
    basis: str | None = None


class Fee(Model):
    charged: bool
    items: list[FeeItem] = empty()


class Site(Model):
    name: Localized
    address: Localized
    hours: Localized | None = None
    phone: str | None = None


class Material(Model):
    id: Id
    name: Localized
    type: Code | None = None
    medium: Literal["paper", "electronic", "both"] = "electronic"
    copies: int = F(default=1, ge=0)
    necessity: Literal["required", "optional", "deferrable"] = "required"
    source: Literal["applicant", "government"] = "applicant"
    accept: list[Text] = empty()
    max_size_mb: int = F(default=10, ge=1, le=1024)
    when: Text | None = None
    notes: Localized | None = None
    renamed_from: list[Id] = empty()


class Result(Model):
    name: Localized
    type: Code | None = None
    sample: str | None = None


class Contact(Model):
    phone: str | None = None
    complaint_phone: str | None = None


class Faq(Model):
    q: Localized
    a: Localized


Channel = Literal["online", "window", "mail", "self_service"]


class Matter(Item):
    kind: str = "Matter"
    type: Code
    basic_code: str | None = None
    implementation_code: str | None = None
    exercise_level: Code | None = None
    service_objects: list[Code]
    agency: Agency
    basis: list[Basis] = empty()
    conditions: Localized | None = None
    case_type: Literal["instant", "commitment"]
    time_limit: TimeLimit
    fee: Fee = Fee(charged=False)
    visits: int = F(default=0, ge=0)
    visits_reason: Localized | None = None
    channels: list[Channel] = empty()
    online_depth: list[Code] = empty()
    sites: list[Site] = empty()
    form: Id
    workflow: Id
    materials: list[Material] = empty()
    result: Result | None = None
    contact: Contact | None = None
    faq: list[Faq] = empty()
