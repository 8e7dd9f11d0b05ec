"""Tests for runtime.crypto (AES-256-GCM field encryption, blind indexes)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.crypto import (
    ENV_VAR,
    TOKEN_PREFIX,
    Cipher,
    DecryptionError,
    blind_index,
    dev_key,
    key_id,
    load_key,
    load_keys,
)

CTX = "form_ibr_form.citizen_id_number"
ID_NUMBER = "440305199003070014"
KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))


def b64url(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def encodings(text: str) -> list[str]:
    """Base64 forms of ``text`` at each alignment, standard and URL-safe, unpadded."""
    raw = text.encode()
    forms = []
    for shift in range(3):
        chunk = raw[shift:]
        chunk = chunk[: len(chunk) - len(chunk) % 3]  # whole groups only
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            forms.append(encode(chunk).decode())
    return forms


def test_round_trip() -> None:
    cipher = Cipher(KEY_A)
    for text in (ID_NUMBER, "张三", "深圳市南山区粤海街道科技园 1 号 🏢", "", "x" * 10_000):
        token = cipher.encrypt(text, context=CTX)
        assert token.startswith(TOKEN_PREFIX)
        assert token.isascii()
        assert cipher.decrypt(token, context=CTX) == text


def test_token_shape() -> None:
    token = Cipher(KEY_A).encrypt(ID_NUMBER, context=CTX)
    body = token[len(TOKEN_PREFIX) :]
    assert "=" not in body and "+" not in body and "/" not in body
    blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    # key id + 96-bit nonce + 18 bytes of ciphertext + 128-bit tag
    assert len(blob) == 1 + 12 + len(ID_NUMBER) + 16
    assert blob[0] == key_id(KEY_A)


def test_ciphertext_differs_each_time() -> None:
    cipher = Cipher(KEY_A)
    tokens = {cipher.encrypt(ID_NUMBER, context=CTX) for _ in range(50)}
    assert len(tokens) == 50


def test_plaintext_never_visible() -> None:
    cipher = Cipher(KEY_A)
    for _ in range(20):
        token = cipher.encrypt(ID_NUMBER, context=CTX)
        assert ID_NUMBER not in token
        assert ID_NUMBER[:12] not in token
        for form in encodings(ID_NUMBER):
            assert form[:8] not in token
        body = token[len(TOKEN_PREFIX) :]
        blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        assert ID_NUMBER.encode() not in blob
        assert ID_NUMBER[:8].encode() not in blob


def flip(token: str, position: int) -> str:
    """``token`` with one bit of its binary body flipped at ``position``."""
    body = token[len(TOKEN_PREFIX) :]
    blob = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    blob[position] ^= 0x01
    return TOKEN_PREFIX + base64.urlsafe_b64encode(bytes(blob)).decode().rstrip("=")


def test_tampering_is_detected() -> None:
    cipher = Cipher(KEY_A)
    token = cipher.encrypt(ID_NUMBER, context=CTX)
    size = 1 + 12 + len(ID_NUMBER) + 16
    for position in range(size):  # key id, nonce, ciphertext, tag
        with pytest.raises(DecryptionError):
            cipher.decrypt(flip(token, position), context=CTX)


@pytest.mark.parametrize(
    "token",
    [
        "",
        ID_NUMBER,
        "v2." + "A" * 60,
        "v1.",
        "v1.AAAA",
        "v1.not base64!",
        "v1." + "A" * 41,  # length 1 mod 4
        "v1." + "A" * 40 + "+/",
    ],
)
def test_malformed_tokens(token: str) -> None:
    with pytest.raises(DecryptionError):
        Cipher(KEY_A).decrypt(token, context=CTX)


def test_truncated_token() -> None:
    cipher = Cipher(KEY_A)
    token = cipher.encrypt(ID_NUMBER, context=CTX)
    with pytest.raises(DecryptionError):
        cipher.decrypt(token[:-4], context=CTX)


def test_wrong_context() -> None:
    cipher = Cipher(KEY_A)
    token = cipher.encrypt(ID_NUMBER, context=CTX)
    with pytest.raises(DecryptionError, match="wrong context"):
        cipher.decrypt(token, context="form_ibr_form.phone")
    with pytest.raises(DecryptionError):
        cipher.decrypt(token, context="form_other.citizen_id_number")
    with pytest.raises(ValueError):
        cipher.encrypt(ID_NUMBER, context="")


def test_wrong_key() -> None:
    token = Cipher(KEY_A).encrypt(ID_NUMBER, context=CTX)
    with pytest.raises(DecryptionError, match="unknown key"):
        Cipher(KEY_B).decrypt(token, context=CTX)


def test_wrong_key_with_same_key_id() -> None:
    # Key ids are one byte: find another key with KEY_A's id (1 in 256 tries).
    target = key_id(KEY_A)
    other = next(
        k for k in (bytes([i % 256, i // 256]) * 16 for i in range(100_000)) if key_id(k) == target
    )
    assert other != KEY_A
    token = Cipher(KEY_A).encrypt(ID_NUMBER, context=CTX)
    with pytest.raises(DecryptionError, match="tampered, wrong key or wrong context"):
        Cipher(other).decrypt(token, context=CTX)
    # Both with the same id: each is tried.
    assert Cipher([other, KEY_A]).decrypt(token, context=CTX) == ID_NUMBER


def test_rotation() -> None:
    old = Cipher(KEY_A)
    old_token = old.encrypt("李四", context=CTX)
    rotated = Cipher([KEY_B, KEY_A])
    assert rotated.key_id == key_id(KEY_B)
    assert rotated.decrypt(old_token, context=CTX) == "李四"
    new_token = rotated.encrypt("李四", context=CTX)
    assert rotated.decrypt(new_token, context=CTX) == "李四"
    with pytest.raises(DecryptionError):
        old.decrypt(new_token, context=CTX)  # the old deployment cannot read new values
    # Re-encrypt, then drop the old key.
    assert Cipher(KEY_B).decrypt(new_token, context=CTX) == "李四"
    with pytest.raises(DecryptionError):
        Cipher(KEY_B).decrypt(old_token, context=CTX)


@pytest.mark.parametrize("keys", [b"short", b"x" * 33, [], [KEY_A, b"short"], "x" * 32])
def test_bad_keys(keys: object) -> None:
    with pytest.raises(ValueError):
        Cipher(keys)  # type: ignore[arg-type]


def test_encrypt_requires_text() -> None:
    with pytest.raises(TypeError):
        Cipher(KEY_A).encrypt(b"bytes", context=CTX)  # type: ignore[arg-type]


def test_repr_hides_keys() -> None:
    text = repr(Cipher([KEY_A, KEY_B]))
    assert "2 key" in text and KEY_A.hex() not in text and str(KEY_A) not in text


# ---------------------------------------------------------------- configuration


def test_load_key_from_env() -> None:
    key, is_dev = load_key({ENV_VAR: b64url(KEY_A)})
    assert key == KEY_A and not is_dev
    unpadded = b64url(KEY_A).rstrip("=")
    assert load_key({ENV_VAR: unpadded}) == (KEY_A, False)
    assert load_key({ENV_VAR: f"  {b64url(KEY_A)}\n"}) == (KEY_A, False)


def test_load_keys_rotation() -> None:
    keys, is_dev = load_keys({ENV_VAR: f"{b64url(KEY_B)}, {b64url(KEY_A)}"})
    assert keys == (KEY_B, KEY_A) and not is_dev
    assert load_key({ENV_VAR: f"{b64url(KEY_B)},{b64url(KEY_A)}"}) == (KEY_B, False)


def test_dev_key_when_unset() -> None:
    for env in ({}, {ENV_VAR: ""}, {ENV_VAR: "   "}, {"OTHER": b64url(KEY_A)}):
        key, is_dev = load_key(env)
        assert is_dev and key == dev_key() and len(key) == 32
    assert load_key({}) == load_key({})  # deterministic: dev data survives restarts
    cipher = Cipher(load_key({})[0])
    assert cipher.decrypt(cipher.encrypt("开发", context=CTX), context=CTX) == "开发"


@pytest.mark.parametrize(
    "value",
    [
        "not base64 at all!",
        base64.urlsafe_b64encode(bytes(range(16))).decode(),
        base64.urlsafe_b64encode(bytes(range(33))).decode(),
        f"{b64url(KEY_A)},",
        "A",
    ],
)
def test_bad_env_key(value: str) -> None:
    with pytest.raises(ValueError, match=ENV_VAR) as info:
        load_keys({ENV_VAR: value})
    secret = value.split(",")[0]
    if len(secret) > 8:
        assert secret not in str(info.value)


def test_standard_base64_with_plus_slash_is_refused() -> None:
    key = bytes([0xFB, 0xFF] * 16)  # encodes to '+' and '/' in standard base64
    standard = base64.b64encode(key).decode()
    assert "+" in standard or "/" in standard
    with pytest.raises(ValueError):
        load_keys({ENV_VAR: standard})
    assert load_keys({ENV_VAR: base64.urlsafe_b64encode(key).decode()}) == ((key,), False)


# ---------------------------------------------------------------- blind index


def test_blind_index() -> None:
    index = blind_index(ID_NUMBER, KEY_A)
    assert len(index) == 64 and int(index, 16) >= 0
    assert index == blind_index(ID_NUMBER, KEY_A)
    assert index != blind_index("440305199003070022", KEY_A)
    assert index != blind_index(ID_NUMBER, KEY_B)
    assert index != blind_index(ID_NUMBER, KEY_A, context=CTX)
    assert blind_index(ID_NUMBER, KEY_A, context=CTX) == blind_index(ID_NUMBER, KEY_A, context=CTX)
    assert ID_NUMBER not in index
    with pytest.raises(ValueError):
        blind_index(ID_NUMBER, b"short")


def test_blind_index_context_is_unambiguous() -> None:
    # context and value are separated: ("a", "b\x00c") vs ("a\x00b", "c") may collide
    # only through a NUL in the context, which column names never contain.
    assert blind_index("bc", KEY_A, context="a") != blind_index("c", KEY_A, context="ab")


@settings(max_examples=50)
@given(text=st.text(), context=st.text(min_size=1, max_size=80))
def test_round_trip_any_text(text: str, context: str) -> None:
    cipher = Cipher([KEY_A, KEY_B])
    assert cipher.decrypt(cipher.encrypt(text, context=context), context=context) == text


# --- the v1 format, pinned: values stored today must read the same after any change ------

# Written once by Cipher(KEY_A).encrypt(...) and committed; never regenerate them.
COMMITTED_V1 = {
    (CTX, ID_NUMBER): "v1.Y_j1jr4ekenhV1CTZLFcEMVoS6i92h0P3OHh96oKyNlhuUDKU1GdWssAJEpjahE",
    ("form_ibr_form.person_name", "张三"): "v1.Y2CYq1mVyX2wycmH_8lCocrU1XZttTIpWWx-RwOPGUCBfEw",
}
# blind_index(ID_NUMBER, KEY_A, context=CTX), computed once and committed.
COMMITTED_BLIND_INDEX = "8bc8ff11f03c03c3ee1fb59439d7786b01927916029a45b1e68c0060de8aa624"


def raw_v1_decrypt(token: str, key: bytes, context: str) -> str:
    """The v1 format as runtime/crypto.py documents it, with the primitives only:
    ``v1.`` + unpadded base64url(key id byte ‖ 12-byte nonce ‖ AES-256-GCM ciphertext+tag),
    key id = first byte of SHA-256(key), associated data ``govstd.v1:<context>``."""
    assert token.startswith("v1.")
    body = token[3:]
    blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert blob[0] == hashlib.sha256(key).digest()[0]
    nonce, sealed = blob[1:13], blob[13:]
    plain = AESGCM(key).decrypt(nonce, sealed, b"govstd.v1:" + context.encode())
    return plain.decode("utf-8")


@pytest.mark.parametrize(("context", "plaintext"), sorted(COMMITTED_V1))
def test_committed_v1_token_decrypts_with_raw_aes_gcm(context: str, plaintext: str) -> None:
    token = COMMITTED_V1[(context, plaintext)]
    assert raw_v1_decrypt(token, KEY_A, context) == plaintext
    assert Cipher(KEY_A).decrypt(token, context=context) == plaintext
    assert Cipher([KEY_B, KEY_A]).decrypt(token, context=context) == plaintext  # after rotation


def test_new_tokens_are_v1_for_raw_aes_gcm() -> None:
    for (context, plaintext), _ in COMMITTED_V1.items():
        token = Cipher([KEY_A, KEY_B]).encrypt(plaintext, context=context)
        assert raw_v1_decrypt(token, KEY_A, context) == plaintext


def test_blind_index_is_pinned() -> None:
    """The documented construction (HMAC-SHA256 under the subkey HMAC(key, label)), written
    out, and the committed value: rows indexed today are found tomorrow."""
    subkey = hmac.new(KEY_A, b"govstd blind index v1", hashlib.sha256).digest()
    by_hand = hmac.new(subkey, CTX.encode() + b"\x00" + ID_NUMBER.encode(), hashlib.sha256)
    assert by_hand.hexdigest() == COMMITTED_BLIND_INDEX
    assert blind_index(ID_NUMBER, KEY_A, context=CTX) == COMMITTED_BLIND_INDEX
