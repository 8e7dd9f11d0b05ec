"""``runtime.validation.conditions``: what the web form asks as answers change — decided by
the same code (and CEL engine) as the submission's validation."""

from __future__ import annotations

from typing import Any

from runtime.formspec import FieldSpec, FormSpec, GroupSpec
from runtime.validation import conditions, validate_submission


def _field(id: str, zh: str, type: str, **more: Any) -> FieldSpec:
    return FieldSpec(id=id, element=id, label={"zh": zh}, type=type, **more)


FORM = FormSpec(
    id="f",
    name={"zh": "表"},
    fields=(
        _field("kind", "类别", "code", codes=("1", "2")),
        _field("agent_used", "代理", "boolean"),
        _field("agent_name", "代理人", "string", required="agent_used"),
        _field("agent_id", "代理人证件", "string", when="agent_used"),
    ),
    groups=(
        GroupSpec(
            id="members",
            name={"zh": "成员"},
            min=0,
            max=3,
            when="kind == '2'",
            fields=(
                _field("name", "姓名", "string"),
                _field("note", "说明", "string", when="name == 'x'"),
            ),
        ),
    ),
)


def test_conditions_follow_the_answers() -> None:
    empty = conditions(FORM, {}, extra={"material.power": "agent_used"})
    assert empty.hidden == {"agent_id", "members", "material.power"}
    assert "agent_name" not in empty.required and "kind" in empty.required

    answered = conditions(
        FORM,
        {"kind": "2", "agent_used": True, "members": [{"name": "x"}, {"name": "y"}]},
        extra={"material.power": "agent_used"},
    )
    assert answered.hidden == {"members[1].note"}
    assert {"agent_name", "members[0].name", "members[1].name"} <= answered.required


def test_conditions_agree_with_validation() -> None:
    data = {"kind": "1", "agent_used": False, "agent_id": "A1", "members": [{"name": "n"}]}
    cleaned, errors = validate_submission(FORM, data)
    hidden = conditions(FORM, data).hidden
    assert errors == []
    assert {"agent_id", "members"} <= hidden
    assert "agent_id" not in cleaned and "members" not in cleaned


def test_conditions_of_data_that_is_not_an_object_hide_what_an_empty_form_hides() -> None:
    assert conditions(FORM, ["x"]).hidden == conditions(FORM, {}).hidden
