"""Material files at rest: AES-256-GCM in chunks, written and read as a stream.

A stored file is::

    b"GSF1" ‖ key id (1 byte) ‖ nonce prefix (7 random bytes) ‖ record 0 ‖ record 1 ‖ …

Record *i* seals chunk *i* of the plaintext — :data:`CHUNK` bytes, the last one
0 to :data:`CHUNK` — with :class:`~cryptography.hazmat.primitives.ciphers.aead.AESGCM`
under the nonce ``prefix ‖ i (4 bytes, big-endian) ‖ last (1 byte: 1 for the last
record, else 0)`` and the associated data ``header ‖ context``; it is the chunk plus
a 16-byte tag. This is the STREAM construction (Hoang, Reyhanitabar, Rogaway and
Vizár, 2015): records cannot be reordered, dropped, or cut off at the end without
the tag failing, and the context (``<application id>/<material id>``) binds a file
to its place, so a file copied to another case does not decrypt there.

The key id and the keys are those of the value tokens (:mod:`runtime.crypto`,
``GOVSTD_DATA_KEY``): the first key encrypts, every key decrypts, so a file written
under an older key is still read after rotation. Files stored before encryption
(no ``GSF1`` header; PDF, JPEG, PNG and OFD files never start so) are read as they are.

Written here rather than with a library: Tink's streaming AEAD keeps its keys in its
own keysets (not our ``GOVSTD_DATA_KEY``) and brings protobuf; the construction is a
few lines over ``cryptography``, which the value encryption already uses.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from runtime.crypto import TAG_SIZE, Cipher, DecryptionError

MAGIC: Final = b"GSF1"
PREFIX_SIZE: Final = 7
HEADER_SIZE: Final = len(MAGIC) + 1 + PREFIX_SIZE
CHUNK: Final = 64 * 1024
RECORD: Final = CHUNK + TAG_SIZE
_AAD_LABEL: Final = b"govstd.file.v1:"


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _aad(header: bytes, context: str) -> bytes:
    if not context:
        raise ValueError("a file needs a context, e.g. '<application id>/<material id>'")
    return _AAD_LABEL + header + context.encode("utf-8")


class SealingWriter:
    """A write-only file that encrypts what is written to ``raw`` (closed with it)."""

    def __init__(self, raw: BinaryIO, cipher: Cipher, context: str) -> None:
        kid, self._aead = cipher.encrypting_key()
        self._prefix = os.urandom(PREFIX_SIZE)
        header = MAGIC + bytes([kid]) + self._prefix
        self._aad = _aad(header, context)
        self._raw = raw
        self._buffer = bytearray()
        self._index = 0
        self._closed = False
        raw.write(header)

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK:  # the last chunk is sealed by close(), even if full
            self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _seal(self, chunk: bytes, *, last: bool) -> None:
        nonce = _nonce(self._prefix, self._index, last)
        self._raw.write(self._aead.encrypt(nonce, chunk, self._aad))
        self._index += 1

    def close(self) -> None:
        """Seal the last chunk and close the file (a file never closed does not decrypt)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._seal(bytes(self._buffer), last=True)
        finally:
            self._buffer.clear()
            self._raw.close()


class SealedFile:
    """The plaintext of a stored file, checked and opened eagerly (header and first
    record: a wrong key or a damaged file fails here, before any byte is sent), then
    read chunk by chunk as an iterator."""

    def __init__(self, path: Path, cipher: Cipher, context: str) -> None:
        self._handle = path.open("rb")
        try:
            self._first = self._open(cipher, context)
        except BaseException:
            self._handle.close()
            raise

    def _open(self, cipher: Cipher, context: str) -> bytes | None:
        header = self._handle.read(HEADER_SIZE)
        if not header.startswith(MAGIC):  # stored before encryption: read as it is
            self._plain = header
            return None
        if len(header) < HEADER_SIZE:
            raise DecryptionError("damaged material file (header cut off)")
        self._prefix = header[len(MAGIC) + 1 :]
        self._aad = _aad(header, context)
        self._record = self._handle.read(RECORD)
        self._next = self._handle.read(RECORD)
        for aead in cipher.keys_with_id(header[len(MAGIC)]):
            try:
                first = self._unseal(aead, self._record, 0)
            except InvalidTag:
                continue
            self._aead = aead
            return first
        raise DecryptionError("material file: unknown key, tampered, or not of this material")

    def _unseal(self, aead: AESGCM, record: bytes, index: int) -> bytes:
        last = not self._next
        return aead.decrypt(_nonce(self._prefix, index, last), record, self._aad)

    def __iter__(self) -> Iterator[bytes]:
        try:
            if self._first is None:
                yield from self._plain_chunks()
                return
            yield self._first
            index = 1
            while self._next:
                self._record, self._next = self._next, self._handle.read(RECORD)
                try:
                    yield self._unseal(self._aead, self._record, index)
                except InvalidTag:
                    raise DecryptionError(f"damaged material file (record {index})") from None
                index += 1
        finally:
            self._handle.close()

    def _plain_chunks(self) -> Iterator[bytes]:
        chunk = self._plain
        while chunk:
            yield chunk
            chunk = self._handle.read(CHUNK)

    def close(self) -> None:
        self._handle.close()

    def read_all(self) -> bytes:
        return b"".join(self)
