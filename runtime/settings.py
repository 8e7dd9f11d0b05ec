"""Runtime settings, read from the environment once at start-up.

| variable | meaning |
|---|---|
| ``GOVSTD_DATABASE_URL`` | database URL; default ``sqlite:///var/govstd.db`` (working folder) |
| ``GOVSTD_SECRET`` | HS256 token signing secret (a development default, with a warning) |
| ``GOVSTD_JWT_PUBLIC_KEY`` | PEM public key (or its path) of an external IdP (RS256/ES256) |
| ``GOVSTD_JWT_JWKS_URL`` | JWKS address of an external identity provider (RS256/ES256) |
| ``GOVSTD_JWT_ALGORITHMS`` | allow-list; default ``HS256``, or ``RS256,ES256`` with a key |
| ``GOVSTD_JWT_AUDIENCE`` | required ``aud`` claim; default ``govstd`` |
| ``GOVSTD_JWT_ISSUER`` | required ``iss`` claim, if set |
| ``GOVSTD_JWT_MAX_TTL`` | longest lifetime of a shared-secret (HS) token in seconds; default 12 h |
| ``GOVSTD_ENV`` | ``production`` refuses development defaults (secret, encryption key) |
| ``GOVSTD_UPLOAD_DIR`` | where material files are stored; default ``var/uploads`` |
| ``GOVSTD_MAX_JSON_BYTES`` | largest JSON body accepted; default 1 MiB |
| ``GOVSTD_MIGRATION_LOCK_TIMEOUT`` | migrations on PostgreSQL: longest lock wait; default 5s |
| ``GOVSTD_MIGRATION_STATEMENT_TIMEOUT`` | … longest statement; default 30min |
| ``GOVSTD_WEBHOOK_URLS`` | event receivers, separated by commas or spaces (docs/data.md) |
| ``GOVSTD_WEBHOOK_SECRET`` | ``whsec_`` + base64 of 24–64 random bytes: the HMAC-SHA256 key |
| ``GOVSTD_WEBHOOK_TIMEOUT`` | seconds a receiver has to answer one event; default 10 |
| ``GOVSTD_WEBHOOK_BACKOFF`` | seconds before the first retry, doubling up to 600; default 1 |
| ``GOVSTD_LICENCE_URL`` | the 电子证照 service government-sourced materials are fetched from |
| ``GOVSTD_LICENCE_TIMEOUT`` | seconds one licence fetch may take; default 10 |

(The two migration settings are read by ``runtime/migrate.py``, for ``govstd migrate``.)

``now`` is the clock of the case handling (deadlines, overdue); tests replace it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from runtime.crypto import ENV_VAR as DATA_KEY_VAR
from runtime.crypto import dev_key, load_keys
from runtime.errors import bilingual

log = logging.getLogger("govstd.runtime")

DEV_SECRET = "govstd-development-secret-do-not-use-in-production"
DEFAULT_AUDIENCE = "govstd"
DEFAULT_MAX_TOKEN_TTL = 12 * 3600
DEFAULT_SQLITE = "var/govstd.db"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def default_database_url(cwd: Path | None = None) -> str:
    path = (cwd or Path.cwd()) / DEFAULT_SQLITE
    return f"sqlite:///{path}"


class SettingsError(ValueError):
    """A setting is missing or wrong; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    secret: str = DEV_SECRET
    secret_is_dev: bool = True
    public_key: str | None = None
    jwks_url: str | None = None
    algorithms: tuple[str, ...] = ("HS256",)
    audience: str = DEFAULT_AUDIENCE
    issuer: str | None = None
    max_token_ttl: int = DEFAULT_MAX_TOKEN_TTL
    production: bool = False
    upload_dir: Path = Path("var/uploads")
    max_json_bytes: int = 1024 * 1024
    max_json_depth: int = 32
    webhook_urls: tuple[str, ...] = ()
    webhook_key: bytes = b""
    webhook_timeout: float = 10.0
    webhook_backoff: float = 1.0
    licence_url: str | None = None
    licence_timeout: float = 10.0
    env: Mapping[str, str] = field(default_factory=dict)
    now: Callable[[], datetime] = _utcnow

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        production = env.get("GOVSTD_ENV", "").lower() == "production"
        secret = env.get("GOVSTD_SECRET") or ""
        public_key = env.get("GOVSTD_JWT_PUBLIC_KEY") or None
        if (
            public_key
            and not public_key.lstrip().startswith("-----")
            and Path(public_key).is_file()
        ):
            public_key = Path(public_key).read_text(encoding="utf-8")
        jwks_url = env.get("GOVSTD_JWT_JWKS_URL") or None
        external = bool(public_key or jwks_url)
        default_algs = "RS256,ES256" if external else "HS256"
        algorithms = tuple(
            a.strip()
            for a in env.get("GOVSTD_JWT_ALGORITHMS", default_algs).split(",")
            if a.strip()
        )
        allowed = {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "PS256"}
        bad = [a for a in algorithms if a not in allowed]
        if bad or not algorithms:
            raise SettingsError(
                bilingual(
                    f"GOVSTD_JWT_ALGORITHMS: 不允许 {', '.join(bad)}"
                    if bad
                    else "GOVSTD_JWT_ALGORITHMS: 不能为空",
                    f"GOVSTD_JWT_ALGORITHMS: {', '.join(bad) or 'empty'} not allowed "
                    f"(expected some of {', '.join(sorted(allowed))})",
                )
            )
        if production and not secret and not external:
            raise SettingsError(
                bilingual(
                    "GOVSTD_ENV=production 时必须设置 GOVSTD_SECRET",
                    "GOVSTD_SECRET must be set when GOVSTD_ENV=production",
                )
            )
        if production and secret == DEV_SECRET:
            raise SettingsError(
                bilingual(
                    "GOVSTD_ENV=production 时不能使用公开的开发用 GOVSTD_SECRET",
                    "GOVSTD_SECRET is the public development secret, refused when "
                    "GOVSTD_ENV=production",
                )
            )
        if secret and len(secret.encode()) < 32:
            raise SettingsError(
                bilingual(
                    "GOVSTD_SECRET 至少应有 32 字节（HS256）",
                    "GOVSTD_SECRET must have at least 32 bytes (HS256)",
                )
            )
        try:
            max_json = int(env.get("GOVSTD_MAX_JSON_BYTES", str(1024 * 1024)))
        except ValueError:
            raise SettingsError(
                bilingual(
                    "GOVSTD_MAX_JSON_BYTES 必须是整数", "GOVSTD_MAX_JSON_BYTES must be an integer"
                )
            ) from None
        raw_ttl = env.get("GOVSTD_JWT_MAX_TTL", "").strip() or str(DEFAULT_MAX_TOKEN_TTL)
        if not raw_ttl.isdigit() or not 0 < int(raw_ttl) <= 366 * 86400:
            raise SettingsError(
                bilingual(
                    "GOVSTD_JWT_MAX_TTL 应为 1 到 31622400 之间的秒数",
                    "GOVSTD_JWT_MAX_TTL must be a number of seconds from 1 to 31622400",
                )
            )
        return cls(
            secret=secret or DEV_SECRET,
            secret_is_dev=not secret,
            public_key=public_key,
            jwks_url=jwks_url,
            algorithms=algorithms,
            audience=env.get("GOVSTD_JWT_AUDIENCE") or DEFAULT_AUDIENCE,
            issuer=env.get("GOVSTD_JWT_ISSUER") or None,
            max_token_ttl=int(raw_ttl),
            production=production,
            upload_dir=Path(env.get("GOVSTD_UPLOAD_DIR") or "var/uploads"),
            max_json_bytes=max_json,
            **integrations(env),
            env=env,
        )


def _seconds(env: Mapping[str, str], variable: str, default: float, high: float) -> float:
    raw = env.get(variable, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = -1.0
    if not 0 < value <= high:
        raise SettingsError(
            bilingual(
                f"{variable} 应为大于 0、不超过 {high:g} 的秒数",
                f"{variable} must be a number of seconds above 0 and at most {high:g}",
            )
        )
    return value


def _url(variable: str, raw: str) -> str:
    parsed = urlsplit(raw)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise SettingsError(
            bilingual(
                f"{variable}: {raw[:200]!r} 不是 http(s) 地址",
                f"{variable}: {raw[:200]!r} is not an http(s) address",
            )
        )
    return raw


def webhook_key(raw: str) -> bytes:
    """The HMAC key of ``GOVSTD_WEBHOOK_SECRET`` (Standard Webhooks: ``whsec_`` + base64)."""
    body = raw.strip().removeprefix("whsec_")
    try:
        key = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not 24 <= len(key) <= 64:
        raise SettingsError(
            bilingual(
                "GOVSTD_WEBHOOK_SECRET 应为 whsec_ 加 24 到 64 字节的 base64",
                "GOVSTD_WEBHOOK_SECRET must be whsec_ and the base64 of 24 to 64 bytes",
            )
        )
    return key


def integrations(env: Mapping[str, str]) -> dict[str, Any]:
    """The webhook and 电子证照 settings (docs/data.md), checked."""
    urls = tuple(
        _url("GOVSTD_WEBHOOK_URLS", u)
        for u in env.get("GOVSTD_WEBHOOK_URLS", "").replace(",", " ").split()
    )
    secret = env.get("GOVSTD_WEBHOOK_SECRET", "")
    if urls and not secret.strip():
        raise SettingsError(
            bilingual(
                "设置了 GOVSTD_WEBHOOK_URLS 时必须设置 GOVSTD_WEBHOOK_SECRET",
                "GOVSTD_WEBHOOK_SECRET must be set when GOVSTD_WEBHOOK_URLS is",
            )
        )
    licence = env.get("GOVSTD_LICENCE_URL", "").strip()
    return {
        "webhook_urls": tuple(dict.fromkeys(urls)),
        "webhook_key": webhook_key(secret) if secret.strip() else b"",
        "webhook_timeout": _seconds(env, "GOVSTD_WEBHOOK_TIMEOUT", 10.0, 300.0),
        "webhook_backoff": _seconds(env, "GOVSTD_WEBHOOK_BACKOFF", 1.0, 600.0),
        "licence_url": _url("GOVSTD_LICENCE_URL", licence).rstrip("/") if licence else None,
        "licence_timeout": _seconds(env, "GOVSTD_LICENCE_TIMEOUT", 10.0, 300.0),
    }


def data_keys(settings: Settings) -> tuple[bytes, ...]:
    """The data keys (``GOVSTD_DATA_KEY``, the first encrypts), checked for ``settings``.

    Unset: the public development key, with a warning — refused when
    ``GOVSTD_ENV=production``, and so is the development key set explicitly as the
    encrypting key (it may stay among the others, to decrypt what it encrypted while
    rotating away from it). A key that is not 32 bytes of URL-safe base64 is refused,
    named by its position, never its value.
    """
    try:
        keys, unset = load_keys(settings.env or os.environ)
    except ValueError as exc:
        raise SettingsError(
            bilingual(f"{DATA_KEY_VAR}: 密钥应为 32 字节的 URL 安全 base64", str(exc))
        ) from None
    if unset and settings.production:
        raise SettingsError(
            bilingual(
                "GOVSTD_ENV=production 时必须设置 GOVSTD_DATA_KEY",
                "GOVSTD_DATA_KEY must be set when GOVSTD_ENV=production",
            )
        )
    if keys[0] == dev_key() and settings.production:
        raise SettingsError(
            bilingual(
                "GOVSTD_DATA_KEY 的第一个密钥是公开的开发用数据密钥，"
                "GOVSTD_ENV=production 时不能使用",
                "the first key of GOVSTD_DATA_KEY is the public development data key, "
                "refused when GOVSTD_ENV=production",
            )
        )
    if unset:
        log.warning(
            bilingual(
                "未设置 GOVSTD_DATA_KEY：正在使用公开的开发用数据密钥",
                "GOVSTD_DATA_KEY is not set: using the public development data key",
            )
        )
    elif dev_key() in keys:
        log.warning(
            bilingual(
                "GOVSTD_DATA_KEY 含有公开的开发用数据密钥",
                "GOVSTD_DATA_KEY holds the public development data key",
            )
        )
    return keys


def database_url(explicit: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """``--db`` if given, else ``GOVSTD_DATABASE_URL``, else the SQLite file under ``var/``."""
    if explicit:
        return explicit
    env = os.environ if env is None else env
    return env.get("GOVSTD_DATABASE_URL") or default_database_url()
