"""Checks of workflows: the state graph, roles, four eyes and the clock."""

from __future__ import annotations

from collections import deque

from generator.checks.context import Checker, known
from generator.kinds import Workflow
from runtime.types import bilingual

BUILTIN_ROLES = {"applicant", "officer", "approver"}


def check_workflow(c: Checker, w: Workflow) -> None:
    states = c.unique(w.states, "id", "state id", "状态 id")
    transitions = c.unique(w.transitions, "id", "transition id", "流转 id")
    roles = BUILTIN_ROLES | set(w.roles)
    if w.initial not in states:
        c.error(
            w.at("initial"),
            bilingual(
                f"初始状态 '{w.initial}' 不是已定义的状态",
                f"initial state '{w.initial}' is not a state (states: {known(states)})",
            ),
        )
    if not any(s.final for s in w.states):
        c.error(
            w.at("states"),
            bilingual(
                "没有终止状态；办件必须能够办结", "no state is final; a case must be able to end"
            ),
        )
    for state in w.states:
        if state.final and state.clock is not None:
            c.error(
                state.at("clock"),
                bilingual(
                    f"终止状态 '{state.id}' 不能设置 clock",
                    f"final state '{state.id}' cannot have a clock",
                ),
            )
    for t in w.transitions:
        if t.name is None:
            c.warning(
                t.at("id"),
                bilingual(
                    f"流转 '{t.id}' 没有名称（name）；办事人和工作人员看到的是名称，不是 id",
                    f"transition '{t.id}' has no 'name'; people see names, never ids "
                    f"(e.g. name: {{zh: …, en: …}})",
                ),
            )
        for index, source in enumerate(t.sources):
            where = t.at("from", index) if isinstance(t.from_, list) else t.at("from")
            if source not in states:
                c.error(
                    where,
                    bilingual(
                        f"流转 '{t.id}' 的起始状态 '{source}' 未定义",
                        f"transition '{t.id}' starts from unknown state '{source}' "
                        f"(states: {known(states)})",
                    ),
                )
            elif states[source].final:
                c.error(
                    where,
                    bilingual(
                        f"流转 '{t.id}' 从终止状态 '{source}' 流出",
                        f"transition '{t.id}' leaves final state '{source}'",
                    ),
                )
        if t.to not in states:
            c.error(
                t.at("to"),
                bilingual(
                    f"流转 '{t.id}' 的目标状态 '{t.to}' 未定义",
                    f"transition '{t.id}' goes to unknown state '{t.to}' (states: {known(states)})",
                ),
            )
        if t.by not in roles:
            c.error(
                t.at("by"),
                bilingual(
                    f"角色 '{t.by}' 未定义（其他工作人员角色请在 'roles' 下声明）",
                    f"unknown role '{t.by}' (known: {known(roles)}; declare other "
                    "staff roles under 'roles')",
                ),
            )
        if t.not_same_as is not None:
            other = transitions.get(t.not_same_as)
            if other is None:
                c.error(
                    t.at("not_same_as"),
                    bilingual(
                        f"not_same_as 引用的流转 '{t.not_same_as}' 未定义",
                        f"not_same_as names unknown transition "
                        f"'{t.not_same_as}' (transitions: {known(transitions)})",
                    ),
                )
            elif other.by == "applicant" or t.by == "applicant":
                c.error(
                    t.at("not_same_as"),
                    bilingual(
                        "双人复核（四眼原则）只适用于工作人员办理的步骤之间",
                        "four eyes applies between staff steps",
                    ),
                )
    _check_graph(c, w, set(states))


def _check_graph(c: Checker, w: Workflow, state_ids: set[str]) -> None:
    outgoing: dict[str, set[str]] = {s: set() for s in state_ids}
    for t in w.transitions:
        for source in t.sources:
            if source in outgoing and t.to in state_ids:
                outgoing[source].add(t.to)
    if w.initial not in state_ids:
        return
    reached = {w.initial}
    queue = deque([w.initial])
    while queue:
        for nxt in outgoing[queue.popleft()]:
            if nxt not in reached:
                reached.add(nxt)
                queue.append(nxt)
    for state in w.states:
        if state.id not in reached:
            c.error(
                state.at("id"),
                bilingual(
                    f"状态 '{state.id}' 无法从 '{w.initial}' 到达",
                    f"state '{state.id}' cannot be reached from '{w.initial}'",
                ),
            )
        elif not state.final and not outgoing.get(state.id):
            c.error(
                state.at("id"),
                bilingual(
                    f"状态 '{state.id}' 不是终止状态，却没有后续流转",
                    f"state '{state.id}' is not final and has no way out",
                ),
            )
