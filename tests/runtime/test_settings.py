"""The GOVSTD_* variables read through pydantic-settings: every default, and each refusal
with its message (``中文 / English``, naming the variable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.migrate import MigrationError, timeouts
from runtime.settings import DEV_SECRET, OidcConfig, Settings, SettingsError

SECRET = "s" * 40


def test_the_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.secret, settings.secret_is_dev) == (DEV_SECRET, True)
    assert settings.algorithms == ("HS256",)
    assert (settings.audience, settings.issuer) == ("govstd", None)
    assert settings.max_token_ttl == 12 * 3600
    assert settings.upload_dir == Path("var/uploads")
    assert settings.max_json_bytes == 1024 * 1024
    assert not settings.production
    assert (settings.webhook_urls, settings.webhook_key) == ((), b"")
    assert (settings.webhook_timeout, settings.webhook_backoff) == (10.0, 1.0)
    assert (settings.licence_url, settings.licence_timeout, settings.oidc) == (None, 10.0, None)
    limits = (settings.header_timeout, settings.keep_alive_timeout)
    assert (*limits, settings.limit_concurrency, settings.shutdown_timeout) == (10, 5, 1000, 30)
    assert timeouts({}) == {"lock_timeout": "5s", "statement_timeout": "30min"}


def test_values_are_read_and_an_empty_one_counts_as_unset() -> None:
    settings = Settings.from_env(
        {
            "GOVSTD_SECRET": SECRET,
            "GOVSTD_JWT_AUDIENCE": "",
            "GOVSTD_JWT_ISSUER": "https://idp",
            "GOVSTD_JWT_MAX_TTL": " 3600 ",
            "GOVSTD_UPLOAD_DIR": "/srv/uploads",
            "GOVSTD_MAX_JSON_BYTES": "2048",
            "GOVSTD_ENV": "Production",
            "GOVSTD_DATA_KEY": "",
            "GOVSTD_LICENCE_URL": " https://licences.example/ ",
            "GOVSTD_HEADER_TIMEOUT": " ",
            "GOVSTD_LIMIT_CONCURRENCY": "20",
            "GOVSTD_OIDC_ISSUER": "https://idp/",
            "GOVSTD_OIDC_CLIENT_ID": "govstd",
            "GOVSTD_OIDC_CLIENT_SECRET": "s",
        }
    )
    assert (settings.secret, settings.secret_is_dev) == (SECRET, False)
    assert (settings.audience, settings.issuer) == ("govstd", "https://idp")
    assert (settings.max_token_ttl, settings.max_json_bytes) == (3600, 2048)
    assert settings.upload_dir == Path("/srv/uploads") and settings.production
    assert settings.env["GOVSTD_DATA_KEY"] == ""  # data_keys reads the mapping itself
    assert settings.licence_url == "https://licences.example"
    assert (settings.header_timeout, settings.limit_concurrency) == (10, 20)
    assert settings.oidc == OidcConfig("https://idp", "govstd", "s")


def test_the_process_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVSTD_SECRET", SECRET)
    monkeypatch.setenv("GOVSTD_JWT_ALGORITHMS", "HS512, HS256")
    settings = Settings.from_env()
    assert settings.secret == SECRET and settings.algorithms == ("HS512", "HS256")


def test_a_public_key_from_its_file_and_external_algorithms(tmp_path: Path) -> None:
    pem = "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n"
    (tmp_path / "idp.pem").write_text(pem, encoding="utf-8")
    settings = Settings.from_env({"GOVSTD_JWT_PUBLIC_KEY": str(tmp_path / "idp.pem")})
    assert settings.public_key == pem and settings.algorithms == ("RS256", "ES256")
    jwks = Settings.from_env(
        {"GOVSTD_JWT_JWKS_URL": "https://idp/jwks", "GOVSTD_ENV": "production"}
    )
    assert jwks.algorithms == ("RS256", "ES256") and jwks.secret_is_dev  # no secret needed


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"GOVSTD_JWT_ALGORITHMS": "none,HS256"},
            "GOVSTD_JWT_ALGORITHMS: 不允许 none / GOVSTD_JWT_ALGORITHMS: none not allowed "
            "(expected some of ES256, ES384, HS256, HS384, HS512, PS256, RS256, RS384, RS512)",
        ),
        ({"GOVSTD_JWT_ALGORITHMS": " , "}, "GOVSTD_JWT_ALGORITHMS: 不能为空 / "),
        (
            {"GOVSTD_ENV": "production"},
            "GOVSTD_ENV=production 时必须设置 GOVSTD_SECRET / "
            "GOVSTD_SECRET must be set when GOVSTD_ENV=production",
        ),
        (
            {"GOVSTD_ENV": "production", "GOVSTD_SECRET": DEV_SECRET},
            "GOVSTD_ENV=production 时不能使用公开的开发用 GOVSTD_SECRET / GOVSTD_SECRET is the "
            "public development secret, refused when GOVSTD_ENV=production",
        ),
        (
            {"GOVSTD_SECRET": "short"},
            "GOVSTD_SECRET 至少应有 32 字节（HS256） / "
            "GOVSTD_SECRET must have at least 32 bytes (HS256)",
        ),
        (
            {"GOVSTD_MAX_JSON_BYTES": "1MB"},
            "GOVSTD_MAX_JSON_BYTES 必须是整数 / GOVSTD_MAX_JSON_BYTES must be an integer",
        ),
        *(
            (
                {"GOVSTD_JWT_MAX_TTL": bad},
                "GOVSTD_JWT_MAX_TTL 应为 1 到 31622400 之间的秒数 / "
                "GOVSTD_JWT_MAX_TTL must be a number of seconds from 1 to 31622400",
            )
            for bad in ("0", "-5", "12h", "31622401")
        ),
        (
            {"GOVSTD_HEADER_TIMEOUT": "10s"},
            "GOVSTD_HEADER_TIMEOUT 应为 1 到 3600 之间的整数 / "
            "GOVSTD_HEADER_TIMEOUT must be a whole number from 1 to 3600",
        ),
        (
            {"GOVSTD_LICENCE_TIMEOUT": "301"},
            "GOVSTD_LICENCE_TIMEOUT 应为大于 0、不超过 300 的秒数 / "
            "GOVSTD_LICENCE_TIMEOUT must be a number of seconds above 0 and at most 300",
        ),
        (
            {"GOVSTD_LICENCE_URL": "licences.example"},
            "GOVSTD_LICENCE_URL: 'licences.example' 不是 http(s) 地址 / "
            "GOVSTD_LICENCE_URL: 'licences.example' is not an http(s) address",
        ),
    ],
)
def test_each_refusal_names_its_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)
    assert str(refused.value).startswith(message)


def test_a_migration_reads_only_its_own_variables() -> None:
    env = {"GOVSTD_ENV": "production", "GOVSTD_MIGRATION_LOCK_TIMEOUT": " 300ms "}
    assert timeouts(env) == {"lock_timeout": "300ms", "statement_timeout": "30min"}
    with pytest.raises(MigrationError) as refused:
        timeouts({"GOVSTD_MIGRATION_STATEMENT_TIMEOUT": "25d"})
    assert str(refused.value) == (
        "GOVSTD_MIGRATION_STATEMENT_TIMEOUT='25d': 应为不超过 24 天的时长，如 5s、500ms、30min、"
        "0（不限） / expected a duration of at most 24 days such as 5s, 500ms, 30min or 0 "
        "(no limit)"
    )
