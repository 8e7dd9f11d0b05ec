"""Token verification: allow-list, external identity provider keys, no algorithm confusion."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from runtime.auth import decode_token, issue_token
from runtime.errors import ApiError
from runtime.settings import Settings
from tests.helpers import SECRET, Api

CLAIMS = {"sub": "u1", "role": "officer", "region": "nanshan", "aud": "govstd"}


def _claims(**extra: object) -> dict[str, object]:
    return {**CLAIMS, "exp": int(time.time()) + 600, **extra}


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_with(secret: bytes, claims: dict[str, object]) -> str:
    """An HS256 token with ``secret`` as the HMAC key, written out by hand (pyjwt refuses
    to use a PEM as an HMAC key, an attacker does not)."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    signing_input = f"{header}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def test_external_rs256_and_es256() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings = Settings.from_env({"GOVSTD_JWT_PUBLIC_KEY": _pem(rsa_key)})
    assert settings.algorithms == ("RS256", "ES256")
    identity = decode_token(jwt.encode(_claims(), rsa_key, algorithm="RS256"), settings)
    assert identity.region == "nanshan"
    ec_key = ec.generate_private_key(ec.SECP256R1())
    settings = Settings.from_env({"GOVSTD_JWT_PUBLIC_KEY": _pem(ec_key)})
    assert decode_token(jwt.encode(_claims(), ec_key, algorithm="ES256"), settings).sub == "u1"


def test_issuer_checks() -> None:
    """(Refused settings: test_settings.py.)"""
    secret = "s" * 40
    settings = Settings.from_env({"GOVSTD_SECRET": secret, "GOVSTD_JWT_ISSUER": "https://idp"})
    good = issue_token(settings, role="applicant", sub="a")
    assert decode_token(good, settings).sub == "a"
    no_iss = jwt.encode({**_claims(), "role": "applicant"}, secret, algorithm="HS256")
    with pytest.raises(ApiError):
        decode_token(no_iss, settings)


@pytest.mark.anyio
async def test_shared_secret_tokens_live_at_most_the_maximum_lifetime(api: Api) -> None:
    """A token minted for year 9999 (or 13 h, with the default 12 h limit) is refused."""
    now = int(time.time())
    claims = {"sub": "citizen-a", "role": "applicant", "aud": "govstd"}

    def bearer(**times: int) -> dict[str, str]:
        token = jwt.encode({**claims, **times}, SECRET, algorithm="HS256")
        return {"Authorization": f"Bearer {token}"}

    year_9999 = 253402300799
    for times in (
        {"exp": year_9999},
        {"iat": now, "exp": year_9999},
        {"iat": now, "exp": now + 13 * 3600},
        {"exp": now + 13 * 3600},
        {"iat": now - 13 * 3600, "exp": now + 600},  # issued for 13 h, 10 min left
    ):
        r = await api.get("/api/applications", headers=bearer(**times))
        assert r.status_code == 401, (times, r.text)
    for times in ({"iat": now, "exp": now + 12 * 3600}, {"exp": now + 11 * 3600}):
        r = await api.get("/api/applications", headers=bearer(**times))
        assert r.status_code == 200, (times, r.text)


def test_the_maximum_lifetime_is_configurable() -> None:
    secret = "s" * 40
    settings = Settings.from_env({"GOVSTD_SECRET": secret, "GOVSTD_JWT_MAX_TTL": "3600"})
    assert decode_token(issue_token(settings, role="applicant", sub="a", ttl=3600), settings)
    assert decode_token(issue_token(settings, role="applicant", sub="a"), settings)  # 1 h
    two_hours = {**_claims(), "role": "applicant", "exp": int(time.time()) + 7200}
    with pytest.raises(ApiError):
        decode_token(jwt.encode(two_hours, secret, algorithm="HS256"), settings)
    with pytest.raises(ValueError, match="GOVSTD_JWT_MAX_TTL"):
        issue_token(settings, role="applicant", sub="a", ttl=7200)
    # an external identity provider's tokens follow the provider's policy
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    external = Settings.from_env({"GOVSTD_JWT_PUBLIC_KEY": _pem(rsa_key)})
    long_lived = jwt.encode({**_claims(), "exp": int(time.time()) + 86400}, rsa_key, "RS256")
    assert decode_token(long_lived, external).sub == "u1"


@pytest.mark.parametrize("algorithms", [None, "RS256,ES256,HS256"])
def test_hs256_signed_with_the_public_key_is_refused(algorithms: str | None) -> None:
    """Algorithm confusion: the verifier's public key (the PEM text, as configured) used as
    the HMAC secret of an HS256 token. Refused, even with HS256 in the allow-list."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = _pem(rsa_key)
    env = {"GOVSTD_JWT_PUBLIC_KEY": pem, "GOVSTD_SECRET": "s" * 40}
    if algorithms:
        env["GOVSTD_JWT_ALGORITHMS"] = algorithms
    settings = Settings.from_env(env)
    assert settings.public_key == pem
    for key in (pem.encode(), pem.strip().encode()):
        forged = hs256_with(key, _claims(role="admin"))
        # the forgery is sound: its signature is the HMAC of its first two parts under the PEM
        signing_input, _, signature = forged.rpartition(".")
        expected = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
        assert _b64(expected) == signature
        assert jwt.get_unverified_header(forged)["alg"] == "HS256"
        with pytest.raises(ApiError) as info:
            decode_token(forged, settings)
        assert info.value.status == 401
    # the genuine token of the same key still passes
    genuine = jwt.encode(_claims(role="admin"), rsa_key, algorithm="RS256")
    assert decode_token(genuine, settings).role == "admin"
