"""The OpenAPI paths and schemas of the data system (services.md §6, docs/data.md): the
data resource catalogue, governed sharing and the data quality report.

Merged into the document by :mod:`generator.render.openapi`, as
:mod:`generator.render.openapi_services` is."""

from __future__ import annotations

from typing import Any

from generator.ir import PackageIR
from generator.render.openapi_components import (
    WRITE_ERRORS,
    Schema,
    enum_of,
    json_body,
    ok,
    operation,
    path_parameter,
    query,
    ref,
)

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


def data_parameters(pkg: PackageIR) -> dict[str, Schema]:
    path = path_parameter
    return {
        "element": path("element", enum_of([e.id for e in pkg.elements]), "data element id"),
        "sharingRequest": path("id", {"type": "string", "format": "uuid"}, "sharing request id"),
        "sharingAction": path("action", enum_of(["approve", "refuse", "revoke"]), "decision"),
        "catalogueQuery": query(
            "q", {"type": "string", "maxLength": 64}, "search text (names and ids, zh or en)"
        ),
    }


def data_paths(pkg: PackageIR) -> dict[str, Any]:
    """The paths."""
    return {
        "/api/catalogue": {
            "get": operation(
                "listDataResources",
                "数据资源目录 / a region's data resources (one per form)",
                "data",
                {"200": ok("the resources", "ResourceList")},
                errors=("422",),
                parameters=("region", "catalogueQuery"),
            )
        },
        "/api/catalogue/elements/{element}": {
            "get": operation(
                "getElementUse",
                "数据元使用情况 / where a data element is collected",
                "data",
                {"200": ok("forms, matters, regions, providers", "ElementUse")},
                errors=("404",),
                parameters=("element",),
            )
        },
        "/api/sharing/requests": {
            "post": operation(
                "requestSharing",
                "共享申请 / ask for items of a resource (staff, data stewards)",
                "data",
                {"201": ok("the request", "SharingRequest")},
                errors=WRITE_ERRORS,
                body=json_body("SharingRequestBody"),
                secured=True,
            ),
            "get": operation(
                "listSharingRequests",
                "共享申请列表 / the requests the caller may see",
                "data",
                {"200": ok("a page of requests", "SharingRequestPage")},
                errors=("401", "403", "422"),
                parameters=("page", "page_size"),
                secured=True,
            ),
        },
        "/api/sharing/requests/{id}": {
            "get": operation(
                "getSharingRequest",
                "共享申请 / one request",
                "data",
                {"200": ok("the request", "SharingRequest")},
                errors=("401", "403", "404"),
                parameters=("sharingRequest",),
                secured=True,
            )
        },
        "/api/sharing/requests/{id}/actions/{action}": {
            "post": operation(
                "decideSharingRequest",
                "审批、拒绝、撤销共享 / approve or refuse (a steward of the provider region, "
                "not the requester), revoke (a steward or the requester)",
                "data",
                {"200": ok("the request", "SharingRequest")},
                errors=WRITE_ERRORS,
                parameters=("sharingRequest", "sharingAction"),
                body=json_body("SharingDecision", required=False),
                secured=True,
            )
        },
        "/api/sharing/data/{id}": {
            "get": operation(
                "readSharedData",
                "共享数据 / a page of the granted items (the requester; every read audited)",
                "data",
                {
                    "200": ok(
                        "the granted items of the provider region's applications", "SharedData"
                    )
                },
                errors=("401", "403", "404", "422"),
                parameters=("sharingRequest", "page", "page_size"),
                secured=True,
            )
        },
        "/api/staff/data-quality": {
            "get": operation(
                "getDataQuality",
                "数据质量 / per element and region: filled, empty, failing checks, one "
                "identifier with several names (supervisors, data stewards)",
                "data",
                {"200": ok("the report, worst elements first", "DataQuality")},
                errors=("401", "403", "422"),
                parameters=("region",),
                secured=True,
            )
        },
    }
