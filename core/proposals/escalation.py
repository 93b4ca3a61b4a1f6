"""The deadline watch: what happens to a proposal nobody acted on in time.

Two levels, each reached once:

1. an open proposal (see :data:`~core.proposals.lifecycle.OPEN`) whose ``due_at`` has passed is
   *escalated to the coordinators*: ``escalation_level`` 1, a history line, an audit entry and a
   notification to the territory's coordinators (in-app, and by e-mail when SMTP is configured) —
   the action type and the deadline, never the person's name nor anything medical;
2. still open ``escalation_grace_hours`` after that, it is *handed to the territory's fallback*: the
   directory's coordination service (``coordination_service``, the first by name — the
   « dispositif d'appui à la coordination ») through :func:`core.proposals.service.reassign`, so it
   goes back to « requested » for its new holder. Without such an organisation, or when the action
   is already in progress or already held by the fallback, it stays where it is and is only marked
   level 2 (with a history line and an audit entry).

Each proposal is escalated in its own transaction, by a conditional ``UPDATE … WHERE
escalation_level = N … RETURNING``: of two watches running at once (every process runs one), the
second waits for the first's row lock, then finds the level already raised and does nothing. Runs
are idempotent: a proposal is never escalated twice to the same level.

Level 1 does not bump the proposal's ``version`` (nothing its holder sees changes, and a holder about
to accept it must not get a conflict); level 2's reassignment does.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

import asyncpg

from core import locale
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.events.catalogue import Catalogue, tenant_catalogue
from core.identity.roles import OrganisationKind, Role
from core.proposals.assignment import AssigneeKind, role_assignee
from core.proposals.lifecycle import OPEN, REASSIGNABLE, Status
from core.proposals.notify import holders, notify_users, proposal_link
from core.proposals.service import Acting, _audit, _history, reassign
from core.runtime import Runtime
from core.tenancy.service import TenantRecord, get_tenant_by_id

log = logging.getLogger(__name__)

WATCH_LABEL = "veille des échéances"
"""The system actor named in history lines and audit entries."""
OVERDUE_KIND = "proposal.overdue"
HANDOVER_NOTE = "Échéance dépassée : confiée au dispositif d'appui à la coordination"
ALERT_NOTE = "Échéance dépassée : la coordination du territoire est alertée"
BATCH = 200
"""Proposals escalated per level and per run at most (the next run takes the rest)."""

_OPEN = sorted(status.value for status in OPEN)


@dataclass
class EscalationReport:
    """What one run did in one territory."""

    alerted: int = 0
    """Proposals raised to level 1 (coordinators alerted)."""
    handed_over: int = 0
    """Proposals raised to level 2 and reassigned to the fallback organisation."""
    marked: int = 0
    """Proposals raised to level 2 without reassignment (no fallback, in progress, already held)."""

    @property
    def level_2(self) -> int:
        return self.handed_over + self.marked


async def escalate_overdue(runtime: Runtime, tenant_id: uuid.UUID) -> EscalationReport:
    """Escalate the territory's overdue proposals (call outside any tenant scope)."""
    report = EscalationReport()
    tenant = await get_tenant_by_id(tenant_id)
    if tenant is None:
        return report
    now = runtime.clock()
    catalogue = await tenant_catalogue(runtime.plugins, tenant.enabled_plugins)
    acting = Acting.system(WATCH_LABEL)

    for proposal_id in await _candidates(
        tenant_id,
        "p.escalation_level = 0 AND p.due_at < $2 ORDER BY p.due_at, p.id LIMIT $3",
        now,
    ):
        if await _alert(runtime, tenant, proposal_id, now, catalogue, acting):
            report.alerted += 1

    cutoff = now - dt.timedelta(hours=runtime.settings.escalation_grace_hours)
    for proposal_id in await _candidates(
        tenant_id,
        "p.escalation_level = 1 AND p.escalated_at < $2 ORDER BY p.escalated_at, p.id LIMIT $3",
        cutoff,
    ):
        outcome = await _hand_over(runtime, tenant, proposal_id, now, cutoff, acting)
        if outcome == "handed_over":
            report.handed_over += 1
        elif outcome == "marked":
            report.marked += 1
    return report


async def _candidates(tenant_id: uuid.UUID, condition: str, instant: dt.datetime) -> list[uuid.UUID]:
    """Open proposals of living (not erased) people matching ``condition`` (read, no lock)."""
    async with tenant_scope(tenant_id):
        rows = await scoped_connection().fetch(
            "SELECT p.id FROM action_proposal p JOIN person pe ON pe.id = p.person_id "
            "WHERE p.status = ANY($1::text[]) AND pe.erased_at IS NULL AND " + condition,
            _OPEN,
            instant,
            BATCH,
        )
    return [row["id"] for row in rows]


async def _alert(
    runtime: Runtime,
    tenant: TenantRecord,
    proposal_id: uuid.UUID,
    now: dt.datetime,
    catalogue: Catalogue,
    acting: Acting,
) -> bool:
    """Level 1, in one transaction; False when someone else did it (or it is no longer overdue)."""
    async with tenant_scope(tenant.id):
        row = await scoped_connection().fetchrow(
            "UPDATE action_proposal SET escalation_level = 1, escalated_at = $2 "
            "WHERE id = $1 AND escalation_level = 0 AND status = ANY($3::text[]) AND due_at < $2 "
            "RETURNING *",
            proposal_id,
            now,
            _OPEN,
        )
        if row is None:
            return False
        await _history(tenant.id, runtime, row, acting, "escalated", note=ALERT_NOTE)
        await _audit(acting, "proposal.escalated", row, {"level": "1"})
        label = catalogue.action_label(row["action_type"])
        await notify_users(
            runtime,
            await holders(role_assignee(Role.COORDINATOR)),
            OVERDUE_KIND,
            "Action en retard",
            f"« {label} » devait être faite avant le {locale.when(row['due_at'])} (en retard).",
            proposal_link(tenant, proposal_id),
        )
    return True


async def fallback_organisation() -> asyncpg.Record | None:
    """The territory's coordination service (first by name), in the caller's tenant scope."""
    row: asyncpg.Record | None = await scoped_connection().fetchrow(
        "SELECT id, name FROM organisation WHERE kind = $1 ORDER BY name, id LIMIT 1",
        OrganisationKind.COORDINATION_SERVICE.value,
    )
    return row


async def _hand_over(
    runtime: Runtime,
    tenant: TenantRecord,
    proposal_id: uuid.UUID,
    now: dt.datetime,
    cutoff: dt.datetime,
    acting: Acting,
) -> str | None:
    """Level 2, in one transaction: ``handed_over``, ``marked``, or None when someone else did it."""
    async with tenant_scope(tenant.id):
        row = await scoped_connection().fetchrow(
            "UPDATE action_proposal SET escalation_level = 2, escalated_at = $2 "
            "WHERE id = $1 AND escalation_level = 1 AND status = ANY($3::text[]) AND escalated_at < $4 "
            "RETURNING *",
            proposal_id,
            now,
            _OPEN,
            cutoff,
        )
        if row is None:
            return None
        fallback = await fallback_organisation()
        held_by_fallback = (
            fallback is not None
            and row["assignee_kind"] == AssigneeKind.ORGANISATION
            and row["assignee_organisation_id"] == fallback["id"]
        )
        if fallback is not None and not held_by_fallback and Status(row["status"]) in REASSIGNABLE:
            # Joins this transaction (same tenant): writes the history line, the audit entry
            # (``proposal.escalated``) and tells the fallback's members.
            await reassign(
                runtime,
                tenant.id,
                proposal_id,
                acting,
                organisation_id=fallback["id"],
                note=HANDOVER_NOTE,
                kind="escalated",
            )
            return "handed_over"
        if fallback is None:
            why = "aucun dispositif d'appui à la coordination dans l'annuaire : reste à la coordination"
        elif held_by_fallback:
            why = "déjà confiée au dispositif d'appui à la coordination"
        else:
            why = "action en cours : laissée à son détenteur"
        await _history(tenant.id, runtime, row, acting, "escalated", note=f"Échéance dépassée ; {why}")
        await _audit(acting, "proposal.escalated", row, {"level": "2", "reassigned": "false"})
    log.info("proposal %s escalated to level 2 without reassignment", proposal_id)
    return "marked"
