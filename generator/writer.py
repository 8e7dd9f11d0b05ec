"""The one writer: formats generated Python, writes only what changed, records every file.

Files stream through a :class:`PackageWriter` as they are rendered: each is
compared with the package's copy at once and, when it differs, staged in a
folder beside the package (Python waiting for ``ruff format`` in a folder in
memory, see :func:`_memory_folder`); only paths and hashes stay in memory (a
province's package is half a gigabyte). Nothing in the package changes until every file is
rendered and formatted: :meth:`PackageWriter.commit` then moves each changed
file into place atomically (rename) and writes ``package.json``, which lists
every file with its sha256, last. Files of the previous package that are no
longer produced are removed. A render that fails leaves the package as it was.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import orjson

from generator.children import python_module
from generator.render import LINE_LENGTH, GeneratedFile, json_bytes, width

MANIFEST = "package.json"
AHEAD_BATCH = 2_000  # Python files handed to the helper at once (a batch: one ruff run)
Chunks = tuple[bytes | memoryview, ...]  # a file's bytes in pieces (GeneratedFile.chunks)
_BUFFER = 1 << 20  # a file written in pieces: a pack holds 100,000s of them


@dataclass
class WriteResult:
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def stale(self) -> bool:
        return bool(self.written or self.removed)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _ruff() -> list[str]:
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

        return [str(find_ruff_bin())]
    except ImportError:  # pragma: no cover - ruff is a dependency
        return [sys.executable, "-m", "ruff"]


def _ruff_command() -> list[str]:
    return [*_ruff(), "format", "--quiet", "--no-cache", "--line-length", str(LINE_LENGTH), "."]


def _ruff_format(root: Path, command: list[str] | None = None) -> None:
    """``ruff format`` over every Python file below ``root`` (one process for all)."""
    subprocess.run(command or _ruff_command(), cwd=root, check=True, capture_output=True)


def mark_long_lines(text: str) -> str:
    """``# noqa: E501`` on each line ``ruff format`` left too long: a name or string that
    long (a 63-character id, a long rule) cannot be split. Not on a line of one word (the
    check leaves those alone) nor in a docstring (the mark would be part of it)."""
    if max(map(len, text.encode().split(b"\n"))) <= LINE_LENGTH:
        # no line over 100 bytes, so none over 100 columns (a wide character is 3 or 4
        # bytes of UTF-8): most files, looked at in C
        return text
    if not any(_long(line) for line in _MAYBE_LONG.findall(text)):
        return text  # nothing to mark, no line looked at twice
    out, inside = [], False
    for line in text.split("\n"):
        after = inside != (line.count('"""') % 2 == 1)
        long = _long(line)
        if long and not inside and not after and len(line.split(maxsplit=1)) == 2:
            line += "  # noqa: E501"
        out.append(line)
        inside = after
    return "\n".join(out)


_MAYBE_LONG = re.compile(rf"^.{{{LINE_LENGTH // 2 + 1},}}$", re.MULTILINE)  # wide: 2 columns


def _long(line: str) -> bool:
    if len(line) > LINE_LENGTH:
        return True
    # columns <= UTF-8 bytes: the width is counted only for the few lines past 100 bytes
    return (
        len(line) > LINE_LENGTH // 2
        and len(line.encode()) > LINE_LENGTH
        and width(line) > LINE_LENGTH
    )


def format_python(files: list[GeneratedFile]) -> list[GeneratedFile]:
    """Run ``ruff format`` over every ``.py`` file not yet formatted (one process for all)."""
    python = [f for f in files if f.path.endswith(".py") and not f.formatted]
    if not python:
        return files
    with tempfile.TemporaryDirectory(prefix="govstd-format-") as tmp:
        root = Path(tmp)
        for f in python:
            _write(root / f.path, f.data)
        _ruff_format(root)
        formatted = {
            f.path: mark_long_lines((root / f.path).read_text(encoding="utf-8")) for f in python
        }
    return [
        GeneratedFile(f.path, formatted[f.path], True) if f.path in formatted else f for f in files
    ]


def previous_files(out_dir: Path) -> set[str]:
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        return set(data.get("files", {}))
    except (OSError, ValueError):
        return set()


class PackageWriter:
    """Brings ``out_dir`` to exactly the files :meth:`add`-ed, at :meth:`commit`.

    ``check`` writes nothing to the package: the result only says what would change.
    Use it as a context manager; the staging folder goes when the block is left.
    """

    def __init__(self, out_dir: Path, *, check: bool = False, ahead: bool = False) -> None:
        self.out_dir = out_dir
        self.check = check
        self.ahead = ahead  # hand Python to the helper every AHEAD_BATCH files (format_ahead)
        self.result = WriteResult()
        self._hashes: dict[str, str] = {}  # path -> sha256 of the final text
        self._unformatted: list[str] = []
        beside = out_dir.parent
        if not check:
            beside.mkdir(parents=True, exist_ok=True)
        self._stage = Path(
            tempfile.mkdtemp(prefix=f".{out_dir.name}.govstd-", dir=None if check else beside)
        )
        # Python waiting for ruff format: in memory when the system has a folder there; a
        # folder per batch (the first ones handed to the helper by format_ahead)
        self._memory = _memory_folder()
        self._format_base = self._memory or self._stage / "format"
        self._batches = 0  # handed to the helper
        self._collected = 0  # … and their findings taken
        self._format_root = self._format_base / "0"
        self._format_bytes = 0  # staged there
        self._pieces: dict[str, int] = {}  # a big revision: path -> its pieces after the first
        self._ready_root = self._stage / "ready"  # final texts that differ from the package
        self._new = not out_dir.exists()  # a new package: nothing to compare, one rename
        # where a final file goes; its set of the folders made in the staging folder is
        # also what _stage_file keeps of the format folder's
        self._place = Placer(out_dir, self._ready_root, self._new, check, made=set())
        self._helper: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PackageWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._helper is not None:  # stopped before its folders go (an error, Ctrl-C)
            self._helper.kill()
            self._helper.wait()
            if self._helper.stdin is not None:
                with contextlib.suppress(OSError):
                    self._helper.stdin.close()
            self._helper = None
        shutil.rmtree(self._stage, ignore_errors=True)
        if self._memory is not None:
            shutil.rmtree(self._memory, ignore_errors=True)

    def add(self, file: GeneratedFile) -> None:
        """Take one rendered file (its text is not kept)."""
        if file.path in self._hashes or file.path == MANIFEST:
            raise ValueError(f"two renderers produced the same file: {file.path}")
        self._hashes[file.path] = ""
        if file.path.endswith(".py") and not file.formatted:
            pieces = _revision_pieces(file)
            if len(pieces) > 1:
                self._pieces[file.path] = len(pieces) - 1
            for k, piece in enumerate(pieces):
                target = self._format_root / (_piece_path(file.path, k) if k else file.path)
                data = piece.encode() if isinstance(piece, str) else piece
                try:
                    self._stage_file(target, (data,))
                except OSError as exc:
                    if exc.errno != errno.ENOSPC or self._memory is None:
                        raise
                    self._format_on_disk()  # the memory folder is full
                    target = self._format_root / (_piece_path(file.path, k) if k else file.path)
                    self._stage_file(target, (data,))
                self._format_bytes += len(data)
            self._unformatted.append(file.path)
            if self.ahead and len(self._unformatted) >= AHEAD_BATCH:
                self.format_ahead()
        else:
            self._settle(file.path, file.chunks)

    def add_all(self, files: Iterable[GeneratedFile]) -> None:
        for file in files:
            self.add(file)

    def _settle(self, path: str, raw: Chunks, staged: Path | None = None) -> None:
        """Record the final bytes of ``path`` (in pieces); stage them when the package's
        copy differs."""
        self._record(path, *self._place.settle(path, raw, staged))

    def _record(self, path: str, digest: str, written: bool) -> None:
        self._hashes[path] = digest
        if written:
            self.result.written.append(path)
        else:
            self.result.unchanged += 1

    def _stage_file(self, target: Path, data: Chunks) -> None:
        _stage_file(target, data, self._place.made)

    def format_ahead(self) -> None:
        """Hand the Python added so far to a helper process (``python -m
        generator.formatter``), which formats it with ``ruff format`` and stages its final
        text as :meth:`commit` would, while the renderers still to run go on here.

        The second core does the formatting and the file system's work of creating the
        staged files (a province's form and table modules are 20,000 files, seconds of
        the kernel's time), which :meth:`commit` did afterwards in this process. The file
        list and the helper's findings pass through files in the staging folder, so that
        neither process ever waits on the other's pipe."""
        if not self._unformatted:
            return
        self._room_to_format()
        listing = self._stage / f"batch-{self._batches}.json"
        files = [[path, self._pieces.get(path, 0)] for path in self._unformatted]
        order = {
            "root": str(self._format_root),
            "on_disk": self._memory is None,
            "ruff": _ruff_command(),
            "files": files,
            "findings": str(self._findings(self._batches)),
        }
        listing.write_bytes(orjson.dumps(order))
        if self._helper is None:
            self._helper = _start_formatter(
                self.out_dir, self._ready_root, self._new, self.check, self._stage / "helper.log"
            )
        assert self._helper.stdin is not None
        try:
            self._helper.stdin.write(f"{listing}\n".encode())
            self._helper.stdin.flush()
        except BrokenPipeError:
            # it stopped: its findings or its log say why (said here, as click would take
            # a broken pipe for its own output closed, and exit 1 in silence)
            self._batches += 1  # … the batch handed over is one it never took
            self._collect()
            raise RuntimeError(
                "formatting the generated Python failed: the helper stopped"
            ) from None
        self._batches += 1
        self._unformatted = []
        self._format_root = self._format_base / str(self._batches)

    def _findings(self, batch: int) -> Path:
        """Where the helper writes what it found of ``batch``."""
        return self._stage / f"batch-{batch}.out.json"

    def _room_to_format(self) -> None:
        """Format on disk when memory has less room left than the Python staged there
        (the formatted text is longer)."""
        if self._memory is not None and _free(self._memory) < self._format_bytes:
            self._format_on_disk()

    def _collect(self) -> None:
        """Wait for the helper to finish every batch handed to it; take its findings."""
        helper, self._helper = self._helper, None
        if helper is None:
            return
        assert helper.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # a line it did not read: it has stopped
            helper.stdin.close()
        status = helper.wait()
        for batch in range(self._collected, self._batches):
            findings = self._findings(batch)
            found = orjson.loads(findings.read_bytes()) if findings.exists() else {}
            if "returncode" in found:  # ruff failed, as it would have here
                raise subprocess.CalledProcessError(found["returncode"], found["cmd"])
            if "files" not in found:
                log = (self._stage / "helper.log").read_text(errors="replace").strip()
                why = found.get("error") or f"the helper exited with {status}: {log[-2000:]}"
                raise RuntimeError(f"formatting the generated Python failed: {why}")
            for path, digest, written in found["files"]:
                self._record(path, digest, written)
        self._collected = self._batches

    def commit(
        self,
        header: dict[str, object] | None = None,
        before_publishing: Callable[[], None] = lambda: None,
    ) -> WriteResult:
        """Format the Python files, then move every changed file into the package (with
        ``header``: ``package.json`` too, last) and remove files no longer produced.

        ``before_publishing`` is called before the package is touched; what it raises
        leaves the package as it was."""
        self._collect()
        if self._unformatted:
            self._room_to_format()
            _ruff_format(self._format_root)
            place, on_disk = self._place, self._memory is None
            for path in self._unformatted:
                pieces = self._pieces.get(path, 0)
                self._record(path, *place.formatted(self._format_root, path, pieces, on_disk))
            self._unformatted = []
        if header is not None:
            data = {**header, "files": dict(sorted(self._hashes.items()))}
            self._settle(MANIFEST, (json_bytes(data),))
        before_publishing()
        old = previous_files(self.out_dir)
        self.result.written.sort(key=lambda path: (path == MANIFEST, path))
        if not self.check and not self._publish_new():
            for path in self.result.written:
                _move(self._ready_root / path, self.out_dir / path)
        produced = {*self._hashes, MANIFEST} if header is not None else set(self._hashes)
        for stale in sorted(old - produced):
            if (self.out_dir / stale).exists():
                self.result.removed.append(stale)
                if not self.check:
                    (self.out_dir / stale).unlink()
                    _remove_if_empty(self.out_dir, (self.out_dir / stale).parent)
        return self.result

    def _format_on_disk(self) -> None:
        """Move the Python waiting for ruff format from memory to the staging folder."""
        if self._memory is None:
            return
        self._collect()  # the helper's batches are done and gone from memory first
        disk = self._stage / "format"
        shutil.copytree(self._memory, disk, dirs_exist_ok=True)
        shutil.rmtree(self._memory, ignore_errors=True)
        self._memory = None
        self._format_base = disk
        self._format_root = disk / str(self._batches)
        self._place.made = {d for d in self._place.made if d.is_relative_to(self._stage)}

    def _publish_new(self) -> bool:
        """A new package folder in one rename of the staged one (when the folder is still
        absent: tens of thousands of files, one by one, take seconds)."""
        if not self._new or self.out_dir.exists():
            return False
        self._ready_root.mkdir(exist_ok=True)
        try:
            os.rename(self._ready_root, self.out_dir)
        except OSError:  # made meanwhile: file by file
            return False
        return True


@dataclass
class Placer:
    """Where a final file goes: compared with the package's copy, staged when it differs.
    Shared by the writer and its formatting helper (generator/formatter.py)."""

    out_dir: Path
    ready_root: Path
    new: bool  # a new package: nothing to compare
    check: bool  # compare only
    made: set[Path]  # folders made in the staging folder

    def settle(self, path: str, raw: Chunks, staged: Path | None = None) -> tuple[str, bool]:
        """sha256 of the bytes ``raw`` of ``path`` and whether they differ from the
        package's copy; when they do, staged (``staged`` moved there, if given)."""
        digest = hashlib.sha256()
        for chunk in raw:
            digest.update(chunk)
        if not self.new and _same(self.out_dir / path, raw):
            return digest.hexdigest(), False
        if not self.check:
            if staged is not None:
                _move(staged, self.ready_root / path)
            else:
                _stage_file(self.ready_root / path, raw, self.made)
        return digest.hexdigest(), True

    def formatted(self, root: Path, path: str, pieces: int, on_disk: bool) -> tuple[str, bool]:
        """:meth:`settle` of ``path`` formatted by ``ruff format`` below ``root`` (with its
        ``pieces`` after the first, a big revision), long lines marked. A file formatted
        ``on_disk`` and left as it was is moved, not written again."""
        staged = root / path
        text = staged.read_text(encoding="utf-8")
        if pieces:  # the file staged is the first piece
            text += "".join(_formatted_pieces(root, path, pieces))
        marked = mark_long_lines(text)
        moved = staged if on_disk and not pieces and marked == text else None
        return self.settle(path, (marked.encode(),), moved)


def _formatted_pieces(root: Path, path: str, pieces: int) -> Iterator[str]:
    """The formatted pieces of the revision ``path`` after its first, without the head
    each was formatted under."""
    for k in range(1, pieces + 1):
        text = (root / _piece_path(path, k)).read_text(encoding="utf-8")
        if not text.startswith(_PIECE_HEAD):  # ruff left the head as it was: always
            raise ValueError(f"{path}: piece {k} formatted into {text[:80]!r}")
        yield text.removeprefix(_PIECE_HEAD)


def _stage_file(target: Path, data: Chunks, made: set[Path]) -> None:
    if target.parent not in made:
        target.parent.mkdir(parents=True, exist_ok=True)
        made.add(target.parent)
    with open(target, "wb", buffering=_BUFFER if len(data) > 1 else -1) as f:
        f.writelines(data)


def _start_formatter(
    out_dir: Path, ready_root: Path, new: bool, check: bool, log: Path
) -> subprocess.Popen[bytes]:
    """``python -m generator.formatter`` (PackageWriter.format_ahead), its errors to ``log``."""
    flags = [str(int(new)), str(int(check))]
    command, env = python_module("generator.formatter", str(out_dir), str(ready_root), *flags)
    with open(log, "wb") as errors:
        return subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors, env=env
        )


def write_package(out_dir: Path, files: list[GeneratedFile], *, check: bool = False) -> WriteResult:
    """Bring ``out_dir`` to exactly ``files`` (``package.json`` left as it is); ``check``
    writes nothing."""
    with PackageWriter(out_dir, check=check) as writer:
        writer.add_all(files)
        return writer.commit()


MEMORY = Path("/dev/shm")  # Linux's tmpfs; elsewhere the staging folder on disk


def _memory_folder() -> Path | None:
    """A new folder in memory for the Python files ``ruff format`` rewrites, or None.

    ``ruff format`` writes each file it changes again in place (truncated, then written):
    on a disk that costs the file system a block freed and one allocated per file, and the
    files of a province are 100,000. In memory, ruff of a 50,000-matter package took 9.2 s
    instead of 17.9 s (docs/performance.md). The folder holds only those files (about 140 MB at
    10,000 matters); it moves to disk when memory has no room left for them."""
    if not MEMORY.is_dir() or not os.access(MEMORY, os.W_OK | os.X_OK):
        return None
    try:
        return Path(tempfile.mkdtemp(prefix="govstd-format-", dir=MEMORY))
    except OSError:
        return None


def _free(folder: Path) -> int:
    """Bytes that can still be written below ``folder``."""
    stat = os.statvfs(folder)
    return stat.f_bavail * stat.f_frsize


_PIECE = 1 << 20  # characters of a piece of a big revision, at least
_PIECE_HEAD = "def _piece() -> None:\n"


def _revision_pieces(file: GeneratedFile) -> list[str | bytes]:
    """The text of ``file`` for ``ruff format``: a migration revision of more than two
    pieces' worth cut into pieces of about 1 MB (each piece after the first the body of a
    function :data:`_PIECE_HEAD`), any other file whole.

    ruff formats one file on one core: the first revision of 50,000 matters is 97 MB, which
    took ruff 4.9 s and 2.4 GB as one file. A revision's functions hold one statement after
    the other (alembic's ``op.`` calls, each line indented by four spaces, no blank line
    between them), and ruff formats a statement alone: cut before a statement, each piece
    formats as that part of the whole file does. A cut is made only after a line of the
    body: never before a body's first statement, nor after a blank line (which ruff would
    drop at the head of a body). The formatted pieces, joined without their
    heads, are the file ``ruff format`` makes of the whole (tests/test_migrations.py)."""
    text = file.content
    if not (file.path.startswith("migrations/versions/") and isinstance(text, str)):
        return [file.data]
    if len(text) <= 2 * _PIECE:
        return [text]
    cuts = [0]
    at = _PIECE
    while (at := text.find("\n    op.", at)) != -1:
        if not text.startswith("    ", text.rfind("\n", 0, at) + 1):  # a body's first, or
            at += 1  # after a blank line
            continue
        cuts.append(at + 1)
        at += _PIECE
    ends = [*cuts[1:], len(text)]
    pieces: list[str | bytes] = [text[: ends[0]]]
    pieces += [_PIECE_HEAD + text[start:end] for start, end in zip(cuts[1:], ends[1:], strict=True)]
    return pieces


def _piece_path(path: str, k: int) -> str:
    return f"govstd_pieces/{path.removesuffix('.py')}/{k}.py"


def _remove_if_empty(root: Path, folder: Path) -> None:
    """Remove ``folder`` and the folders above it, up to ``root``, while they are empty (a
    package of an earlier format had ``matters/<region>/``)."""
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:  # not empty
            return
        folder = folder.parent


def _same(target: Path, raw: Chunks) -> bool:
    """Whether ``target`` holds exactly the pieces ``raw`` (its size is asked first)."""
    try:
        if target.stat().st_size != sum(map(len, raw)):
            return False
        held = memoryview(target.read_bytes())
    except OSError:
        return False
    at = 0
    for chunk in raw:
        if held[at : at + len(chunk)] != chunk:
            return False
        at += len(chunk)
    return True


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _move(staged: Path, target: Path) -> None:
    """Put ``staged`` at ``target`` in one rename (a copy first across file systems)."""
    if not target.parent.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(staged, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        tmp = target.with_name(f".{target.name}.govstd-tmp")  # one writer per package folder
        try:
            shutil.copyfile(staged, tmp)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
