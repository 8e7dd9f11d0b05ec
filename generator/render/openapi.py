"""``openapi.json``: the OpenAPI 3.1 document of a region's HTTP API.

Every path of the HTTP API (``/work/shared/spec/interfaces.md``, plus the
staff's audited reveal), with its parameters (the package's matter, form,
code set, material and transition ids as enums), request bodies, responses and
the error format. Submissions: ``POST /api/matters/{matter}/applications``
takes ``{"region", "data"}``; the schema of ``data`` depends on the matter, so
``components.schemas`` holds each form's data schema (``form_<form id>``, the
same as ``schemas/<form>.json``) and the operation's ``x-govstd-forms`` maps
each matter to its form's schema. Deterministic: sorted keys, ids in order.
"""

from __future__ import annotations

from typing import Any

from generator.ir import PackageIR, fingerprint
from generator.render import GeneratedFile
from generator.render.schemas import dump_json, form_schema

__all__ = ["OPENAPI_VERSION", "openapi_document", "render_openapi"]

OPENAPI_VERSION = "3.1.0"
JSON = "application/json"
ERROR_REF = {"$ref": "#/components/schemas/Error"}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]

Schema = dict[str, Any]


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _schema_name(form_id: str) -> str:
    return f"form_{form_id}"


def _enum(values: list[str]) -> Schema:
    return {"type": "string", "enum": values} if values else {"type": "string"}


def _label(text: dict[str, str]) -> str:
    return text.get("zh") or next(iter(text.values()), "")


# --- components ----------------------------------------------------------------------


def _error_schemas() -> dict[str, Schema]:
    return {
        "FieldProblem": {
            "type": "object",
            "required": ["path", "code", "message"],
            "properties": {
                "path": {
                    "type": "string",
                    "description": "e.g. members[0].citizen_id_number; a rule's id; '' for all",
                },
                "code": {"type": "string", "description": "e.g. required, gb11643.checksum"},
                "message": {"type": "string", "description": "in the Accept-Language language"},
            },
        },
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "request_id": {"type": "string"},
                        "fields": {"type": "array", "items": _ref("schemas", "FieldProblem")},
                    },
                }
            },
        },
    }


def _api_schemas(pkg: PackageIR) -> dict[str, Schema]:
    regions = [r.id for r in pkg.regions]
    nullable_string = {"type": ["string", "null"]}
    nullable_datetime = {"type": ["string", "null"], "format": "date-time"}
    summary: Schema = {
        "type": "object",
        "required": ["id", "number", "matter", "region", "status"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "number": {"type": "string", "description": "受理编号"},
            "matter": {"type": "string"},
            "matter_name": {"type": "string"},
            "form": {"type": "string"},
            "region": _enum(regions),
            "status": {"type": "string"},
            "status_name": {"type": "string"},
            "final": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "clock_started_at": nullable_datetime,
            "paused": {"type": "boolean"},
            "paused_days": {"type": "integer"},
            "finished_at": nullable_datetime,
            "deadline": {"type": ["string", "null"], "format": "date"},
            "overdue": {"type": "boolean"},
            "due_soon": {"type": "boolean"},
            "standards_version": nullable_string,
            "applicant": {"type": "string", "description": "masked; staff views only"},
        },
    }
    page = {
        "type": "object",
        "required": ["items", "total"],
        "properties": {
            "items": {"type": "array", "items": _ref("schemas", "ApplicationSummary")},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "page_size": {"type": "integer"},
        },
    }
    detail = {
        "allOf": [
            _ref("schemas", "ApplicationSummary"),
            {
                "type": "object",
                "properties": {
                    "data": {
                        "type": "object",
                        "description": "the form data; sensitive values masked except "
                        "to their own applicant",
                    },
                    "transitions": {"type": "array", "items": {"type": "object"}},
                    "materials": {"type": "array", "items": {"type": "object"}},
                    "evaluation": {"type": ["object", "null"]},
                },
            },
        ]
    }
    return {
        "Health": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"type": "string", "const": "ok"}},
        },
        "MatterList": {
            "type": "object",
            "required": ["items", "total"],
            "properties": {
                "region": {"type": "string"},
                "items": {"type": "array", "items": {"type": "object"}},
                "total": {"type": "integer"},
            },
        },
        "ServiceGuide": {
            "type": "object",
            "description": "办事指南: materials, time limits, fees, basis, form, workflow",
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "form": {"type": "string"},
                "schema": {"type": "string", "description": "path of the form's JSON Schema"},
                "materials": {"type": "array", "items": {"type": "object"}},
                "guide": {"type": "object"},
                "workflow": {"type": ["object", "null"]},
            },
        },
        "CodeSet": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "values": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "code": {"type": "string"},
                            "name": {"type": "string"},
                            "parent": nullable_string,
                        },
                    },
                },
            },
        },
        "Submission": {
            "type": "object",
            "required": ["region", "data"],
            "additionalProperties": False,
            "properties": {
                "region": {**_enum(regions), "description": "the region it is filed in"},
                "data": {
                    "type": "object",
                    "description": "the form data: see x-govstd-forms of the operation and "
                    "GET /api/forms/{form}/schema",
                },
            },
        },
        "ApplicationSummary": summary,
        "ApplicationPage": page,
        "Application": detail,
        "Action": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "reason": {"type": ["string", "null"], "maxLength": 4000},
                "data": {
                    "type": ["object", "null"],
                    "description": "corrected form data (e.g. on resubmission)",
                },
            },
        },
        "Evaluation": {
            "type": "object",
            "required": ["score"],
            "additionalProperties": False,
            "properties": {
                "score": {"type": "integer", "minimum": 1, "maximum": 5},
                "comment": {"type": ["string", "null"]},
            },
        },
        "EvaluationResult": {
            "type": "object",
            "properties": {
                "application_id": {"type": "string"},
                "score": {"type": "integer"},
                "comment": nullable_string,
                "created_at": {"type": "string", "format": "date-time"},
            },
        },
        "MaterialFile": {
            "type": "object",
            "properties": {
                "material": {"type": "string"},
                "content_type": {"type": "string"},
                "size": {"type": "integer"},
                "sha256": {"type": "string"},
                "filename": {"type": "string"},
                "uploaded_at": {"type": "string", "format": "date-time"},
            },
        },
        "Upload": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "string", "contentMediaType": "application/octet-stream"}
            },
        },
        "Reveal": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"reason": {"type": ["string", "null"]}},
        },
        "Revealed": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "number": {"type": "string"},
                "data": {"type": "object"},
            },
        },
        "Stats": {
            "type": "object",
            "properties": {
                "total": {"type": "integer"},
                "by_status": {"type": "object", "additionalProperties": {"type": "integer"}},
                "overdue": {"type": "integer"},
                "finished": {"type": "integer"},
                "average_handling_days": {"type": ["number", "null"]},
                "satisfaction": {
                    "type": "object",
                    "properties": {
                        "average": {"type": ["number", "null"]},
                        "count": {"type": "integer"},
                    },
                },
            },
        },
    }


def _responses() -> dict[str, Schema]:
    described = {
        "BadRequest": "请求无效 / bad request (e.g. malformed JSON, a bad Idempotency-Key)",
        "Unauthorized": "需要有效的身份令牌 / a valid bearer token is required",
        "Forbidden": "无权执行此操作 / the role may not do this",
        "NotFound": "未找到 / not found (another applicant's application too)",
        "Conflict": "状态冲突 / conflict (state, concurrent change, idempotency key reuse)",
        "TooLarge": "请求体过大 / the body or file is too large",
        "UnsupportedMediaType": "请求体类型不支持 / unsupported media type",
        "Invalid": "提交的数据有误 / invalid data; error.fields lists each problem",
    }
    return {
        name: {"description": text, "content": {JSON: {"schema": ERROR_REF}}}
        for name, text in described.items()
    }


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _parameters(pkg: PackageIR) -> dict[str, Schema]:
    matters = sorted({m.id for r in pkg.regions for m in r.matters})
    materials = sorted({x.id for r in pkg.regions for m in r.matters for x in m.materials})
    transitions = sorted({t.id for w in pkg.workflows for t in w.transitions})

    def path(name: str, schema: Schema, description: str) -> Schema:
        return {
            "name": name,
            "in": "path",
            "required": True,
            "schema": schema,
            "description": description,
        }

    return {
        "matter": path("matter", _enum(matters), "matter id (事项)"),
        "form": path("form", _enum([f.id for f in pkg.forms]), "form id (表单)"),
        "codeset": path("codeset", _enum([c.id for c in pkg.codesets]), "code set id (代码集)"),
        "application": path("id", {"type": "string", "format": "uuid"}, "application id"),
        "material": path("material", _enum(materials), "material id (材料)"),
        "transition": path("transition", _enum(transitions), "workflow step id"),
        "region": _query("region", _enum([r.id for r in pkg.regions]), "region id"),
        "page": _query("page", {"type": "integer", "minimum": 1, "default": 1}, "page, from 1"),
        "page_size": _query(
            "page_size",
            {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
            "items per page",
        ),
        "AcceptLanguage": {
            "name": "Accept-Language",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "default": "zh"},
            "description": "language of messages: zh (default) or en",
        },
        "IdempotencyKey": {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "pattern": "^[!-~]{1,128}$"},
            "description": "a retry with the same key and body returns the first response",
        },
    }


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
            _ref("parameters", p) if isinstance(p, str) else p
            for p in (*parameters, "AcceptLanguage")
        ],
        "responses": {**responses, **{c: _ref("responses", codes[c]) for c in errors}},
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
        matter: _ref("schemas", _schema_name(form)) for matter, form in sorted(form_of.items())
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
                "content": {JSON: {"schema": _ref("schemas", "ApplicationSummary")}},
            }
        },
        errors=("400", "401", "403", "404", "409", "413", "415", "422"),
        parameters=("matter", "IdempotencyKey"),
        body=_json_body(_ref("schemas", "Submission")),
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
                {"200": _ok("ok", _ref("schemas", "Health"))},
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
                {"200": _ok("matters", _ref("schemas", "MatterList"))},
                errors=("404", "422"),
                parameters=(
                    _query("q", {"type": "string"}, "search text"),
                    _query("type", {"type": "string"}, "事项类型 code"),
                    "region",
                ),
            )
        },
        "/api/matters/{matter}": {
            "get": _operation(
                "getServiceGuide",
                "办事指南 / a matter's service guide",
                "catalogue",
                {"200": _ok("the service guide", _ref("schemas", "ServiceGuide"))},
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
                {"200": _ok("the code set", _ref("schemas", "CodeSet"))},
                errors=("404",),
                parameters=("codeset",),
            )
        },
        "/api/applications": {
            "get": _operation(
                "listOwnApplications",
                "我的申请 / the caller's own applications",
                "applications",
                {"200": _ok("a page of applications", _ref("schemas", "ApplicationPage"))},
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
                {"200": _ok("the application", _ref("schemas", "Application"))},
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
                {"201": _ok("stored", _ref("schemas", "MaterialFile"))},
                errors=("400", "401", "403", "404", "409", "413", "415", "422"),
                parameters=(*application, "material"),
                body={
                    "required": True,
                    "content": {"multipart/form-data": {"schema": _ref("schemas", "Upload")}},
                },
                secured=True,
            ),
            "get": _operation(
                "downloadMaterial",
                "下载材料 / download a material file",
                "materials",
                {
                    "200": _ok(
                        "the file",
                        {"type": "string", "contentMediaType": "application/octet-stream"},
                        "application/octet-stream",
                    )
                },
                errors=("401", "403", "404"),
                parameters=(*application, "material"),
                secured=True,
            ),
        },
        "/api/applications/{id}/actions/{transition}": {
            "post": _operation(
                "takeStep",
                "办理步骤 / take a workflow step (role per workflow)",
                "applications",
                {"200": _ok("the application after the step", {"type": "object"})},
                errors=("400", "401", "403", "404", "409", "413", "415", "422"),
                parameters=(*application, "transition"),
                body=_json_body(_ref("schemas", "Action"), required=False),
                secured=True,
            )
        },
        "/api/applications/{id}/evaluation": {
            "post": _operation(
                "evaluate",
                "好差评 / rate a final case (1-5), once",
                "applications",
                {"201": _ok("recorded", _ref("schemas", "EvaluationResult"))},
                errors=("400", "401", "403", "404", "409", "413", "415", "422"),
                parameters=application,
                body=_json_body(_ref("schemas", "Evaluation")),
                secured=True,
            )
        },
        "/api/staff/applications": {
            "get": _operation(
                "listStaffApplications",
                "待办/已办 / applications of the staff member's region",
                "staff",
                {"200": _ok("a page of applications", _ref("schemas", "ApplicationPage"))},
                errors=("401", "403", "422"),
                parameters=(
                    _query("status", {"type": "string"}, "workflow state id"),
                    _query("matter", {"type": "string"}, "matter id"),
                    _query("overdue", {"type": "boolean"}, "only overdue cases"),
                    _query("due_soon", {"type": "boolean"}, "only cases due soon"),
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
                {"200": _ok("the data, unmasked", _ref("schemas", "Revealed"))},
                errors=("400", "401", "403", "404", "413", "415", "422"),
                parameters=application,
                body=_json_body(_ref("schemas", "Reveal"), required=False),
                secured=True,
            )
        },
        "/api/staff/stats": {
            "get": _operation(
                "staffStats",
                "统计 / counts by status, overdue, handling time, satisfaction",
                "staff",
                {"200": _ok("statistics", _ref("schemas", "Stats"))},
                errors=("401", "403", "422"),
                parameters=("region",),
                secured=True,
            )
        },
    }


def openapi_document(pkg: PackageIR) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``pkg``'s HTTP API, as plain data."""
    region = pkg.regions[0] if pkg.regions else None
    name = _label(region.name) if region else pkg.region
    schemas: dict[str, Schema] = {**_error_schemas(), **_api_schemas(pkg)}
    for form in pkg.forms:
        schemas[_schema_name(form.id)] = form_schema(form)
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
        ],
        "paths": _paths(pkg),
        "components": {
            "schemas": schemas,
            "parameters": _parameters(pkg),
            "responses": _responses(),
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
