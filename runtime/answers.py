"""What the API answers: each shape once, as a typed dict.

The generator documents them from here: ``openapi.json``'s response schemas are these
dicts' JSON Schemas (:data:`DOCUMENTED`, through pydantic; a nested dict is a schema of
its own), every key required unless ``NotRequired``. The answers about applications
(:mod:`runtime.records`, :mod:`runtime.checklist`, :mod:`runtime.submission`) are
closed (``additionalProperties: false``), so an answer that differs from the document
fails the API fuzz test's response check. The builders typed by these shapes (mypy
checks every key they write): those of applications, health, evaluations, material
files, reveals, statistics, the data catalogue, sharing, data quality, events,
objections and notifications; the others (matter lists and service guides, code sets,
bundles, policies) still build a ``dict`` with more keys than documented here.
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


# --- the other answers, described as they are built (DOCUMENTED) ----------------------

AnyObject = dict[str, Any]
Integers = dict[str, int]  # counts by a key


class Health(TypedDict):
    status: Literal["ok"]
    database: NotRequired[
        Annotated[
            Literal["ahead"],
            Field(description="a newer package's migration ran: restart on that package"),
        ]
    ]
    code: NotRequired[Literal["database_ahead"]]


class HealthUnavailable(TypedDict):
    status: Literal["unavailable"]
    code: NotRequired[
        Annotated[
            Literal["database_behind", "database_unmigrated"],
            Field(description="absent when the database does not answer"),
        ]
    ]


class MatterList(TypedDict):
    region: NotRequired[str]
    items: list[AnyObject]
    total: int


class ServiceGuide(TypedDict, total=False):
    """办事指南: materials, time limits, fees, basis, form, workflow"""

    id: str
    name: str
    form: str
    schema: Annotated[str, Field(description="path of the form's JSON Schema")]
    materials: list[AnyObject]
    guide: AnyObject
    workflow: AnyObject | None


class Code(TypedDict, total=False):
    code: str
    name: str
    parent: str | None


class CodeSet(TypedDict, total=False):
    id: str
    name: str
    values: list[Code]


class EvaluationResult(TypedDict):
    application_id: str
    score: int
    comment: str | None
    created_at: Timestamp


class MaterialFile(TypedDict):
    material: str
    content_type: str
    size: int
    sha256: str
    filename: str
    uploaded_at: Timestamp


class Revealed(TypedDict):
    id: str
    number: str
    data: AnyObject


class Satisfaction(TypedDict):
    average: float | None
    count: int


class Stats(TypedDict):
    regions: Annotated[
        list[str], Field(description="the regions counted: the staff member's and those below")
    ]
    total: int
    by_status: Integers
    by_matter: Integers
    by_region: Integers
    by_stage: Annotated[
        Integers, Field(description="open, pending (待受理), in_progress (办理中), finished")
    ]
    overdue: int
    due_soon: int
    finished: int
    average_handling_days: float | None
    satisfaction: Satisfaction
    by_score: Annotated[Integers, Field(description="evaluations by score (1–5)")]


class Bundle(TypedDict):
    id: str
    name: str
    description: NotRequired[str | None]
    members: list[AnyObject]
    materials: NotRequired[list[AnyObject]]
    schema: NotRequired[Annotated[AnyObject, Field(description="the combined form's JSON Schema")]]


class BundleList(TypedDict):
    items: list[Bundle]


class FiledMember(TypedDict):
    id: Uuid
    number: str
    matter: str


class BundleFiled(TypedDict):
    bundle: str
    id: Uuid
    applications: list[FiledMember]


class BundleFilingView(TypedDict):
    id: Uuid
    bundle: str
    bundle_name: NotRequired[str]
    region: str
    created_at: NotRequired[Timestamp]
    final: NotRequired[bool]
    applications: list[ApplicationSummary]


class BundleFilingPage(TypedDict):
    items: list[BundleFilingView]
    total: int
    page: NotRequired[int]
    page_size: NotRequired[int]


class BundleMaterial(TypedDict, total=False):
    material: str
    applications: list[str]
    sha256: str
    size: int


class Policy(TypedDict):
    id: str
    name: str
    issuer: str
    benefit: str
    valid: NotRequired[AnyObject]
    audience: NotRequired[list[AnyObject]]
    apply: str
    regions: NotRequired[list[str]]
    conditions: NotRequired[list[AnyObject]]


class PolicyList(TypedDict):
    items: list[Policy]


class Condition(TypedDict):
    expression: str
    words: NotRequired[str]
    held: bool | None


class PolicyMatch(TypedDict):
    policy: str
    eligible: bool | None
    conditions: list[Condition]


class MatchResult(TypedDict):
    items: list[PolicyMatch]


class StoredProfile(TypedDict):
    form: str
    region: str
    data: AnyObject
    updated_at: NotRequired[Timestamp]


class Delivery(TypedDict, total=False):
    policy: str
    profiles: int
    eligible: int
    notified: int


class Notification(TypedDict):
    id: int
    kind: NotRequired[Literal["policy", "objection"]]
    policy: Annotated[str | None, Field(description="null: an objection's")]
    objection: NotRequired[Annotated[int, Field(description="the objection resolved")]]
    policy_name: NotRequired[str]
    benefit: MaybeText
    region: NotRequired[str]
    at: Timestamp
    read: bool
    read_at: MaybeTimestamp


class NotificationList(TypedDict):
    items: list[Notification]
    total: int
    unread: int


class PolicyStats(TypedDict):
    items: list[AnyObject]


ShareType = Literal["unconditional", "conditional", "none"]
UpdateCycle = Literal["realtime"]


class CatalogueItem(TypedDict):
    element: str
    name: str
    identifier: NotRequired[str | None]
    type: str
    sensitive: bool
    share_type: ShareType
    share_type_name: NotRequired[str]
    update_cycle: UpdateCycle
    update_cycle_name: NotRequired[str]


class Named(TypedDict):
    id: str
    name: str


class Resource(TypedDict):
    id: Annotated[str, Field(description="the form id")]
    region: str
    name: str
    provider: str
    provider_code: NotRequired[str | None]
    matters: NotRequired[list[Named]]
    items: list[CatalogueItem]


class ResourceList(TypedDict):
    region: NotRequired[str]
    items: list[Resource]
    total: int


class ElementUse(CatalogueItem):
    forms: NotRequired[list[Named]]
    matters: NotRequired[list[Named]]
    regions: NotRequired[list[str]]
    providers: NotRequired[list[AnyObject]]
    resources: NotRequired[list[AnyObject]]


class SharedElement(TypedDict, total=False):
    element: str
    name: str


SharingStatus = Literal["pending", "approved", "refused", "revoked", "expired"]


class SharingRequest(TypedDict):
    id: Uuid
    resource: str
    region: str
    requester: NotRequired[str]
    requester_region: NotRequired[str]
    purpose: NotRequired[str]
    basis: NotRequired[str]
    items: list[SharedElement]
    granted: list[SharedElement]
    unmasked: NotRequired[bool]
    status: SharingStatus
    expires: Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]
    created_at: NotRequired[str]
    decided_by: NotRequired[str | None]
    decided_at: NotRequired[str | None]
    reason: NotRequired[str | None]


class SharingRequestPage(TypedDict):
    items: list[SharingRequest]
    total: int
    page: int
    page_size: int


class SharedCase(TypedDict):
    application: str
    number: str
    matter: NotRequired[str]
    filed_at: NotRequired[str]
    data: Annotated[
        AnyObject,
        Field(description="the granted items, by field (masked unless granted unmasked)"),
    ]


class SharedData(TypedDict):
    request: str
    resource: str
    region: str
    items: list[str]
    unmasked: NotRequired[bool]
    applications: list[SharedCase]
    total: int
    page: NotRequired[int]
    page_size: NotRequired[int]


class ElementQuality(TypedDict):
    element: str
    name: NotRequired[str]
    region: str
    sensitive: NotRequired[bool]
    filled: int
    empty: int
    empty_share: NotRequired[float]
    failures: int
    failure_codes: NotRequired[Integers]
    conflicts: int


class DataQuality(TypedDict):
    regions: list[str]
    elements: list[ElementQuality]
    conflict_examples: list[AnyObject]


class Event(TypedDict):
    """a CloudEvents 1.0 event (JSON format); data never holds a sensitive value"""

    specversion: Literal["1.0"]
    id: str
    source: str
    type: Annotated[str, Field(examples=["cn.gov.govstd.application.submitted"])]
    time: Timestamp
    subject: NotRequired[Annotated[str, Field(description="the application id")]]
    datacontenttype: Literal["application/json"]
    sequence: Annotated[str, Field(description="the order of events")]
    data: AnyObject


class EventPage(TypedDict):
    items: list[Event]
    next: Annotated[int, Field(description="the after= of the next page")]


class Provider(TypedDict, total=False):
    code: str | None
    name: str | None


class Objection(TypedDict):
    id: int
    application: str
    number: NotRequired[str]
    matter: NotRequired[str]
    region: NotRequired[str]
    element: str
    field: NotRequired[str | None]
    status: Literal["open", "corrected", "rejected"]
    reason: str
    objector_role: NotRequired[str]
    created_at: Timestamp
    resolved_at: NotRequired[MaybeTimestamp]
    resolution: NotRequired[str | None]
    provider: NotRequired[Provider]


class ObjectionPage(TypedDict):
    items: list[Objection]
    total: int
    page: int
    page_size: int


class ObjectionStats(TypedDict):
    open: int
    oldest_days: NotRequired[float | None]
    median_age_days: NotRequired[float | None]
    by_age: Integers
    by_element: list[AnyObject]
    corrected: int
    rejected: int
    mean_days_to_resolve: NotRequired[float | None]


DOCUMENTED = (
    ApplicationSummary,
    ApplicationPage,
    Application,
    Filed,
    Health,
    HealthUnavailable,
    MatterList,
    ServiceGuide,
    CodeSet,
    EvaluationResult,
    MaterialFile,
    Revealed,
    Stats,
    Bundle,
    BundleList,
    BundleFiled,
    BundleFilingView,
    BundleFilingPage,
    BundleMaterial,
    Policy,
    PolicyList,
    MatchResult,
    StoredProfile,
    Delivery,
    Notification,
    NotificationList,
    PolicyStats,
    CatalogueItem,
    Resource,
    ResourceList,
    ElementUse,
    SharingRequest,
    SharingRequestPage,
    SharedData,
    DataQuality,
    Event,
    EventPage,
    Objection,
    ObjectionPage,
    ObjectionStats,
)
