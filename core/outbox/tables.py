"""The outbox table (tenant table)."""

from __future__ import annotations

from piccolo.columns import JSONB, UUID, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db.engine import DB


class OutboxMessage(Table, db=DB, tablename="outbox_message"):
    """A unit of work written in the same transaction as the data it is about."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    topic = Varchar(length=60, null=False)
    payload = JSONB(default="{}")
    status = Varchar(length=10, default="pending")
    """pending → done, or failed after too many attempts."""
    attempts = Integer(default=0)
    last_error = Text(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    dispatched_at = Timestamptz(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)
