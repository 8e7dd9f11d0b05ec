"""The one writer: formats generated Python, writes only what changed, records every file.

Nothing reaches disk until every file is rendered and formatted. Each file is
replaced atomically (temporary file + rename); ``package.json``, which lists
every file with its sha256, is written last. Files of the previous package
that are no longer produced are removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from generator.render import GeneratedFile, json_text

MANIFEST = "package.json"


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


def format_python(files: list[GeneratedFile]) -> list[GeneratedFile]:
    """Run ``ruff format`` over every ``.py`` file not yet formatted (one process for all)."""
    python = [f for f in files if f.path.endswith(".py") and not f.formatted]
    if not python:
        return files
    with tempfile.TemporaryDirectory(prefix="govstd-format-") as tmp:
        root = Path(tmp)
        for f in python:
            target = root / f.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f.content, encoding="utf-8")
        cmd = [*_ruff(), "format", "--quiet", "--no-cache", "--line-length", "100", "."]
        subprocess.run(cmd, cwd=root, check=True, capture_output=True)
        formatted = {f.path: (root / f.path).read_text(encoding="utf-8") for f in python}
    return [
        GeneratedFile(f.path, formatted[f.path], True) if f.path in formatted else f for f in files
    ]


def manifest(files: list[GeneratedFile], header: dict[str, object]) -> GeneratedFile:
    data = {**header, "files": {f.path: sha256(f.content) for f in sorted(files, key=_key)}}
    return GeneratedFile(MANIFEST, json_text(data))


def _key(f: GeneratedFile) -> str:
    return f.path


def previous_files(out_dir: Path) -> set[str]:
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        return set(data.get("files", {}))
    except (OSError, ValueError):
        return set()


def write_package(out_dir: Path, files: list[GeneratedFile], *, check: bool = False) -> WriteResult:
    """Bring ``out_dir`` to exactly ``files`` (manifest included); ``check`` writes nothing."""
    paths = [f.path for f in files]
    if len(paths) != len(set(paths)):
        raise ValueError("two renderers produced the same file")
    result = WriteResult()
    old = previous_files(out_dir)
    for f in sorted(files, key=lambda f: (f.path == MANIFEST, f.path)):
        target = out_dir / f.path
        try:
            if target.read_text(encoding="utf-8") == f.content:
                result.unchanged += 1
                continue
        except (OSError, UnicodeDecodeError):
            pass
        result.written.append(f.path)
        if not check:
            _replace(target, f.content)
    for stale in sorted(old - set(paths)):
        if (out_dir / stale).exists():
            result.removed.append(stale)
            if not check:
                (out_dir / stale).unlink()
    return result


def _replace(target: Path, content: str) -> None:
    if not target.parent.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.govstd-tmp")  # one writer per package folder
    try:
        tmp.write_text(content, encoding="utf-8", newline="\n")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
