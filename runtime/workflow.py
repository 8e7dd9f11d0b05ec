"""Workflows at run time: states, transitions and who may take them (pure, no database).

Rules of :func:`check_transition`, in order (the first that fails decides):

1. the transition exists in the case's workflow (else 404 ``unknown_transition``);
2. the actor's role equals the transition's ``by`` (else 403 ``wrong_role``) —
   strictly: an approver does not take officer steps, an admin takes none;
3. the case is in one of the transition's source states (else 409 ``wrong_state``);
4. a ``reason: required`` transition has a non-blank reason (else 422);
5. ``not_same_as: X``: the actor of the latest ``X`` transition of the case may
   not take this one (four eyes, else 403 ``four_eyes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runtime.errors import ApiError, FieldProblem, message


@dataclass(frozen=True)
class State:
    id: str
    name: dict[str, str]
    clock: str | None = None
    final: bool = False

    def as_spec(self) -> dict[str, Any]:
        return {"id": self.id, "clock": self.clock, "final": self.final}


@dataclass(frozen=True)
class Transition:
    id: str
    name: dict[str, str]
    sources: tuple[str, ...]
    to: str
    by: str
    reason: str | None = None
    not_same_as: str | None = None


@dataclass(frozen=True)
class Workflow:
    id: str
    name: dict[str, str]
    initial: str
    warn_before: int | None
    states: dict[str, State]
    transitions: dict[str, Transition]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Workflow:
        states = {
            s["id"]: State(s["id"], s.get("name", {}), s.get("clock"), bool(s.get("final")))
            for s in data["states"]
        }
        transitions = {
            t["id"]: Transition(
                id=t["id"],
                name=t.get("name") or {"zh": t["id"]},
                sources=tuple(t["sources"]),
                to=t["to"],
                by=t["by"],
                reason=t.get("reason"),
                not_same_as=t.get("not_same_as"),
            )
            for t in data["transitions"]
        }
        return cls(
            id=data["id"],
            name=data.get("name", {}),
            initial=data["initial"],
            warn_before=data.get("warn_before"),
            states=states,
            transitions=transitions,
        )

    def is_final(self, state: str) -> bool:
        s = self.states.get(state)
        return bool(s and s.final)

    def available(self, state: str, role: str) -> list[str]:
        """Transitions a person of ``role`` could take from ``state`` (four eyes not checked)."""
        return [t.id for t in self.transitions.values() if state in t.sources and t.by == role]

    def needs_materials(self, transition: Transition, status: str) -> bool:
        """An officer step out of the initial state that takes the case on (受理) needs the
        required materials (runtime/checklist.py). Not one that ends the case (不予受理) or
        hands it back to the applicant (补正告知: a state the applicant resubmits from)."""
        if transition.by != "officer" or status != self.initial or self.is_final(transition.to):
            return False
        return not any(
            self.takes_data(t) and transition.to in t.sources for t in self.transitions.values()
        )

    def takes_data(self, transition: Transition) -> bool:
        """An applicant's step back to the initial state (resubmission) may carry corrected data."""
        return transition.by == "applicant" and transition.to == self.initial


@dataclass(frozen=True)
class PastStep:
    transition: str
    actor_sub: str


def check_transition(
    workflow: Workflow,
    transition_id: str,
    *,
    status: str,
    role: str,
    actor_sub: str,
    reason: str | None,
    has_data: bool,
    history: Sequence[PastStep],
    lang: str,
) -> Transition:
    """The transition to take, or the :class:`ApiError` that refuses it (see module doc)."""
    t = workflow.transitions.get(transition_id)
    if t is None:
        raise ApiError(404, "unknown_transition", {"transition": transition_id})
    if role != t.by:
        raise ApiError(403, "wrong_role", {"by": _role_name(t.by, lang)})
    if status not in t.sources:
        status_name = workflow.states[status].name if status in workflow.states else {}
        raise ApiError(
            409,
            "wrong_state",
            {"transition": _text(t.name, lang), "status": _text(status_name, lang) or status},
        )
    problems: list[FieldProblem] = []
    if t.reason == "required" and not (reason or "").strip():
        problems.append(FieldProblem("reason", "required", message("field.required", lang)))
    if has_data and not workflow.takes_data(t):
        problems.append(FieldProblem("data", "not_allowed", message("field.not_allowed", lang)))
    if problems:
        raise ApiError(422, "validation", fields=problems)
    if t.not_same_as:
        latest = next((p for p in reversed(history) if p.transition == t.not_same_as), None)
        if latest is not None and latest.actor_sub == actor_sub:
            other = workflow.transitions.get(t.not_same_as)
            raise ApiError(
                403,
                "four_eyes",
                {
                    "step": _text(t.name, lang),
                    "other": _text(other.name, lang) if other else t.not_same_as,
                },
            )
    return t


_ROLE_NAMES = {
    "applicant": ("申请人", "applicant"),
    "officer": ("经办人员", "officer"),
    "approver": ("审批人员", "approver"),
    "supervisor": ("监督人员", "supervisor"),
    "admin": ("管理员", "administrator"),
    "data_steward": ("数据专员", "data steward"),
}


def _role_name(role: str, lang: str) -> str:
    zh, en = _ROLE_NAMES.get(role, (role, role))
    return en if lang == "en" else zh


def _text(text: dict[str, str], lang: str) -> str:
    if not text:
        return ""
    if lang == "en" and "en" in text:
        return text["en"]
    return text.get("zh") or next(iter(text.values()))
