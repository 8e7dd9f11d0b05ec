"""Token verification: allow-list, external identity provider keys, no algorithm confusion."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from runtime.auth import decode_token, issue_token
from runtime.errors import ApiError
from runtime.settings import Settings, SettingsError

CLAIMS = {"sub": "u1", "role": "officer", "region": "nanshan", "aud": "govstd"}


def _claims(**extra: object) -> dict[str, object]:
    return {**CLAIMS, "exp": int(time.time()) + 600, **extra}


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_external_rs256_and_es256() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings = Settings.from_env({"GOVSTD_JWT_PUBLIC_KEY": _pem(rsa_key)})
    assert settings.algorithms == ("RS256", "ES256")
    identity = decode_token(jwt.encode(_claims(), rsa_key, algorithm="RS256"), settings)
    assert identity.region == "nanshan"
    # HS256 signed with the public key text (algorithm confusion) is refused
    forged = jwt.encode(_claims(), "x" * 64, algorithm="HS256")
    with pytest.raises(ApiError) as info:
        decode_token(forged, settings)
    assert info.value.status == 401
    ec_key = ec.generate_private_key(ec.SECP256R1())
    settings = Settings.from_env({"GOVSTD_JWT_PUBLIC_KEY": _pem(ec_key)})
    assert decode_token(jwt.encode(_claims(), ec_key, algorithm="ES256"), settings).sub == "u1"


def test_issuer_and_settings_checks() -> None:
    secret = "s" * 40
    settings = Settings.from_env({"GOVSTD_SECRET": secret, "GOVSTD_JWT_ISSUER": "https://idp"})
    good = issue_token(settings, role="applicant", sub="a")
    assert decode_token(good, settings).sub == "a"
    no_iss = jwt.encode({**_claims(), "role": "applicant"}, secret, algorithm="HS256")
    with pytest.raises(ApiError):
        decode_token(no_iss, settings)
    with pytest.raises(SettingsError):
        Settings.from_env({"GOVSTD_SECRET": "short"})
    with pytest.raises(SettingsError):
        Settings.from_env({"GOVSTD_JWT_ALGORITHMS": "none"})
    with pytest.raises(SettingsError):
        Settings.from_env({"GOVSTD_ENV": "production"})
    assert Settings.from_env({}).secret_is_dev
