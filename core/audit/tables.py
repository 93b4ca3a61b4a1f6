"""The audit entry table (tenant table; the application role may only INSERT and SELECT)."""

from __future__ import annotations

from piccolo.columns import JSONB, UUID, BigInt, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db.engine import DB


class AuditEntry(Table, db=DB, tablename="audit_entry"):
    """One access or security event. ``hash`` chains it to the previous entry of its tenant."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    seq = BigInt(null=False)
    occurred_at = Timestamptz(default=TimestamptzNow())
    actor_kind = Varchar(length=20, null=False)
    """``user``, ``api_client``, ``system`` or ``anonymous``."""
    actor_id = Varchar(length=200, null=False)
    acting_for = Varchar(length=200, null=True, default=None)
    """The organisation (or role) the actor acted for."""
    action = Varchar(length=60, null=False)
    target_kind = Varchar(length=40, null=True, default=None)
    target_id = Varchar(length=200, null=True, default=None)
    outcome = Varchar(length=20, null=False)
    detail = JSONB(default="{}")
    prev_hash = Varchar(length=64, null=False)
    hash = Varchar(length=64, null=False)
