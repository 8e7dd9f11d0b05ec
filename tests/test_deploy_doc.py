"""docs/deploy.md names every environment variable the platform reads, and shows the
commands tests/live/test_deploy_guide.py runs on PostgreSQL."""

from __future__ import annotations

import re

from tests.helpers import ROOT

GUIDE = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")


def test_every_environment_variable_is_in_the_table() -> None:
    read = set()
    for folder in ("runtime", "generator"):
        for path in (ROOT / folder).rglob("*.py"):
            read |= set(re.findall(r"\bGOVSTD_[A-Z][A-Z_]*[A-Z]\b", path.read_text("utf-8")))
    read -= {"GOVSTD_TEST_POSTGRES_URL"}
    assert len(read) >= 12
    table = {m for m in re.findall(r"^\| `(GOVSTD_[A-Z_]+)` \|", GUIDE, re.M)}
    assert read - table == set(), f"not in docs/deploy.md: {sorted(read - table)}"
    assert table - read == set(), f"no longer read: {sorted(table - read)}"


def test_the_guide_shows_the_commands_the_live_test_runs() -> None:
    for command in [
        "govstd generate standards --region nanshan --out /srv/govstd/package",
        "govstd migrate --app /srv/govstd/package",
        "govstd serve --app /srv/govstd/package --host 127.0.0.1 --port 8000 --workers 4",
        "govstd diff /srv/govstd/standards.old standards --region nanshan",
        "kill -HUP",
    ]:
        assert command in GUIDE, command
    chinese, _, english = GUIDE.partition("\n## English\n")
    assert "## 中文" in chinese and english
