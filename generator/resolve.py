"""Region inheritance: each region's matters after its ancestors' and its own overrides.

Overrides merge YAML nodes, not plain data, so a merged matter still knows where
each of its values was written: an error in the merged result points at the
override in the region's file, or at the base matter's file, whichever set it.
Mappings merge by key; a list of objects is changed by ``add`` / ``remove`` or
patched by item id; any other value is replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from generator.checks.context import Checker, known
from generator.checks.matters import check_matter
from generator.diagnostics import Diagnostic, Diagnostics, Location
from generator.kinds import Bundle, Calendar, Matter, Policy, Region
from generator.parse import build
from generator.yamlsource import child, location, to_data
from runtime.identifiers import check_gb2260
from runtime.types import bilingual

LIST_OPS = {"add", "remove"}
SEQ = "tag:yaml.org,2002:seq"


@dataclass
class ResolvedRegion:
    """What one region implements."""

    region: Region
    chain: list[Region]  # root first, this region last
    calendar: Calendar | None
    matters: dict[str, Matter]
    overridden_by: dict[str, list[str]] = field(default_factory=dict)
    policies: list[Policy] = field(default_factory=list)
    bundles: list[Bundle] = field(default_factory=list)


def region_chain(c: Checker, region: Region) -> list[Region] | None:
    """Ancestors root first; None (and an error) for a cycle or a missing parent."""
    chain = [region]
    while chain[-1].parent is not None:
        current = chain[-1]
        parent = c.tree.regions.get(current.parent or "")
        if parent is None:
            return None  # reported by check_region
        if parent in chain:
            names = " → ".join(r.id for r in [*chain[chain.index(parent) :], parent])
            c.error(
                current.at("parent"),
                bilingual(f"上级区域形成循环：{names}", f"region parents form a cycle: {names}"),
            )
            return None
        chain.append(parent)
    return list(reversed(chain))


def check_region(c: Checker, region: Region) -> None:
    if region.parent is not None:
        c.ref(Region, region.parent, region.at("parent"), "parent region", what_zh="上级区域")
    if check_gb2260(region.code) is not None:
        c.error(
            region.at("code"),
            bilingual(
                f"区域代码 '{region.code}' 不是 6 位的 GB/T 2260 代码",
                f"region code '{region.code}' is not a 6-digit GB/T 2260 code",
            ),
        )
    else:
        divisions = c.tree.codesets.get("admin_division")
        if divisions is not None and region.code not in divisions.codes():
            c.warning(
                region.at("code"),
                bilingual(
                    f"区域代码 '{region.code}' 不在代码集 'admin_division' 中",
                    f"region code '{region.code}' is not in code set 'admin_division'",
                ),
            )
    if region.calendar is not None:
        c.ref(Calendar, region.calendar, region.at("calendar"))
    include = region.matters.include
    for key, ids in (
        ("include", include if isinstance(include, list) else []),
        ("exclude", region.matters.exclude),
    ):
        for index, matter_id in enumerate(ids):
            c.ref(Matter, matter_id, region.matters.at(key, index))


def resolve(c: Checker, region: Region) -> ResolvedRegion | None:
    chain = region_chain(c, region)
    if chain is None:
        return None
    selected: list[str] = sorted(c.tree.matters)
    nodes: dict[str, yaml.Node] = {}
    overridden: dict[str, list[str]] = {}
    for r in chain:
        include = r.matters.include
        if isinstance(include, list):
            outside = [m for m in include if m not in selected and m in c.tree.matters]
            for matter_id in outside:
                index = include.index(matter_id)
                c.error(
                    r.matters.at("include", index),
                    bilingual(
                        f"区域 '{r.id}' 包含事项 '{matter_id}'，但其上级区域未实施该事项",
                        f"region '{r.id}' includes matter "
                        f"'{matter_id}', which its parent does not implement",
                    ),
                )
            selected = [m for m in selected if m in include]
        selected = [m for m in selected if m not in r.matters.exclude]
        region_node = r.node if r.overrides else None
        overrides = child(region_node, "overrides") if region_node else None
        for matter_id in r.overrides:
            name, patch = (
                _pairs(overrides).get(matter_id, (None, None))
                if isinstance(overrides, yaml.MappingNode)
                else (None, None)
            )
            where = location(name) if name is not None else r.at("overrides")
            if matter_id not in c.tree.matters:
                if matter_id not in c.tree.broken["Matter"]:
                    c.error(
                        where,
                        bilingual(
                            f"覆盖了未知的事项 '{matter_id}'",
                            f"override of unknown matter '{matter_id}' (known matters: "
                            f"{known(c.tree.matters)})",
                        ),
                    )
                continue
            if matter_id not in selected:
                defined = c.tree.matters[matter_id].at()
                c.error(
                    where,
                    bilingual(
                        f"覆盖了事项 '{matter_id}'，但区域 '{r.id}' "
                        f"未实施该事项（定义于 {defined}）",
                        f"override of matter '{matter_id}', which region '{r.id}' does "
                        f"not implement (defined at {defined})",
                    ),
                )
                continue
            base = nodes.get(matter_id) or c.tree.matters[matter_id].node
            if base is None or patch is None:
                continue
            nodes[matter_id] = merge(c, base, patch, matter_id)
            overridden.setdefault(matter_id, []).append(r.id)
    matters = {m: c.tree.matters[m] for m in selected}
    path = " → ".join(r.id for r in chain)
    for matter_id, node in nodes.items():
        merged = _rebuild(c, node, matter_id, c.tree.matters[matter_id], path)
        if merged is not None and matter_id in matters:
            matters[matter_id] = merged
    calendar_id = next((r.calendar for r in reversed(chain) if r.calendar), None)
    if calendar_id is None:
        c.error(
            region.at(),
            bilingual(
                f"区域 '{region.id}' 及其各级上级区域都没有工作日历（计算工作日需要工作日历）",
                f"region '{region.id}' has no calendar, nor has any ancestor "
                "(working days need one)",
            ),
        )
    ids = {r.id for r in chain}
    return ResolvedRegion(
        region=region,
        chain=chain,
        calendar=c.tree.calendars.get(calendar_id or ""),
        matters=matters,
        overridden_by=overridden,
        policies=[p for p in c.tree.policies.values() if ids & set(p.regions)],
        bundles=[b for b in c.tree.bundles.values() if set(b.matters) <= set(matters)],
    )


def _rebuild(c: Checker, node: yaml.Node, matter_id: str, base: Matter, path: str) -> Matter | None:
    """Validate and check a merged matter; report only what the overrides caused."""
    context = f" (after the overrides of {path})"
    context_zh = f"（经 {path} 覆盖后）"
    before = _messages(c, base)
    scratch = Diagnostics()
    data = to_data(node, scratch)
    merged = build(Matter, node, data, scratch)
    if merged is not None:
        check_matter(Checker(c.tree, scratch), merged)
    for d in scratch.items:
        key = (d.location, d.message)
        if key not in before and key not in c.reported:  # a parent region reported it already
            c.reported.add(key)
            message = _with_context(d.message, context_zh, context)
            c.diags.items.append(Diagnostic(d.location, d.severity, message))
    return merged if not scratch.has_errors() else None


def _with_context(message: str, zh: str, en: str) -> str:
    """``message`` with ``zh`` added to its Chinese part and ``en`` to its English one."""
    chinese, separator, english = message.partition(" / ")
    return bilingual(chinese + zh, english + en) if separator else message + en


def _messages(c: Checker, matter: Matter) -> set[tuple[Location, str]]:
    scratch = Diagnostics()
    check_matter(Checker(c.tree, scratch), matter)
    return {(d.location, d.message) for d in scratch.items}


def _pairs(node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """Key → (key node, value node); of a duplicate key the first, as the loader keeps it."""
    pairs: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode):
            pairs.setdefault(k.value, (k, v))
    return pairs


def merge(c: Checker, base: yaml.Node, patch: yaml.Node, what: str) -> yaml.Node:
    """``patch`` merged onto ``base``; new nodes keep the marks of where each value came from."""
    if isinstance(base, yaml.MappingNode) and isinstance(patch, yaml.MappingNode):
        pairs = _pairs(base)
        result = []
        for key, (key_node, value_node) in pairs.items():
            patched = child(patch, key)
            if patched is None:
                result.append((key_node, value_node))
            else:
                result.append((key_node, merge(c, value_node, patched, f"{what}.{key}")))
        for key, (key_node, value_node) in _pairs(patch).items():
            if key not in pairs:
                if isinstance(value_node, yaml.MappingNode) and LIST_OPS & set(_pairs(value_node)):
                    empty = yaml.SequenceNode(SEQ, [], value_node.start_mark, value_node.end_mark)
                    value_node = _merge_list(c, empty, value_node, f"{what}.{key}")
                result.append((key_node, value_node))
        return yaml.MappingNode(base.tag, result, base.start_mark, base.end_mark)
    if isinstance(base, yaml.SequenceNode) and isinstance(patch, yaml.MappingNode):
        return _merge_list(c, base, patch, what)
    if isinstance(patch, yaml.MappingNode) and LIST_OPS & set(_pairs(patch)):
        c.error(
            location(patch),
            bilingual(
                f"'{what}' 在此处不是由若干项组成的列表（{location(base)}）；"
                "add/remove 只适用于列表",
                f"'{what}' is not a list of items here ({location(base)}); "
                "add/remove apply to lists",
            ),
        )
    return patch


def _item_id(node: yaml.Node) -> str | None:
    ident = child(node, "id")
    return ident.value if isinstance(ident, yaml.ScalarNode) else None


def _merge_list(
    c: Checker, base: yaml.SequenceNode, patch: yaml.MappingNode, what: str
) -> yaml.Node:
    items: list[yaml.Node] = list(base.value)
    ids = [_item_id(item) for item in items]
    listing = known([i for i in ids if i])
    for key, (key_node, value) in _pairs(patch).items():
        if key == "remove":
            for ref in value.value if isinstance(value, yaml.SequenceNode) else [value]:
                if ref.value in ids:
                    index = ids.index(ref.value)
                    del items[index], ids[index]
                else:
                    c.error(
                        location(ref),
                        bilingual(
                            f"无法从 '{what}' 中移除 '{ref.value}'：没有这一项（{location(base)}）",
                            f"cannot remove '{ref.value}' from '{what}': there is "
                            f"no such item ({location(base)}; items: {listing})",
                        ),
                    )
        elif key == "add":
            for new in value.value if isinstance(value, yaml.SequenceNode) else [value]:
                new_id = _item_id(new)
                if new_id is not None and new_id in ids:
                    there = location(items[ids.index(new_id)])
                    c.error(
                        location(new),
                        bilingual(
                            f"无法向 '{what}' 添加 '{new_id}'：它已经存在（{there}）",
                            f"cannot add '{new_id}' to '{what}': it is already there ({there})",
                        ),
                    )
                else:
                    items.append(new)
                    ids.append(new_id)
        elif key in ids:
            index = ids.index(key)
            items[index] = merge(c, items[index], value, f"{what}.{key}")
        else:
            c.error(
                location(key_node),
                bilingual(
                    f"无法修改 '{what}' 中的 '{key}'：没有这一项（{location(base)}；"
                    "增删列表项请用 add/remove）",
                    f"cannot change '{key}' in '{what}': there is no such "
                    f"item ({location(base)}; items: {listing}; use add/remove to change the list)",
                ),
            )
    return yaml.SequenceNode(base.tag, items, base.start_mark, base.end_mark)
