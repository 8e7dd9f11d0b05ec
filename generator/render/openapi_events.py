"""The OpenAPI paths and schemas of events and objections (docs/data.md: ## Events, ## Objections).

Merged into the document by :mod:`generator.render.openapi`.
"""

from __future__ import annotations

from typing import Any

from generator.ir import PackageIR
from generator.render.openapi_components import (
    WRITE_ERRORS,
    Schema,
    json_body,
    ok,
    operation,
    query,
    ref,
)

STATUSES = ["open", "corrected", "rejected"]
NULLABLE = {"type": ["string", "null"]}
WHEN = {"type": "string", "format": "date-time"}


def event_schemas(pkg: PackageIR) -> dict[str, Schema]:
    reason = {"type": "string", "minLength": 1, "maxLength": 500}
    place = {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "description": "where the case holds the element: a field id, or group[i].field",
    }
    return {
        "Event": {
            "type": "object",
            "description": "a CloudEvents 1.0 event (JSON format); data never holds a "
            "sensitive value",
            "required": ["specversion", "id", "source", "type", "time", "sequence", "data"],
            "properties": {
                "specversion": {"const": "1.0"},
                "id": {"type": "string"},
                "source": {"type": "string"},
                "type": {"type": "string", "examples": ["cn.gov.govstd.application.submitted"]},
                "time": WHEN,
                "subject": {"type": "string", "description": "the application id"},
                "datacontenttype": {"const": "application/json"},
                "sequence": {"type": "string", "description": "the order of events"},
                "data": {"type": "object"},
            },
        },
        "EventPage": {
            "type": "object",
            "required": ["items", "next"],
            "properties": {
                "items": {"type": "array", "items": ref("schemas", "Event")},
                "next": {"type": "integer", "description": "the after= of the next page"},
            },
        },
        "ObjectionFiling": {
            "type": "object",
            "required": ["application", "element", "reason"],
            "additionalProperties": False,
            "properties": {
                "application": {"type": "string", "format": "uuid"},
                "element": {"type": "string", "minLength": 1, "maxLength": 63},
                "reason": reason,
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
                "note": reason,
            },
        },
        "ObjectionRejection": {
            "type": "object",
            "required": ["reason"],
            "additionalProperties": False,
            "properties": {"reason": reason},
        },
        "Objection": {
            "type": "object",
            "required": ["id", "application", "element", "status", "reason", "created_at"],
            "properties": {
                "id": {"type": "integer"},
                "application": {"type": "string"},
                "number": {"type": "string"},
                "matter": {"type": "string"},
                "region": {"type": "string"},
                "element": {"type": "string"},
                "field": NULLABLE,
                "status": {"type": "string", "enum": STATUSES},
                "reason": {"type": "string"},
                "objector_role": {"type": "string"},
                "created_at": WHEN,
                "resolved_at": {"type": ["string", "null"], "format": "date-time"},
                "resolution": NULLABLE,
                "provider": {
                    "type": "object",
                    "properties": {"code": NULLABLE, "name": NULLABLE},
                },
            },
        },
        "ObjectionPage": {
            "type": "object",
            "required": ["items", "total", "page", "page_size"],
            "properties": {
                "items": {"type": "array", "items": ref("schemas", "Objection")},
                "total": {"type": "integer"},
                "page": {"type": "integer"},
                "page_size": {"type": "integer"},
            },
        },
        "ObjectionStats": {
            "type": "object",
            "required": ["open", "by_age", "by_element", "corrected", "rejected"],
            "properties": {
                "open": {"type": "integer"},
                "oldest_days": {"type": ["number", "null"]},
                "median_age_days": {"type": ["number", "null"]},
                "by_age": {"type": "object", "additionalProperties": {"type": "integer"}},
                "by_element": {"type": "array", "items": {"type": "object"}},
                "corrected": {"type": "integer"},
                "rejected": {"type": "integer"},
                "mean_days_to_resolve": {"type": ["number", "null"]},
            },
        },
    }


def event_parameters() -> dict[str, Schema]:
    return {
        "objection": {
            "name": "id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
            "description": "objection id",
        },
    }


def event_paths(pkg: PackageIR) -> dict[str, Any]:
    """The paths."""
    return {
        "/api/staff/events": {
            "get": operation(
                "listEvents",
                "事件 / the events of the caller's regions after a sequence, oldest first",
                "data",
                {"200": ok("a page of events", "EventPage")},
                errors=("401", "403", "422"),
                parameters=(
                    query("after", {"type": "integer", "minimum": 0}, "the last sequence read"),
                    query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "events"),
                ),
                secured=True,
            )
        },
        "/api/objections": {
            "post": operation(
                "fileObjection",
                "异议 / dispute a value stored in a case (its applicant, or staff)",
                "data",
                {"201": ok("the objection", "Objection")},
                errors=WRITE_ERRORS,
                body=json_body("ObjectionFiling"),
                secured=True,
            ),
            "get": operation(
                "listObjections",
                "异议列表 / the caller's objections (staff: their regions')",
                "data",
                {"200": ok("a page of objections", "ObjectionPage")},
                errors=("401", "422"),
                parameters=(
                    query("status", {"type": "string", "enum": STATUSES}, "objection status"),
                    "page",
                    "page_size",
                ),
                secured=True,
            ),
        },
        "/api/objections/{id}": {
            "get": operation(
                "getObjection",
                "异议 / one objection",
                "data",
                {"200": ok("the objection", "Objection")},
                errors=("401", "404", "422"),
                parameters=("objection",),
                secured=True,
            )
        },
        "/api/staff/objections/{id}/actions/correct": {
            "post": operation(
                "correctObjection",
                "更正 / store the corrected value (the provider's officers)",
                "data",
                {"200": ok("the objection, corrected", "Objection")},
                errors=WRITE_ERRORS,
                parameters=("objection",),
                body=json_body("ObjectionCorrection"),
                secured=True,
            )
        },
        "/api/staff/objections/{id}/actions/reject": {
            "post": operation(
                "rejectObjection",
                "驳回 / reject the objection with a reason (the provider's officers)",
                "data",
                {"200": ok("the objection, rejected", "Objection")},
                errors=WRITE_ERRORS,
                parameters=("objection",),
                body=json_body("ObjectionRejection"),
                secured=True,
            )
        },
        "/api/staff/objections/stats": {
            "get": operation(
                "objectionStats",
                "异议统计 / open objections and their age",
                "data",
                {"200": ok("statistics", "ObjectionStats")},
                errors=("401", "403", "422"),
                parameters=("region",),
                secured=True,
            )
        },
    }
