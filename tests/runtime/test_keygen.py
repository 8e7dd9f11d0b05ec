"""``govstd keygen``: the secret and data key it prints are what production accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from runtime.auth import issue_token
from runtime.cli import app as cli
from runtime.settings import Settings
from tests.helpers import client_of

pytestmark = pytest.mark.anyio


def _keygen() -> dict[str, str]:
    result = CliRunner().invoke(cli, ["keygen"])
    assert result.exit_code == 0, result.output
    pairs = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert set(pairs) == {"GOVSTD_SECRET", "GOVSTD_DATA_KEY"}
    return pairs


async def test_keygen_values_run_the_app_in_production(
    package_dir: Path, db_url: str, tmp_path: Path
) -> None:
    keys = _keygen()
    assert _keygen() != keys  # new ones each time
    env = {**keys, "GOVSTD_ENV": "production", "GOVSTD_UPLOAD_DIR": str(tmp_path / "up")}
    settings = Settings.from_env(env)  # refuses a missing or short secret in production
    assert settings.production and not settings.secret_is_dev
    token = issue_token(settings, role="applicant", sub="a-1", region=None)
    # create_app refuses a dev or malformed data key
    async with client_of(package_dir, db_url, settings) as client:
        mine = await client.get("/api/applications", headers={"Authorization": f"Bearer {token}"})
        assert mine.status_code == 200, mine.text
        forged = issue_token(Settings(secret="x" * 40), role="applicant", sub="a-1", region=None)
        other = await client.get("/api/applications", headers={"Authorization": f"Bearer {forged}"})
        assert other.status_code == 401
