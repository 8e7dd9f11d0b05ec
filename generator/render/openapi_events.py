"""The OpenAPI paths and schemas of events and objections (docs/data.md: ## Events, ## Objections).

Merged into the document by :mod:`generator.render.openapi`.
"""

from __future__ import annotations

from generator.ir import PackageIR
from generator.render.openapi_components import (
    ref,
)
from runtime.operations import Schema

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
