"""Form (申请表单): sections of fields built from data elements, and rules."""

from __future__ import annotations

from pydantic import Field as F

from generator.kinds.common import Code, Id, Item, Localized, Model, Number, Text, empty


class Field(Model):
    element: Id
    """字段所用的数据元
    / The data element the field asks for
    e.g. `citizen_id_number`"""
    id: Id | None = None
    """字段标识，默认为数据元标识；同一数据元用两次时必填
    / Field id, by default the element id; needed when an element is used twice
    e.g. `operator_phone`"""
    label: Localized | None = None
    """字段标签，默认为数据元名称
    / Label, by default the element's name
    e.g. `{zh: 经营者联系电话}`"""
    help: Localized | None = None
    """填写提示
    / Help text shown with the field
    e.g. `{zh: 与营业执照一致}`"""
    required: bool | Text = True
    """是否必填：布尔值或表达式
    / Required: a boolean or an expression
    e.g. `agent_used`"""
    when: Text | None = None
    """条件表达式：为假时字段不出现，提交的值被丢弃
    / Expression: when false the field is absent and a submitted value is discarded
    e.g. `"organization_form == '2'"`"""
    prefill: Text | None = None
    """预填来源（登录申请人的信息）
    / Prefill source (the signed-in applicant)
    e.g. `identity.id_number`"""
    min_length: int | None = None
    """收窄数据元：最少字符数
    / Narrows the element: minimum characters
    e.g. `2`"""
    max_length: int | None = None
    """收窄数据元：最多字符数
    / Narrows the element: maximum characters
    e.g. `30`"""
    pattern: Text | None = None
    """收窄数据元：正则表达式
    / Narrows the element: regular expression
    e.g. `'1[3-9][0-9]{9}'`"""
    choices: list[Code] | None = None
    """收窄代码集：只允许这些代码
    / Narrows the code set to these codes
    e.g. `["1", "2"]`"""
    minimum: Number | None = None
    """收窄数据元：最小值
    / Narrows the element: smallest value
    e.g. `1`"""
    maximum: Number | None = None
    """收窄数据元：最大值
    / Narrows the element: largest value
    e.g. `100`"""
    renamed_from: list[Id] = empty()
    """字段此前的标识；迁移时改名列
    / Ids this field had before; the migration renames the column
    e.g. `[phone]`"""

    @property
    def field_id(self) -> str:
        return self.id or self.element


class Repeat(Model):
    min: int = F(default=0, ge=0)
    """最少行数
    / Fewest rows
    e.g. `0`"""
    max: int = F(default=100, ge=1)
    """最多行数
    / Most rows
    e.g. `10`"""


class Section(Model):
    id: Id
    """分组标识；重复分组的数据以它为键
    / Section id; a repeating group's rows are stored under it
    e.g. `members`"""
    name: Localized
    """分组名称
    / Section name
    e.g. `{zh: 经营者信息}`"""
    description: Localized | None = None
    """分组说明
    / Section description
    e.g. `{zh: 请如实填写}`"""
    repeat: Repeat | None = None
    """重复分组（多行）
    / A repeating group (a list of rows)
    e.g. `{min: 0, max: 10}`"""
    when: Text | None = None
    """条件表达式：为假时整组不出现
    / Expression: when false the section is absent
    e.g. `"organization_form == '2'"`"""
    fields: list[Field]
    """字段列表
    / The fields
    e.g. `[{element: person_name}]`"""
    renamed_from: list[Id] = empty()
    """分组此前的标识
    / Ids this section had before
    e.g. `[family]`"""


class Rule(Model):
    id: Id
    """规则标识
    / Rule id
    e.g. `capital_positive`"""
    assert_: Text = F(alias="assert")
    """必须成立的表达式
    / Expression that must hold
    e.g. `"registered_capital > 0.0"`"""
    message: Localized
    """不成立时的提示
    / Message when it does not hold
    e.g. `{zh: 资金数额必须大于零, en: Capital must be positive}`"""


class Form(Item):
    kind: str = "Form"
    sections: list[Section]
    """分组列表
    / The sections
    e.g. `[{id: operator, name: {zh: 经营者信息}, fields: [...]}]`"""
    rules: list[Rule] = empty()
    """跨字段规则
    / Rules across fields
    e.g. `[{id: positive, assert: "capital > 0.0", message: {zh: 须大于零}}]`"""
