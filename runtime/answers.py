"""What the API answers about applications: each shape once, as a typed dict.

:mod:`runtime.records`, :mod:`runtime.checklist` and :mod:`runtime.submission` build
them (mypy checks every key they write), and the generator documents them from here:
``openapi.json``'s ``ApplicationSummary``, ``ApplicationPage``, ``Application`` and
``Filed`` are these dicts' JSON Schemas (:data:`DOCUMENTED`, through pydantic), every key
required unless ``NotRequired`` and ``additionalProperties: false``, so an answer that
differs from the document fails the API fuzz test's response check.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import ConfigDict, Field, WithJsonSchema, with_config
from typing_extensions import TypedDict

Uuid = Annotated[str, WithJsonSchema({"type": "string", "format": "uuid"})]
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
MaybeTimestamp = Annotated[
    str | None, WithJsonSchema({"type": ["string", "null"], "format": "date-time"})
]
MaybeDate = Annotated[str | None, WithJsonSchema({"type": ["string", "null"], "format": "date"})]
MaybeText = Annotated[str | None, WithJsonSchema({"type": ["string", "null"]})]
CLOSED = ConfigDict(extra="forbid")  # additionalProperties: false


@with_config(CLOSED)
class ApplicationSummary(TypedDict):
    """One application in a list (no form data)."""

    id: Uuid
    number: Annotated[str, Field(description="受理编号")]
    matter: str
    matter_name: str
    form: str
    region: Annotated[str, Field(description="the region it was filed in")]
    status: str
    status_name: str
    final: bool
    created_at: Timestamp
    updated_at: Timestamp
    clock_started_at: MaybeTimestamp
    paused: bool
    paused_days: int
    finished_at: MaybeTimestamp
    deadline: MaybeDate
    deadline_unknown: Annotated[
        bool,
        Field(
            description="the deadline runs past the region's calendar (next year's holidays "
            "not yet published): deadline is null until the calendar is added"
        ),
    ]
    overdue: bool
    due_soon: bool
    standards_version: MaybeText
    bundle_filing: Annotated[
        MaybeText, Field(description="its bundle filing (GET /api/bundles/applications/{id})")
    ]
    applicant: NotRequired[
        Annotated[
            MaybeText, Field(description="a short pseudonym, never the login id; staff views only")
        ]
    ]


@with_config(CLOSED)
class Filed(TypedDict):
    """The answer to a filing (201, and the same again for its Idempotency-Key)."""

    id: Uuid
    number: Annotated[str, Field(description="受理编号")]
    matter: str
    region: str
    status: str
    status_name: str
    deadline: MaybeDate
    deadline_unknown: bool
    created_at: Timestamp
    standards_version: MaybeText
    standards_hash: str
    policy: NotRequired[Annotated[str, Field(description="a policy claim: the policy it claims")]]


@with_config(CLOSED)
class ApplicationPage(TypedDict):
    """A page of applications, newest first."""

    items: list[ApplicationSummary]
    total: int
    page: int
    page_size: int


# "from" is a keyword: the functional form.
Step = TypedDict(
    "Step",
    {
        "transition": str,
        "transition_name": str,
        "from": MaybeText,
        "to": str,
        "actor_role": str,
        "actor": NotRequired[Annotated[MaybeText, Field(description="staff views only")]],
        "reason": MaybeText,
        "at": Timestamp,
    },
)
Step.__pydantic_config__ = CLOSED  # type: ignore[attr-defined]  # with_config, for a functional TypedDict


@with_config(CLOSED)
class HandedIn(TypedDict):
    """A material file handed in."""

    material: str
    name: str
    filename: Annotated[MaybeText, Field(description="null in staff views")]
    content_type: str
    size: int
    sha256: str
    uploaded_at: Timestamp


@with_config(CLOSED)
class Rating(TypedDict):
    """好差评: the applicant's rating of a final case."""

    score: int
    comment: MaybeText
    at: Timestamp


@with_config(CLOSED)
class Fetch(TypedDict):
    """电子证照: what fetching a government-sourced material at filing gave (licences.py)."""

    status: Literal["pending", "fetched", "missing"]
    reason: Annotated[
        MaybeText,
        Field(
            description="not_found, status:<HTTP status>, timeout, unreachable, "
            "file_type:<type>, too_large or no_holder"
        ),
    ]
    message: Annotated[str, Field(description="what the officer reads beside the material")]


@with_config(CLOSED)
class ChecklistItem(TypedDict):
    """A material of the rules the case was filed under."""

    material: str
    name: str
    necessity: Literal["required", "optional", "deferrable"]
    source: Literal["applicant", "government"]
    required: Annotated[
        bool,
        Field(
            description="asked of the applicant for this case: necessity required, not "
            "government-sourced, its when holds"
        ),
    ]
    uploaded: bool
    missing: Annotated[bool, Field(description="required and not uploaded")]
    fetch: NotRequired[Fetch]


class Application(ApplicationSummary):
    """One application in full: data (masked for staff), history, materials, next steps."""

    data: Annotated[
        dict[str, Any],
        Field(description="the form data; sensitive values masked except to their own applicant"),
    ]
    standards_hash: MaybeText
    rules: Annotated[
        MaybeText,
        Field(
            description="sha256 of the rules (form, materials, time limit) the case was filed "
            "under and keeps; null: filed before cases kept them"
        ),
    ]
    transitions: list[Step]
    actions: Annotated[list[str], Field(description="the steps the caller may take now")]
    evaluation: Rating | None
    materials: Annotated[
        list[HandedIn], Field(description="the files handed in (with the material's name)")
    ]
    checklist: Annotated[
        list[ChecklistItem],
        Field(
            description="every material of the rules the case was filed under, with what is "
            "required and what is missing (受理 needs them)"
        ),
    ]
    bundle: NotRequired[
        Annotated[
            dict[str, Any],
            Field(description="a bundle member: its filing with the sibling applications"),
        ]
    ]
    policy: NotRequired[Annotated[str, Field(description="a claim: the policy it claims")]]


DOCUMENTED = (ApplicationSummary, ApplicationPage, Application, Filed)
