"""Life events and the action proposals routed from them (tenant tables)."""

from __future__ import annotations

from piccolo.columns import JSONB, UUID, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db.engine import DB
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
    created_at = Timestamptz(default=TimestamptzNow())
    routed_at = Timestamptz(null=True, default=None)


class ActionProposal(Table, db=DB, tablename="action_proposal"):
    """An action proposed for an event, assigned to an actor, with a deadline."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    event = ForeignKey(Event, null=False, on_delete=OnDelete.restrict, db_column_name="event_id")
    action_type = Varchar(length=60, null=False)
    title = Varchar(length=200, null=False)
    assignee_kind = Varchar(length=20, null=False)
    """``role`` or ``organisation`` (later: ``professional``, ``marketplace``)."""
    assignee = Varchar(length=200, null=False)
    priority = Varchar(length=10, default="routine")
    due_at = Timestamptz(null=False)
    status = Varchar(length=20, default="requested")
    source_plugin = Varchar(length=100, null=False)
    dedup_key = Varchar(length=200, null=False)
    """Unique per event: the same proposal is never stored twice."""
    created_at = Timestamptz(default=TimestamptzNow())
    status_changed_at = Timestamptz(default=TimestamptzNow())
