"""DataElement (数据元, after GB/T 19488.1 / ISO/IEC 11179)."""

from __future__ import annotations

from typing import Literal

from generator.kinds.common import Id, Item, Localized, Number, empty
from runtime.types import CheckName, FieldType

ElementType = FieldType
ShareType = Literal["unconditional", "conditional", "none"]


class DataElement(Item):
    kind: str = "DataElement"
    identifier: str | None = None
    """数据元注册标识符（可选）
    / Registry identifier (optional)
    e.g. `DE01001`"""
    definition: Localized | None = None
    """定义
    / Definition
    e.g. `{zh: 按 GB 11643 编制的 18 位公民身份号码}`"""
    synonyms: list[str] = empty()
    """同义名称
    / Synonyms
    e.g. `[身份证号]`"""
    type: ElementType
    """数据类型；code 需要 codeset，file 为上传文件
    / Data type; code needs a codeset, file is an upload
    e.g. `string`"""
    format: str | None = None
    """GB/T 19488 表示格式（见“表示格式”一节）
    / GB/T 19488 representation (see the section on formats)
    e.g. `c..50`"""
    check: CheckName | None = None
    """内置校验：身份证号、统一社会信用代码、行政区划代码、手机号、邮编、电子邮箱
    / Built-in check: citizen ID, unified social credit code, division code, mobile, postal
    code, e-mail
    e.g. `gb11643`"""
    sensitive: bool = False
    """个人信息：加密存储，列表中脱敏，查看留痕
    / Personal information: encrypted at rest, masked in lists, reads audited
    e.g. `true`"""
    share: ShareType | None = None
    """共享类型（政务数据资源目录）：无条件共享、有条件共享（经数据专员审批）、不予共享；
    未写时按有条件共享；敏感数据元不得无条件共享
    / Share type in the data resource catalogue: unconditional, conditional (approved by a
    data steward) or none; conditional when absent; a sensitive element is never
    unconditional
    e.g. `unconditional`"""
    unit: Localized | None = None
    """计量单位，随值显示（可写各语言：英文页面显示 en）
    / Unit of measure, shown with the value (localized: English pages show en)
    e.g. `{zh: 元, en: yuan}`"""
    codeset: Id | None = None
    """code 类型数据元的代码集
    / The code set of a code element
    e.g. `sex`"""
    multiple: bool = False
    """可选多个代码（值为代码列表）
    / A list of codes instead of one
    e.g. `true`"""
    min_length: int | None = None
    """最少字符数
    / Minimum number of characters
    e.g. `2`"""
    max_length: int | None = None
    """最多字符数
    / Maximum number of characters
    e.g. `50`"""
    pattern: str | None = None
    """正则表达式，须匹配整个值
    / Regular expression the whole value must match
    e.g. `'[0-9A-Z]{18}'`"""
    minimum: Number | None = None
    """最小值
    / Smallest value
    e.g. `0`"""
    maximum: Number | None = None
    """最大值
    / Largest value
    e.g. `999999.99`"""
