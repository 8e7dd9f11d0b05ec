"""Schemathesis against the generated OpenAPI document of the nanshan package.

Every operation of ``openapi.json``, served by the ASGI app in-process, with data
that fits the document (positive) and data that does not (negative), in the
examples, coverage and fuzzing phases; each operation once without a token and once
with a valid one (an applicant's; an officer's for ``/api/staff/…``; alternately
either for the operations both may call). Half of the positive cases that name an
application name a real one (filed by the fuzzing applicant), so the handlers past
the lookup are fuzzed too. The checks: no 5xx; status code, content type and body
as the document declares them; invalid data refused. Deterministic: derandomized
Hypothesis, a fixed seed, no example database.

The cases come from the document ``govstd generate`` writes (built at import time:
the plugin makes one test per operation when the module is collected); the app
must serve exactly that document.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine, text
from starlette.applications import Starlette

from generator.build import build_package
from generator.pipeline import check_tree
from generator.render.openapi import openapi_document
from runtime.app import create_app
from runtime.auth import issue_token
from runtime.package import Package
from runtime.settings import Settings
from tests.runtime.conftest import (
    DATA_KEY,
    SECRET,
    STANDARDS,
    FrozenClock,
    create_schema,
    unemployment_data,
)
from tests.security.conftest import report

MAX_EXAMPLES = 12
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
CONFIG = {
    "seed": 5,
    "generation": {
        "mode": "all",
        "deterministic": True,
        "max-examples": MAX_EXAMPLES,
        # the token is this test's own axis (none, or a valid one): not generated nor mutated
        "with-security-parameters": False,
    },
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    },
    # a body over the size limit is refused with 413: a rejection like the others
    "checks": {
        "negative_data_rejection": {
            "expected-statuses": [400, 401, 403, 404, 405, 409, 413, 415, 422],
        }
    },
}
SHARED = ("/api/applications/{id}", "/api/applications/{id}/materials/{material}")
CASES: dict[str, int] = {}  # per operation
MODES: dict[str, int] = {}  # per phase and generation mode
STATUSES: dict[int, int] = {}


def nanshan_openapi() -> dict[str, Any]:
    """The document ``govstd generate standards --region nanshan`` writes as openapi.json."""
    tree, diagnostics, resolved = check_tree([STANDARDS])
    assert not diagnostics.has_errors(), str(diagnostics)
    return openapi_document(build_package(tree, resolved, "nanshan"))


DOCUMENT = nanshan_openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=schemathesis.Config.from_dict(CONFIG))


class Served:
    """The app under test on a fresh database, with one application already filed."""

    def __init__(self, app: Starlette, settings: Settings, authorized: bool) -> None:
        self.app = app
        self.authorized = authorized
        self.applicant = _bearer(settings, "applicant")
        self.officer = _bearer(settings, "officer")
        self.application_id, self.document = anyio.run(self._prepare)

    async def _prepare(self) -> tuple[str, Any]:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            r = await client.post(
                "/api/matters/unemployment_registration/applications",
                json={"region": "nanshan", "data": unemployment_data()},
                headers=self.applicant,
            )
            assert r.status_code == 201, r.text
            served = await client.get("/openapi.json")
        return str(r.json()["id"]), served.json()

    def headers(self, case: Any, n: int) -> dict[str, str]:
        """No token, or a valid one of a role that may call the operation."""
        if not self.authorized:
            return {}
        if case.path.startswith("/api/staff/"):
            return self.officer
        if case.path in SHARED or case.path.startswith("/api/applications/{id}/actions/"):
            return self.officer if n % 2 else self.applicant
        return self.applicant

    def aim(self, case: Any, n: int) -> None:
        """Point half of the positive cases that name an application at the filed one."""
        params = case.path_parameters or {}
        positive = case.meta is not None and case.meta.generation.mode.is_positive
        if positive and "id" in params and n % 4 < 2:
            try:
                uuid.UUID(str(params["id"]))
            except ValueError:
                return
            params["id"] = self.application_id


def _bearer(settings: Settings, role: str) -> dict[str, str]:
    region = None if role == "applicant" else "nanshan"
    token = issue_token(settings, role=role, sub=f"fuzz-{role}", region=region)
    return {"Authorization": f"Bearer {token}"}


# Without a token every secured operation stops at the token check, before any query:
# PostgreSQL only adds something with one.
VARIANTS = [
    "sqlite-no-token",
    "sqlite-token",
    pytest.param("postgresql-token", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="module", params=VARIANTS)
def served(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    package_dir: Path,
    package: Package,
) -> Iterator[Served]:
    """A database per variant for all its operations (migrating one per operation costs
    more than the cases): what one operation's cases leave is there for the next."""
    backend, _, token = str(request.param).partition("-")
    folder = tmp_path_factory.mktemp("fuzz")
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'govstd.db'}"
        create_schema(package_dir, package, url)
    else:
        url = request.getfixturevalue("postgres_url")
        engine = create_engine(url)
        names = ", ".join(f'"{t.name}"' for t in package.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
    env = {"GOVSTD_SECRET": SECRET, "GOVSTD_DATA_KEY": DATA_KEY}
    settings = Settings(
        secret=SECRET,
        secret_is_dev=False,
        upload_dir=folder / "uploads",
        env=env,
        now=FrozenClock(),
    )
    app = create_app(package_dir, url, settings)
    served = Served(app, settings, authorized=token == "token")
    assert served.document == DOCUMENT, "the app serves another document than the one fuzzed"
    schema.app = app
    yield served
    app.state.ctx.engine.dispose()


@pytest.fixture(scope="module", autouse=True)
def count_cases() -> Iterator[None]:
    yield
    total = sum(CASES.values())
    modes = ", ".join(f"{mode}: {n}" for mode, n in sorted(MODES.items()))
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(STATUSES.items()))
    report(
        f"API fuzz: {total} cases over {len(CASES)} operations ({modes}); "
        f"statuses {statuses}; 5xx: {sum(n for s, n in STATUSES.items() if s >= 500)}"
    )


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_fuzz(case: Any, served: Served) -> None:
    n = CASES.get(case.operation.label, 0)
    served.aim(case, n)
    response = case.call_and_validate(
        headers=served.headers(case, n), checks=CHECKS, app=served.app
    )
    CASES[case.operation.label] = n + 1
    mode = f"{case.meta.phase.name.value} {case.meta.generation.mode.value}" if case.meta else "-"
    MODES[mode] = MODES.get(mode, 0) + 1
    STATUSES[response.status_code] = STATUSES.get(response.status_code, 0) + 1
