"""Schemathesis against the generated OpenAPI document of the nanshan package.

Every operation of ``openapi.json``, served by the ASGI app in-process, with data
that fits the document (positive) and data that does not (negative), in the
examples, coverage and fuzzing phases; each operation once without a token and once
with a valid one (an applicant's; an officer's for ``/api/staff/…`` and ``/api/sharing/…``,
a supervisor's for the data quality report; alternately either for the operations both
may call). A sharing request is filed first, and its id is the one the sharing paths
name. Every case that names an application with a
valid id names a real one (filed by the fuzzing applicant), so the handlers past the
lookup are fuzzed too; half of the positive submissions of a matter with a known valid
form carry valid data, half of the positive uploads a real PDF. The checks: no 5xx;
status code, content type and body as the document declares them; invalid data refused
— with a token only 400, 413, 415 or 422 count as a refusal (404 only for a path value
outside its enum: an unknown matter, material …), without one every secured operation
answers 401; and with a token a minimum of the valid cases is accepted (2xx, 201 for
submissions). Deterministic: derandomized Hypothesis, a fixed seed, no example database.

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
from hypothesis import settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.applications import Starlette

from generator.build import build_package
from generator.pipeline import check_tree
from generator.render.openapi import openapi_document
from runtime.app import create_app
from runtime.auth import issue_token
from runtime.package import Package
from runtime.settings import Settings
from tests.helpers import (
    STANDARDS,
    FrozenClock,
    create_schema,
    emptied,
    food_data,
    ibr_data,
    restaurant_data,
    settings_for,
    unemployment_data,
)
from tests.security.conftest import report

MAX_EXAMPLES = 12
# What refuses invalid data. 401/403 (who is asking), 404 (what is named), 405 and 409
# (the case's state) say nothing about the data: with a valid token they are failures.
REFUSALS = ["400", "413", "415", "422"]


def path_fits(case: Any) -> bool:
    """Whether every path value of the case is one the document allows (in its enum, a
    UUID where it says so): what the server can look up."""
    for name, value in (case.path_parameters or {}).items():
        schema = PATH_SCHEMAS.get(name, {})
        if "enum" in schema and value not in schema["enum"]:
            return False
        if schema.get("format") == "uuid":
            try:
                uuid.UUID(str(value))
            except ValueError:
                return False
    return True


def invalid_data_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis' negative_data_rejection with :data:`REFUSALS`, and 404 for a path
    value outside the document (an unknown matter, form, material, step …: nothing there)."""
    if response.status_code == 404 and not path_fits(case):
        return True
    return negative_data_rejection(ctx, response, case)


def refused_without_token(ctx: Any, response: Any, case: Any) -> bool | None:
    """A secured operation called without a token: 401 with ``WWW-Authenticate: Bearer``,
    whatever the data (unexpected methods aside: 405 comes from the router)."""
    if response.status_code == 405:
        return True
    assert response.status_code == 401, f"{response.status_code} without a token"
    assert response.headers.get("www-authenticate") == ["Bearer"]
    return True


CONFORMANCE = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
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
    "checks": {"negative_data_rejection": {"expected-statuses": REFUSALS}},
}
SHARED = ("/api/applications/{id}", "/api/applications/{id}/materials/{material}")
FILED = "unemployment_registration"  # the matter of the application each variant files
BUNDLE = "open_restaurant"  # and the bundle it files
UPLOADS = (
    "/api/applications/{id}/materials/{material}",
    "/api/bundles/applications/{id}/materials/{material}",
)
# Valid form data for the matters the runtime tests know (tests/runtime/conftest.py).
VALID_DATA = {
    "ibr": ibr_data,
    "food_business_license": food_data,
    "unemployment_registration": unemployment_data,
}
PDF = "%PDF-1.7\n" + "0" * 1000 + "\n%%EOF\n"  # text: the document's file is a string
# The least share of positive cases a variant with a token must see accepted (2xx), and
# the least number of submissions it must see stored (201).
MIN_ACCEPTED_SHARE = 0.25
MIN_CREATED = 10
CASES: dict[str, int] = {}  # per operation
MODES: dict[str, int] = {}  # per phase and generation mode
STATUSES: dict[int, int] = {}
POSITIVE: dict[str, list[int]] = {}  # per variant: the statuses of its positive cases


def nanshan_openapi() -> dict[str, Any]:
    """The document ``govstd generate standards --region nanshan`` writes as openapi.json."""
    tree, diagnostics, resolved = check_tree([STANDARDS])
    assert not diagnostics.has_errors(), str(diagnostics)
    return openapi_document(build_package(tree, resolved, "nanshan"))


DOCUMENT = nanshan_openapi()
PATH_SCHEMAS = {
    p["name"]: p["schema"]
    for p in DOCUMENT["components"]["parameters"].values()
    if p.get("in") == "path"
}
schema = schemathesis.openapi.from_dict(DOCUMENT, config=schemathesis.Config.from_dict(CONFIG))


class Served:
    """The app under test on a fresh database, with one application already filed."""

    def __init__(self, app: Starlette, settings: Settings, package: Package, variant: str) -> None:
        self.app = app
        self.variant = variant
        self.authorized = not variant.endswith("-no-token")
        self.applicant = _bearer(settings, "applicant")
        self.officer = _bearer(settings, "officer")
        self.supervisor = _bearer(settings, "supervisor")
        self.application_id, self.filing_id, self.sharing_id, self.document = anyio.run(
            self._prepare
        )
        region = package.regions["nanshan"]
        matter = region.matters[FILED]
        # the materials the applicant uploads (the government's own are refused with 409)
        self.materials = [str(m["id"]) for m in matter.materials if m["source"] != "government"]
        bundle = package.bundles[BUNDLE]  # and those of the filed bundle's members
        self.bundle_materials = sorted(
            {
                str(m["id"])
                for member in bundle.matters
                for m in region.matters[member].materials
                if m["source"] != "government"
            }
        )
        workflow = package.workflows[matter.workflow]
        self.step_by = {t.id: t.by for t in workflow.transitions.values()}

    async def _prepare(self) -> tuple[str, str, str, Any]:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            r = await client.post(
                f"/api/matters/{FILED}/applications",
                json={"region": "nanshan", "data": unemployment_data()},
                headers=self.applicant,
            )
            assert r.status_code == 201, r.text
            filed = await client.post(
                f"/api/bundles/{BUNDLE}/applications",
                json={"region": "nanshan", "data": restaurant_data()},
                headers=self.applicant,
            )
            assert filed.status_code == 201, filed.text
            shared = await client.post(
                "/api/sharing/requests",
                json={
                    "resource": "food_business_license_form",
                    "items": ["enterprise_name", "person_name"],  # the first readable at once
                    "purpose": "fuzz",
                    "basis": "fuzz",
                },
                headers=self.officer,
            )
            assert shared.status_code == 201, shared.text
            served = await client.get("/openapi.json")
        ids = (r.json()["id"], filed.json()["id"], shared.json()["id"])
        return str(ids[0]), str(ids[1]), str(ids[2]), served.json()

    def headers(self, case: Any, n: int) -> dict[str, str]:
        """No token, or a valid one of a role that may call the operation."""
        if not self.authorized:
            return {}
        if case.path == "/api/staff/data-quality":
            return self.supervisor
        if case.path.startswith(("/api/staff/", "/api/sharing/")):  # the sharing requester's
            return self.officer
        if case.path.startswith("/api/applications/{id}/actions/"):
            by = self.step_by.get(str((case.path_parameters or {}).get("transition")))
            if by is not None:  # the step of the filed case's workflow: its role
                return self.applicant if by == "applicant" else self.officer
        if case.method == "PUT":  # uploads are the applicant's
            return self.applicant
        if case.path in SHARED or case.path.startswith("/api/applications/{id}/actions/"):
            return self.officer if n % 2 else self.applicant
        return self.applicant

    def aim(self, case: Any, n: int) -> None:
        """Valid ids and, for half of the positive cases, valid content where the document
        cannot say what is valid (form data, file bytes)."""
        meta = case.meta
        params = dict(case.path_parameters or {})  # a copy: cases may share their dicts
        positive = meta is not None and meta.generation.mode.is_positive
        # A path value that fits the document names the filed case and one of its
        # materials (but a quarter of the valid cases keep theirs: unknown ones, 404).
        if path_fits(case) and not (positive and n % 4 == 3):
            bundled = case.path.startswith("/api/bundles/applications/")
            materials = self.bundle_materials if bundled else self.materials
            if "id" in params:
                params["id"] = self.filing_id if bundled else self.application_id
                if case.path.startswith("/api/sharing/"):
                    params["id"] = self.sharing_id
            if "material" in params and params["material"] not in materials:
                params["material"] = materials[n % len(materials)]
            case.path_parameters = params
        if not positive or n % 2 or not isinstance(case.body, dict):
            return
        if meta is None or meta.is_negative_at(ParameterLocation.BODY):
            return  # schemathesis meant this body to be invalid: left as it is
        valid = VALID_DATA.get(str(params.get("matter")))
        if case.path == "/api/matters/{matter}/applications" and valid is not None:
            case.body = {**case.body, "data": valid()}
        elif case.path in UPLOADS:
            case.body = {**case.body, "file": PDF}

    def checks(self, case: Any) -> list[Any]:
        secured = bool(case.operation.definition.raw.get("security"))
        if secured and not self.authorized:
            return [*CONFORMANCE, refused_without_token]
        return [*CONFORMANCE, invalid_data_refused]


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
    backend = str(request.param).partition("-")[0]
    folder = tmp_path_factory.mktemp("fuzz")
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'govstd.db'}"
        create_schema(package_dir, package, url)
    else:
        url = emptied(request.getfixturevalue("postgres_url"), package)
    settings = settings_for(FrozenClock(), folder)
    app = create_app(package_dir, url, settings)
    served = Served(app, settings, package, str(request.param))
    assert served.document == DOCUMENT, "the app serves another document than the one fuzzed"
    schema.app = app
    yield served
    app.state.ctx.engine.dispose()
    if served.authorized:
        assert_valid_cases_accepted(served.variant)


def assert_valid_cases_accepted(variant: str) -> None:
    """With a token, the valid cases are not all refused: a server answering 422 (or 404,
    409 …) to everything passes every other check."""
    statuses = POSITIVE.get(variant, [])
    accepted = sum(200 <= s < 300 for s in statuses)
    created = statuses.count(201)
    report(
        f"API fuzz ({variant}): {accepted} of {len(statuses)} positive cases accepted (2xx), "
        f"{created} stored (201)"
    )
    assert accepted >= MIN_ACCEPTED_SHARE * len(statuses), (accepted, len(statuses))
    assert created >= MIN_CREATED, created


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
    deadline=None,  # requests through the app, timed by the load of the machine
    # no health check suppressed: none fires (data generation is fast, no filtering)
)
def test_api_fuzz(case: Any, served: Served) -> None:
    n = CASES.get(case.operation.label, 0)
    served.aim(case, n)
    response = case.call_and_validate(
        headers=served.headers(case, n), checks=served.checks(case), app=served.app
    )
    CASES[case.operation.label] = n + 1
    if case.meta is not None and case.meta.generation.mode.is_positive:
        POSITIVE.setdefault(served.variant, []).append(response.status_code)
    mode = f"{case.meta.phase.name.value} {case.meta.generation.mode.value}" if case.meta else "-"
    MODES[mode] = MODES.get(mode, 0) + 1
    STATUSES[response.status_code] = STATUSES.get(response.status_code, 0) + 1
