"""Packs: many JSON documents in one file, each read on its own (docs/package.md, "Packs").

A package of 10,000 matters held 30,000 small JSON files (a matter's guide, a form's
schema, a version of the rules): tens of microseconds of kernel time each to write, and a
stat each at every start. A pack holds a kind's documents in 16 files instead, by the
first hex digit of the sha256 of each document's key (``matters/3.jsonl``): a
one-matter change rewrites one or two packs, not the kind.

A pack is JSON Lines, every line a JSON value::

    {"documents":2,"govstd_pack":1,"index":31}   the header; index: bytes of the index
    ["a",12]                                      one line per document: key, bytes
    ["b",9]
    {"x":"one"}                                   the documents, in the index's order
    [1,2,3,4]

Keys are sorted; a document is compact JSON (no newline inside). The index gives lengths,
not offsets, so a changed document changes two lines of the file (git diffs stay small):
a reader adds them up. :class:`Pack` reads the header and index on first use (one
``pread`` each) and then each document with one ``os.pread`` (thread-safe on one file
descriptor); the file is never read whole nor mapped. The generator writes packs with
:func:`pack_bytes`; the package's ``package.json`` hashes each pack as any other file.

Libraries looked at: ``jsonline``, ``fastjsonlreader``, ``jsonl-resumable`` index JSON
Lines by line number in a sidecar file the reader writes (a package folder may be
read-only, and the sidecar would be outside ``package.json``); SQLite, LMDB and zip files
give random access but are binary (no diff in git) and SQLite's bytes depend on its
version (``govstd generate --check`` compares bytes). What is needed is 100 lines.
"""

from __future__ import annotations

import hashlib
import os
import threading
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path

import orjson

from runtime.types import GovstdError

VERSION = 1  # of a pack
PACKAGE_FORMAT = 2  # package.json's "format": 2 since guides, schemas and rules are in packs
SUFFIX = ".jsonl"
MATTERS = "matters"  # a matter as a region implements it, keyed <region>/<matter>
SCHEMAS = "schemas"  # a form's JSON Schema, keyed by the form id
RULES = "rules"  # a version of the case rules, keyed by its hash (runtime/rules.py)
_CHUNK = 1 << 16


class PackFormatError(GovstdError):
    """A file that is not a pack as :func:`pack_bytes` writes it."""


def shard(key: str) -> str:
    """The pack of ``key`` among its kind's 16: the first hex digit of its sha256."""
    return hashlib.sha256(key.encode()).hexdigest()[0]


def pack_name(kind: str, key: str) -> str:
    """The path, relative to the package, of the pack of ``kind`` holding ``key``."""
    return f"{kind}/{shard(key)}{SUFFIX}"


def pack_bytes(documents: Mapping[str, bytes]) -> bytes:
    """A pack of ``documents`` (key -> compact JSON, without a newline), keys sorted."""
    return b"".join(pack_chunks(documents))


def pack_chunks(documents: Mapping[str, bytes]) -> tuple[bytes, ...]:
    """:func:`pack_bytes` in pieces, the documents themselves among them: written one after
    the other (the generator's writer), never joined (the packs of 50,000 matters are
    900 MB)."""
    keys = sorted(documents)
    lines = [documents[k] for k in keys]
    for key, line in zip(keys, lines, strict=True):
        if b"\n" in line:
            raise ValueError(f"pack document {key!r} holds a newline")
    index = b"".join(
        orjson.dumps([k, len(line)]) + b"\n" for k, line in zip(keys, lines, strict=True)
    )
    header = orjson.dumps(
        {"documents": len(keys), "govstd_pack": VERSION, "index": len(index)},
        option=orjson.OPT_SORT_KEYS,
    )
    return (header + b"\n" + index, *(piece for line in lines for piece in (line, b"\n")))


def _header(raw: bytes, where: str) -> tuple[int, int]:
    """(documents, index bytes) of a pack's first line."""
    try:
        head = orjson.loads(raw)
        documents, index = head["documents"], head["index"]
        if head["govstd_pack"] != VERSION or not isinstance(documents, int):
            raise ValueError
        if not isinstance(index, int):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise PackFormatError(f"{where}: 不是数据包文件", f"{where}: not a pack") from None
    return documents, index


def _index(raw: bytes, documents: int, start: int, where: str) -> dict[str, tuple[int, int]]:
    """key -> (offset, length) from the index lines ``raw``; documents begin at ``start``."""
    try:
        entries = orjson.loads(b"[" + raw.rstrip(b"\n").replace(b"\n", b",") + b"]")
        if len(entries) != documents or (raw and not raw.endswith(b"\n")):
            raise ValueError
        found: dict[str, tuple[int, int]] = {}
        at = start
        for key, length in entries:
            if not isinstance(key, str) or not isinstance(length, int) or length < 0:
                raise ValueError
            found[key] = (at, length)
            at += length + 1
    except (ValueError, TypeError):
        raise PackFormatError(f"{where}: 索引无效", f"{where}: its index is not valid") from None
    return found


def unpack(data: bytes, where: str = "pack") -> dict[str, bytes]:
    """Every document of the pack ``data`` (key -> its bytes), checked."""
    end = data.find(b"\n")
    if end < 0:
        raise PackFormatError(f"{where}: 不是数据包文件", f"{where}: not a pack")
    documents, size = _header(data[:end], where)
    start = end + 1 + size
    index = _index(data[end + 1 : start], documents, start, where)
    found = {}
    for key, (at, length) in index.items():
        if data[at + length : at + length + 1] != b"\n":
            raise PackFormatError(f"{where}: 文档 {key} 不完整", f"{where}: {key} is cut short")
        found[key] = data[at : at + length]
        start = at + length + 1
    if start != len(data):
        raise PackFormatError(f"{where}: 结尾有多余内容", f"{where}: bytes after the last document")
    return found


class Pack:
    """One pack file, opened at once (the file verified is the file read, even if
    ``govstd generate`` replaces it meanwhile), indexed on first use; :meth:`get` is
    thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)
        self._entries: dict[str, tuple[int, int]] | None = None

    def _index(self) -> dict[str, tuple[int, int]]:
        entries = self._entries
        if entries is None:
            with self._lock:
                if self._entries is None:
                    self._entries = self._read_index()
                entries = self._entries
        return entries

    def _read_index(self) -> dict[str, tuple[int, int]]:
        head = b""
        while b"\n" not in head:
            chunk = os.pread(self._fd, _CHUNK, len(head))
            if not chunk:
                raise PackFormatError(f"{self.path}: 不是数据包文件", f"{self.path}: not a pack")
            head += chunk
        end = head.index(b"\n")
        documents, size = _header(head[:end], str(self.path))
        raw = os.pread(self._fd, size, end + 1)
        return _index(raw, documents, end + 1 + size, str(self.path))

    def get(self, key: str) -> bytes | None:
        """The document ``key`` (its JSON bytes), None when the pack has none."""
        found = self._index().get(key)
        if found is None:
            return None
        at, length = found
        data = os.pread(self._fd, length + 1, at)
        if len(data) != length + 1 or data[-1:] != b"\n":
            where = str(self.path)
            raise PackFormatError(f"{where}: 文档 {key} 不完整", f"{where}: {key} is cut short")
        return data[:length]

    def keys(self) -> Iterator[str]:
        return iter(self._index())


class Packs:
    """The packs of a package that its ``package.json`` lists, each opened here, at once."""

    def __init__(self, root: Path, listed: frozenset[str]) -> None:
        self.root = root
        self._packs = {name: Pack(root / name) for name in sorted(listed)}

    def get(self, kind: str, key: str) -> bytes | None:
        """The document ``key`` of ``kind`` (``matters``, ``schemas``, ``rules``), else None."""
        pack = self._packs.get(pack_name(kind, key))
        return None if pack is None else pack.get(key)
