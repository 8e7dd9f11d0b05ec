"""``openapi.json``: the OpenAPI 3.1 document of a region's HTTP API.

Every path of the HTTP API (``/work/shared/spec/interfaces.md``, plus the
staff's audited reveal), with its parameters (the package's matter, form,
code set, material and transition ids as enums), request bodies, responses and
the error format. Submissions: ``POST /api/matters/{matter}/applications``
takes ``{"region", "data"}``; the schema of ``data`` depends on the matter, so
``components.schemas`` holds each form's data schema (``form_<form id>``, the
same as ``schemas/<form>.json``), ``data`` is one of them (``anyOf``) and the
operation's ``x-govstd-forms`` maps each matter to its form's schema. The paths
are the runtime's API routes (``runtime.app.ROUTES``, each named by its
operationId; tests/test_openapi_routes.py holds the two to the same set).
Deterministic: sorted keys, ids in order.
"""

from __future__ import annotations

from typing import Any

from generator.ir import PackageIR, fingerprint
from generator.render import GeneratedFile, json_bytes
from generator.render.openapi_components import (
    ERROR_REF,
    JSON,
    Schema,
    api_schemas,
    error_schemas,
    label,
    parameters,
    query,
    ref,
    responses,
    schema_name,
)
from generator.render.openapi_data import data_parameters, data_paths, data_schemas
from generator.render.openapi_events import event_parameters, event_paths, event_schemas
from generator.render.openapi_services import (
    service_parameters,
    service_paths,
    service_schemas,
)
from generator.render.schemas import form_schema
from runtime.uploads import SIGNATURES

# What a stored material file is served as: the types uploads are recognised by.
STORED_MEDIA_TYPES = sorted({media for _, media in SIGNATURES})

__all__ = ["OPENAPI_VERSION", "openapi_document", "render_openapi"]

OPENAPI_VERSION = "3.1.0"
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


# --- paths -----------------------------------------------------------------------------


def _ok(description: str, schema: Schema, media: str = JSON) -> Schema:
    return {"description": description, "content": {media: {"schema": schema}}}


def _operation(
    operation_id: str,
    summary: str,
    tag: str,
    responses: dict[str, Schema],
    *,
    errors: tuple[str, ...] = (),
    parameters: tuple[str | Schema, ...] = (),
    body: Schema | None = None,
    secured: bool = False,
) -> Schema:
    codes = {
        "400": "BadRequest",
        "401": "Unauthorized",
        "403": "Forbidden",
        "404": "NotFound",
        "409": "Conflict",
        "413": "TooLarge",
        "415": "UnsupportedMediaType",
        "422": "Invalid",
    }
    op: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "parameters": [
            ref("parameters", p) if isinstance(p, str) else p
            for p in (*parameters, "AcceptLanguage")
        ],
        "responses": {
            **responses,
            **{c: ref("responses", codes[c]) for c in errors},
            "503": responses.get("503", ref("responses", "Unavailable")),
        },
    }
    if body is not None:
        op["requestBody"] = body
    op["security"] = BEARER if secured else []
    return op


def _json_body(schema: Schema, required: bool = True) -> Schema:
    return {"required": required, "content": {JSON: {"schema": schema}}}


def _paths(pkg: PackageIR) -> dict[str, Schema]:
    form_of = {m.id: m.form for r in pkg.regions for m in r.matters}
    forms_map = {
        matter: ref("schemas", schema_name(form)) for matter, form in sorted(form_of.items())
    }
    submit = _operation(
        "submitApplication",
        "提交申请 / file an application (applicant)",
        "applications",
        {
            "201": {
                "description": "filed (or, with a reused Idempotency-Key, the first response)",
                "headers": {
                    "Location": {"schema": {"type": "string"}},
                    "Idempotent-Replayed": {"schema": {"type": "string", "const": "true"}},
                },
                "content": {JSON: {"schema": ref("schemas", "Filed")}},
            }
        },
        errors=("400", "401", "403", "404", "409", "413", "415", "422"),
        parameters=("matter", "IdempotencyKey"),
        body=_json_body(ref("schemas", "Submission")),
        secured=True,
    )
    submit["x-govstd-forms"] = forms_map
    application = ("application",)
    return {
        "/healthz": {
            "get": _operation(
                "health",
                "健康检查 / health",
                "system",
                {
                    "200": _ok("ok", ref("schemas", "Health")),
                    "503": _ok(
                        "数据库无应答或不在本部署包的版本 / the database does not answer or is "
                        "not at this package's revision",
                        ref("schemas", "HealthUnavailable"),
                    ),
                },
            )
        },
        "/openapi.json": {
            "get": _operation(
                "openapi",
                "本文档 / this OpenAPI document",
                "system",
                {"200": _ok("the OpenAPI 3.1 document", {"type": "object"})},
            )
        },
        "/docs": {
            "get": _operation(
                "docs",
                "接口文档页面 / API page (works offline)",
                "system",
                {"200": _ok("an HTML page", {"type": "string"}, "text/html")},
            )
        },
        "/api/matters": {
            "get": _operation(
                "listMatters",
                "事项目录 / the region's matters",
                "catalogue",
                {"200": _ok("matters", ref("schemas", "MatterList"))},
                errors=("404", "422"),
                parameters=(
                    query("q", {"type": "string"}, "search text"),
                    query("type", {"type": "string"}, "事项类型 code"),
                    "region",
                ),
            )
        },
        "/api/matters/{matter}": {
            "get": _operation(
                "getServiceGuide",
                "办事指南 / a matter's service guide",
                "catalogue",
                {"200": _ok("the service guide", ref("schemas", "ServiceGuide"))},
                errors=("404", "422"),
                parameters=("matter", "region"),
            )
        },
        "/api/matters/{matter}/applications": {"post": submit},
        "/api/forms/{form}/schema": {
            "get": _operation(
                "getFormSchema",
                "表单的 JSON Schema / JSON Schema (2020-12) of a submission's data",
                "catalogue",
                {"200": _ok("the schema", {"type": "object"}, "application/schema+json")},
                errors=("404",),
                parameters=("form",),
            )
        },
        "/api/codesets/{codeset}": {
            "get": _operation(
                "getCodeSet",
                "代码集 / a code set's values",
                "catalogue",
                {"200": _ok("the code set", ref("schemas", "CodeSet"))},
                errors=("404",),
                parameters=("codeset",),
            )
        },
        "/api/applications": {
            "get": _operation(
                "listOwnApplications",
                "我的申请 / the caller's own applications",
                "applications",
                {"200": _ok("a page of applications", ref("schemas", "ApplicationPage"))},
                errors=("401", "403", "422"),
                parameters=("page", "page_size"),
                secured=True,
            )
        },
        "/api/applications/{id}": {
            "get": _operation(
                "getApplication",
                "申请详情 / one application (applicant: own only; staff: own region)",
                "applications",
                {"200": _ok("the application", ref("schemas", "Application"))},
                errors=("401", "403", "404"),
                parameters=application,
                secured=True,
            )
        },
        "/api/applications/{id}/materials/{material}": {
            "put": _operation(
                "uploadMaterial",
                "上传材料 / upload one material file (multipart field file)",
                "materials",
                {"201": _ok("stored", ref("schemas", "MaterialFile"))},
                errors=("400", "401", "403", "404", "409", "413", "415", "422"),
                parameters=(*application, "material"),
                body={
                    "required": True,
                    "content": {"multipart/form-data": {"schema": ref("schemas", "Upload")}},
                },
                secured=True,
            ),
            "get": _operation(
                "downloadMaterial",
                "下载材料 / download a material file",
                "materials",
                {
                    "200": {
                        "description": "the file, of the type its first bytes show",
                        "content": {
                            media: {"schema": {"type": "string", "contentMediaType": media}}
                            for media in STORED_MEDIA_TYPES
                        },
                    },
                    "503": {
                        "description": "服务暂停，或该材料文件正被反复替换 / service paused "
                        "(database_ahead, database_behind, database_unmigrated; Retry-After), "
                        "or the file was replaced again and again while it was opened "
                        "(material_busy): try again",
                        "content": {JSON: {"schema": ERROR_REF}},
                    },
                },
                errors=("401", "403", "404"),
                parameters=(*application, "material"),
                secured=True,
            ),
        },
        "/api/applications/{id}/actions/{transition}": {
            "post": _operation(
                "takeStep",
                "办理步骤 / take a workflow step (role per workflow; 受理 without the "
                "required materials: 409 materials_missing, listed in fields)",
                "applications",
                {
                    "200": _ok(
                        "the application after the step", ref("schemas", "ApplicationSummary")
                    )
                },
                errors=("400", "401", "403", "404", "409", "413", "415", "422"),
                parameters=(*application, "transition"),
                body=_json_body(ref("schemas", "Action"), required=False),
                secured=True,
            )
        },
        "/api/applications/{id}/evaluation": {
            "post": _operation(
                "evaluate",
                "好差评 / rate a final case (1-5), once",
                "applications",
                {"201": _ok("recorded", ref("schemas", "EvaluationResult"))},
                errors=("400", "401", "403", "404", "409", "413", "415", "422"),
                parameters=application,
                body=_json_body(ref("schemas", "Evaluation")),
                secured=True,
            )
        },
        "/api/staff/applications": {
            "get": _operation(
                "listStaffApplications",
                "待办/已办 / applications of the staff member's region",
                "staff",
                {"200": _ok("a page of applications", ref("schemas", "ApplicationPage"))},
                errors=("401", "403", "422"),
                parameters=(
                    query("status", {"type": "string"}, "workflow state id"),
                    query("matter", {"type": "string"}, "matter id"),
                    query("overdue", {"type": "boolean"}, "only overdue cases"),
                    query("due_soon", {"type": "boolean"}, "only cases due soon"),
                    "region",
                    "page",
                    "page_size",
                ),
                secured=True,
            )
        },
        "/api/staff/applications/{id}/reveal": {
            "post": _operation(
                "revealApplication",
                "查看未脱敏数据 / unmasked data (audited)",
                "staff",
                {"200": _ok("the data, unmasked", ref("schemas", "Revealed"))},
                errors=("400", "401", "403", "404", "413", "415", "422"),
                parameters=application,
                body=_json_body(ref("schemas", "Reveal")),
                secured=True,
            )
        },
        "/api/staff/stats": {
            "get": _operation(
                "staffStats",
                "统计 / counts by status, overdue, handling time, satisfaction",
                "staff",
                {"200": _ok("statistics", ref("schemas", "Stats"))},
                errors=("401", "403", "422"),
                parameters=("region",),
                secured=True,
            )
        },
    }


def openapi_document(pkg: PackageIR) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``pkg``'s HTTP API, as plain data."""
    region = pkg.regions[0] if pkg.regions else None
    name = label(region.name) if region else pkg.region
    schemas: dict[str, Schema] = {**error_schemas(), **api_schemas(pkg)}
    for form in pkg.forms:
        schemas[schema_name(form.id)] = form_schema(form)
    schemas.update(service_schemas(pkg))
    schemas.update(data_schemas(pkg))
    schemas.update(event_schemas(pkg))
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": f"{name}政务服务接口",
            "version": "",
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
        "paths": {
            **_paths(pkg),
            **service_paths(pkg, _operation),
            **data_paths(pkg, _operation),
            **event_paths(pkg, _operation),
        },
        "components": {
            "schemas": schemas,
            "parameters": {
                **parameters(pkg),
                **service_parameters(pkg),
                **data_parameters(pkg),
                **event_parameters(),
            },
            "responses": responses(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
    # The version names the document's content (not the sources' hash: a comment
    # in a YAML file must not rewrite openapi.json).
    document["info"]["version"] = f"1.0.0+{fingerprint(document)[:12]}"
    return document


def render_openapi(pkg: PackageIR) -> list[GeneratedFile]:
    """``openapi.json``."""
    return [GeneratedFile("openapi.json", json_bytes(openapi_document(pkg)))]
