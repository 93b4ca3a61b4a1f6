"""Reading events and their proposals."""

from __future__ import annotations

import json
import uuid

from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.events.schemas import EventOut, ProposalOut


async def get_event(tenant_id: uuid.UUID, event_id: uuid.UUID) -> EventOut | None:
    """The event with its proposals, or None (also for another tenant's event)."""
    async with tenant_scope(tenant_id):
        connection = scoped_connection()
        row = await connection.fetchrow(
            "SELECT id, type, status, occurred_at, created_at, routed_at, details FROM event WHERE id = $1",
            event_id,
        )
        if row is None:
            return None
        proposals = await connection.fetch(
            "SELECT id, action_type, title, assignee_kind, assignee, priority, due_at, status, "
            "source_plugin FROM action_proposal WHERE event_id = $1 ORDER BY due_at, action_type",
            event_id,
        )
    return EventOut(
        id=str(row["id"]),
        type=row["type"],
        status=row["status"],
        occurred_at=row["occurred_at"],
        created_at=row["created_at"],
        routed_at=row["routed_at"],
        details=json.loads(row["details"]),
        proposals=[ProposalOut(**{**dict(proposal), "id": str(proposal["id"])}) for proposal in proposals],
    )
