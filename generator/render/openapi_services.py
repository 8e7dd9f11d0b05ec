"""The OpenAPI paths and schemas of one-stop bundles and policies (services.md §3, §4).

Merged into the document by :mod:`generator.render.openapi`. Each bundle's combined
form is a component schema (``bundle_<id>``, the same as ``schemas/bundles/<id>.json``);
the filing operation's ``x-govstd-bundles`` maps each bundle to it.
"""

from __future__ import annotations

from typing import Any

from generator.ir import PackageIR
from generator.render.openapi_components import (
    UPLOAD_BODY,
    WRITE_ERRORS,
    Schema,
    enum_of,
    json_body,
    ok,
    one_of_schemas,
    operation,
    query,
    ref,
)
from generator.render.schemas import bundle_schema


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


def service_parameters(pkg: PackageIR) -> dict[str, Schema]:
    def path(name: str, values: list[str], description: str) -> Schema:
        return {
            "name": name,
            "in": "path",
            "required": True,
            "schema": enum_of(values),
            "description": description,
        }

    return {
        "bundle": path("bundle", [b.id for b in pkg.bundles], "bundle id (一件事)"),
        "policy": path("policy", [p.id for p in pkg.policies], "policy id (惠企政策)"),
        "bundleMaterial": path(
            "material",
            sorted({x.id for r in pkg.regions for m in r.matters for x in m.materials}),
            "material id (材料)",
        ),
        "notification": {
            "name": "notification",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
            "description": "notification id",
        },
        "profileForm": query(
            "form", enum_of(sorted({p.profile for p in pkg.policies})), "profile form id"
        ),
    }


def service_paths(pkg: PackageIR) -> dict[str, Any]:
    """The paths."""
    file_bundle = operation(
        "fileBundle",
        "一件事一次办 / file every member of a bundle at once (applicant)",
        "bundles",
        {"201": ok("filed, one application per member", "BundleFiled")},
        errors=WRITE_ERRORS,
        parameters=("bundle", "IdempotencyKey"),
        body=json_body("BundleSubmission"),
        secured=True,
    )
    file_bundle["x-govstd-bundles"] = {
        b.id: ref("schemas", bundle_schema_name(b.id)) for b in pkg.bundles if b.form is not None
    }
    return {
        "/api/bundles": {
            "get": operation(
                "listBundles",
                "一件事目录 / bundles offered in a region",
                "bundles",
                {"200": ok("bundles", "BundleList")},
                errors=("404", "422"),
                parameters=("region",),
            )
        },
        "/api/bundles/{bundle}": {
            "get": operation(
                "getBundle",
                "一件事指南 / members, combined materials and the combined form's schema",
                "bundles",
                {"200": ok("the bundle", "Bundle")},
                errors=("404", "422"),
                parameters=("bundle", "region"),
            )
        },
        "/api/bundles/{bundle}/applications": {"post": file_bundle},
        "/api/bundles/applications": {
            "get": operation(
                "listBundleFilings",
                "我的一件事 / the caller's bundle filings, each with its members' statuses",
                "bundles",
                {"200": ok("a page of filings", "BundleFilingPage")},
                errors=("401", "403", "422"),
                parameters=("page", "page_size"),
                secured=True,
            )
        },
        "/api/bundles/applications/{id}": {
            "get": operation(
                "getBundleFiling",
                "一件事办理情况 / one filing with its members' statuses",
                "bundles",
                {"200": ok("the filing", "BundleFilingView")},
                errors=("401", "403", "404"),
                parameters=("application",),
                secured=True,
            )
        },
        "/api/bundles/applications/{id}/materials/{material}": {
            "put": operation(
                "uploadBundleMaterial",
                "上传共用材料 / upload a material once for every member asking it",
                "bundles",
                {"201": ok("stored and attached to each member", "BundleMaterial")},
                errors=WRITE_ERRORS,
                parameters=("application", "bundleMaterial"),
                body=UPLOAD_BODY,
                secured=True,
            )
        },
        "/api/policies": {
            "get": operation(
                "listPolicies",
                "政策汇聚 / policies in force in a region",
                "policies",
                {"200": ok("policies", "PolicyList")},
                errors=("404", "422"),
                parameters=("region",),
            )
        },
        "/api/policies/{policy}": {
            "get": operation(
                "getPolicy",
                "政策详情 / a policy with its conditions in words and as expressions",
                "policies",
                {"200": ok("the policy", "Policy")},
                errors=("404",),
                parameters=("policy",),
            )
        },
        "/api/policies/match": {
            "post": operation(
                "matchPolicies",
                "政策匹配 / match a profile against every policy in force",
                "policies",
                {"200": ok("every policy in force, eligible first", "MatchResult")},
                errors=("400", "413", "415", "422"),
                body=json_body("MatchRequest"),
            )
        },
        "/api/policies/{policy}/claim": {
            "post": operation(
                "claimPolicy",
                "政策兑现 / claim a policy through its matter (applicant)",
                "policies",
                {"201": ok("the claim, an application", "Filed")},
                errors=WRITE_ERRORS,
                parameters=("policy", "IdempotencyKey"),
                body=json_body("Claim"),
                secured=True,
            )
        },
        "/api/profile": {
            "get": operation(
                "getProfile",
                "我的画像 / the caller's stored profile",
                "policies",
                {"200": ok("the profile", "StoredProfile")},
                errors=("401", "403", "404", "422"),
                parameters=("profileForm",),
                secured=True,
            ),
            "put": operation(
                "putProfile",
                "保存画像 / store the caller's profile (validated as a form)",
                "policies",
                {"200": ok("stored", "StoredProfile")},
                errors=("400", "401", "403", "413", "415", "422"),
                body=json_body("Profile"),
                secured=True,
            ),
        },
        "/api/notifications": {
            "get": operation(
                "listNotifications",
                "政策消息 / the caller's notifications",
                "policies",
                {"200": ok("notifications, newest first", "NotificationList")},
                errors=("401", "403"),
                secured=True,
            )
        },
        "/api/notifications/{notification}/read": {
            "post": operation(
                "readNotification",
                "标为已读 / mark a notification read",
                "policies",
                {"200": ok("the notification", "Notification")},
                errors=("401", "403", "404", "422"),
                parameters=("notification",),
                secured=True,
            )
        },
        "/api/staff/policies/{policy}/deliver": {
            "post": operation(
                "deliverPolicy",
                "精准送达 / notify every stored profile the policy fits (staff of its region)",
                "staff",
                {"200": ok("counts", "Delivery")},
                errors=("401", "403", "404"),
                parameters=("policy",),
                secured=True,
            )
        },
        "/api/staff/policies/stats": {
            "get": operation(
                "policyStats",
                "督查评价 / per policy: matched, notified, claimed, granted, satisfaction",
                "staff",
                {"200": ok("statistics", "PolicyStats")},
                errors=("401", "403"),
                secured=True,
            )
        },
    }
