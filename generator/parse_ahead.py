"""Half a big tree's YAML parsed in a second process while the loader parses the rest.

``python -m generator.parse_ahead LIST`` reads a JSON list of [path, display] and writes to
its standard output, with :mod:`marshal`, for each file either None (the loader parses it
itself: it could not be read, or it had any problem to report, so that every message is
made where the others are, the same way) or its documents as (data, marks): the plain
data :func:`generator.yamlsource.load_file` makes and the marks of its node
(:func:`generator.yamlsource.marks_of`), from which the models learn where they were read.

:class:`ParseAhead` is the loader's side. Parsing (reading, libyaml composing Python
nodes, converting them) is about 80 % of loading a province's tree; the models are built
in the loader from the data, which is cheap to hand over (:mod:`marshal`: no classes)
where the models are not (pickling them cost more than building them, docs/performance.md).
"""

from __future__ import annotations

import marshal
import struct
import sys
from collections.abc import Sequence
from pathlib import Path

import orjson

from generator.children import Child, Closing
from generator.diagnostics import Diagnostics
from generator.yamlsource import Data, Marks, load_file, marks_of

Parsed = list[tuple[Data, Marks]] | None  # a file's documents, or None: parse it here

_SIZE = struct.Struct("<I")  # a record's size in the child's output
AHEAD_FROM = 2_000  # files: a smaller tree is parsed in the loader alone
SHARE = 0.5  # of the files, the last ones (measured best: the loader builds all the models)


def parse(path: str, display: str) -> Parsed:
    problems = Diagnostics()  # an unreadable file is one too
    documents = load_file(Path(path), display, problems)
    if len(problems):
        return None
    return [(document.data, marks_of(document.node)) for document in documents]


def main(argv: list[str]) -> int:
    files = orjson.loads(Path(argv[0]).read_bytes())
    found: list[bytes] = []  # each file's findings compact at once (as objects: far more)
    try:
        for path, display in files:
            record = marshal.dumps(parse(path, display))
            found += (_SIZE.pack(len(record)), record)
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the loader stops
        return 130
    sys.stdout.buffer.write(b"".join(found))
    return 0


class ParseAhead(Closing):
    """The files ``files[start:]`` (path, display) parsed by a child process begun at once,
    when there are :data:`AHEAD_FROM` or more; :meth:`get` waits for them. A child that
    fails is no error: its files are then parsed by the loader."""

    def __init__(self, files: Sequence[tuple[str, str]]) -> None:
        self.start = len(files)
        self._found: memoryview | None = None  # the child's output, read file by file
        self._next = self.start  # the file whose findings are read next …
        self._at = 0  # … from here
        self._child: Child | None = None
        if len(files) >= AHEAD_FROM:
            self.start = self._next = len(files) - int(len(files) * SHARE)
            given = orjson.dumps([list(entry) for entry in files[self.start :]])
            self._child = Child("generator.parse_ahead", given)

    def get(self, index: int) -> Parsed:
        """What the child found of file ``index`` (None: parse it here); asked in order."""
        if index < self.start:
            return None
        if self._found is None:
            out = self._child.output() if self._child is not None else None
            self._found = memoryview(out or b"")
        found: Parsed = None
        while self._next <= index:  # each record: its size, then the file's findings
            self._next += 1
            at = self._at + _SIZE.size
            size = _SIZE.unpack_from(self._found, self._at)[0] if at <= len(self._found) else 0
            self._at = at + size
            try:
                found = marshal.loads(self._found[at : self._at]) if size else None
            except (EOFError, ValueError, TypeError):  # cut short
                found = None
        return found

    def close(self) -> None:
        """Stop the child if it still runs; let its output go."""
        if self._child is not None:
            self._child.close()
        if self._found is not None:
            self._found.release()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
