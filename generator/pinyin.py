"""Pinyin search keys of the matters' Chinese names: the initials and the whole pinyin
(``gtgshsldj``, ``getigongshanghu…``), for the service hall's search with a Latin
keyboard (runtime/web/hall.py reads them from ``catalog.json``).

pypinyin's phrase dictionaries, which tell 银行 yinhang from 行政 xingzheng, take 55 MB
once imported: the server does not import it, and a generate of many matters computes the
keys in a child process (:class:`PinyinKeys`) started before the first renderer, on the
other core, so that they are ready by the catalog and the generate's own memory — which,
with ``ruff format``'s at the end, makes its peak (issue 13: < 1 GB at 10,000 matters) —
never holds the dictionaries. ``python -m generator.pinyin FILE`` is that child: the
names, a JSON list, in FILE; their keys, a JSON list of pairs, on standard output.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import orjson

from generator.children import Child, Closing

CHILD_FROM = 1000  # names: fewer are computed in this process (a child costs ~0.3 s)


def keys(name: str) -> tuple[str, str]:
    """The pinyin initials and whole pinyin of ``name`` (other characters left out)."""
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(name, errors="ignore")
    return "".join(s[0] for s in syllables if s).lower(), "".join(syllables).lower()


class PinyinKeys(Closing):
    """The keys of ``names``: computed by a child process begun at once (from
    :data:`CHILD_FROM` names), else here when first asked; :meth:`get` waits for them.
    A child that fails is no error: the keys are then computed here."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted(set(names))
        self._found: dict[str, tuple[str, str]] | None = None
        self._child: Child | None = None
        if len(self.names) >= CHILD_FROM:
            self._child = Child("generator.pinyin", orjson.dumps(self.names))

    def get(self) -> dict[str, tuple[str, str]]:
        """name -> (initials, whole pinyin)."""
        if self._found is None:
            found = None
            out = self._child.output() if self._child is not None else None
            if out is not None:
                found = {n: (a, b) for n, (a, b) in zip(self.names, orjson.loads(out), strict=True)}
            self._found = found or {n: keys(n) for n in self.names}
        return self._found

    def close(self) -> None:
        """Stop the child if it still runs."""
        if self._child is not None:
            self._child.close()


def main(argv: list[str]) -> int:
    names = orjson.loads(Path(argv[0]).read_bytes())
    sys.stdout.buffer.write(orjson.dumps([keys(n) for n in names]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
