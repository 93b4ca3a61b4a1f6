"""Routing: turn a received event into stored action proposals.

Runs as the handler of the event's outbox message, inside the transaction
that marks the message done. Proposals are unique per event and
``plugin:key``, so a second run (a retry after a crash) adds nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from core.db.connection import scoped_connection
from core.db.scope import current_tenant_id
from core.events.model import EventView, PersonSituation, ProposedAction, RoutingContext
from core.plugins import call_each
from core.runtime import Runtime
from core.tenancy.service import get_tenant_by_id


class RoutingError(RuntimeError):
    """A plugin returned something that is not a valid proposal."""


def age_on(birth_date: dt.date, day: dt.date) -> int:
    years = day.year - birth_date.year
    return years - ((day.month, day.day) < (birth_date.month, birth_date.day))


def check_proposal(plugin: str, proposal: Any) -> ProposedAction:
    if not isinstance(proposal, ProposedAction):
        raise RoutingError(f"{plugin} returned {type(proposal).__name__}, not ProposedAction")
    if not proposal.key or not proposal.assignee:
        raise RoutingError(f"{plugin}: a proposal needs a key and an assignee")
    if proposal.due_at.tzinfo is None:
        raise RoutingError(f"{plugin}: due_at must be timezone-aware")
    return proposal


async def route_event(runtime: Runtime, event_id: uuid.UUID) -> int:
    """Ask the tenant's enabled plugins for proposals; store them; return how many are new."""
    tenant_id = current_tenant_id()
    tenant = await get_tenant_by_id(tenant_id)
    if tenant is None:
        return 0
    connection = scoped_connection()
    row = await connection.fetchrow(
        "SELECT e.id, e.type, e.occurred_at, e.details, p.birth_date, p.commune_insee, "
        "p.lives_alone FROM event e JOIN person p ON p.id = e.person_id WHERE e.id = $1",
        event_id,
    )
    if row is None:
        return 0
    event = EventView(
        id=row["id"],
        type=row["type"],
        occurred_at=row["occurred_at"],
        details=json.loads(row["details"]),
    )
    context = RoutingContext(
        tenant_slug=tenant.slug,
        departements=tenant.departements,
        person=PersonSituation(
            age=age_on(row["birth_date"], row["occurred_at"].date()),
            commune_insee=row["commune_insee"],
            lives_alone=row["lives_alone"],
        ),
        now=runtime.clock(),
    )
    results = await call_each(
        runtime.plugins, tenant.enabled_plugins, "propose_actions", event=event, context=context
    )
    created = 0
    for plugin, proposals in results:
        for proposal in proposals or []:
            checked = check_proposal(plugin, proposal)
            status = await connection.execute(
                "INSERT INTO action_proposal (id, tenant_id, event_id, action_type, title, "
                "assignee_kind, assignee, priority, due_at, status, source_plugin, dedup_key, "
                "created_at, status_changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
                "'requested', $10, $11, now(), now()) "
                "ON CONFLICT (tenant_id, event_id, dedup_key) DO NOTHING",
                uuid.uuid4(),
                tenant_id,
                event_id,
                checked.action_type,
                checked.title,
                checked.assignee_kind.value,
                checked.assignee,
                checked.priority.value,
                checked.due_at,
                plugin,
                f"{plugin}:{checked.key}",
            )
            created += status == "INSERT 0 1"
    await connection.execute("UPDATE event SET status = 'routed', routed_at = now() WHERE id = $1", event_id)
    return created
