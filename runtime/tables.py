"""The core tables: what every deployment package stores besides its forms' rows.

Hand-written SQLAlchemy Core tables, and the one place they are defined. A package's
``models.py`` copies them into its own ``MetaData`` with :func:`add_core_tables`, next
to the tables of its forms; the generator reads them (``core_tables`` in
generator/render/tables.py) to plan the migrations that create and alter them, so a
change here is a change of the next ``govstd generate``'s revision.

Columns are NOT NULL unless ``nullable=True``. Constraint and index names are written
out: they are the names the migrations give (the naming convention is for anything
else). Applications' ids are UUIDv7 text (runtime/record_ids.py); row ids are integers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _column(name: str, type_: Any, *args: Any, nullable: bool = False, **kw: Any) -> Column[Any]:
    return Column(name, type_, *args, nullable=nullable, **kw)


def _application_id(table: str, **kw: Any) -> Column[Any]:
    """The application a row belongs to; the row goes when the application does."""
    fk = ForeignKey(
        "applications.id", ondelete="CASCADE", name=f"fk_{table}_application_id_applications"
    )
    return _column("application_id", String(36), fk, **kw)


def _row_id() -> Column[Any]:
    return _column("id", Integer, primary_key=True)


def _counter(name: str) -> Column[Any]:
    return _column(name, Integer, default=0, server_default="0")


def _at(name: str, nullable: bool = False) -> Column[Any]:
    return _column(name, DateTime(timezone=True), nullable=nullable)


# ---------------------------------------------------------------- cases

applications = Table(  # an application (办件): one submission of one matter's form
    "applications",
    metadata,
    _column("id", String(36), primary_key=True),
    _column("number", String(40)),  # 受理编号, unique (docs/package.md)
    _column("matter", String(63)),
    _column("form", String(63)),
    _column("region", String(63)),
    _column("applicant_sub", String(128)),
    _column("status", String(63)),
    _column("bundle_id", String(36), nullable=True),
    _at("created_at"),
    _at("updated_at"),
    _at("clock_started_at", nullable=True),
    _at("paused_at", nullable=True),
    _at("finished_at", nullable=True),
    _counter("paused_days"),
    _column("deadline", Date, nullable=True),
    _column("standards_version", String(63), nullable=True),
    _column("standards_hash", String(64)),
    _column("row_version", Integer, default=1, server_default="1"),  # optimistic locking: 409
    # the rules it was filed under (runtime/rules.py); null: filed before they were kept
    _column("rules", String(64), nullable=True),
    _column("limit_value", Integer, nullable=True),
    _column("limit_unit", String(16), nullable=True),
    UniqueConstraint("number", name="uq_applications_number"),
    Index("ix_applications_region", "region"),
    Index("ix_applications_applicant_sub", "applicant_sub"),
    Index("ix_applications_status", "status"),
)

transitions = Table(  # one workflow step taken on an application
    "transitions",
    metadata,
    _row_id(),
    _application_id("transitions"),
    _column("transition", String(63)),
    _column("from_state", String(63)),
    _column("to_state", String(63)),
    _column("actor_sub", String(128)),
    _column("actor_role", String(32)),
    _column("reason", Text, nullable=True),
    _at("at"),
    Index("ix_transitions_application_id", "application_id"),
)

material_files = Table(  # an uploaded material file (the bytes are in storage)
    "material_files",
    metadata,
    _row_id(),
    _application_id("material_files"),
    _column("material", String(63)),
    _column("storage_name", String(128)),
    _column("filename", Text),  # the client's name, metadata only
    _column("content_type", String(127)),
    _column("size", Integer),
    _column("sha256", String(64)),
    _column("uploaded_by", String(128)),
    _at("uploaded_at"),
    UniqueConstraint(
        "application_id", "material", name="uq_material_files_application_id_material"
    ),
)

evaluations = Table(  # the applicant's evaluation of a finished case (好差评)
    "evaluations",
    metadata,
    _row_id(),
    _application_id("evaluations"),
    _column("applicant_sub", String(128)),
    _column("score", Integer),
    _column("comment", Text, nullable=True),
    _at("created_at"),
    UniqueConstraint("application_id", name="uq_evaluations_application_id"),
)

audit_log = Table(  # who did what, when: reveals, actions, uploads
    "audit_log",
    metadata,
    _row_id(),
    _at("at"),
    _column("actor_sub", String(128), nullable=True),
    _column("actor_role", String(32), nullable=True),
    _column("action", String(63)),
    _column("application_id", String(36), nullable=True),  # no FK: the log outlives it
    _column("detail", Text),  # JSON
    _column("request_id", String(64)),
    Index("ix_audit_log_application_id", "application_id"),
)

idempotency_keys = Table(  # a remembered response to a request with an Idempotency-Key
    "idempotency_keys",
    metadata,
    _column("applicant_sub", String(128), primary_key=True),
    _column("key", String(128), primary_key=True),
    _column("request_hash", String(64)),
    _column("application_id", String(36), nullable=True),
    _column("status_code", Integer),
    _column("response", Text),
    _at("created_at"),
)

counters = Table(  # named counters: the last application number of a region's day
    "counters",
    metadata,
    _column("name", String(64), primary_key=True),  # application:<region code>:<YYYYMMDD>
    _counter("value"),
)

# ---------------------------------------------------------------- bundles and policies
# (docs/bundles-and-policies.md)

bundle_filings = Table(  # one filing of a bundle (一件事); its members' applications name it
    "bundle_filings",
    metadata,
    _column("id", String(36), primary_key=True),
    _column("bundle", String(63)),
    _column("region", String(63)),
    _column("applicant_sub", String(128)),
    _at("created_at"),
    Index("ix_bundle_filings_applicant_sub", "applicant_sub"),
)

profiles = Table(  # an applicant's stored profile per profile form (sensitive values sealed)
    "profiles",
    metadata,
    _row_id(),
    _column("applicant_sub", String(128)),
    _column("form", String(63)),
    _column("region", String(63)),
    _column("data", Text),
    _at("updated_at"),
    UniqueConstraint("applicant_sub", "form", name="uq_profiles_applicant_sub_form"),
)

notifications = Table(  # a policy delivered (精准送达) once per applicant; an objection's outcome
    "notifications",
    metadata,
    _row_id(),
    _column("applicant_sub", String(128)),
    _column("policy", String(63), nullable=True),  # null: an objection's
    _column("objection_id", Integer, nullable=True),
    _column("region", String(63)),
    _at("created_at"),
    _at("read_at", nullable=True),
    UniqueConstraint("applicant_sub", "policy", name="uq_notifications_applicant_sub_policy"),
    Index("ix_notifications_policy", "policy"),
)

policy_deliveries = Table(  # one delivery run of a policy: who, when, how many fitted
    "policy_deliveries",
    metadata,
    _row_id(),
    _column("policy", String(63)),
    _column("actor_sub", String(128)),
    _at("at"),
    _column("profiles", Integer),
    _column("eligible", Integer),
    _column("notified", Integer),
    Index("ix_policy_deliveries_policy", "policy"),
)

policy_claims = Table(  # an application filed to claim a policy (政策兑现)
    "policy_claims",
    metadata,
    _application_id("policy_claims", primary_key=True),
    _column("policy", String(63)),
    _at("created_at"),
    Index("ix_policy_claims_policy", "policy"),
)

# ---------------------------------------------------------------- the data system
# (docs/data.md): the event outbox and its webhook delivery, objections (异议) and
# fetched government-sourced materials (电子证照)

events = Table(  # the outbox: one CloudEvent per change, written in the change's transaction
    "events",
    metadata,
    _row_id(),  # the order of events (commit order, runtime/events.py)
    _column("event_id", String(36)),
    _column("type", String(127)),
    _column("application_id", String(36), nullable=True),  # no FK: events outlive cases
    _column("region", String(63)),
    _at("time"),
    _column("data", Text),
)

event_receivers = Table(  # a webhook receiver: who delivers to it (a lease), how far it got
    "event_receivers",
    metadata,
    _column("receiver", String(64), primary_key=True),
    _column("url", Text),
    _counter("cursor"),
    _column("holder", String(128), nullable=True),
    _at("lease_until", nullable=True),
    _counter("delivered"),
)

event_deliveries = Table(  # an event a receiver has not acknowledged yet (deleted once it has)
    "event_deliveries",
    metadata,
    _row_id(),
    _column("receiver", String(64)),
    _column("event", Integer),
    _counter("attempts"),
    _at("next_at"),
    _column("last_error", String(255), nullable=True),
    UniqueConstraint("receiver", "event", name="uq_event_deliveries_receiver_event"),
)

objections = Table(  # 异议: a disputed value of a case, and how the provider resolved it
    "objections",
    metadata,
    _row_id(),
    _application_id("objections"),
    _column("region", String(63)),
    _column("element", String(63)),
    _column("field", String(127), nullable=True),  # the path corrected
    _column("objector_sub", String(128)),
    _column("objector_role", String(32)),
    _column("reason", Text),
    _column("status", String(16)),  # open | corrected | rejected
    _at("created_at"),
    _at("resolved_at", nullable=True),
    _column("resolver_sub", String(128), nullable=True),
    _column("resolution", Text, nullable=True),  # the reason of a rejection
    _column("old_value", Text, nullable=True),  # encrypted as the field is
    _column("new_value", Text, nullable=True),
    Index("ix_objections_application_id", "application_id"),
    Index("ix_objections_region_status", "region", "status"),
)

licence_fetches = Table(  # 电子证照: what fetching a government-sourced material at filing gave
    "licence_fetches",
    metadata,
    _row_id(),
    _application_id("licence_fetches"),
    _column("material", String(63)),
    _column("status", String(16)),  # pending | fetched | missing
    _column("reason", String(255), nullable=True),
    _at("at"),
    UniqueConstraint(
        "application_id", "material", name="uq_licence_fetches_application_id_material"
    ),
)

# ---------------------------------------------------------------- governed data sharing
# (docs/data.md, runtime/sharing.py): its reads are audit_log entries ``share_read``

sharing_requests = Table(  # a request to share a data resource's items (数据共享申请)
    "sharing_requests",
    metadata,
    _column("id", String(36), primary_key=True),
    _column("resource", String(63)),  # a form id (generator/catalogue.py)
    _column("region", String(63)),  # the provider region, whose steward decides
    _column("requester_sub", String(128)),
    _column("requester_role", String(32)),
    _column("requester_region", String(63)),
    _column("purpose", Text),
    _column("basis", Text),
    _column("items", Text),  # JSON list of element ids asked for
    _column("granted", Text),  # JSON list of element ids granted now
    _counter("unmasked"),
    _column("status", String(16)),  # pending | approved | refused | revoked
    _column("expires", Date),  # the last day (China time) of the grant
    _at("created_at"),
    _column("decided_by", String(128), nullable=True),
    _at("decided_at", nullable=True),
    _column("reason", Text, nullable=True),  # of a refusal or revocation
    Index("ix_sharing_requests_region_status", "region", "status"),
    Index("ix_sharing_requests_requester_sub", "requester_sub"),
)


def add_core_tables(target: MetaData) -> None:
    """Copy every core table into ``target`` (a package's ``Base.metadata``), parents first."""
    for table in metadata.tables.values():
        table.to_metadata(target)
