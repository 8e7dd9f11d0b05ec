"""Material files (申请材料): ``PUT`` uploads one (the applicant), ``GET`` downloads it.

Upload rules: the material must be in the list of the rules the case was filed under
(runtime/rules.py); ``source: government`` materials are obtained by data sharing and refused
(409 ``not_uploadable``); the case must not be final; the file is streamed with
the material's ``max_size_mb`` cap (413 as soon as it is passed), typed by its
first bytes against the material's ``accept`` list (422 ``file_type``), and
stored under ``<upload dir>/<application id>/<random hex>`` with its sha256. A new
upload replaces the previous file of the same material. Files are encrypted at rest
with the data key as they arrive, and decrypted as they are sent (:mod:`runtime.filecrypt`).

The final-state check is made again inside the write transaction, on the case's row
locked (:func:`runtime.records.lock_case`): an upload that began before a decision and
ends after it is refused (409 ``case_final``) and its file removed, and concurrent
uploads to one case take turns, so replacing a material's file (read the old row,
delete it, insert the new) is atomic; the replaced file is removed after the commit.
A download opens the file before it answers, following a replacement committed between
reading the row and opening the file (:func:`open_download`): never a 500.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO
from urllib.parse import quote

from sqlalchemy import delete, insert, select
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from runtime import audit
from runtime.answers import MaterialFile
from runtime.auth import Identity, require
from runtime.context import Context
from runtime.crypto import DecryptionError
from runtime.db import read, write
from runtime.errors import ApiError, request_id
from runtime.filecrypt import SealedFile, SealingWriter
from runtime.operations import WRITE_ERRORS, Operation
from runtime.records import is_final, iso, lock_case, rules_of
from runtime.routes.common import audit_access, ctx, find_application, ok, threaded
from runtime.uploads import DEFAULT_ACCEPT, EXTENSIONS, SIGNATURES, Received, receive_file, sniff

MB = 1024 * 1024
log = logging.getLogger("govstd.runtime")


def _material(c: Context, row: Any, material_id: str) -> dict[str, Any]:
    rules = rules_of(c.package, row._mapping)  # the case's own list (runtime/rules.py)
    material = rules.material(material_id) if rules else None
    if material is None:
        raise ApiError(404, "unknown_material", {"material": material_id[:64]})
    return material


def _check_upload(request: Request, c: Context, identity: Identity) -> tuple[Any, dict[str, Any]]:
    row = find_application(request, identity, request.path_params["id"], for_action=True)
    material = _material(c, row, request.path_params["material"])
    if material.get("source") == "government":
        raise ApiError(409, "not_uploadable")
    if is_final(c.package, row):  # checked again in the write transaction
        raise ApiError(409, "case_final")
    return row, material


def _store(
    request: Request,
    c: Context,
    identity: Identity,
    row: Any,
    material: dict[str, Any],
    got: Received,
    media: str,
) -> MaterialFile:
    t = c.package.tables
    folder = c.settings.upload_dir / row.id
    storage_name = f"{row.id}/{secrets.token_hex(16)}{EXTENSIONS.get(media, '')}"
    target = c.settings.upload_dir / storage_name
    folder.mkdir(parents=True, exist_ok=True)
    got.path.replace(target)
    now = c.now()
    old: list[str] = []
    try:
        with write(c.engine) as conn:
            if is_final(c.package, lock_case(conn, c.package, row.id)):
                raise ApiError(409, "case_final")  # decided while the file streamed
            mf = t.material_files
            where = (mf.c.application_id == row.id) & (mf.c.material == material["id"])
            old = [r.storage_name for r in conn.execute(select(mf.c.storage_name).where(where))]
            conn.execute(delete(mf).where(where))
            conn.execute(
                insert(mf).values(
                    application_id=row.id,
                    material=material["id"],
                    storage_name=storage_name,
                    filename=got.filename,
                    content_type=media,
                    size=got.size,
                    sha256=got.sha256,
                    uploaded_by=identity.subject,
                    uploaded_at=now,
                )
            )
            audit.record(
                conn,
                t.audit_log,
                at=now,
                action="material_upload",
                identity=identity,
                request_id=request_id(request),
                application_id=row.id,
                detail={"material": material["id"], "size": got.size, "sha256": got.sha256},
            )
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    release_files(c, old)
    return uploaded(material, got, media, now)


def uploaded(material: dict[str, Any], got: Received, media: str, now: datetime) -> MaterialFile:
    """What an upload answers (a bundle's shared upload adds the applications it reached)."""
    return {
        "material": material["id"],
        "content_type": media,
        "size": got.size,
        "sha256": got.sha256,
        "filename": got.filename,
        "uploaded_at": iso(now),
    }


def release_files(c: Context, names: list[str]) -> None:
    """Delete replaced files that no application refers to any more (a bundle's shared
    material is one file for several members)."""
    mf = c.package.tables.material_files
    for name in dict.fromkeys(names):
        with read(c.engine) as conn:
            used = conn.execute(select(mf.c.id).where(mf.c.storage_name == name).limit(1)).first()
        if used is None:
            (c.settings.upload_dir / name).unlink(missing_ok=True)


async def receive_material(
    request: Request, c: Context, owner: str, material: dict[str, Any]
) -> tuple[Received, str]:
    """The body's multipart ``file`` as ``material`` of ``owner`` (a case, or a bundle filing
    whose members share it), sealed into ``<upload dir>/.incoming``, and its sniffed type:
    413 past the material's cap, 422 for a type it does not accept."""
    cap = int(material.get("max_size_mb") or 10) * MB
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > cap + 64 * 1024:
        raise ApiError(413, "too_large")
    got = await receive_file(
        request.headers.get("content-type", ""),
        request.stream(),
        c.settings.upload_dir / ".incoming",
        cap,
        seal=sealer(c, owner, material["id"]),
    )
    accept = tuple(material.get("accept") or DEFAULT_ACCEPT)
    media = sniff(got.head)
    if media is None or media not in accept:
        got.path.unlink(missing_ok=True)
        raise ApiError(422, "file_type", {"accept": ", ".join(accept)})
    return got, media


async def upload(request: Request) -> Response:
    """``PUT /api/applications/{id}/materials/{material}`` — multipart field ``file``."""
    c = ctx(request)
    identity = require(request, "applicant")
    row, material = await threaded(_check_upload, request, c, identity)
    got, media = await receive_material(request, c, row.id, material)
    try:
        result = await threaded(_store, request, c, identity, row, material, got, media)
    finally:
        got.path.unlink(missing_ok=True)
    return ok(result, 201)


OPEN_ATTEMPTS = 5  # replacements committed one after another while one download opens


@dataclass
class Download:
    """A material file opened for sending: its row, the open file, the name to show."""

    row: Any
    sealed: SealedFile
    shown: str

    def response(self) -> StreamingResponse:
        """The plaintext streamed as an attachment (the file is closed at the end)."""
        disposition = f"attachment; filename*=UTF-8''{quote(self.shown)}"
        return StreamingResponse(
            iter(self.sealed),
            media_type=self.row.content_type,
            headers={"Content-Disposition": disposition, "Content-Length": str(self.row.size)},
        )


def _material_row(request: Request, c: Context, identity: Identity) -> Any:
    """The row of the material of a case ``identity`` may see; 404 when there is none."""
    row = find_application(request, identity, request.path_params["id"])
    material_id = request.path_params["material"]
    _material(c, row, material_id)
    mf = c.package.tables.material_files
    with read(c.engine) as conn:
        f = conn.execute(
            select(mf).where(mf.c.application_id == row.id, mf.c.material == material_id)
        ).first()
    if f is None:
        raise ApiError(404, "unknown_material", {"material": material_id[:64]})
    return f


def open_download(request: Request, c: Context, identity: Identity) -> Download:
    """The material's file as its row names it now, opened, and the download audited.

    A replacement removes the file it replaced once it has committed: when the file a row
    named is gone by the time it is opened, the row is read again and the new file opened
    (a file missing while its row stays the same is 404, and logged). The file is opened
    before the answer starts, so a replacement during the transfer does not cut it off: the
    removed file stays readable to whoever holds it open."""
    missing: str | None = None
    for _ in range(OPEN_ATTEMPTS):
        f = _material_row(request, c, identity)
        if f.storage_name == missing:
            log.error("material file %s is missing from the upload folder", f.storage_name)
            raise ApiError(404, "unknown_material", {"material": f.material})
        path = c.settings.upload_dir / f.storage_name
        try:
            sealed = SealedFile(path, c.cipher, stored_context(f))
        except FileNotFoundError:
            missing = f.storage_name  # replaced since the row was read, or lost
            continue
        except DecryptionError:
            log.error(
                "material file %s cannot be decrypted (key missing or file damaged)", path.name
            )
            raise ApiError(503, "unavailable") from None
        audit_access(
            c,
            identity,
            request_id(request),
            "material_download",
            application_id=f.application_id,
            detail={"material": f.material},
        )
        shown = (
            f.filename
            if identity.role == "applicant"
            else f.material + EXTENSIONS.get(f.content_type, "")
        )
        return Download(f, sealed, shown)
    raise ApiError(503, "material_busy")


async def download(request: Request) -> Response:
    """``GET /api/applications/{id}/materials/{material}`` — the applicant's own, or staff."""
    c = ctx(request)
    identity = require(request)
    found = await threaded(open_download, request, c, identity)
    return found.response()


def sealer(c: Context, owner_id: str, material_id: str) -> Callable[[BinaryIO], Any]:
    """What wraps a material file as it is written: encrypts it for its owner (the case,
    or the bundle filing whose members share it: the folder it is stored in) and material."""
    context = file_context(owner_id, material_id)
    return lambda raw: SealingWriter(raw, c.cipher, context)


def file_context(owner_id: str, material_id: str) -> str:
    """What a material file's encryption is bound to: its owner and material."""
    return f"{owner_id}/{material_id}"


def stored_context(f: Any) -> str:
    """The context of the stored file of the ``material_files`` row ``f``: its owner is the
    folder it is stored in (``<owner id>/<random hex>``)."""
    return file_context(str(f.storage_name).split("/", 1)[0], f.material)


ROUTES = [
    Operation(
        "PUT /api/applications/{id}/materials/{material}",
        upload,
        "uploadMaterial",
        "上传材料 / upload one material file (multipart field file)",
        "materials",
        ("stored", "MaterialFile"),
        status=201,
        errors=WRITE_ERRORS,
        parameters=("application", "material"),
        body="Upload",
        body_media="multipart/form-data",
        secured=True,
    ),
    Operation(
        "GET /api/applications/{id}/materials/{material}",
        download,
        "downloadMaterial",
        "下载材料 / download a material file",
        "materials",
        ("the file, of the type its first bytes show", {"type": "string"}),
        media=tuple(sorted({media for _, media in SIGNATURES})),  # what uploads are recognised as
        responses={
            503: (
                "服务暂停，或该材料文件正被反复替换 / service paused (database_ahead, "
                "database_behind, database_unmigrated; Retry-After), or the file was replaced "
                "again and again while it was opened (material_busy): try again",
                "Error",
            )
        },
        errors=(401, 403, 404),
        parameters=("application", "material"),
        secured=True,
    ),
]
