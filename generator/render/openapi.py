"""``openapi.json``: the OpenAPI 3.1 document of a region's HTTP API.

Every path of the HTTP API (``/work/shared/spec/interfaces.md``, plus the
staff's audited reveal), with its parameters (the package's matter, form,
code set, material and transition ids as enums), request bodies, responses and
the error format. Submissions: ``POST /api/matters/{matter}/applications``
takes ``{"region", "data"}``; the schema of ``data`` depends on the matter, so
``components.schemas`` holds each form's data schema (``form_<form id>``, the
same as ``schemas/<form>.json``), ``data`` is one of them (``anyOf``) and the
operation's ``x-govstd-forms`` maps each matter to its form's schema. The paths
are the runtime's API routes (``runtime.routes.ROUTES``), each an
:class:`runtime.operations.Operation` that says what its operation is; this module adds
what depends on the package (:mod:`generator.render.openapi_components`).
Deterministic: sorted keys, ids in order.
"""

from __future__ import annotations

from typing import Any

from generator.ir import PackageIR, bytes_fingerprint
from generator.render import GeneratedFile, json_bytes
from generator.render.openapi_components import (
    ERROR_RESPONSES,
    answer_schemas,
    body_schemas,
    bundle_schema_name,
    error_schemas,
    label,
    parameters,
    ref,
    responses,
    schema_name,
)
from generator.render.schemas import bundle_schema, form_schema
from runtime.operations import JSON, Operation, Schema
from runtime.routes import ROUTES

__all__ = ["OPENAPI_VERSION", "openapi_document", "render_openapi"]

OPENAPI_VERSION = "3.1.0"


def _response(
    description: str,
    schema: Schema | str,
    media: tuple[str, ...] = (JSON,),
    headers: dict[str, Schema] | None = None,
) -> Schema:
    """A response with a body: ``schema``, or the component schema of that name."""
    if isinstance(schema, str):
        schema = ref("schemas", schema)
    response: Schema = {
        "description": description,
        "content": {m: {"schema": schema} for m in media},
    }
    if headers:
        response["headers"] = {name: {"schema": value} for name, value in headers.items()}
    return response


def _operation(route: Operation) -> Schema:
    """The OpenAPI operation of an API route."""
    operation: Schema = {
        "operationId": route.name,
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": [
            ref("parameters", p) if isinstance(p, str) else p
            for p in (*route.parameters, "AcceptLanguage")
        ],
        "responses": {
            str(route.status): _response(*route.ok, route.media, dict(route.headers)),
            **{str(code): ref("responses", ERROR_RESPONSES[code]) for code in route.errors},
            "503": ref("responses", "Unavailable"),
            **{str(code): _response(*answer) for code, answer in route.responses.items()},
        },
        "security": [{"bearer": []}] if route.secured else [],
    }
    if route.body is not None:
        body = {route.body_media: {"schema": ref("schemas", route.body)}}
        operation["requestBody"] = {"required": route.body_required, "content": body}
    return operation


def _paths(pkg: PackageIR) -> dict[str, Schema]:
    """The runtime's API routes (:data:`runtime.routes.ROUTES`), and which form's schema the
    ``data`` of each matter's and bundle's filing is."""
    form_of = {m.id: m.form for r in pkg.regions for m in r.matters}
    forms = {matter: ref("schemas", schema_name(form)) for matter, form in sorted(form_of.items())}
    bundles = {
        b.id: ref("schemas", bundle_schema_name(b.id)) for b in pkg.bundles if b.form is not None
    }
    data = {
        "submitApplication": {"x-govstd-forms": forms},
        "fileBundle": {"x-govstd-bundles": bundles},
    }
    paths: dict[str, Schema] = {}
    for route in ROUTES:
        if isinstance(route, Operation):
            operation = {**_operation(route), **data.get(route.name, {})}
            paths.setdefault(route.path, {})[route.method] = operation
    return paths


def openapi_document(pkg: PackageIR) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``pkg``'s HTTP API, as plain data."""
    return _document(pkg)[0]


# Stands for the version while the document is written: the version is the hash of the
# bytes written so (one pass of sha256 over them, not a second serialization).
_UNVERSIONED = "1.0.0+unversioned"


def _document(pkg: PackageIR) -> tuple[dict[str, Any], tuple[bytes | memoryview, ...]]:
    """The document of ``pkg`` and its JSON (:func:`json_bytes`)."""
    region = pkg.regions[0] if pkg.regions else None
    name = label(region.name) if region else pkg.region
    schemas: dict[str, Schema] = {
        **error_schemas(),
        **answer_schemas([r.id for r in pkg.regions]),
        **body_schemas(pkg),
    }
    for form in pkg.forms:
        schemas[schema_name(form.id)] = form_schema(form)
    for bundle in pkg.bundles:
        if bundle.form is not None:
            schemas[bundle_schema_name(bundle.id)] = bundle_schema(bundle)
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": f"{name}政务服务接口",
            "version": _UNVERSIONED,
            "description": (
                f"HTTP API of the government services of {name} ({pkg.region}) and the "
                "regions below it, generated by govstd from its standards. Errors are "
                '{"error": {"code", "message", "fields": [{"path", "code", "message"}]}}; '
                "messages follow Accept-Language (zh default, en)."
            ),
            "x-govstd-region": pkg.region,
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "system"},
            {"name": "catalogue", "description": "事项目录、办事指南、表单、代码集"},
            {"name": "applications", "description": "申请与办理"},
            {"name": "materials", "description": "申请材料"},
            {"name": "staff", "description": "工作人员"},
            {"name": "bundles", "description": "一件事一次办"},
            {"name": "policies", "description": "政策通：汇聚、匹配、送达、兑现"},
            {"name": "data", "description": "数据资源目录、数据共享、数据质量、事件、异议"},
        ],
        "paths": _paths(pkg),
        "components": {
            "schemas": schemas,
            "parameters": parameters(pkg),
            "responses": responses(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
    # The version names the document's content (not the sources' hash: a comment
    # in a YAML file must not rewrite openapi.json).
    data = json_bytes(document)
    version = f"1.0.0+{bytes_fingerprint(data)[:12]}"
    document["info"]["version"] = version
    placeholder = f'"version": "{_UNVERSIONED}"'.encode()
    if data.count(placeholder) == 1:  # else a text of the package reads so: write it again
        at, view = data.index(placeholder), memoryview(data)  # in pieces, not copied
        versioned = f'"version": "{version}"'.encode()
        return document, (view[:at], versioned, view[at + len(placeholder) :])
    return document, (json_bytes(document),)


def render_openapi(pkg: PackageIR) -> list[GeneratedFile]:
    """``openapi.json``."""
    return [GeneratedFile("openapi.json", _document(pkg)[1])]
