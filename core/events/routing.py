"""Routing: turn a received event into stored, assigned action proposals.

Runs as the handler of the event's outbox message, inside the transaction that marks the message
done. Proposals are unique per event and ``plugin:key``, so a second run (a retry after a crash)
adds nothing; the notifications and readmission checks of a proposal are written with it, in the
same transaction, so they too exist exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from core import locale
from core.db.connection import scoped_connection
from core.db.scope import current_tenant_id
from core.events.catalogue import tenant_catalogue
from core.events.model import (
    CareTeamMember,
    EventType,
    EventView,
    PersonSituation,
    Priority,
    ProposedAction,
    RoutingContext,
    Target,
)
from core.financing.registry import territory_funders
from core.financing.requests import draft_for_proposal
from core.identity.people import age_on
from core.plugins import call_each
from core.proposals.assignment import Assignee, resolve
from core.proposals.notify import notify_assignee
from core.runtime import Runtime
from core.tenancy.service import TenantRecord, get_tenant_by_id

READMISSION_HORIZONS = (7, 30)
"""Days after a discharge at which the readmission watch looks back."""


class RoutingError(RuntimeError):
    """A plugin returned something that is not a valid proposal."""


def check_proposal(plugin: str, proposal: Any) -> ProposedAction:
    if not isinstance(proposal, ProposedAction):
        raise RoutingError(f"{plugin} returned {type(proposal).__name__}, not ProposedAction")
    if not proposal.key or not isinstance(proposal.target, Target) or not proposal.target.value:
        raise RoutingError(f"{plugin}: a proposal needs a key and a target")
    if proposal.due_at.tzinfo is None:
        raise RoutingError(f"{plugin}: due_at must be timezone-aware")
    if not isinstance(proposal.priority, Priority):
        raise RoutingError(f"{plugin}: priority must be a Priority")
    return proposal


async def routing_context(
    runtime: Runtime, tenant: TenantRecord, person_id: uuid.UUID, row: Any, event_id: uuid.UUID
) -> RoutingContext:
    """What rules may know: the person's situation, care team and recent events (no identifiers)."""
    connection = scoped_connection()
    team = await connection.fetch(
        "SELECT c.member_organisation_id, o.kind, c.member_user_id, c.role, c.function "
        "FROM care_team_member c LEFT JOIN organisation o ON o.id = c.member_organisation_id "
        "WHERE c.person_id = $1 AND c.until IS NULL ORDER BY c.since",
        person_id,
    )
    has_carer = await connection.fetchval(
        "SELECT EXISTS (SELECT 1 FROM carer_link WHERE person_id = $1 AND revoked_at IS NULL)", person_id
    )
    recent = await connection.fetch(
        "SELECT type FROM event WHERE person_id = $1 AND id <> $2 "
        "AND occurred_at BETWEEN $3::timestamptz - interval '30 days' AND $3::timestamptz "
        "ORDER BY occurred_at DESC",
        person_id,
        event_id,
        row["occurred_at"],
    )
    return RoutingContext(
        tenant_slug=tenant.slug,
        departements=tenant.departements,
        person=PersonSituation(
            age=age_on(row["birth_date"], row["occurred_at"].date()),
            commune_insee=row["commune_insee"],
            lives_alone=row["lives_alone"],
            has_carer=bool(has_carer),
        ),
        now=runtime.clock(),
        care_team=tuple(
            CareTeamMember(
                organisation_id=member["member_organisation_id"],
                organisation_kind=member["kind"],
                user_id=member["member_user_id"],
                role=member["role"],
                function=member["function"],
            )
            for member in team
        ),
        funders=tuple(name for name in tenant.enabled_plugins if name.startswith("funders.")),
        recent_events=tuple(r["type"] for r in recent),
    )


async def route_event(runtime: Runtime, event_id: uuid.UUID) -> int:
    """Ask the tenant's enabled plugins for proposals; store and assign them; return how many are new."""
    tenant_id = current_tenant_id()
    tenant = await get_tenant_by_id(tenant_id)
    if tenant is None:
        return 0
    connection = scoped_connection()
    row = await connection.fetchrow(
        "SELECT e.id, e.type, e.occurred_at, e.details, e.person_id, p.birth_date, p.commune_insee, "
        "p.lives_alone, p.erased_at FROM event e JOIN person p ON p.id = e.person_id WHERE e.id = $1",
        event_id,
    )
    if row is None:
        return 0
    created = 0
    if row["erased_at"] is None:
        person_id = row["person_id"]
        event = EventView(
            id=row["id"], type=row["type"], occurred_at=row["occurred_at"], details=json.loads(row["details"])
        )
        context = await routing_context(runtime, tenant, person_id, row, event_id)
        results = await call_each(
            runtime.plugins, tenant.enabled_plugins, "propose_actions", event=event, context=context
        )
        catalogue = await tenant_catalogue(runtime.plugins, tenant.enabled_plugins)
        today = locale.paris_day(context.now)  # marketplace offers' capacity left this week
        for plugin, proposals in results:
            for proposal in proposals or []:
                checked = check_proposal(plugin, proposal)
                assignee = await resolve(
                    checked.target,
                    person_id,
                    commune=row["commune_insee"],
                    programmes=checked.suggested_funding,
                    today=today,
                )
                proposal_id = await _store(
                    tenant_id, event_id, person_id, plugin, checked, assignee, context.now
                )
                if proposal_id is not None:
                    created += 1
                    if checked.action_type == "funding_request" and checked.suggested_funding:
                        await prepare_funding_request(runtime, tenant, proposal_id, person_id, checked)
                    await notify_assignee(
                        runtime,
                        tenant,
                        proposal_id,
                        assignee,
                        catalogue.action_label(checked.action_type),
                        checked.due_at,
                    )
        if event.type == EventType.HOSPITAL_DISCHARGE:
            await _watch_readmission(tenant_id, event_id, person_id, event.occurred_at)
    await connection.execute("UPDATE event SET status = 'routed', routed_at = now() WHERE id = $1", event_id)
    return created


async def prepare_funding_request(
    runtime: Runtime,
    tenant: TenantRecord,
    proposal_id: uuid.UUID,
    person_id: uuid.UUID,
    proposal: ProposedAction,
) -> None:
    """A routed « demande de financement » gets its draft request, with the suggested programmes the
    territory offers (the social worker completes and sends it from the single window)."""
    funders = await territory_funders(runtime.plugins, tenant.id, tenant.enabled_plugins)
    await draft_for_proposal(tenant.id, proposal_id, person_id, proposal.suggested_funding, funders)


async def _store(
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    person_id: uuid.UUID,
    plugin: str,
    proposal: ProposedAction,
    assignee: Assignee,
    now: dt.datetime,
) -> uuid.UUID | None:
    """Insert the proposal and its first history line; None if this event already has it."""
    # One round trip: the proposal and, only when it is new, its first history line.
    proposal_id: uuid.UUID | None = await scoped_connection().fetchval(
        "WITH created AS (INSERT INTO action_proposal (id, tenant_id, event_id, person_id, action_type, "
        "title, description, service_type, suggested_funding, target_kind, target_value, assignee_kind, "
        "assignee, assignee_user_id, assignee_organisation_id, priority, due_at, status, version, "
        "escalation_level, source_plugin, dedup_key, created_at, status_changed_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
        "'requested', 0, 0, $18, $19, $20, $20) "
        "ON CONFLICT (tenant_id, event_id, dedup_key) DO NOTHING RETURNING id), "
        "history AS (INSERT INTO proposal_history (id, tenant_id, proposal_id, kind, to_status, to_assignee, "
        "actor_label, via, at) SELECT $21, $2, created.id, 'created', 'requested', $22, $23, 'system', $20 "
        "FROM created) SELECT id FROM created",
        uuid.uuid4(),
        tenant_id,
        event_id,
        person_id,
        proposal.action_type,
        proposal.title[:200],
        proposal.description,
        proposal.service_type,
        list(proposal.suggested_funding),
        proposal.target.kind.value,
        proposal.target.value,
        assignee.kind,
        assignee.value,
        assignee.user_id,
        assignee.organisation_id,
        proposal.priority.value,
        proposal.due_at,
        plugin,
        f"{plugin}:{proposal.key}",
        now,
        uuid.uuid4(),
        (assignee.label if assignee.note is None else f"{assignee.label} — {assignee.note}")[:300],
        f"règle {plugin}",
    )
    return proposal_id


async def _watch_readmission(
    tenant_id: uuid.UUID, event_id: uuid.UUID, person_id: uuid.UUID, discharged_at: dt.datetime
) -> None:
    await scoped_connection().executemany(
        "INSERT INTO readmission_check (id, tenant_id, discharge_event_id, person_id, horizon_days, "
        "due_at) VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT (tenant_id, discharge_event_id, horizon_days) DO NOTHING",
        [
            (uuid.uuid4(), tenant_id, event_id, person_id, days, discharged_at + dt.timedelta(days=days))
            for days in READMISSION_HORIZONS
        ],
    )
