"""The OpenAPI paths and schemas of the data system (services.md §6, docs/data.md): the
data resource catalogue, governed sharing and the data quality report.

Merged into the document by :mod:`generator.render.openapi`, as
:mod:`generator.render.openapi_services` is."""

from __future__ import annotations

from generator.ir import PackageIR
from generator.render.openapi_components import (
    enum_of,
    ref,
)
from runtime.operations import Schema

TEXT_500 = {"type": "string", "minLength": 1, "maxLength": 500}
SHARE = enum_of(["unconditional", "conditional", "none"])


def _object(required: list[str], properties: dict[str, Schema]) -> Schema:
    return {"type": "object", "required": required, "properties": properties}


def _page(item: str) -> Schema:
    return _object(
        ["items", "total"],
        {"items": {"type": "array", "items": ref("schemas", item)}, "total": {"type": "integer"}},
    )


def data_schemas(pkg: PackageIR) -> dict[str, Schema]:
    string, boolean, integer = {"type": "string"}, {"type": "boolean"}, {"type": "integer"}
    nullable = {"type": ["string", "null"]}
    named = _object(["id", "name"], {"id": string, "name": string})
    item = _object(
        ["element", "name", "type", "sensitive", "share_type", "update_cycle"],
        {
            "element": string,
            "name": string,
            "identifier": nullable,
            "type": string,
            "sensitive": boolean,
            "share_type": SHARE,
            "share_type_name": string,
            "update_cycle": enum_of(["realtime"]),
            "update_cycle_name": string,
        },
    )
    element_item = {"type": "object", "properties": {"element": string, "name": string}}
    return {
        "CatalogueItem": item,
        "Resource": _object(
            ["id", "region", "name", "provider", "items"],
            {
                "id": {"type": "string", "description": "the form id"},
                "region": string,
                "name": string,
                "provider": string,
                "provider_code": nullable,
                "matters": {"type": "array", "items": named},
                "items": {"type": "array", "items": ref("schemas", "CatalogueItem")},
            },
        ),
        "ResourceList": {
            **_page("Resource"),
            "properties": {
                **_page("Resource")["properties"],
                "region": string,
            },
        },
        "ElementUse": {
            "allOf": [ref("schemas", "CatalogueItem")],
            "type": "object",
            "properties": {
                "forms": {"type": "array", "items": named},
                "matters": {"type": "array", "items": named},
                "regions": {"type": "array", "items": string},
                "providers": {"type": "array", "items": {"type": "object"}},
                "resources": {"type": "array", "items": {"type": "object"}},
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
                "region": enum_of([r.id for r in pkg.regions]),
                "items": {"type": "array", "minItems": 1, "items": string},
                "purpose": TEXT_500,
                "basis": {**TEXT_500, "description": "the legal basis (共享依据)"},
                "unmasked": boolean,
                "expires": {"type": "string", "format": "date"},
            },
        },
        "SharingDecision": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "reason": {**TEXT_500, "description": "required to refuse or revoke"},
                "expires": {"type": "string", "format": "date", "description": "approve only"},
            },
        },
        "SharingRequest": _object(
            ["id", "resource", "region", "items", "granted", "status", "expires"],
            {
                "id": {"type": "string", "format": "uuid"},
                "resource": string,
                "region": string,
                "requester": string,
                "requester_region": string,
                "purpose": string,
                "basis": string,
                "items": {"type": "array", "items": element_item},
                "granted": {"type": "array", "items": element_item},
                "unmasked": boolean,
                "status": enum_of(["pending", "approved", "refused", "revoked", "expired"]),
                "expires": {"type": "string", "format": "date"},
                "created_at": string,
                "decided_by": nullable,
                "decided_at": nullable,
                "reason": nullable,
            },
        ),
        "SharingRequestPage": _page("SharingRequest"),
        "SharedData": _object(
            ["request", "resource", "region", "items", "applications", "total"],
            {
                "request": string,
                "resource": string,
                "region": string,
                "items": {"type": "array", "items": string},
                "unmasked": boolean,
                "applications": {
                    "type": "array",
                    "items": _object(
                        ["application", "number", "data"],
                        {
                            "application": string,
                            "number": string,
                            "matter": string,
                            "filed_at": string,
                            "data": {
                                "type": "object",
                                "description": "the granted items, by field (masked "
                                "unless granted unmasked)",
                            },
                        },
                    ),
                },
                "total": integer,
                "page": integer,
                "page_size": integer,
            },
        ),
        "DataQuality": _object(
            ["regions", "elements", "conflict_examples"],
            {
                "regions": {"type": "array", "items": string},
                "elements": {
                    "type": "array",
                    "items": _object(
                        ["element", "region", "filled", "empty", "failures", "conflicts"],
                        {
                            "element": string,
                            "name": string,
                            "region": string,
                            "sensitive": boolean,
                            "filled": integer,
                            "empty": integer,
                            "empty_share": {"type": "number"},
                            "failures": integer,
                            "failure_codes": {
                                "type": "object",
                                "additionalProperties": integer,
                            },
                            "conflicts": integer,
                        },
                    ),
                },
                "conflict_examples": {"type": "array", "items": {"type": "object"}},
            },
        ),
    }
