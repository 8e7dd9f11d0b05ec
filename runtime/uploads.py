"""Streaming multipart uploads with a size cap, magic-byte typing and generated names.

:func:`receive_file` parses ``multipart/form-data`` as it arrives (python-multipart's
``MultipartParser``), writes the part named ``file`` to a temporary file in the
upload folder while hashing it, and stops with 413 as soon as the part passes the
cap: nothing larger than the cap (plus one chunk) ever reaches the disk. The
client's filename is kept as metadata only (cleaned, at most 255 characters); the
stored name is generated. The type comes from the first bytes, never from the
client's name or Content-Type. A body with more than :data:`MAX_PARTS` parts is
refused (400) as soon as the parser meets the next one (python-multipart bounds the
headers of a part), and a body that goes on past the cap plus :data:`FRAMING` (413),
even when its file part is small. ``seal`` wraps the file as it is opened (material
files are encrypted as they arrive, :mod:`runtime.filecrypt`): no plaintext reaches
the disk.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header

from runtime.errors import ApiError

SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"PK\x03\x04", "application/ofd"),  # OFD (GB/T 33190) is a ZIP container
)
EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "application/ofd": ".ofd",
}
DEFAULT_ACCEPT = ("application/pdf", "image/jpeg", "image/png")
MAX_PARTS = 16
FRAMING = 1024 * 1024  # what a body may hold besides the file: boundaries, headers, fields
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def sniff(head: bytes) -> str | None:
    """The media type the first bytes announce, or ``None``."""
    return next((media for magic, media in SIGNATURES if head.startswith(magic)), None)


def clean_filename(raw: str) -> str:
    """The client's name as metadata: last path segment, no control characters, ≤ 255."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = _CONTROL.sub("", name).strip().lstrip(".")
    return name[:255] or "upload"


@dataclass
class Received:
    path: Path
    size: int
    sha256: str
    filename: str
    head: bytes = b""


@dataclass
class _State:
    cap: int
    folder: Path
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    headers: dict[bytes, bytes] = field(default_factory=dict)
    in_file: bool = False
    done: bool = False
    size: int = 0
    head: bytearray = field(default_factory=bytearray)
    filename: str = ""
    digest: object = field(default_factory=hashlib.sha256)
    handle: object = None
    path: Path | None = None
    too_large: bool = False
    parts: int = 0
    seal: Callable[[BinaryIO], Any] | None = None


def _callbacks(s: _State) -> dict[str, object]:
    def on_part_begin() -> None:
        s.parts += 1
        if s.parts > MAX_PARTS:  # stops the parser in the middle of the chunk
            raise ApiError(400, "too_many_parts")

    def on_header_field(data: bytes, start: int, end: int) -> None:
        s.header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        s.header_value += data[start:end]

    def on_header_end() -> None:
        s.headers[bytes(s.header_field).lower()] = bytes(s.header_value)
        s.header_field.clear()
        s.header_value.clear()

    def on_headers_finished() -> None:
        _, options = parse_options_header(s.headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        s.in_file = name == "file" and not s.done and b"filename" in options
        if s.in_file:
            s.filename = clean_filename(options.get(b"filename", b"").decode("utf-8", "replace"))
            fd, tmp = tempfile.mkstemp(dir=s.folder, prefix=".upload-", suffix=".part")
            handle = os.fdopen(fd, "wb")
            s.handle = s.seal(handle) if s.seal else handle
            s.path = Path(tmp)

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if not s.in_file or s.too_large:
            return
        chunk = data[start:end]
        s.size += len(chunk)
        if s.size > s.cap:
            s.too_large = True
            return
        if len(s.head) < 16:
            s.head += chunk[: 16 - len(s.head)]
        s.digest.update(chunk)  # type: ignore[attr-defined]
        s.handle.write(chunk)  # type: ignore[attr-defined]

    def on_part_end() -> None:
        if s.in_file:
            s.in_file = False
            s.done = True
        s.headers = {}

    return {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }


def _discard(s: _State) -> None:
    if s.handle is not None:
        s.handle.close()  # type: ignore[attr-defined]
    if s.path is not None:
        s.path.unlink(missing_ok=True)


async def receive_file(
    content_type: str,
    stream: AsyncIterator[bytes],
    folder: Path,
    cap: int,
    seal: Callable[[BinaryIO], Any] | None = None,
) -> Received:
    """The uploaded ``file`` part, stored in a temporary file in ``folder``; 413 past ``cap``.
    ``seal``: wraps the temporary file (``write``, ``close``), e.g. to encrypt it."""
    media, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if media != b"multipart/form-data" or not boundary:
        raise ApiError(415, "upload_media_type")
    folder.mkdir(parents=True, exist_ok=True)
    state = _State(cap=cap, folder=folder, seal=seal)
    parser = MultipartParser(boundary, _callbacks(state), max_size=cap + FRAMING)  # type: ignore[arg-type]
    received = 0
    try:
        async for chunk in stream:
            received += len(chunk)
            if received > cap + FRAMING:
                raise ApiError(413, "too_large")
            parser.write(chunk)
            if state.too_large:
                raise ApiError(413, "too_large")
        parser.finalize()
    except ApiError:
        _discard(state)
        raise
    except Exception:
        _discard(state)
        raise ApiError(400, "bad_request") from None
    if state.handle is not None:
        state.handle.close()  # type: ignore[attr-defined]
    if state.path is None or not state.done:
        _discard(state)
        raise ApiError(422, "file_missing")
    return Received(
        state.path,
        state.size,
        state.digest.hexdigest(),  # type: ignore[attr-defined]
        state.filename,
        bytes(state.head),
    )
