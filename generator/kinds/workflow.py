"""Workflow (办理流程): states, transitions, roles and the clock."""

from __future__ import annotations

from typing import Literal

from pydantic import Field as F

from generator.kinds.common import Id, Item, Localized, Model, empty


class State(Model):
    id: Id
    name: Localized
    clock: Literal["running", "paused"] | None = None
    final: bool = False


class Transition(Model):
    id: Id
    name: Localized | None = None
    from_: Id | list[Id] = F(alias="from")
    to: Id
    by: Id
    reason: Literal["required", "optional"] | None = None
    not_same_as: Id | None = None

    @property
    def sources(self) -> list[str]:
        return [self.from_] if isinstance(self.from_, str) else list(self.from_)


class Workflow(Item):
    kind: str = "Workflow"
    initial: Id
    roles: list[Id] = empty()
    warn_before: int | None = F(default=None, ge=0)
    states: list[State]
    transitions: list[Transition]

    def state(self, state_id: str) -> State | None:
        return next((s for s in self.states if s.id == state_id), None)
