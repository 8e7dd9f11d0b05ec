"""Policy (惠企政策): who is eligible for a benefit and the matter to claim it."""

from __future__ import annotations

from pydantic import Field

from generator.kinds.common import Code, Date, Id, Item, Localized, Model, Text, empty


class Validity(Model):
    from_: Date | None = Field(default=None, alias="from")
    """生效日期
    / First day in force
    e.g. `2026-01-01`"""
    to: Date | None = None
    """失效日期（含）
    / Last day in force
    e.g. `2026-12-31`"""


class Policy(Item):
    kind: str = "Policy"
    issuer: Localized
    """发布机关
    / Issuer
    e.g. `{zh: 南山区人力资源局}`"""
    regions: list[Id]
    """适用区域（含其下级区域）
    / Regions where it applies
    e.g. `[nanshan]`"""
    valid: Validity | None = None
    """有效期
    / Validity
    e.g. `{from: 2026-01-01, to: 2026-12-31}`"""
    audience: list[Code] = empty()
    """服务对象代码
    / Service object codes
    e.g. `["1", "2"]`"""
    profile: Id
    """描述申请人画像的表单
    / The form whose fields describe the applicant
    e.g. `enterprise_profile`"""
    eligible: Text
    """资格条件表达式（基于画像表单字段）
    / Eligibility expression over the profile form's fields
    e.g. `"employees >= 3 && established_days <= 1095"`"""
    benefit: Localized
    """政策内容
    / The benefit
    e.g. `{zh: 最高 1 万元}`"""
    apply: Id
    """申领所用的事项
    / The matter through which it is claimed
    e.g. `startup_subsidy`"""
