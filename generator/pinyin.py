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

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

import orjson

from generator.children import python_module

CHILD_FROM = 1000  # names: fewer are computed in this process (a child costs ~0.3 s)


def keys(name: str) -> tuple[str, str]:
    """The pinyin initials and whole pinyin of ``name`` (other characters left out)."""
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(name, errors="ignore")
    return "".join(s[0] for s in syllables if s).lower(), "".join(syllables).lower()


class PinyinKeys:
    """The keys of ``names``: computed by a child process begun at once (from
    :data:`CHILD_FROM` names), else here when first asked; :meth:`get` waits for them.
    A child that fails is no error: the keys are then computed here."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted(set(names))
        self._found: dict[str, tuple[str, str]] | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._file: Path | None = None
        if len(self.names) < CHILD_FROM:
            return
        fd, name = tempfile.mkstemp(prefix="govstd-pinyin-", suffix=".json")
        self._file = Path(name)
        with os.fdopen(fd, "wb") as f:
            f.write(orjson.dumps(self.names))
        command, env = python_module("generator.pinyin", name)
        self._child = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )

    def get(self) -> dict[str, tuple[str, str]]:
        """name -> (initials, whole pinyin)."""
        if self._found is None:
            found = None
            if self._child is not None:
                out, _ = self._child.communicate()
                if self._child.returncode == 0:
                    found = {
                        n: (a, b) for n, (a, b) in zip(self.names, orjson.loads(out), strict=True)
                    }
            self._found = found or {n: keys(n) for n in self.names}
            self.close()
        return self._found

    def close(self) -> None:
        """Stop the child if it still runs and remove its file."""
        if self._child is not None and self._child.poll() is None:
            self._child.kill()
            self._child.communicate()
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.unlink()
            self._file = None

    def __enter__(self) -> PinyinKeys:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def main(argv: list[str]) -> int:
    names = orjson.loads(Path(argv[0]).read_bytes())
    sys.stdout.buffer.write(orjson.dumps([keys(n) for n in names]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
