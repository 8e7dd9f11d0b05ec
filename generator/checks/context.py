"""What every check needs: the tree, the collector, and reference lookups with good errors."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from generator.diagnostics import Diagnostics, Location
from generator.kinds import Item, Model
from generator.tree import KIND_WORDS, KIND_WORDS_ZH, StandardsTree
from runtime.types import bilingual

M = TypeVar("M", bound=Model)

Where = Location | Callable[[], Location]
"""A location, or a function giving it: called only when there is a problem to report
(finding a node's location is most of the cost of a check that passes)."""


def locate(where: Where) -> Location:
    return where() if callable(where) else where


def known(names: object, limit: int = 12) -> str:
    """A short sorted list of names for an error message."""
    items = sorted(str(n) for n in names)  # type: ignore[attr-defined]
    shown = ", ".join(items[:limit])
    return shown + (f", … ({len(items)} in all)" if len(items) > limit else "") or "none"


def did_you_mean(name: str, names: object) -> str:
    close = difflib.get_close_matches(name, [str(n) for n in names], n=1)  # type: ignore[attr-defined]
    return f"; did you mean '{close[0]}'?" if close else ""


def did_you_mean_zh(name: str, names: object) -> str:
    """:func:`did_you_mean` in Chinese: ``（是否应为 'nanshan'？）``."""
    close = difflib.get_close_matches(name, [str(n) for n in names], n=1)  # type: ignore[attr-defined]
    return f"（是否应为 '{close[0]}'？）" if close else ""


@dataclass
class Checker:
    tree: StandardsTree
    diags: Diagnostics
    reported: set[tuple[Location, str]] = field(default_factory=set)  # by override re-checks

    def error(self, where: Location, message: str) -> None:
        self.diags.error(where, message)

    def warning(self, where: Location, message: str) -> None:
        self.diags.warning(where, message)

    def ref(
        self, cls: type[M], ident: str | None, where: Where, what: str = "", what_zh: str = ""
    ) -> M | None:
        """Look up a referenced document; unknown, retired and deprecated ones are reported.

        ``what`` and ``what_zh`` name the reference in English and Chinese (default: its kind).
        """
        if ident is None:
            return None
        table = self.tree.of(cls)
        word, word_zh = KIND_WORDS[cls.__name__], KIND_WORDS_ZH[cls.__name__]
        target = table.get(ident)
        if target is None and ident in self.tree.broken[cls.__name__]:
            return None  # the document exists but has errors, reported where it is
        if target is None:
            self.error(
                locate(where),
                bilingual(
                    f"{what_zh or word_zh} '{ident}' 未定义",
                    f"{what or word} '{ident}' is not defined{did_you_mean(ident, table)} "
                    f"(known {word}s: {known(table)})",
                ),
            )
            return None
        status = getattr(target, "status", "standard")
        if status == "retired" and isinstance(target, Item):
            at = target.at("status")
            self.error(
                locate(where),
                bilingual(
                    f"{word_zh} '{ident}' 已废止（{at}），请改用其他{word_zh}",
                    f"{word} '{ident}' is retired ({at}); use another",
                ),
            )
        elif status == "deprecated" and isinstance(target, Item):
            at = target.at("status")
            self.warning(
                locate(where),
                bilingual(
                    f"{word_zh} '{ident}' 已弃用（{at}）", f"{word} '{ident}' is deprecated ({at})"
                ),
            )
        return target

    def code(
        self, codeset_id: str, code: str | None, where: Where, what: str, what_zh: str
    ) -> None:
        """Check that ``code`` is a value of the code set ``codeset_id``.

        ``what`` and ``what_zh`` name the value in English and Chinese.
        """
        if code is None:
            return
        codeset = self.tree.codesets.get(codeset_id)
        if codeset is None and codeset_id in self.tree.broken["CodeSet"]:
            return
        if codeset is None:
            self.error(
                locate(where),
                bilingual(
                    f"{what_zh}需要代码集 '{codeset_id}'，但该代码集未定义",
                    f"{what} needs the code set '{codeset_id}', which is not defined",
                ),
            )
            return
        codes = codeset.codes()
        if code not in codes:
            self.error(
                locate(where),
                bilingual(
                    f"{what_zh} '{code}' 不是代码集 '{codeset_id}' 中的代码",
                    f"{what} '{code}' is not a code of '{codeset_id}' (codes: {known(codes)})",
                ),
            )
        elif codes[code].deprecated:
            self.warning(
                locate(where),
                bilingual(
                    f"{what_zh} '{code}' 在代码集 '{codeset_id}' 中已弃用",
                    f"{what} '{code}' is deprecated in code set '{codeset_id}'",
                ),
            )

    def unique(self, items: list[M], attr: str, what: str, what_zh: str) -> dict[str, M]:
        """Index ``items`` by ``attr``; a repeated value is an error naming both places.

        ``what`` and ``what_zh`` name the value in English and Chinese.
        """
        index: dict[str, M] = {}
        for item in items:
            key = getattr(item, attr)
            if key in index:
                first = index[key].at(attr)
                self.error(
                    item.at(attr if attr in type(item).model_fields else "id"),
                    bilingual(
                        f"{what_zh} '{key}' 重复（首次出现于 {first}）",
                        f"duplicate {what} '{key}' (first at {first})",
                    ),
                )
            else:
                index[key] = item
        return index
