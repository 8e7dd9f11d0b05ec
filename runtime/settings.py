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
| ``GOVSTD_OIDC_*`` | sign-in through OpenID Connect (:mod:`runtime.web.oidc`) |
| ``GOVSTD_HEADER_TIMEOUT`` … | ``govstd serve``'s connection limits (:mod:`runtime.server`) |

Every variable is read here, with pydantic-settings (:class:`Environment`); an empty value
counts as unset. ``govstd migrate`` reads only the two ``GOVSTD_MIGRATION_*`` ones.

``now`` is the clock of the case handling (deadlines, overdue); tests replace it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticUseDefault
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

from runtime.crypto import ENV_VAR as DATA_KEY_VAR
from runtime.crypto import dev_key, load_keys
from runtime.types import GovstdError, bilingual

log = logging.getLogger("govstd.runtime")

DEV_SECRET = "govstd-development-secret-do-not-use-in-production"
DEFAULT_AUDIENCE = "govstd"
DEFAULT_MAX_TOKEN_TTL = 12 * 3600
LONGEST_TOKEN_TTL = 366 * 86400
DEFAULT_SQLITE = "var/govstd.db"
ALGORITHMS = frozenset(
    {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "PS256"}
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def default_database_url(cwd: Path | None = None) -> str:
    path = (cwd or Path.cwd()) / DEFAULT_SQLITE
    return f"sqlite:///{path}"


class SettingsError(GovstdError, ValueError):
    """A setting is missing or wrong; the message names the variable."""


# The message of a variable whose value is not of its type or out of its range (the rules'
# own messages are in Environment's validators).
_WRONG = {
    "GOVSTD_JWT_MAX_TTL": bilingual(
        f"GOVSTD_JWT_MAX_TTL 应为 1 到 {LONGEST_TOKEN_TTL} 之间的秒数",
        f"GOVSTD_JWT_MAX_TTL must be a number of seconds from 1 to {LONGEST_TOKEN_TTL}",
    ),
    "GOVSTD_MAX_JSON_BYTES": bilingual(
        "GOVSTD_MAX_JSON_BYTES 必须是整数", "GOVSTD_MAX_JSON_BYTES must be an integer"
    ),
}


def _seconds(default: float, variable: str, high: float) -> Any:
    """A variable holding seconds, above 0 and at most ``high``."""
    _WRONG[variable] = bilingual(
        f"{variable} 应为大于 0、不超过 {high:g} 的秒数",
        f"{variable} must be a number of seconds above 0 and at most {high:g}",
    )
    return Field(default, gt=0, le=high, allow_inf_nan=False, alias=variable)


def _whole(default: int, variable: str, low: int, high: int) -> Any:
    """A variable holding a whole number from ``low`` to ``high``."""
    _WRONG[variable] = bilingual(
        f"{variable} 应为 {low} 到 {high} 之间的整数",
        f"{variable} must be a whole number from {low} to {high}",
    )
    return Field(default, ge=low, le=high, alias=variable)


_DURATION = re.compile(r"([0-9]{1,9})(ms|s|min|h)?\Z")
_MS = {None: 1, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000}
_MAX_MS = 2**31 - 1  # PostgreSQL's limit for lock_timeout and statement_timeout (~24 days)


def _url(variable: str, raw: str) -> str:
    parsed = urlsplit(raw)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise SettingsError(
            f"{variable}: {raw[:200]!r} 不是 http(s) 地址",
            f"{variable}: {raw[:200]!r} is not an http(s) address",
        )
    return raw


class _Variables(EnvSettingsSource):
    """pydantic-settings' reading of environment variables, from a given mapping (the
    process's environment, or a test's)."""

    def __init__(self, settings_cls: type[BaseSettings], variables: Mapping[str, str]) -> None:
        self._variables = variables
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # as DotEnvSettingsSource does for a .env file
        return parse_env_vars(
            self._variables, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


@dataclass(frozen=True)
class OidcConfig:
    """Sign-in through OpenID Connect (:mod:`runtime.web.oidc`)."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str | None = None


class Environment(BaseSettings):
    """The ``GOVSTD_*`` variables :class:`Settings` is made from, with their types and
    defaults (an empty value counts as unset), and the rules between them."""

    model_config = SettingsConfigDict(
        case_sensitive=True, env_ignore_empty=True, extra="ignore", frozen=True
    )

    deployment: str = Field("", alias="GOVSTD_ENV")
    secret: str = Field("", alias="GOVSTD_SECRET")
    public_key: str | None = Field(None, alias="GOVSTD_JWT_PUBLIC_KEY")
    jwks_url: str | None = Field(None, alias="GOVSTD_JWT_JWKS_URL")
    algorithms: Annotated[tuple[str, ...] | None, NoDecode] = Field(
        None, alias="GOVSTD_JWT_ALGORITHMS"
    )
    audience: str = Field(DEFAULT_AUDIENCE, alias="GOVSTD_JWT_AUDIENCE")
    issuer: str | None = Field(None, alias="GOVSTD_JWT_ISSUER")
    max_token_ttl: int = Field(
        DEFAULT_MAX_TOKEN_TTL, gt=0, le=LONGEST_TOKEN_TTL, alias="GOVSTD_JWT_MAX_TTL"
    )
    upload_dir: Path = Field(Path("var/uploads"), alias="GOVSTD_UPLOAD_DIR")
    max_json_bytes: int = Field(1024 * 1024, alias="GOVSTD_MAX_JSON_BYTES")
    webhook_urls: Annotated[tuple[str, ...], NoDecode] = Field((), alias="GOVSTD_WEBHOOK_URLS")
    webhook_key: Annotated[bytes, NoDecode] = Field(b"", alias="GOVSTD_WEBHOOK_SECRET")
    webhook_timeout: float = _seconds(10.0, "GOVSTD_WEBHOOK_TIMEOUT", 300)
    webhook_backoff: float = _seconds(1.0, "GOVSTD_WEBHOOK_BACKOFF", 600)
    licence_url: str | None = Field(None, alias="GOVSTD_LICENCE_URL")
    licence_timeout: float = _seconds(10.0, "GOVSTD_LICENCE_TIMEOUT", 300)
    oidc_issuer: str | None = Field(None, alias="GOVSTD_OIDC_ISSUER")
    oidc_client_id: str | None = Field(None, alias="GOVSTD_OIDC_CLIENT_ID")
    oidc_client_secret: str | None = Field(None, alias="GOVSTD_OIDC_CLIENT_SECRET")
    oidc_redirect_uri: str | None = Field(None, alias="GOVSTD_OIDC_REDIRECT_URI")
    header_timeout: int = _whole(10, "GOVSTD_HEADER_TIMEOUT", 1, 3600)
    keep_alive_timeout: int = _whole(5, "GOVSTD_KEEP_ALIVE_TIMEOUT", 1, 3600)
    limit_concurrency: int = _whole(1000, "GOVSTD_LIMIT_CONCURRENCY", 1, 1_000_000)
    shutdown_timeout: int = _whole(30, "GOVSTD_SHUTDOWN_TIMEOUT", 1, 3600)
    migration_lock_timeout: str = Field("5s", alias="GOVSTD_MIGRATION_LOCK_TIMEOUT")
    migration_statement_timeout: str = Field("30min", alias="GOVSTD_MIGRATION_STATEMENT_TIMEOUT")

    @classmethod
    def read(cls, variables: Mapping[str, str]) -> Self:
        """The settings in ``variables``; :class:`SettingsError` names what is wrong."""
        try:
            return cls.model_validate(_Variables(cls, variables)())
        except ValidationError as exc:
            error = exc.errors()[0]
            if "error" in error.get("ctx", {}):  # one of the rules below
                raise SettingsError(str(error["ctx"]["error"])) from None
            raise SettingsError(_WRONG[str(error["loc"][0])]) from None

    @property
    def production(self) -> bool:
        return self.deployment.lower() == "production"

    @property
    def external(self) -> bool:
        """Tokens come from an external identity provider."""
        return bool(self.public_key or self.jwks_url)

    @property
    def oidc(self) -> OidcConfig | None:
        """Sign-in through OpenID Connect, when the three variables it needs are set."""
        if not (self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret):
            return None
        return OidcConfig(
            self.oidc_issuer, self.oidc_client_id, self.oidc_client_secret, self.oidc_redirect_uri
        )

    @field_validator("public_key")
    @classmethod
    def _key_from_file(cls, value: str | None) -> str | None:
        if value and not value.lstrip().startswith("-----") and Path(value).is_file():
            return Path(value).read_text(encoding="utf-8")
        return value

    @field_validator("algorithms", mode="before")
    @classmethod
    def _allowed(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        algorithms = tuple(a.strip() for a in value.split(",") if a.strip())
        bad = [a for a in algorithms if a not in ALGORITHMS]
        if bad or not algorithms:
            raise SettingsError(
                f"GOVSTD_JWT_ALGORITHMS: 不允许 {', '.join(bad)}"
                if bad
                else "GOVSTD_JWT_ALGORITHMS: 不能为空",
                f"GOVSTD_JWT_ALGORITHMS: {', '.join(bad) or 'empty'} not allowed "
                f"(expected some of {', '.join(sorted(ALGORITHMS))})",
            )
        return algorithms

    @field_validator(
        "webhook_urls",
        "webhook_key",
        "webhook_timeout",
        "webhook_backoff",
        "licence_url",
        "licence_timeout",
        "header_timeout",
        "keep_alive_timeout",
        "limit_concurrency",
        "shutdown_timeout",
        "migration_lock_timeout",
        "migration_statement_timeout",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise PydanticUseDefault
        return value.strip() if isinstance(value, str) else value

    @field_validator("webhook_urls", mode="before")
    @classmethod
    def _webhook_urls(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        urls = (_url("GOVSTD_WEBHOOK_URLS", u) for u in value.replace(",", " ").split())
        return tuple(dict.fromkeys(urls))

    @field_validator("webhook_key", mode="before")
    @classmethod
    def _webhook_key(cls, value: Any) -> Any:
        """The HMAC key (Standard Webhooks: ``whsec_`` + base64)."""
        if not isinstance(value, str):
            return value
        try:
            key = base64.b64decode(value.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if not 24 <= len(key) <= 64:
            raise SettingsError(
                "GOVSTD_WEBHOOK_SECRET 应为 whsec_ 加 24 到 64 字节的 base64",
                "GOVSTD_WEBHOOK_SECRET must be whsec_ and the base64 of 24 to 64 bytes",
            )
        return key

    @field_validator("licence_url")
    @classmethod
    def _licence_url(cls, value: str | None) -> str | None:
        return value and _url("GOVSTD_LICENCE_URL", value).rstrip("/")

    @field_validator("oidc_issuer")
    @classmethod
    def _issuer(cls, value: str | None) -> str | None:
        return value and value.rstrip("/")

    @field_validator("migration_lock_timeout", "migration_statement_timeout")
    @classmethod
    def _duration(cls, value: str, info: ValidationInfo) -> str:
        found = _DURATION.match(value)
        if not found or int(found[1]) * _MS[found[2]] > _MAX_MS:
            variable = cls.model_fields[str(info.field_name)].alias
            raise SettingsError(
                f"{variable}={value!r}: 应为不超过 24 天的时长，如 5s、500ms、30min、0（不限）",
                "expected a duration of at most 24 days such as 5s, 500ms, 30min or 0 (no limit)",
            )
        return value

    @model_validator(mode="after")
    def _secret(self) -> Self:
        if self.production and not self.secret and not self.external:
            raise SettingsError(
                "GOVSTD_ENV=production 时必须设置 GOVSTD_SECRET",
                "GOVSTD_SECRET must be set when GOVSTD_ENV=production",
            )
        if self.production and self.secret == DEV_SECRET:
            raise SettingsError(
                "GOVSTD_ENV=production 时不能使用公开的开发用 GOVSTD_SECRET",
                "GOVSTD_SECRET is the public development secret, refused when "
                "GOVSTD_ENV=production",
            )
        if self.secret and len(self.secret.encode()) < 32:
            raise SettingsError(
                "GOVSTD_SECRET 至少应有 32 字节（HS256）",
                "GOVSTD_SECRET must have at least 32 bytes (HS256)",
            )
        if self.webhook_urls and not self.webhook_key:
            raise SettingsError(
                "设置了 GOVSTD_WEBHOOK_URLS 时必须设置 GOVSTD_WEBHOOK_SECRET",
                "GOVSTD_WEBHOOK_SECRET must be set when GOVSTD_WEBHOOK_URLS is",
            )
        return self


_PASSED = Environment.model_fields.keys() - {"secret", "algorithms"}  # as they are read


@dataclass(frozen=True)
class Settings:
    """What the application runs with: :meth:`from_env` in a deployment; tests and
    benchmarks give the values they need."""

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
    oidc: OidcConfig | None = None
    header_timeout: int = 10
    keep_alive_timeout: int = 5
    limit_concurrency: int = 1000
    shutdown_timeout: int = 30
    env: Mapping[str, str] = field(default_factory=dict)
    now: Callable[[], datetime] = _utcnow

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        read = Environment.read(env)
        same = {f.name: getattr(read, f.name) for f in fields(cls) if f.name in _PASSED}
        return cls(
            **same,
            secret=read.secret or DEV_SECRET,
            secret_is_dev=not read.secret,
            algorithms=read.algorithms or (("RS256", "ES256") if read.external else ("HS256",)),
            production=read.production,
            oidc=read.oidc,
            env=env,
        )


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
            f"{DATA_KEY_VAR}: 密钥应为 32 字节的 URL 安全 base64", str(exc)
        ) from None
    if unset and settings.production:
        raise SettingsError(
            "GOVSTD_ENV=production 时必须设置 GOVSTD_DATA_KEY",
            "GOVSTD_DATA_KEY must be set when GOVSTD_ENV=production",
        )
    if keys[0] == dev_key() and settings.production:
        raise SettingsError(
            "GOVSTD_DATA_KEY 的第一个密钥是公开的开发用数据密钥，GOVSTD_ENV=production 时不能使用",
            "the first key of GOVSTD_DATA_KEY is the public development data key, "
            "refused when GOVSTD_ENV=production",
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
