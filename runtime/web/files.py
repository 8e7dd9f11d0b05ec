"""Material files chosen on a page, stored by the API's own upload code.

A page's multipart form is parsed by Starlette (the file spooled to a temporary
file); :func:`keep_upload` copies it into the upload folder's ``.incoming`` while
hashing it — what :func:`runtime.uploads.receive_file` does for the API's streamed
upload — and :func:`store_material` hands it to the same function the API's
``PUT /api/applications/{id}/materials/{material}`` ends with (replacing an earlier
file, the audit entry, the final-state check).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from runtime.answers import MaterialFile
from runtime.auth import Identity
from runtime.context import Context
from runtime.errors import message
from runtime.routes.materials import (
    _store,  # the API's upload, from its stored file on
    sealer,
)
from runtime.uploads import DEFAULT_ACCEPT, Received, clean_filename, sniff
from runtime.web.formview import upload_limits
from runtime.web.i18n import text

CHUNK = 64 * 1024
MB = 1024 * 1024


def file_problem(material: dict[str, Any], upload: UploadFile, lng: str) -> tuple[str, str]:
    """(what is wrong with a chosen file or ``""``, its media type by its first bytes) —
    the API's rules: no upload of government-sourced materials, the material's size cap,
    its accepted types."""
    size = upload.size or 0
    cap = int(material.get("max_size_mb") or 10) * MB
    upload.file.seek(0)
    media = sniff(upload.file.read(16)) or ""
    upload.file.seek(0)
    accept = list(material.get("accept") or DEFAULT_ACCEPT)
    if material.get("source") == "government":
        return message("not_uploadable", lng), media
    if size == 0:
        return message("file_missing", lng), media
    if size > cap:
        return text("upload.too_large", lng, size=cap // MB), media
    if media not in accept:
        return upload_limits(material, lng), media
    return "", media


def keep_upload(c: Context, row: Any, material: dict[str, Any], upload: UploadFile) -> Received:
    """The chosen file for ``material`` of ``row`` (the case, or the bundle filing whose
    members share it) as a :class:`Received` in ``<upload dir>/.incoming``, encrypted as
    it is copied, like the API's (blocking)."""
    folder = c.settings.upload_dir / ".incoming"
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".part")
    digest = hashlib.sha256()
    size = 0
    head = b""
    upload.file.seek(0)
    with contextlib.closing(sealer(c, row.id, material["id"])(os.fdopen(fd, "wb"))) as out:
        while chunk := upload.file.read(CHUNK):
            if len(head) < 16:
                head += chunk[: 16 - len(head)]
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return Received(
        Path(tmp), size, digest.hexdigest(), clean_filename(upload.filename or ""), head
    )


def store_material(
    request: Request,
    c: Context,
    identity: Identity,
    row: Any,
    material: dict[str, Any],
    got: Received,
    media: str,
) -> MaterialFile:
    """Store the file as the case's ``material`` (blocking); the temporary file is removed."""
    try:
        return _store(request, c, identity, row, material, got, media)
    finally:
        got.path.unlink(missing_ok=True)
