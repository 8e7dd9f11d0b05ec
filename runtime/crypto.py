"""Personal data at rest: AES-256-GCM field encryption and blind indexes.

Sensitive form fields (ID numbers, phone numbers …) are stored as text tokens::

    v1.<base64url(key id ‖ nonce ‖ ciphertext ‖ tag)>

without ``=`` padding. ``key id`` is one byte, the first byte of SHA-256 of the
key (a hint, not a secret: which key to try); ``nonce`` is 12 random bytes, new
for every value; ciphertext and the 16-byte GCM tag come from
:class:`~cryptography.hazmat.primitives.ciphers.aead.AESGCM`. The associated data
is ``govstd.v1:`` + the *context* — by convention ``<table>.<column>``, e.g.
``form_ibr_form.citizen_id_number`` — so a token copied into another column
(or another form) fails to decrypt instead of showing someone else's data.

Keys come from ``GOVSTD_DATA_KEY``: a 32-byte key in URL-safe base64 (padding
optional), or several separated by commas for rotation — the first encrypts,
all decrypt (re-encrypt old rows, then drop the old key). Generate one with
``govstd keygen`` (:func:`new_key`).
When the variable is unset or empty, :func:`load_keys` returns a development key
derived from a fixed, public secret and says so (``is_dev``); the caller must
warn, and production deployments must set a real key.

:func:`blind_index` gives a keyed HMAC-SHA256 of a value, for finding rows by
an encrypted value (equal values, equal index) without decrypting. It uses a
subkey derived from the data key, so it stays apart from the encryption; it
changes when the first key changes, so rebuild indexes on rotation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Mapping, Sequence
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from runtime.types import GovstdError

__all__ = [
    "DEV_SECRET",
    "ENV_VAR",
    "TOKEN_PREFIX",
    "Cipher",
    "DecryptionError",
    "blind_index",
    "dev_key",
    "key_id",
    "load_key",
    "load_keys",
]

ENV_VAR: Final = "GOVSTD_DATA_KEY"
TOKEN_PREFIX: Final = "v1."
DEV_SECRET: Final = b"govstd development data key - public, never use in production"
KEY_SIZE: Final = 32
NONCE_SIZE: Final = 12
TAG_SIZE: Final = 16
_AAD_PREFIX: Final = b"govstd.v1:"
_BLIND_INDEX_LABEL: Final = b"govstd blind index v1"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class DecryptionError(GovstdError, ValueError):
    """A token that cannot be decrypted: malformed, tampered, wrong key or wrong context."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    text = text.rstrip("=")
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not URL-safe base64")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _check_key(key: bytes) -> bytes:
    if not isinstance(key, bytes) or len(key) != KEY_SIZE:
        raise ValueError(f"a data key must be {KEY_SIZE} bytes")
    return key


def key_id(key: bytes) -> int:
    """The key id byte written into tokens: the first byte of SHA-256 of the key."""
    return hashlib.sha256(_check_key(key)).digest()[0]


def new_key() -> str:
    """A new random key as ``GOVSTD_DATA_KEY`` takes it (URL-safe base64 of 32 bytes)."""
    return base64.urlsafe_b64encode(os.urandom(KEY_SIZE)).decode("ascii")


def dev_key() -> bytes:
    """The development key: SHA-256 of :data:`DEV_SECRET` (the same everywhere)."""
    return hashlib.sha256(DEV_SECRET).digest()


def load_keys(env: Mapping[str, str]) -> tuple[tuple[bytes, ...], bool]:
    """Keys from ``env[GOVSTD_DATA_KEY]`` (comma-separated, first encrypts) and ``is_dev``.

    Unset or blank → ``((dev key,), True)``. A key that is not URL-safe base64
    of 32 bytes is a ``ValueError`` naming its position, never its value.
    """
    raw = env.get(ENV_VAR, "").strip()
    if not raw:
        return (dev_key(),), True
    keys: list[bytes] = []
    for position, part in enumerate(raw.split(","), start=1):
        text = part.strip()
        try:
            key = _b64decode(text)
        except (ValueError, binascii.Error):
            key = b""
        if len(key) != KEY_SIZE:
            raise ValueError(
                f"{ENV_VAR}: key {position} is not URL-safe base64 of {KEY_SIZE} bytes"
            )
        keys.append(key)
    return tuple(keys), False


def load_key(env: Mapping[str, str]) -> tuple[bytes, bool]:
    """The encrypting key (the first of :func:`load_keys`) and ``is_dev``."""
    keys, is_dev = load_keys(env)
    return keys[0], is_dev


class Cipher:
    """AES-256-GCM for text values; ``keys``: one key or a list, the first encrypts."""

    __slots__ = ("_aeads", "_keys", "_primary")

    def __init__(self, keys: bytes | Sequence[bytes]) -> None:
        key_list = [keys] if isinstance(keys, bytes) else list(keys)
        if not key_list:
            raise ValueError("at least one data key is needed")
        self._keys = tuple(key_list)
        self._aeads: list[tuple[int, AESGCM]] = [
            (key_id(k), AESGCM(_check_key(k))) for k in key_list
        ]
        self._primary = self._aeads[0]

    def __repr__(self) -> str:
        return f"Cipher(<{len(self._aeads)} key(s)>)"

    @property
    def key_id(self) -> int:
        """Id byte of the encrypting key."""
        return self._primary[0]

    def blind_indexes(self, value: str, *, context: str) -> tuple[str, ...]:
        """:func:`blind_index` of ``value`` under every key, the encrypting key's first:
        write the first, look up by all (rows indexed before a rotation still match)."""
        return tuple(dict.fromkeys(blind_index(value, k, context=context) for k in self._keys))

    def encrypting_key(self) -> tuple[int, AESGCM]:
        """The encrypting key: its id byte and its AES-GCM (for formats other than tokens,
        such as material files, :mod:`runtime.filecrypt`)."""
        return self._primary

    def keys_with_id(self, kid: int) -> list[AESGCM]:
        """The keys whose id byte is ``kid`` (usually one; an id is a hint, not unique)."""
        return [aead for i, aead in self._aeads if i == kid]

    @staticmethod
    def _aad(context: str) -> bytes:
        if not isinstance(context, str) or not context:
            raise ValueError("context must be a non-empty string, e.g. 'table.column'")
        return _AAD_PREFIX + context.encode("utf-8")

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """A new token for ``plaintext`` (a fresh random nonce every time)."""
        if not isinstance(plaintext, str):
            raise TypeError(f"plaintext must be str, not {type(plaintext).__name__}")
        kid, aead = self._primary
        nonce = os.urandom(NONCE_SIZE)
        sealed = aead.encrypt(nonce, plaintext.encode("utf-8"), self._aad(context))
        return TOKEN_PREFIX + _b64encode(bytes([kid]) + nonce + sealed)

    def decrypt(self, token: str, *, context: str) -> str:
        """The plaintext of ``token``, or :class:`DecryptionError`."""
        aad = self._aad(context)
        if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
            raise DecryptionError("not an encrypted value (expected a 'v1.' token)")
        try:
            blob = _b64decode(token[len(TOKEN_PREFIX) :])
        except (ValueError, binascii.Error):
            raise DecryptionError("malformed encrypted value (bad base64)") from None
        if len(blob) < 1 + NONCE_SIZE + TAG_SIZE:
            raise DecryptionError("malformed encrypted value (too short)")
        kid, nonce, sealed = blob[0], blob[1 : 1 + NONCE_SIZE], blob[1 + NONCE_SIZE :]
        candidates = self.keys_with_id(kid)
        if not candidates:
            raise DecryptionError(f"encrypted with an unknown key (key id {kid})")
        for aead in candidates:
            try:
                plain = aead.decrypt(nonce, sealed, aad)
            except InvalidTag:
                continue
            try:
                return plain.decode("utf-8")
            except UnicodeDecodeError:  # authentic but not ours: cannot happen with encrypt()
                raise DecryptionError("decrypted value is not UTF-8") from None
        raise DecryptionError(
            f"cannot decrypt value for {context!r}: tampered, wrong key or wrong context"
        )


def blind_index(value: str, key: bytes, *, context: str = "") -> str:
    """HMAC-SHA256 hex of ``value`` under a subkey of ``key`` (64 characters).

    Equal values (in the same ``context``) give equal indexes; normalize the
    value first (e.g. upper-case the ``x`` of an ID number). A per-column
    ``context`` keeps indexes of different columns unrelated.
    """
    subkey = hmac.new(_check_key(key), _BLIND_INDEX_LABEL, hashlib.sha256).digest()
    message = context.encode("utf-8") + b"\x00" + value.encode("utf-8")
    return hmac.new(subkey, message, hashlib.sha256).hexdigest()
