"""The words of the data system's pages (数据资源目录, 数据质量), merged into
:data:`runtime.web.i18n.TEXT` (kept apart so the pages' catalogue stays easy to merge)."""

from __future__ import annotations

from typing import Final

DATA_TEXT: Final[dict[str, tuple[str, str]]] = {
    "cat.short": ("数据资源目录", "Data catalogue"),
    "cat.title": ("{region}政务数据资源目录", "Government data resources of {region}"),
    "cat.intro": (
        "本地区各项申请表单收集的数据资源：由哪个部门提供、包含哪些数据项、能否共享、多久更新。"
        "有条件共享的数据须经数据专员审批后方可使用。",
        "The data each application form of this region collects: which agency provides it, "
        "its items, whether they may be shared and how often they change. Conditional items "
        "are shared only with a data steward's approval.",
    ),
    "cat.search": ("搜索数据资源", "Search the data resources"),
    "cat.search_hint": ("资源、部门、事项或数据项名称", "Resource, agency, service or item"),
    "cat.found": (
        "共 {resources} 个数据资源，{items} 个数据项",
        "{resources} resource(s), {items} item(s)",
    ),
    "cat.none": ("没有符合条件的数据资源。", "No data resource matches."),
    "cat.provider": ("提供方：{provider}", "Provided by {provider}"),
    "cat.matters": ("用于事项：", "Collected for: "),
    "cat.items_of": ("{name}的数据项", "The items of {name}"),
    "cat.item": ("数据项", "Item"),
    "cat.element": ("数据元", "Data element"),
    "cat.type": ("类型", "Type"),
    "cat.sensitive": ("个人信息", "Personal data"),
    "cat.yes_sensitive": ("是（加密存储）", "yes (encrypted)"),
    "cat.no": ("否", "no"),
    "cat.share": ("共享类型", "Sharing"),
    "cat.cycle": ("更新周期", "Updated"),
    "cat.share_unconditional": ("无条件共享", "Unconditional"),
    "cat.share_unconditional_desc": (
        "经申请即可使用",
        "granted on request",
    ),
    "cat.share_conditional": ("有条件共享", "Conditional"),
    "cat.share_conditional_desc": (
        "须说明用途和依据，经数据专员审批",
        "needs a purpose, a legal basis and a data steward's approval",
    ),
    "cat.share_none": ("不予共享", "Not shared"),
    "cat.share_none_desc": ("不提供共享", "never shared"),
    "hall.catalogue": ("政务数据资源目录", "Government data catalogue"),
    "dq.title": ("数据质量", "Data quality"),
    "dq.intro": (
        "按数据元和地区统计已存储数据：已填、未填、不符合现行校验规则的值（如规则收紧前提交的），"
        "以及同一证件号码在不同申请中对应不同名称的情况。问题最多的数据元排在最前。",
        "The stored data by data element and region: filled, empty, values failing today's "
        "checks (such as those filed before a check was tightened), and identifiers given "
        "with different names in different applications. The worst elements come first.",
    ),
    "dq.nothing_stored": ("尚无已存储的申请数据。", "No application data is stored yet."),
    "dq.unused": (
        "另有 {count} 个数据元尚无任何已存储的值（未列出）。",
        "{count} more element(s) have no stored value yet (not listed).",
    ),
    "dq.with_problems": ("存在问题的数据元", "Elements with problems"),
    "dq.elements": ("数据元", "Elements"),
    "dq.by_element": ("各数据元的质量", "Quality by element"),
    "dq.element": ("数据元", "Element"),
    "dq.region": ("地区", "Region"),
    "dq.filled": ("已填", "Filled"),
    "dq.empty": ("未填", "Empty"),
    "dq.failures": ("不符合校验", "Failing checks"),
    "dq.conflicts": ("一号多名", "One ID, several names"),
    "dq.examples": ("一号多名的记录", "Identifiers with several names"),
    "dq.identifier": ("证件号码（脱敏）", "Identifier (masked)"),
    "dq.names": ("名称", "Names"),
    "dq.applications": ("受理编号", "Application numbers"),
    "dq.code_pattern": ("格式不符", "format"),
    "dq.code_max_length": ("过长", "too long"),
    "dq.code_min_length": ("过短", "too short"),
    "dq.code_choices": ("代码已停用或无效", "code retired or unknown"),
    "dq.code_minimum": ("小于下限", "below the minimum"),
    "dq.code_maximum": ("超过上限", "above the maximum"),
    "dq.code_type": ("类型不符", "wrong type"),
    "dq.code_gb11643": ("身份证号校验失败", "ID number check"),
    "dq.code_gb32100": ("信用代码校验失败", "credit code check"),
    "dq.code_gb2260": ("区划代码无效", "division code"),
    "staff.data_quality": ("数据质量", "Data quality"),
}
