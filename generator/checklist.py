"""实施清单 workbooks: the sheets, columns and words of ``govstd import-xlsx`` / ``export-xlsx``.

Sheet ``事项``: one row per matter; sheet ``材料``: one row per material; sheet ``收费``
(optional): one row per fee item. Headers are in the first row, in any order
(../shared/spec/services.md §5).
"""

from __future__ import annotations

from dataclasses import dataclass

MATTERS = "事项"
MATERIALS = "材料"
FEES = "收费"


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    required: bool = False


MATTER_COLUMNS = (
    Column("标识", "id", True),
    Column("事项名称", "name", True),
    Column("事项类型", "type", True),
    Column("服务对象", "service_objects", True),
    Column("实施主体", "agency", True),
    Column("实施主体编码", "agency_code"),
    Column("设定依据", "basis"),
    Column("法定办结时限", "legal"),
    Column("承诺办结时限", "promised", True),
    Column("时限单位", "unit", True),
    Column("办件类型", "case_type", True),
    Column("是否收费", "charged"),
    Column("到办事现场次数", "visits"),
    Column("到现场原因", "visits_reason"),  # not in services.md §5: visits ≥ 1 needs it
    Column("办理渠道", "channels"),
    Column("申请表单", "form", True),
    Column("办理流程", "workflow", True),
    Column("咨询电话", "phone"),  # not in services.md §5: a service guide needs both phones
    Column("投诉电话", "complaint_phone"),
)
MATERIAL_COLUMNS = (
    Column("事项标识", "matter", True),
    Column("材料标识", "id", True),
    Column("材料名称", "name", True),
    Column("必要性", "necessity"),
    Column("来源", "source"),
    Column("适用条件", "when"),  # not in services.md §5: a material asked only when …
)
FEE_COLUMNS = (
    Column("事项标识", "matter", True),
    Column("收费项目", "name", True),
    Column("金额", "amount", True),
    Column("收费依据", "basis"),
)
SHEETS = {MATTERS: MATTER_COLUMNS, MATERIALS: MATERIAL_COLUMNS, FEES: FEE_COLUMNS}

# The words of closed columns (Chinese as written in a 实施清单) and the YAML values.
UNITS = {"工作日": "working_day", "自然日": "calendar_day"}
CASE_TYPES = {"即办件": "instant", "承诺件": "commitment"}
YES_NO = {"是": True, "否": False}
CHANNELS = {"网上": "online", "窗口": "window", "邮寄": "mail", "自助": "self_service"}
NECESSITY = {"必要": "required", "非必要": "optional", "容缺": "deferrable"}
SOURCES = {"申请人": "applicant", "政府部门": "government"}
SEPARATORS = "、,，;；"  # between several values in one cell


def words(mapping: dict[str, object]) -> str:
    """``工作日 | 自然日`` for a message."""
    return " | ".join(mapping)


def reverse(mapping: dict[str, str]) -> dict[str, str]:
    return {value: word for word, value in mapping.items()}
