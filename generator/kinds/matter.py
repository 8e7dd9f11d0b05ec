"""Matter (政务服务事项): one service with its complete service-guide elements."""

from __future__ import annotations

from typing import Literal

from pydantic import Field as F

from generator.kinds.common import Code, Id, Item, Localized, Model, Text, empty

Unit = Literal["working_day", "calendar_day"]


class Agency(Model):
    name: Localized
    """实施主体名称
    / Implementing agency's name
    e.g. `{zh: 市场监督管理局}`"""
    code: Code | None = None
    """实施主体统一社会信用代码（GB 32100）
    / Agency's unified social credit code (GB 32100)
    e.g. `"11440300MB2D072246"`"""
    nature: Localized | None = None
    """实施主体性质
    / Nature of the agency
    e.g. `{zh: 法定机关}`"""


class Basis(Model):
    title: Text
    """法律法规名称
    / Title of the law or regulation
    e.g. `市场主体登记管理条例`"""
    article: str | None = None
    """条款
    / Article
    e.g. `第十九条`"""
    url: str | None = None
    """原文链接
    / Link to the text
    e.g. `https://www.gov.cn/`"""


class Limit(Model):
    value: int = F(ge=0)
    """天数
    / Number of days
    e.g. `3`"""
    unit: Unit
    """单位：工作日或自然日
    / Unit: working or calendar days
    e.g. `working_day`"""
    note: Localized | None = None
    """说明
    / Note
    e.g. `{zh: 不含公示时间}`"""


class TimeLimit(Model):
    legal: Limit | None = None
    """法定办结时限
    / Legal time limit
    e.g. `{value: 20, unit: working_day}`"""
    promised: Limit
    """承诺办结时限（不得超过法定时限；即办件为 0）
    / Promised time limit (not above the legal one; 0 for instant)
    e.g. `{value: 1, unit: working_day}`"""


class FeeItem(Model):
    name: Localized
    """收费项目名称
    / Fee item name
    e.g. `{zh: 工本费}`"""
    amount: float | int | str
    """金额（元）或说明
    / Amount (yuan) or a text
    e.g. `20`"""
    basis: str | None = None
    """收费依据
    / Legal basis of the fee
    e.g. `价费字〔2020〕1号`"""


class Fee(Model):
    charged: bool
    """是否收费
    / Whether a fee is charged
    e.g. `false`"""
    items: list[FeeItem] = empty()
    """收费项目（收费时必填）
    / Fee items (needed when charged)
    e.g. `[{name: {zh: 工本费}, amount: 20}]`"""


class Site(Model):
    name: Localized
    """办理地点名称
    / Name of the service site
    e.g. `{zh: 南山区行政服务大厅}`"""
    address: Localized
    """地址
    / Address
    e.g. `{zh: 南山大道 2000 号}`"""
    hours: Localized | None = None
    """办公时间
    / Opening hours
    e.g. `{zh: 工作日 9:00-18:00}`"""
    phone: str | None = None
    """电话
    / Phone
    e.g. `"0755-26666666"`"""


class Material(Model):
    id: Id
    """材料标识
    / Material id
    e.g. `id_proof`"""
    name: Localized
    """材料名称
    / Material name
    e.g. `{zh: 经营者身份证明}`"""
    type: Code | None = None
    """材料类型代码（代码集 material_type）
    / Material type code (code set material_type)
    e.g. `"1"`"""
    medium: Literal["paper", "electronic", "both"] = "electronic"
    """载体：纸质、电子或两者
    / Medium: paper, electronic or both
    e.g. `electronic`"""
    copies: int = F(default=1, ge=0)
    """份数
    / Number of copies
    e.g. `1`"""
    necessity: Literal["required", "optional", "deferrable"] = "required"
    """必要性：必要、非必要、容缺后补
    / Necessity: required, optional, deferrable (容缺后补)
    e.g. `required`"""
    source: Literal["applicant", "government"] = "applicant"
    """来源：申请人提交，或政府部门共享（无需上传；受理时从电子证照库获取）
    / Source: the applicant, or the government (no upload; fetched from the e-licence service)
    e.g. `applicant`"""
    accept: list[Text] = empty()
    """允许的文件类型（上传的，或获取的电子证照；为空时 PDF、JPEG、PNG）
    / Accepted file types (uploaded, or fetched e-licences; empty: PDF, JPEG, PNG)
    e.g. `[application/pdf, image/jpeg]`"""
    max_size_mb: int = F(default=10, ge=1, le=1024)
    """单个文件大小上限（MB）
    / Largest file (MB)
    e.g. `10`"""
    when: Text | None = None
    """条件表达式（基于申请表字段）：为假时无需此材料
    / Expression over the form's fields: when false the material is not asked
    e.g. `agent_used`"""
    notes: Localized | None = None
    """填报说明
    / Notes for the applicant
    e.g. `{zh: 须在有效期内}`"""
    renamed_from: list[Id] = empty()
    """材料此前的标识
    / Ids this material had before
    e.g. `[identity_proof]`"""


class Result(Model):
    name: Localized
    """办理结果名称
    / Name of the result
    e.g. `{zh: 营业执照}`"""
    type: Code | None = None
    """结果类型代码（代码集 result_type）
    / Result type code (code set result_type)
    e.g. `"1"`"""
    sample: str | None = None
    """结果样本
    / Sample of the result
    e.g. `https://example.gov.cn/sample.pdf`"""


class Contact(Model):
    phone: str | None = None
    """咨询电话
    / Enquiry phone
    e.g. `"0755-88888888"`"""
    complaint_phone: str | None = None
    """投诉电话
    / Complaint phone
    e.g. `"12345"`"""


class Faq(Model):
    q: Localized
    """问题
    / Question
    e.g. `{zh: 可以网上办理吗？}`"""
    a: Localized
    """回答
    / Answer
    e.g. `{zh: 可以。}`"""


Channel = Literal["online", "window", "mail", "self_service"]


class Matter(Item):
    kind: str = "Matter"
    type: Code
    """事项类型代码（代码集 matter_type）
    / Matter type code (code set matter_type)
    e.g. `"01"`"""
    basic_code: str | None = None
    """基本编码
    / Basic code of the national catalogue
    e.g. `"000201001000"`"""
    implementation_code: str | None = None
    """实施编码
    / Implementation code
    e.g. `"11440300MB2D072246000201001000"`"""
    exercise_level: Code | None = None
    """行使层级代码（代码集 exercise_level）
    / Exercise level code (code set exercise_level)
    e.g. `"3"`"""
    service_objects: list[Code]
    """服务对象代码（代码集 service_object）
    / Service object codes (code set service_object)
    e.g. `["1", "2"]`"""
    agency: Agency
    """实施主体
    / Implementing agency
    e.g. `{name: {zh: 市场监督管理局}, code: "11440300MB2D072246"}`"""
    basis: list[Basis] = empty()
    """设定依据
    / Legal basis
    e.g. `[{title: 市场主体登记管理条例, article: 第十九条}]`"""
    conditions: Localized | None = None
    """受理条件
    / Conditions of acceptance
    e.g. `{zh: 有经营能力的自然人}`"""
    case_type: Literal["instant", "commitment"]
    """办件类型：即办件或承诺件（即办件承诺时限为 0）
    / Case type: instant or commitment (instant means a promised limit of 0)
    e.g. `commitment`"""
    time_limit: TimeLimit
    """办结时限
    / Time limits
    e.g. `{legal: {value: 3, unit: working_day}, promised: {value: 1, unit: working_day}}`"""
    fee: Fee = Fee(charged=False)
    """收费
    / Fee
    e.g. `{charged: false}`"""
    visits: int = F(default=0, ge=0)
    """到办事现场次数（0 须有网上或邮寄渠道）
    / Visits in person (0 needs an online or mail channel)
    e.g. `0`"""
    visits_reason: Localized | None = None
    """需到现场的原因
    / Why a visit is needed
    e.g. `{zh: 核验身份原件}`"""
    channels: list[Channel] = empty()
    """办理渠道
    / Channels
    e.g. `[online, window]`"""
    online_depth: list[Code] = empty()
    """网上办理深度代码（代码集 online_depth）
    / Online depth codes (code set online_depth)
    e.g. `["4"]`"""
    sites: list[Site] = empty()
    """办理地点
    / Service sites
    e.g. `[{name: {zh: 行政服务大厅}, address: {zh: 南山大道 2000 号}}]`"""
    form: Id
    """申请表单
    / The application form
    e.g. `ibr_form`"""
    workflow: Id
    """办理流程
    / The workflow
    e.g. `licensing`"""
    materials: list[Material] = empty()
    """申请材料
    / Materials
    e.g. `[{id: id_proof, name: {zh: 经营者身份证明}}]`"""
    result: Result | None = None
    """办理结果
    / Result
    e.g. `{name: {zh: 营业执照}}`"""
    contact: Contact | None = None
    """咨询与投诉电话
    / Enquiry and complaint phones
    e.g. `{phone: "0755-88888888", complaint_phone: "12345"}`"""
    faq: list[Faq] = empty()
    """常见问题
    / Frequently asked questions
    e.g. `[{q: {zh: 可以网上办理吗？}, a: {zh: 可以。}}]`"""
