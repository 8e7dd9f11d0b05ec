"""Messages of the runtime commands: ``govstd migrate`` says which revisions it applied
(and "nothing to do" only when so); ``govstd token --app`` knows the package's regions."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from runtime.cli import app
from tests.helpers import edited_standards, generate_package, replace_once


def _migrate(package: Path, url: str) -> str:
    result = CliRunner().invoke(app, ["migrate", "--app", str(package), "--db", url])
    assert result.exit_code == 0, result.output
    return result.stderr


def test_migrate_names_each_revision_it_applies(tmp_path: Path) -> None:
    standards = edited_standards(tmp_path / "standards")
    package = generate_package("nanshan", tmp_path / "nanshan", standards)
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    (first,) = sorted(p.stem for p in (package / "migrations" / "versions").glob("0*.py"))

    said = _migrate(package, url)
    engine = create_engine(url)
    assert {"applications", "transitions", "audit_log", "form_ibr_form"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()
    assert f"applied {first}: Create the tables of the package for region 'nanshan'" in said
    assert "1 revision(s) applied; restart a running govstd serve" in said
    assert "重启" in said
    assert "nothing to do" not in said and "up to date" not in said

    # the standards change: a second revision
    old = "      - element: email\n        required: false\n"
    replace_once(
        standards / "national/forms/ibr_form.yaml", old, old + "      - element: postal_code\n"
    )
    generate_package("nanshan", package, standards)
    revisions = sorted(p.stem for p in (package / "migrations" / "versions").glob("0*.py"))
    assert len(revisions) == 2
    said = _migrate(package, url)
    assert f"applied {revisions[1]}" in said and first not in said
    assert "1 revision(s) applied" in said

    said = _migrate(package, url)
    assert "up to date, nothing to do" in said and "applied" not in said


def test_token_for_a_region_the_package_does_not_serve(package_dir: Path) -> None:
    args = ["token", "--role", "officer", "--app", str(package_dir), "--region"]
    result = CliRunner().invoke(app, [*args, "nansan"])
    assert result.exit_code == 1
    assert "does not serve region 'nansan'; did you mean 'nanshan'? (regions: nanshan)" in (
        result.stderr
    )
    assert "（是否应为 'nanshan'？）" in result.stderr
    assert result.stdout == ""
    served = CliRunner().invoke(app, [*args, "nanshan"])
    assert served.exit_code == 0 and served.stdout.count(".") == 2  # a JWT
