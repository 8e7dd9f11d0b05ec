"""Who is asking: bearer JWTs (pyjwt) with an algorithm allow-list, ``exp`` and ``aud`` required.

Claims: ``sub`` (required), ``role`` (applicant | officer | approver | supervisor |
admin | data_steward), ``region`` (required for every role but applicant), ``name``, and
for applicants optionally ``id_number`` (used to prefill forms). Development tokens are
HS256 with ``GOVSTD_SECRET``; production may verify an external identity provider's
RS256/ES256 tokens with ``GOVSTD_JWT_PUBLIC_KEY`` or ``GOVSTD_JWT_JWKS_URL``.
``none`` is never accepted, whatever the configuration says. A shared-secret (HS)
token lives at most ``GOVSTD_JWT_MAX_TTL`` (default 12 h): one whose ``exp`` is further
than that from its ``iat`` or from now is refused, so a token minted for year 9999 is
worth nothing. (An external IdP's tokens follow the IdP's own policy.)

Visibility: an applicant sees their own applications; officers and approvers
see their region's; supervisors and admins read their region's subtree; a data steward
sees none (only what a sharing request grants, runtime/sharing.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import jwt
from starlette.requests import Request

from runtime.crypto import Cipher
from runtime.errors import ApiError
from runtime.settings import Settings
from runtime.subjects import pseudonyms
from runtime.types import bilingual

ROLES = ("applicant", "officer", "approver", "supervisor", "admin", "data_steward")
STAFF_ROLES = frozenset({"officer", "approver", "supervisor", "admin"})  # who handles cases
SUBTREE_ROLES = frozenset({"supervisor", "admin"})
# A data steward (数据专员) approves the sharing of their region's data (runtime/sharing.py);
# a staff member of a region, who neither sees nor handles cases.
REGIONAL_ROLES = STAFF_ROLES | {"data_steward"}
DEFAULT_TTL = 8 * 3600
LEEWAY = 30  # seconds of clock difference allowed for exp, iat and nbf
VERIFIED_FOR_S = 60.0  # a verified token is remembered so long (identity_in)
VERIFIED_MOST = 4096


@dataclass(frozen=True)
class Identity:
    sub: str
    role: str
    region: str | None = None
    name: str | None = None
    id_number: str | None = None
    pseudonyms: tuple[str, ...] = ()  # an applicant's, under each data key (runtime.subjects)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def subject(self) -> str:
        """Who this is as the database stores it: an applicant's pseudonym (their login
        id may be an ID number and is never stored), a staff member's login id."""
        if self.role != "applicant":
            return self.sub
        if not self.pseudonyms:
            raise RuntimeError("an applicant's identity without pseudonyms (with_pseudonyms)")
        return self.pseudonyms[0]

    @property
    def subjects(self) -> tuple[str, ...]:
        """Every stored form of this person (lookups: rows written before a key rotation)."""
        return (self.subject, *self.pseudonyms[1:]) if self.role == "applicant" else (self.sub,)

    def prefill(self) -> dict[str, str]:
        """Attributes a form field may be prefilled from (``identity.<key>``)."""
        values = {"sub": self.sub, "name": self.name, "id_number": self.id_number}
        return {k: v for k, v in values.items() if v}


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)


def _verification_key(token: str, settings: Settings) -> Any:
    if not (settings.public_key or settings.jwks_url) and all(
        a.startswith("HS") for a in settings.algorithms
    ):
        # Shared secret only: the key does not depend on the header, and jwt.decode checks
        # its ``alg`` against the same allow-list (``none`` is never in it) — no second parse.
        return settings.secret
    header = jwt.get_unverified_header(token)
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none" or alg not in settings.algorithms:
        raise jwt.InvalidAlgorithmError("algorithm not allowed")
    if alg.startswith("HS"):
        if settings.public_key or settings.jwks_url:
            raise jwt.InvalidAlgorithmError("shared-secret tokens are off with an external IdP")
        return settings.secret
    if settings.jwks_url:
        return _jwks_client(settings.jwks_url).get_signing_key_from_jwt(token).key
    if settings.public_key:
        return settings.public_key
    raise jwt.InvalidAlgorithmError("no public key configured")


def _lives_too_long(claims: dict[str, Any], max_ttl: int) -> bool:
    """Whether ``exp`` lies further than ``max_ttl`` from ``iat`` (when given) or from now."""
    exp = int(claims["exp"])  # jwt.decode checked that both are integers (or their text)
    if claims.get("iat") is not None and exp - int(claims["iat"]) > max_ttl:
        return True
    return exp - time.time() > max_ttl + LEEWAY


def decode_token(token: str, settings: Settings) -> Identity:
    """The identity in a token, or :class:`ApiError` 401 (never says which check failed)."""
    return _decoded(token, settings)[0]


def _decoded(token: str, settings: Settings) -> tuple[Identity, float]:
    """:func:`decode_token` and the token's ``exp``."""
    algorithms = [a for a in settings.algorithms if a.lower() != "none"]
    try:
        key = _verification_key(token, settings)
        decoded = jwt.decode_complete(
            token,
            key,
            algorithms=algorithms,
            audience=settings.audience,
            issuer=settings.issuer,
            options={"require": ["exp", "aud", "sub"]},
            leeway=LEEWAY,
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        raise ApiError(401, "unauthorized") from None
    claims = decoded["payload"]
    if str(decoded["header"].get("alg", "")).startswith("HS") and _lives_too_long(
        claims, settings.max_token_ttl
    ):
        raise ApiError(401, "unauthorized")
    sub, role, region = claims.get("sub"), claims.get("role"), claims.get("region")
    if not isinstance(sub, str) or not sub or len(sub) > 128 or role not in ROLES:
        raise ApiError(401, "unauthorized")
    if role in REGIONAL_ROLES and (not isinstance(region, str) or not region):
        raise ApiError(401, "unauthorized")
    name, id_number = claims.get("name"), claims.get("id_number")
    identity = Identity(
        sub=sub,
        role=str(role),
        region=region if isinstance(region, str) else None,
        name=name if isinstance(name, str) else None,
        id_number=id_number if isinstance(id_number, str) and role == "applicant" else None,
    )
    return identity, float(claims["exp"])


def issue_token(
    settings: Settings,
    *,
    role: str,
    sub: str,
    region: str | None = None,
    name: str | None = None,
    id_number: str | None = None,
    ttl: int | None = None,
    now: float | None = None,
) -> str:
    """A signed HS256 development token (``govstd token``, tests); ``ttl`` seconds,
    by default 8 h or the maximum lifetime when that is shorter."""
    if ttl is None:
        ttl = min(DEFAULT_TTL, settings.max_token_ttl)
    if role not in ROLES:
        raise ValueError(
            bilingual(
                f"未知的角色 {role!r}",
                f"unknown role {role!r} (expected one of {', '.join(ROLES)})",
            )
        )
    if role in REGIONAL_ROLES and not region:
        raise ValueError(
            bilingual(
                f"角色 {role} 的令牌须指定 --region", f"a token for the role {role} needs --region"
            )
        )
    if not 0 < ttl <= settings.max_token_ttl:
        raise ValueError(
            bilingual(
                f"令牌有效期应为 1 到 {settings.max_token_ttl} 秒（GOVSTD_JWT_MAX_TTL）",
                f"a token's lifetime must be 1 to {settings.max_token_ttl} seconds "
                "(GOVSTD_JWT_MAX_TTL)",
            )
        )
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": sub,
        "role": role,
        "aud": settings.audience,
        "iat": issued,
        "exp": issued + ttl,
    }
    if settings.issuer:
        claims["iss"] = settings.issuer
    for key, value in (("region", region), ("name", name), ("id_number", id_number)):
        if value:
            claims[key] = value
    return jwt.encode(claims, settings.secret, algorithm="HS256")


def identity_of(request: Request, *, required: bool = True) -> Identity | None:
    """The request's identity from ``Authorization: Bearer``; 401 when required and absent."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        if required:
            raise ApiError(401, "unauthorized")
        return None
    return identity_in(request, token.strip())


def identity_in(request: Request, token: str) -> Identity:
    """The identity a token gives in this application (verified, with an applicant's
    pseudonyms: ready to be stored), or :class:`ApiError` 401. Every way of signing in
    (bearer header, web session) goes through it.

    A token verified is remembered by the application, by its exact text, for
    :data:`VERIFIED_FOR_S` seconds and never past its ``exp`` (+ leeway): a client sends
    the same token with every request, and checking its signature and computing the
    pseudonyms again cost more than many a request's own work (issue 13). A key taken
    out of a JWKS stops its tokens within that time; at most :data:`VERIFIED_MOST` kept."""
    state = request.app.state
    verified: dict[str, tuple[float, Identity]] | None = getattr(state, "verified_tokens", None)
    if verified is None:
        verified = state.verified_tokens = {}
    now = time.time()
    known = verified.get(token)
    if known is not None:
        if now < known[0]:
            return known[1]
        del verified[token]
    decoded, exp = _decoded(token, state.settings)
    identity = with_pseudonyms(decoded, state.ctx.cipher)
    if len(verified) >= VERIFIED_MOST:
        del verified[next(iter(verified))]  # the oldest
    verified[token] = (min(now + VERIFIED_FOR_S, exp + LEEWAY), identity)
    return identity


def with_pseudonyms(identity: Identity, cipher: Cipher) -> Identity:
    """``identity`` ready to be stored: an applicant's pseudonyms filled in."""
    if identity.role != "applicant":
        return identity
    return replace(identity, pseudonyms=pseudonyms(cipher, identity.sub))


def require(request: Request, *roles: str) -> Identity:
    """The identity, which must have one of ``roles`` (403 otherwise)."""
    identity = identity_of(request)
    assert identity is not None
    if roles and identity.role not in roles:
        raise ApiError(403, "forbidden")
    return identity


def require_staff(request: Request) -> Identity:
    return require(request, *sorted(STAFF_ROLES))


def visible_regions(identity: Identity, subtree: frozenset[str]) -> frozenset[str]:
    """Regions whose cases a staff member may see (``subtree``: their region and below)."""
    if identity.role not in STAFF_ROLES:
        return frozenset()
    if identity.role in SUBTREE_ROLES:
        return subtree
    return frozenset({identity.region}) & subtree if identity.region else frozenset()
