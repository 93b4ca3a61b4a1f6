"""Life events and the action proposals routed from them (tenant tables)."""

from __future__ import annotations

from piccolo.columns import JSONB, UUID, Array, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db.engine import DB
from core.identity.accounts_tables import UserAccount
from core.identity.directory_tables import Organisation
from core.identity.tables import Person


class Event(Table, db=DB, tablename="event"):
    """Something that happened to a person (a hospital discharge, a fall…)."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    person = ForeignKey(Person, null=False, on_delete=OnDelete.restrict, db_column_name="person_id")
    type = Varchar(length=50, null=False)
    occurred_at = Timestamptz(null=False)
    details = JSONB(default="{}")
    status = Varchar(length=20, default="received")
    """received → routed."""
    idempotency_key = Varchar(length=255, null=False)
    request_digest = Varchar(length=64, null=False)
    """SHA-256 of the request body, to refuse a reused key with another body."""
    declared_by = Varchar(length=200, null=False)
    declared_by_user_id = UUID(null=True, default=None)
    """The account that declared it from a page (None for an API partner)."""
    source = Varchar(length=10, default="api")
    """``api`` (a partner) or ``page`` (a professional, the person or a carer)."""
    created_at = Timestamptz(default=TimestamptzNow())
    routed_at = Timestamptz(null=True, default=None)


class ActionProposal(Table, db=DB, tablename="action_proposal"):
    """An action proposed for an event: what is asked (FHIR ServiceRequest) and who does it, with
    its status (FHIR Task: requested → received → accepted / rejected → in-progress → completed /
    cancelled / failed)."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    event = ForeignKey(Event, null=False, on_delete=OnDelete.restrict, db_column_name="event_id")
    person = ForeignKey(Person, null=True, on_delete=OnDelete.restrict, db_column_name="person_id")
    """The person concerned (the event's), kept here for the inbox's filters."""
    action_type = Varchar(length=60, null=False)
    title = Varchar(length=200, null=False)
    description = Text(default="")
    service_type = Varchar(length=60, null=True, default=None)
    suggested_funding = Array(base_column=Varchar(length=60), default=list)
    target_kind = Varchar(length=20, null=True, default=None)
    """What the rule asked for: ``user``, ``organisation``, ``role``, ``care_team``, ``marketplace``."""
    target_value = Varchar(length=200, null=True, default=None)
    assignee_kind = Varchar(length=20, null=False)
    """Who holds it now: ``user``, ``organisation`` or ``role``."""
    assignee = Varchar(length=200, null=False)
    """The user id, organisation id or role code it is assigned to."""
    assignee_user = ForeignKey(
        UserAccount, null=True, on_delete=OnDelete.restrict, db_column_name="assignee_user_id"
    )
    assignee_organisation = ForeignKey(
        Organisation, null=True, on_delete=OnDelete.restrict, db_column_name="assignee_organisation_id"
    )
    priority = Varchar(length=10, default="routine")
    due_at = Timestamptz(null=False)
    status = Varchar(length=20, default="requested")
    status_reason = Varchar(length=40, null=True, default=None)
    """Coded reason of a refusal, a failure or a cancellation."""
    version = Integer(default=0)
    """Bumped by every change: a write names the version it read (optimistic concurrency)."""
    escalation_level = Integer(default=0)
    """0: on time or not yet escalated; 1: coordinators alerted; 2: handed to the fallback."""
    escalated_at = Timestamptz(null=True, default=None)
    carrier_organisation = ForeignKey(
        Organisation, null=True, on_delete=OnDelete.restrict, db_column_name="carrier_organisation_id"
    )
    """Who carries the action out (the provider, the practice)."""
    carrier_label = Varchar(length=200, null=True, default=None)
    source_plugin = Varchar(length=100, null=False)
    dedup_key = Varchar(length=200, null=False)
    """Unique per event: the same proposal is never stored twice."""
    created_at = Timestamptz(default=TimestamptzNow())
    status_changed_at = Timestamptz(default=TimestamptzNow())
    first_response_at = Timestamptz(null=True, default=None)
    completed_at = Timestamptz(null=True, default=None)
