"""``govstd migrate`` and ``govstd token``."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from generator.cli import app
from runtime.auth import decode_token
from runtime.settings import Settings
from tests.runtime.conftest import SECRET


def test_token_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVSTD_SECRET", SECRET)
    result = CliRunner().invoke(
        app, ["token", "--role", "officer", "--region", "nanshan", "--sub", "o-1", "--name", "王"]
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    identity = decode_token(token, Settings.from_env())
    assert (identity.sub, identity.role, identity.region, identity.name) == (
        "o-1",
        "officer",
        "nanshan",
        "王",
    )


def test_token_usage_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVSTD_SECRET", SECRET)
    result = CliRunner().invoke(app, ["token", "--role", "officer"])
    assert result.exit_code == 1
    assert "--region" in result.output
    result = CliRunner().invoke(app, ["token", "--role", "king"])
    assert result.exit_code == 1


def test_migrate_creates_tables(package_dir: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = CliRunner().invoke(app, ["migrate", "--app", str(package_dir), "--db", url])
    assert result.exit_code == 0, result.output
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"applications", "transitions", "audit_log", "form_ibr_form"} <= tables
    again = CliRunner().invoke(app, ["migrate", "--app", str(package_dir), "--db", url])
    assert again.exit_code == 0


def test_migrate_refuses_a_folder_that_is_no_package(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["migrate", "--app", str(tmp_path)])
    assert result.exit_code == 1
    assert "not a deployment package" in result.output
