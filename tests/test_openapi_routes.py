"""The API document follows the routes (issue 14 item 5).

Each route of the runtime's API table (``runtime.routes.ROUTES``) is a
:class:`runtime.operations.Operation`, named by its ``operationId``, from which the
generator writes the document's paths. Every committed package's ``openapi.json``
documents exactly the operations the runtime serves: the same paths, methods and ids. A
route added as a plain Starlette ``Route`` (or a package not regenerated since) fails
here, naming it."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from runtime.routes import ROUTES
from tests.helpers import GENERATED, documented, served

DOCUMENTS = sorted(GENERATED.glob("*/openapi.json"))


def test_each_route_is_named_by_a_unique_operation_id() -> None:
    names = Counter(served(ROUTES).values())
    assert not [n for n, count in names.items() if count > 1], names
    unnamed = [
        key for key, name in served(ROUTES).items() if not re.fullmatch(r"[a-z][A-Za-z]+", name)
    ]
    assert not unnamed, f"routes without an operationId as their name: {unnamed}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.parent.name)
def test_the_document_has_exactly_the_served_operations(document: Path) -> None:
    serving, doc = served(ROUTES), documented(json.loads(document.read_text(encoding="utf-8")))
    undocumented = [
        f"{method} {path} (route name {serving[method, path]!r})"
        for method, path in sorted(serving.keys() - doc.keys())
    ]
    assert not undocumented, (
        f"served but not in {document.relative_to(GENERATED.parent)}: {undocumented}; declare "
        "each as a runtime.operations.Operation and run scripts/regenerate"
    )
    unserved = [f"{m} {p} ({doc[m, p]})" for m, p in sorted(doc.keys() - serving.keys())]
    assert not unserved, f"documented but no route serves them: {unserved}"
    renamed = {key: (serving[key], doc[key]) for key in serving if serving[key] != doc[key]}
    assert not renamed, f"route name ≠ operationId: {renamed}"


def test_every_bundled_package_is_checked() -> None:
    assert {d.parent.name for d in DOCUMENTS} >= {"nanshan", "shenzhen", "hangzhou"}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.parent.name)
def test_what_the_operations_name_is_defined(document: Path) -> None:
    """An operation's parameter, schema or response named in runtime/routes/ but not
    defined by generator/render/openapi_components.py is a dangling ``$ref``."""
    text = document.read_text(encoding="utf-8")
    components = json.loads(text)["components"]
    refs = set(re.findall(r'"\$ref": "#/components/(\w+)/(\w+)"', text))
    assert refs, "no $ref found: the pattern no longer matches the document"
    assert not [f"{kind}/{name}" for kind, name in refs if name not in components[kind]]
    # and what is defined is used: a form's schema (form_<id>) is there for its own sake
    shared = {n for n in components["schemas"] if not n.startswith("form_")}
    assert not sorted(shared - {name for kind, name in refs if kind == "schemas"})
