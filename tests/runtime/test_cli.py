"""``govstd migrate`` and ``govstd token``."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runtime import package
from runtime.auth import decode_token
from runtime.cli import app
from runtime.crypto import dev_key
from runtime.package import PackageError, load_package, verify_files
from runtime.packs import SCHEMAS, pack_name
from runtime.settings import DEV_SECRET, Settings, data_keys
from tests.helpers import SECRET


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


def test_migrate_refuses_a_folder_that_is_no_package(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["migrate", "--app", str(tmp_path)])
    assert result.exit_code == 1
    assert "not a deployment package" in result.output


def test_a_package_edited_or_half_written_is_neither_migrated_nor_served(
    package_dir: Path, tmp_path: Path
) -> None:
    app_dir = tmp_path / "app"
    shutil.copytree(package_dir, app_dir, ignore=shutil.ignore_patterns("__pycache__", ".govstd"))
    form = app_dir / "forms/ibr_form.py"
    form.write_text(form.read_text(encoding="utf-8").replace("max_length=", "max_length=9"))
    (app_dir / pack_name(SCHEMAS, "ibr_form")).unlink()
    (app_dir / "migrations/versions/9999_by_hand.py").write_text("revision = '9999'\n")
    db = tmp_path / "edited.db"
    for command in (["migrate"], ["serve", "--port", "1"]):
        result = CliRunner().invoke(
            app, [*command, "--app", str(app_dir), "--db", f"sqlite:///{db}"]
        )
        assert result.exit_code == 1, result.output
        assert "forms/ibr_form.py (changed)" in result.output
        assert f"{pack_name(SCHEMAS, 'ibr_form')} (missing)" in result.output
        assert "migrations/versions/9999_by_hand.py (not in package.json)" in result.output
        assert "Traceback" not in result.output
    assert not db.exists()  # nothing migrated
    with pytest.raises(PackageError, match=r"does not match its package\.json"):
        load_package(app_dir)


def test_files_listed_outside_the_package_are_refused(package_dir: Path, tmp_path: Path) -> None:
    """A name through ``..``, a listed file that is a symlink leading out, a folder that is
    one: each named; a symlink that stays inside is read like its target."""
    app_dir = tmp_path / "app"
    shutil.copytree(package_dir, app_dir, ignore=shutil.ignore_patterns("__pycache__", ".govstd"))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.json").write_text("{}", encoding="utf-8")
    manifest = json.loads((app_dir / "package.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256(b"{}").hexdigest()
    schema = app_dir / "catalog.json"
    inside_digest = hashlib.sha256(schema.read_bytes()).hexdigest()
    (app_dir / "linked.json").symlink_to(outside / "x.json")
    (app_dir / "linked_dir").symlink_to(outside)
    (app_dir / "same.json").symlink_to(schema)
    manifest["files"].update(
        {
            "../outside/x.json": digest,
            "linked.json": digest,
            "linked_dir/x.json": digest,
            "same.json": inside_digest,
        }
    )
    (app_dir / "package.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(PackageError) as refused:
        verify_files(app_dir.resolve(), manifest)
    said = str(refused.value)
    for name in ("../outside/x.json", "linked.json", "linked_dir/x.json"):
        assert f"{name} (outside the package)" in said
    assert "same.json" not in said  # inside: as recorded


def test_a_verified_file_is_hashed_again_once_written_or_replaced(
    package_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The verification record spares hashing unchanged files at the next start; a file
    written since (even with its old size and times put back) or replaced is hashed."""
    app_dir = tmp_path / "app"
    shutil.copytree(package_dir, app_dir, ignore=shutil.ignore_patterns("__pycache__", ".govstd"))
    monkeypatch.setattr(package, "RACY_NS", 0)  # the copy is new: record it all the same
    load_package(app_dir)
    record = json.loads((app_dir / ".govstd/verified.json").read_text(encoding="utf-8"))
    manifest = json.loads((app_dir / "package.json").read_text(encoding="utf-8"))
    assert set(record["files"]) == set(manifest["files"])
    hashed: list[str] = []
    digest = hashlib.file_digest
    monkeypatch.setattr(
        hashlib, "file_digest", lambda f, name: hashed.append(f.name) or digest(f, name)
    )
    load_package(app_dir)
    assert hashed == []  # nothing changed: nothing hashed
    form = app_dir / "forms/ibr_form.py"
    before = form.stat()
    text = form.read_text(encoding="utf-8")
    form.write_text(text.replace("max_length=", "max_length=9", 1), encoding="utf-8")
    os.truncate(form, before.st_size)  # the same size and times, other bytes
    os.utime(form, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(PackageError, match=r"forms/ibr_form\.py \(changed\)"):
        load_package(app_dir)
    form.write_text(text, encoding="utf-8")
    schema = app_dir / pack_name(SCHEMAS, "ibr_form")
    shutil.copyfile(schema, tmp_path / "copy.json")
    os.replace(tmp_path / "copy.json", schema)  # the same bytes, another file
    hashed.clear()
    load_package(app_dir)
    assert len(hashed) == 2  # the form rewritten, the schema replaced


def test_a_malformed_data_key_is_one_line_that_never_shows_the_key(
    package_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_looking = "not-a-key-but-secret-material-0123456789"
    monkeypatch.setenv("GOVSTD_DATA_KEY", secret_looking)
    monkeypatch.setenv("GOVSTD_SECRET", SECRET)
    db = f"sqlite:///{tmp_path / 'key.db'}"
    result = CliRunner().invoke(app, ["serve", "--app", str(package_dir), "--db", db])
    assert result.exit_code == 1, result.output
    assert "GOVSTD_DATA_KEY: key 1 is not URL-safe base64 of 32 bytes" in result.output
    assert "密钥" in result.output  # Chinese first
    assert secret_looking not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("workers", ["1", "2"])
def test_production_refuses_the_public_development_secret_and_key_by_value(
    package_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    """Set explicitly, the public development secret or data key is refused all the same."""
    real_key = base64.urlsafe_b64encode(b"r" * 32).decode()
    public_key = base64.urlsafe_b64encode(dev_key()).decode()
    db = f"sqlite:///{tmp_path / 'prod.db'}"
    serve = ["serve", "--app", str(package_dir), "--db", db, "--workers", workers]
    monkeypatch.setenv("GOVSTD_ENV", "production")
    cases = (
        ({"GOVSTD_SECRET": DEV_SECRET, "GOVSTD_DATA_KEY": real_key}, "GOVSTD_SECRET"),
        ({"GOVSTD_SECRET": SECRET, "GOVSTD_DATA_KEY": public_key}, "GOVSTD_DATA_KEY"),
        (
            {"GOVSTD_SECRET": SECRET, "GOVSTD_DATA_KEY": f"{public_key},{real_key}"},
            "GOVSTD_DATA_KEY",
        ),
    )
    for env, named in cases:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        result = CliRunner().invoke(app, serve)
        assert result.exit_code == 1, (env, result.output)
        assert named in result.output and "开发用" in result.output, result.output
        assert "development" in result.output and "Traceback" not in result.output
        assert value not in result.output
    token = CliRunner().invoke(
        app, ["token", "--role", "applicant"], env={"GOVSTD_SECRET": DEV_SECRET}
    )
    assert token.exit_code == 1 and "GOVSTD_SECRET" in token.output
    # rotating away from the development key: it may stay as an older, decrypting key
    monkeypatch.setenv("GOVSTD_DATA_KEY", f"{real_key},{public_key}")
    assert data_keys(Settings.from_env()) == (b"r" * 32, dev_key())
