"""Workflow (办理流程): states, transitions, roles and the clock."""

from __future__ import annotations

from typing import Literal

from pydantic import Field as F

from generator.kinds.common import Id, Item, Localized, Model, empty


class State(Model):
    id: Id
    """状态标识
    / State id
    e.g. `accepted`"""
    name: Localized
    """状态名称
    / State name
    e.g. `{zh: 已受理}`"""
    clock: Literal["running", "paused"] | None = None
    """时限计时：running 计时，paused 停表
    / The legal clock: running counts, paused stops it
    e.g. `running`"""
    final: bool = False
    """终止状态（办结）
    / A final state (the case is closed)
    e.g. `true`"""


class Transition(Model):
    id: Id
    """操作标识
    / Transition id
    e.g. `accept`"""
    name: Localized | None = None
    """操作名称（按钮文字）
    / Transition name (the button's text)
    e.g. `{zh: 受理}`"""
    from_: Id | list[Id] = F(alias="from")
    """起始状态（一个或多个）
    / Source state(s)
    e.g. `[submitted, supplement]`"""
    to: Id
    """目标状态
    / Target state
    e.g. `accepted`"""
    by: Id
    """谁可执行：applicant、officer 或工作人员角色
    / Who may take it: applicant, officer or a staff role
    e.g. `approver`"""
    reason: Literal["required", "optional"] | None = None
    """是否须填写理由
    / Whether a reason is asked
    e.g. `required`"""
    not_same_as: Id | None = None
    """执行该操作的人不得执行本操作（四眼原则）
    / Whoever took that transition may not take this one (four eyes)
    e.g. `accept`"""

    @property
    def sources(self) -> list[str]:
        return [self.from_] if isinstance(self.from_, str) else list(self.from_)


class Workflow(Item):
    kind: str = "Workflow"
    initial: Id
    """初始状态
    / Initial state
    e.g. `submitted`"""
    roles: list[Id] = empty()
    """工作人员角色
    / Staff roles
    e.g. `[approver]`"""
    warn_before: int | None = F(default=None, ge=0)
    """到期前几天标为即将到期
    / Days before the deadline a case is marked due soon
    e.g. `2`"""
    states: list[State]
    """状态列表
    / The states
    e.g. `[{id: submitted, name: {zh: 已申请}}]`"""
    transitions: list[Transition]
    """操作列表
    / The transitions
    e.g. `[{id: accept, from: submitted, to: accepted, by: officer}]`"""

    def state(self, state_id: str) -> State | None:
        return next((s for s in self.states if s.id == state_id), None)
