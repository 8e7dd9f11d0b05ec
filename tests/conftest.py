"""Shared by every test: the day ``govstd validate`` takes as today.

The fixture trees' calendars list 2026; from 2026 on, a calendar that ends within a
year of today is a warning (generator/checks/regions.py). The tests pin today to
2025-12-01 (when the 2026 calendar was fresh) so that their results do not change
with the wall clock; tests of the warning set their own day.
"""

from __future__ import annotations

import pytest

from generator.checks.regions import TODAY_VARIABLE


@pytest.fixture(autouse=True)
def _validation_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TODAY_VARIABLE, "2025-12-01")
