"""The OpenAPI paths and schemas of one-stop bundles and policies (services.md §3, §4).

Merged into the document by :mod:`generator.render.openapi`. Each bundle's combined
form is a component schema (``bundle_<id>``, the same as ``schemas/bundles/<id>.json``);
the filing operation's ``x-govstd-bundles`` maps each bundle to it.
"""

from __future__ import annotations

from generator.ir import PackageIR
from generator.render.openapi_components import (
    enum_of,
    one_of_schemas,
    ref,
)
from generator.render.schemas import bundle_schema
from runtime.operations import Schema


def bundle_schema_name(bundle_id: str) -> str:
    return f"bundle_{bundle_id}"


def _page(item: str) -> Schema:
    return {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": ref("schemas", item)}},
    }


def service_schemas(pkg: PackageIR) -> dict[str, Schema]:
    regions = enum_of([r.id for r in pkg.regions])
    text = {"type": "object", "additionalProperties": {"type": "string"}}
    any_object = {"type": "object"}
    schemas: dict[str, Schema] = {
        "Bundle": {
            "type": "object",
            "required": ["id", "name", "members"],
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "description": {"type": ["string", "null"]},
                "members": {"type": "array", "items": any_object},
                "materials": {"type": "array", "items": any_object},
                "schema": {"type": "object", "description": "the combined form's JSON Schema"},
            },
        },
        "BundleList": _page("Bundle"),
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
        "BundleFiled": {
            "type": "object",
            "required": ["bundle", "id", "applications"],
            "properties": {
                "bundle": {"type": "string"},
                "id": {"type": "string", "format": "uuid"},
                "applications": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "number", "matter"],
                        "properties": {
                            "id": {"type": "string", "format": "uuid"},
                            "number": {"type": "string"},
                            "matter": {"type": "string"},
                        },
                    },
                },
            },
        },
        "BundleFilingView": {
            "type": "object",
            "required": ["id", "bundle", "region", "applications"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "bundle": {"type": "string"},
                "bundle_name": {"type": "string"},
                "region": {"type": "string"},
                "created_at": {"type": "string", "format": "date-time"},
                "final": {"type": "boolean"},
                "applications": {
                    "type": "array",
                    "items": ref("schemas", "ApplicationSummary"),
                },
            },
        },
        "BundleFilingPage": {
            "type": "object",
            "required": ["items", "total"],
            "properties": {
                "items": {"type": "array", "items": ref("schemas", "BundleFilingView")},
                "total": {"type": "integer"},
                "page": {"type": "integer"},
                "page_size": {"type": "integer"},
            },
        },
        "BundleMaterial": {
            "type": "object",
            "properties": {
                "material": {"type": "string"},
                "applications": {"type": "array", "items": {"type": "string"}},
                "sha256": {"type": "string"},
                "size": {"type": "integer"},
            },
        },
        "Policy": {
            "type": "object",
            "required": ["id", "name", "issuer", "benefit", "apply"],
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "issuer": {"type": "string"},
                "benefit": {"type": "string"},
                "valid": {"type": "object"},
                "audience": {"type": "array", "items": any_object},
                "apply": {"type": "string"},
                "regions": {"type": "array", "items": {"type": "string"}},
                "conditions": {"type": "array", "items": any_object},
            },
        },
        "PolicyList": _page("Policy"),
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
        "MatchResult": {
            "type": "object",
            "required": ["items"],
            "properties": {
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["policy", "eligible", "conditions"],
                        "properties": {
                            "policy": {"type": "string"},
                            "eligible": {"type": ["boolean", "null"]},
                            "conditions": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["expression", "held"],
                                    "properties": {
                                        "expression": {"type": "string"},
                                        "words": {"type": "string"},
                                        "held": {"type": ["boolean", "null"]},
                                    },
                                },
                            },
                        },
                    },
                }
            },
        },
        "Profile": {
            "type": "object",
            "required": ["form", "region", "data"],
            "additionalProperties": False,
            "properties": {
                "form": enum_of(sorted({p.profile for p in pkg.policies})),
                "region": regions,
                "data": any_object,
            },
        },
        "StoredProfile": {
            "type": "object",
            "required": ["form", "region", "data"],
            "properties": {
                "form": {"type": "string"},
                "region": {"type": "string"},
                "data": any_object,
                "updated_at": {"type": "string", "format": "date-time"},
            },
        },
        "Delivery": {
            "type": "object",
            "properties": {
                "policy": {"type": "string"},
                "profiles": {"type": "integer"},
                "eligible": {"type": "integer"},
                "notified": {"type": "integer"},
            },
        },
        "Notification": {
            "type": "object",
            "required": ["id", "policy", "at", "read"],
            "properties": {
                "id": {"type": "integer"},
                "kind": {"type": "string", "enum": ["policy", "objection"]},
                "policy": {"type": ["string", "null"], "description": "null: an objection's"},
                "objection": {"type": "integer", "description": "the objection resolved"},
                "policy_name": {"type": "string"},
                "region": {"type": "string"},
                "at": {"type": "string", "format": "date-time"},
                "read": {"type": "boolean"},
            },
        },
        "NotificationList": _page("Notification"),
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
        "PolicyStats": {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": any_object}},
        },
        "LocalizedText": text,
    }
    for bundle in pkg.bundles:
        if bundle.form is not None:
            schemas[bundle_schema_name(bundle.id)] = bundle_schema(bundle)
    return schemas
