"""The ``components`` of the OpenAPI document: schemas, parameters, responses.

What the operations of :mod:`runtime.operations` name (by :func:`ref`): the error
format, the answers (their JSON Schemas, from :mod:`runtime.answers`), the request
bodies (with the package's regions and each form's data schema), the path and query
parameters (the package's ids as enums) and the common error responses.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from generator.ir import PackageIR
from runtime.answers import DOCUMENTED
from runtime.operations import JSON, Schema, query

ERROR_REF = {"$ref": "#/components/schemas/Error"}


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


ERROR_RESPONSES = {  # components.responses by status
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    413: "TooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
}


def schema_name(form_id: str) -> str:
    return f"form_{form_id}"


def enum_of(values: list[str]) -> Schema:
    return {"type": "string", "enum": values} if values else {"type": "string"}


def one_of_schemas(names: list[str], description: str) -> Schema:
    """A submission's ``data``: the schema of one of the named forms (which one the path
    says: ``x-govstd-forms`` / ``x-govstd-bundles`` of the operation)."""
    if not names:
        return {"type": "object", "description": description}
    return {"anyOf": [ref("schemas", n) for n in names], "description": description}


def label(text: dict[str, str]) -> str:
    return text.get("zh") or next(iter(text.values()), "")


def error_schemas() -> dict[str, Schema]:
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
                "fields": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": (
                        "code 'rule' only: the paths of the form fields the rule reads "
                        "(a repeating group by its id), to show its message beside each"
                    ),
                },
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
                        "fields": {"type": "array", "items": ref("schemas", "FieldProblem")},
                    },
                }
            },
        },
    }


class _Untitled(GenerateJsonSchema):
    """pydantic's JSON Schema without a title on every property."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def bundle_schema_name(bundle_id: str) -> str:
    return f"bundle_{bundle_id}"


def answer_schemas(regions: list[str]) -> dict[str, Schema]:
    """The API's answers, from their one home (:mod:`runtime.answers`); an application's
    region is one of the package's."""
    schemas: dict[str, Schema] = {}
    for shape in DOCUMENTED:
        schema = TypeAdapter(shape).json_schema(
            ref_template="#/components/schemas/{model}", schema_generator=_Untitled
        )
        schemas.update(schema.pop("$defs", {}))
        schemas[shape.__name__] = schema
    region = schemas["ApplicationSummary"]["properties"]["region"]
    region.update(enum_of(regions))
    schemas["Application"]["properties"]["region"] = region
    return schemas


def body_schemas(pkg: PackageIR) -> dict[str, Schema]:
    """The request bodies the operations name (each route checks its own)."""
    regions = enum_of([r.id for r in pkg.regions])
    text_500 = {"type": "string", "minLength": 1, "maxLength": 500}
    place = {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "description": "where the case holds the element: a field id, or group[i].field",
    }
    return {
        "Submission": {
            "type": "object",
            "required": ["region", "data"],
            "additionalProperties": False,
            "properties": {
                "region": {**regions, "description": "the region it is filed in"},
                "data": one_of_schemas(
                    sorted({schema_name(m.form) for r in pkg.regions for m in r.matters}),
                    "the data of the matter's form: x-govstd-forms of the operation names "
                    "the form of each matter (also GET /api/forms/{form}/schema)",
                ),
            },
        },
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
            "required": ["reason"],
            "properties": {
                "reason": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200,
                    "description": "why the values are shown (audited) / 查看理由（记入审计）",
                }
            },
        },
        "BundleSubmission": {
            "type": "object",
            "required": ["region", "data"],
            "additionalProperties": False,
            "properties": {
                "region": regions,
                "data": one_of_schemas(
                    [bundle_schema_name(b.id) for b in pkg.bundles if b.form is not None],
                    "the data of the bundle's combined form (x-govstd-bundles of the operation)",
                ),
            },
        },
        "MatchRequest": {
            "type": "object",
            "required": ["region"],
            "additionalProperties": False,
            "properties": {
                "region": regions,
                "profile": {
                    "type": ["object", "null"],
                    "description": "the profile form's data; left out or null: the signed-in "
                    "applicant's stored profile",
                },
            },
        },
        "Profile": {
            "type": "object",
            "required": ["form", "region", "data"],
            "additionalProperties": False,
            "properties": {
                "form": enum_of(sorted({p.profile for p in pkg.policies})),
                "region": regions,
                "data": {"type": "object"},
            },
        },
        "Claim": {
            "type": "object",
            "required": ["region"],
            "additionalProperties": False,
            "properties": {
                "region": regions,
                "data": {
                    "type": ["object", "null"],
                    "description": "the claim form's data over what the stored profile fills",
                },
            },
        },
        "SharingRequestBody": {
            "type": "object",
            "required": ["resource", "items", "purpose", "basis"],
            "additionalProperties": False,
            "properties": {
                "resource": {
                    "type": "string",
                    "description": "a resource (form id) of the region's catalogue",
                },
                "region": regions,
                "items": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                "purpose": text_500,
                "basis": {**text_500, "description": "the legal basis (共享依据)"},
                "unmasked": {"type": "boolean"},
                "expires": {"type": "string", "format": "date"},
            },
        },
        "SharingDecision": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "reason": {**text_500, "description": "required to refuse or revoke"},
                "expires": {"type": "string", "format": "date", "description": "approve only"},
            },
        },
        "ObjectionFiling": {
            "type": "object",
            "required": ["application", "element", "reason"],
            "additionalProperties": False,
            "properties": {
                "application": {"type": "string", "format": "uuid"},
                "element": {"type": "string", "minLength": 1, "maxLength": 63},
                "reason": text_500,
                "field": place,
            },
        },
        "ObjectionCorrection": {
            "type": "object",
            "required": ["value"],
            "additionalProperties": False,
            "properties": {
                "value": {"description": "the corrected value"},
                "field": place,
                "note": text_500,
            },
        },
        "ObjectionRejection": {
            "type": "object",
            "required": ["reason"],
            "additionalProperties": False,
            "properties": {"reason": text_500},
        },
    }


def responses() -> dict[str, Schema]:
    described = {
        "BadRequest": "请求无效 / bad request (e.g. malformed JSON, a bad Idempotency-Key)",
        "Unauthorized": "需要有效的身份令牌 / a valid bearer token is required",
        "Forbidden": "无权执行此操作 / the role may not do this",
        "NotFound": "未找到 / not found (another applicant's application too)",
        "Conflict": "状态冲突 / conflict (state, concurrent change, idempotency key reuse)",
        "TooLarge": "请求体过大 / the body or file is too large",
        "UnsupportedMediaType": "请求体类型不支持 / unsupported media type",
        "Invalid": "提交的数据有误 / invalid data; error.fields lists each problem",
        "Unavailable": "服务暂停：数据库不在本部署包的版本 / service paused: the database is "
        "not at this package's revision (error.code database_ahead, database_behind or "
        "database_unmigrated; Retry-After)",
    }
    return {
        name: {"description": text, "content": {JSON: {"schema": ERROR_REF}}}
        for name, text in described.items()
    }


def path_parameter(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


def parameters(pkg: PackageIR) -> dict[str, Schema]:
    """The parameters the operations name (:class:`runtime.operations.Operation`)."""
    matters = sorted({m.id for r in pkg.regions for m in r.matters})
    materials = sorted({x.id for r in pkg.regions for m in r.matters for x in m.materials})
    transitions = sorted({t.id for w in pkg.workflows for t in w.transitions})

    path = path_parameter
    return {
        "matter": path("matter", enum_of(matters), "matter id (事项)"),
        "form": path("form", enum_of([f.id for f in pkg.forms]), "form id (表单)"),
        "codeset": path("codeset", enum_of([c.id for c in pkg.codesets]), "code set id (代码集)"),
        "application": path("id", {"type": "string", "format": "uuid"}, "application id"),
        "material": path("material", enum_of(materials), "material id (材料)"),
        "transition": path("transition", enum_of(transitions), "workflow step id"),
        "bundle": path("bundle", enum_of([b.id for b in pkg.bundles]), "bundle id (一件事)"),
        "policy": path("policy", enum_of([p.id for p in pkg.policies]), "policy id (惠企政策)"),
        "notification": path("notification", {"type": "integer", "minimum": 1}, "notification id"),
        "element": path("element", enum_of([e.id for e in pkg.elements]), "data element id"),
        "sharingRequest": path("id", {"type": "string", "format": "uuid"}, "sharing request id"),
        "sharingAction": path("action", enum_of(["approve", "refuse", "revoke"]), "decision"),
        "objection": path("id", {"type": "integer", "minimum": 1}, "objection id"),
        "profileForm": query(
            "form", enum_of(sorted({p.profile for p in pkg.policies})), "profile form id"
        ),
        "region": query("region", enum_of([r.id for r in pkg.regions]), "region id"),
        "page": query("page", {"type": "integer", "minimum": 1, "default": 1}, "page, from 1"),
        "page_size": query(
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
