"""``extends:`` on a CodeSet: a tree adds codes to a code set defined elsewhere.

A regional tree read together with the national one (``govstd validate national/
sichuan/``) adds its own GB/T 2260 division codes to ``admin_division`` without
editing the national file::

    kind: CodeSet
    id: sichuan_divisions
    name: {zh: 四川省行政区划代码}
    extends: admin_division
    values:
      - {code: "510107", name: {zh: 武侯区}, parent: "510100"}

The codes join the extended set for the whole tree (every check, every package);
a code the set already has is an error at the extending value. One level only: a
set that extends cannot itself be extended.
"""

from __future__ import annotations

from generator.checks.context import did_you_mean, did_you_mean_zh, known
from generator.diagnostics import Diagnostics
from generator.tree import StandardsTree
from runtime.types import bilingual


def extend_codesets(tree: StandardsTree, diagnostics: Diagnostics) -> None:
    """Add each extending code set's values to the set it extends."""
    for codeset in tree.codesets.values():
        if codeset.extends is None:
            continue
        target = tree.codesets.get(codeset.extends)
        where = codeset.at("extends")
        if target is None:
            if codeset.extends not in tree.broken["CodeSet"]:
                diagnostics.error(
                    where,
                    bilingual(
                        f"代码集 '{codeset.extends}' 未定义"
                        f"{did_you_mean_zh(codeset.extends, tree.codesets)}",
                        f"code set '{codeset.extends}' is not defined"
                        f"{did_you_mean(codeset.extends, tree.codesets)} "
                        f"(known code sets: {known(tree.codesets)})",
                    ),
                )
        elif target is codeset:
            diagnostics.error(
                where, bilingual("代码集不能扩展它自己", "a code set cannot extend itself")
            )
        elif target.extends is not None:
            diagnostics.error(
                where,
                bilingual(
                    f"代码集 '{target.id}' 本身扩展了 '{target.extends}'；"
                    f"请直接扩展 '{target.extends}'",
                    f"code set '{target.id}' itself extends '{target.extends}'; "
                    f"extend '{target.extends}' directly",
                ),
            )
        else:
            target._extended_by.extend([*codeset.values, *codeset._file_values])
