"""Material files no row refers to, removed once they are old enough to be no upload's.

An upload moves its file into ``<upload dir>/<application id>/<32 hex><ext>`` (a bundle's
shared material: ``<bundle filing id>/…``, one file for several rows) before the
transaction that records it and removes the file it replaces after the commit
(:mod:`runtime.routes.materials`); a stream in progress is a ``.incoming/.upload-*.part``
file. A process that dies in between (SIGKILL, power cut) leaves a file that no row of
``material_files`` names: the new file when the transaction never committed, the old
one when it did. :func:`sweep_uploads` removes such files: ``govstd serve`` runs it once
at start-up (before any worker starts), and ``govstd sweep-uploads`` runs it on demand
(from cron, say).

Safe while uploads are in progress, in this server or another sharing the folder: a
file is a candidate only when it was last written more than ``older_than`` ago
(default :data:`SAFE_AGE`), far longer than an upload waits between writing its file and
committing its row; the files are listed *before* the rows are read, so a file recorded
meanwhile is seen as referenced. Only names the runtime makes are touched — anything
else in the folder is left alone — and folders are not removed (an upload may be about
to move its file into one). Two sweeps at once do no harm.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from runtime.db import read
from runtime.package import Package

log = logging.getLogger("govstd.runtime")

SAFE_AGE = timedelta(hours=1)
INCOMING = ".incoming"
BATCH = 500  # storage names per query
_CASE_FOLDER = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_STORED = re.compile(r"[0-9a-f]{32}(\.[a-z]{1,8})?\Z")
_PARTIAL = re.compile(r"\.upload-[A-Za-z0-9_]+\.part\Z")


@dataclass
class Swept:
    """What a sweep removed (storage names relative to the upload folder) and kept."""

    removed: list[str] = field(default_factory=list)
    removed_bytes: int = 0
    referenced: int = 0
    too_recent: int = 0


def _files(folder: Path, name: re.Pattern[str]) -> Iterator[os.DirEntry[str]]:
    with os.scandir(folder) as entries:
        for entry in entries:
            if name.match(entry.name) and entry.is_file(follow_symlinks=False):
                yield entry


def _candidates(upload_dir: Path, cutoff: float, swept: Swept) -> dict[str, os.DirEntry[str]]:
    """Storage name → file, for the runtime's files last written before ``cutoff``."""
    found: dict[str, os.DirEntry[str]] = {}
    if not upload_dir.is_dir():
        return found
    with os.scandir(upload_dir) as entries:
        folders = [e for e in entries if e.is_dir(follow_symlinks=False)]
    for folder in folders:
        if folder.name == INCOMING:
            pattern = _PARTIAL
        elif _CASE_FOLDER.match(folder.name):
            pattern = _STORED
        else:
            continue
        for entry in _files(Path(folder.path), pattern):
            if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                found[f"{folder.name}/{entry.name}"] = entry
            else:
                swept.too_recent += 1
    return found


def _referenced(engine: Engine, package: Package, names: list[str]) -> set[str]:
    mf = package.tables.material_files
    found: set[str] = set()
    with read(engine) as conn:
        for start in range(0, len(names), BATCH):
            batch = names[start : start + BATCH]
            found.update(
                conn.execute(
                    select(mf.c.storage_name).where(mf.c.storage_name.in_(batch))
                ).scalars()
            )
    return found


def sweep_uploads(
    engine: Engine,
    package: Package,
    upload_dir: Path,
    *,
    older_than: timedelta = SAFE_AGE,
    dry_run: bool = False,
) -> Swept:
    """Remove the material files and partial uploads of ``upload_dir`` that no row refers
    to and that were last written more than ``older_than`` ago (``dry_run``: only say)."""
    swept = Swept()
    candidates = _candidates(upload_dir, time.time() - older_than.total_seconds(), swept)
    stored = [name for name in candidates if not name.startswith(f"{INCOMING}/")]
    referenced = _referenced(engine, package, stored)
    swept.referenced = len(referenced)
    for name, entry in sorted(candidates.items()):
        if name in referenced:
            continue
        size = entry.stat(follow_symlinks=False).st_size
        if not dry_run:
            try:
                os.unlink(entry.path)
            except FileNotFoundError:  # another sweep, or the upload's own clean-up
                continue
        swept.removed.append(name)
        swept.removed_bytes += size
    return swept


def report(swept: Swept, *, dry_run: bool = False) -> str:
    """One line saying what a sweep did, ``中文 / English``."""
    count, size = len(swept.removed), swept.removed_bytes
    if dry_run:
        return (
            f"将删除 {count} 个无记录引用的材料文件（{size} 字节） / "
            f"would remove {count} material files no row refers to ({size} bytes)"
        )
    return (
        f"已删除 {count} 个无记录引用的材料文件（{size} 字节），"
        f"{swept.too_recent} 个较新的文件未检查 / removed {count} material files no row "
        f"refers to ({size} bytes); {swept.too_recent} recent files left unchecked"
    )
