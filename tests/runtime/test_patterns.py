"""A careless pattern in the standards cannot pin a worker (ReDoS): patterns run on RE2.

The bundled standards are copied with one element given the textbook catastrophic
pattern ``([a-z]+)+@x``; with Python's backtracking ``re`` a 25-character value took
1.2 s and every further character doubled it (hours at 40). Through the ASGI app, a
40-character value must be refused in well under 100 ms.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from runtime.migrate import upgrade
from runtime.package import PackageError, load_package
from runtime.settings import Settings
from tests.helpers import STANDARDS, Api, client_of, edited_standards, generate_package, ibr_data

pytestmark = pytest.mark.anyio

EVIL = "([a-z]+)+@x"
ELEMENTS = "national/elements/enterprise.yaml"
SCOPE = "id: business_scope\n"


@pytest.fixture(scope="module")
def evil_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("evil")
    tree = edited_standards(root / "standards", (ELEMENTS, SCOPE, f'{SCOPE}pattern: "{EVIL}"\n'))
    return generate_package("nanshan", root / "nanshan", tree)


@pytest.fixture
async def evil_api(evil_package: Path, tmp_path: Path, settings: Settings) -> AsyncIterator[Api]:
    url = f"sqlite:///{tmp_path / 'govstd.db'}"
    upgrade(evil_package, url)
    async with client_of(evil_package, url, settings) as client:
        yield Api(client, settings, load_package(evil_package))


async def test_a_catastrophic_pattern_answers_at_once(evil_api: Api) -> None:
    applicant = evil_api.token("applicant")
    body = {"region": "nanshan", "data": ibr_data(business_scope="a" * 40)}
    started = time.perf_counter()
    r = await evil_api.post("/api/matters/ibr/applications", json=body, headers=applicant)
    elapsed = time.perf_counter() - started
    assert r.status_code == 422, r.text
    assert "business_scope" in r.text
    print(f"[patterns] {EVIL} on 40 characters: {r.status_code} in {elapsed * 1000:.1f} ms")
    assert elapsed < 0.1, f"{elapsed:.3f} s"
    ok = {"region": "nanshan", "data": ibr_data(business_scope="abc@x")}
    r = await evil_api.post("/api/matters/ibr/applications", json=ok, headers=applicant)
    assert r.status_code == 201, r.text


def test_a_form_with_a_pattern_re2_cannot_run_is_refused_when_loaded(tmp_path: Path) -> None:
    """A form module written before patterns ran on RE2 (or edited) may hold a lookaround: the
    form is refused with a message saying to regenerate when it is loaded (on first use: a
    package's forms are imported one at a time), never run."""
    package = tmp_path / "nanshan"
    shutil.copytree(STANDARDS.parent / "generated" / "nanshan", package)
    form = package / "forms" / "ibr_form.py"
    text = form.read_text(encoding="utf-8")
    old = 'patterns=("[0-9]*",)'
    assert old in text
    form.write_text(text.replace(old, 'patterns=("(?!0)[0-9]*",)', 1), encoding="utf-8")
    manifest_path = package / "package.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"]["forms/ibr_form.py"] = hashlib.sha256(form.read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    loaded = load_package(package)
    assert "ibr_form" in loaded.forms  # listed; not imported yet
    with pytest.raises(PackageError, match=r"pattern '\(\?!0\)\[0-9\]\*' is not valid RE2"):
        loaded.forms["ibr_form"]
    with pytest.raises(PackageError, match="regenerate the package"):
        loaded.forms.get("ibr_form")
