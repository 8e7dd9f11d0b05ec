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
from generator.render import GeneratedFile
from generator.render.openapi_components import (
    ERROR_REF,
    JSON,
    UPLOAD_BODY,
    Schema,
    api_schemas,
    error_schemas,
    json_body,
    label,
    ok,
    operation,
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
from generator.render.schemas import dump_json, form_schema
from runtime.uploads import SIGNATURES

# What a stored material file is served as: the types uploads are recognised by.
STORED_MEDIA_TYPES = sorted({media for _, media in SIGNATURES})

__all__ = ["OPENAPI_VERSION", "openapi_document", "render_openapi"]

OPENAPI_VERSION = "3.1.0"


# --- paths -----------------------------------------------------------------------------


def _paths(pkg: PackageIR) -> dict[str, Schema]:
    form_of = {m.id: m.form for r in pkg.regions for m in r.matters}
    forms_map = {
        matter: ref("schemas", schema_name(form)) for matter, form in sorted(form_of.items())
    }
    submit = operation(
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
        body=json_body("Submission"),
        secured=True,
    )
    submit["x-govstd-forms"] = forms_map
    application = ("application",)
    return {
        "/healthz": {
            "get": operation(
                "health",
                "健康检查 / health",
                "system",
                {
                    "200": ok("ok", "Health"),
                    "503": ok(
                        "数据库无应答或不在本部署包的版本 / the database does not answer or is "
                        "not at this package's revision",
                        ref("schemas", "HealthUnavailable"),
                    ),
                },
            )
        },
        "/openapi.json": {
            "get": operation(
                "openapi",
                "本文档 / this OpenAPI document",
                "system",
                {"200": ok("the OpenAPI 3.1 document", {"type": "object"})},
            )
        },
        "/docs": {
            "get": operation(
                "docs",
                "接口文档页面 / API page (works offline)",
                "system",
                {"200": ok("an HTML page", {"type": "string"}, "text/html")},
            )
        },
        "/api/matters": {
            "get": operation(
                "listMatters",
                "事项目录 / the region's matters",
                "catalogue",
                {"200": ok("matters", "MatterList")},
                errors=("404", "422"),
                parameters=(
                    query("q", {"type": "string"}, "search text"),
                    query("type", {"type": "string"}, "事项类型 code"),
                    "region",
                ),
            )
        },
        "/api/matters/{matter}": {
            "get": operation(
                "getServiceGuide",
                "办事指南 / a matter's service guide",
                "catalogue",
                {"200": ok("the service guide", "ServiceGuide")},
                errors=("404", "422"),
                parameters=("matter", "region"),
            )
        },
        "/api/matters/{matter}/applications": {"post": submit},
        "/api/forms/{form}/schema": {
            "get": operation(
                "getFormSchema",
                "表单的 JSON Schema / JSON Schema (2020-12) of a submission's data",
                "catalogue",
                {"200": ok("the schema", {"type": "object"}, "application/schema+json")},
                errors=("404",),
                parameters=("form",),
            )
        },
        "/api/codesets/{codeset}": {
            "get": operation(
                "getCodeSet",
                "代码集 / a code set's values",
                "catalogue",
                {"200": ok("the code set", "CodeSet")},
                errors=("404",),
                parameters=("codeset",),
            )
        },
        "/api/applications": {
            "get": operation(
                "listOwnApplications",
                "我的申请 / the caller's own applications",
                "applications",
                {"200": ok("a page of applications", "ApplicationPage")},
                errors=("401", "403", "422"),
                parameters=("page", "page_size"),
                secured=True,
            )
        },
        "/api/applications/{id}": {
            "get": operation(
                "getApplication",
                "申请详情 / one application (applicant: own only; staff: own region)",
                "applications",
                {"200": ok("the application", "Application")},
                errors=("401", "403", "404"),
                parameters=application,
                secured=True,
            )
        },
        "/api/applications/{id}/materials/{material}": {
            "put": operation(
                "uploadMaterial",
                "上传材料 / upload one material file (multipart field file)",
                "materials",
                {"201": ok("stored", "MaterialFile")},
                errors=("400", "401", "403", "404", "409", "413", "415", "422"),
                parameters=(*application, "material"),
                body=UPLOAD_BODY,
                secured=True,
            ),
            "get": operation(
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
            "post": operation(
                "takeStep",
                "办理步骤 / take a workflow step (role per workflow; 受理 without the "
                "required materials: 409 materials_missing, listed in fields)",
                "applications",
                {"200": ok("the application after the step", "ApplicationSummary")},
                errors=("400", "401", "403", "404", "409", "413", "415", "422"),
                parameters=(*application, "transition"),
                body=json_body("Action", required=False),
                secured=True,
            )
        },
        "/api/applications/{id}/evaluation": {
            "post": operation(
                "evaluate",
                "好差评 / rate a final case (1-5), once",
                "applications",
                {"201": ok("recorded", "EvaluationResult")},
                errors=("400", "401", "403", "404", "409", "413", "415", "422"),
                parameters=application,
                body=json_body("Evaluation"),
                secured=True,
            )
        },
        "/api/staff/applications": {
            "get": operation(
                "listStaffApplications",
                "待办/已办 / applications of the staff member's region",
                "staff",
                {"200": ok("a page of applications", "ApplicationPage")},
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
            "post": operation(
                "revealApplication",
                "查看未脱敏数据 / unmasked data (audited)",
                "staff",
                {"200": ok("the data, unmasked", "Revealed")},
                errors=("400", "401", "403", "404", "413", "415", "422"),
                parameters=application,
                body=json_body("Reveal"),
                secured=True,
            )
        },
        "/api/staff/stats": {
            "get": operation(
                "staffStats",
                "统计 / counts by status, overdue, handling time, satisfaction",
                "staff",
                {"200": ok("statistics", "Stats")},
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
            **service_paths(pkg),
            **data_paths(pkg),
            **event_paths(pkg),
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
    return [GeneratedFile("openapi.json", dump_json(openapi_document(pkg)))]
