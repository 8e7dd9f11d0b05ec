"""The runtime's commands run without the generator: a server that only runs a package
installs no generator (issue 14 item 6)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT

# ``sys.modules[name] = None`` makes every ``import generator…`` raise ImportError.
WITHOUT_GENERATOR = (
    "import sys; sys.modules['generator'] = None; "
    "sys.argv = ['govstd-runtime', *sys.argv[1:]]; "
    "from runtime.cli import main; main()"
)


def _runtime_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_GENERATOR, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_the_generator_is_unimportable_in_the_probe() -> None:
    probe = "import sys; sys.modules['generator'] = None; import generator.cli"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr


def test_serve_help_without_the_generator() -> None:
    result = _runtime_cli("serve", "--help")
    assert result.returncode == 0, result.stderr
    assert "--app" in result.stdout and "--workers" in result.stdout


def test_migrate_and_token_without_the_generator(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runtime-only.db'}"
    migrated = _runtime_cli("migrate", "--app", str(ROOT / "generated" / "nanshan"), "--db", url)
    assert migrated.returncode == 0, migrated.stderr
    assert "applied" in migrated.stderr
    again = _runtime_cli("migrate", "--app", str(ROOT / "generated" / "nanshan"), "--db", url)
    assert again.returncode == 0 and "up to date" in again.stderr
    token = _runtime_cli("token", "--role", "applicant", "--sub", "c-1")
    assert token.returncode == 0, token.stderr
    assert token.stdout.count(".") == 2  # a JWT: header.payload.signature


def test_the_generator_commands_are_not_runtime_commands() -> None:
    result = _runtime_cli("generate", "standards", "--region", "nanshan", "--out", "x")
    assert result.returncode == 2
    assert "No such command" in result.stderr
