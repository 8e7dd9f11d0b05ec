"""Policy (惠企政策): who is eligible for a benefit and the matter to claim it."""

from __future__ import annotations

from pydantic import Field

from generator.kinds.common import Code, Date, Id, Item, Localized, Model, Text, empty


class Validity(Model):
    from_: Date | None = Field(default=None, alias="from")
    to: Date | None = None


class Policy(Item):
    kind: str = "Policy"
    issuer: Localized
    regions: list[Id]
    valid: Validity | None = None
    audience: list[Code] = empty()
    profile: Id
    eligible: Text
    benefit: Localized
    apply: Id
