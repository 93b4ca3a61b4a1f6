"""The periodic watch: escalate overdue proposals, answer due readmission checks and remind late funders.

:class:`core.jobs.system.JobSystem` sends the ``watch_tick`` actor every ``watch_seconds``, once per
territory; the actor calls :func:`run_watch_for`. Every process may run this loop: both operations
are idempotent and safe when two run at once (see their modules), so a tick more or less changes
nothing. Each territory is watched in its own transactions; one failing does not stop the others.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from core.financing.reminders import remind_overdue
from core.followup.readmission import check_readmissions
from core.proposals.escalation import escalate_overdue
from core.runtime import Runtime
from core.tenancy.service import list_tenants

log = logging.getLogger(__name__)


async def run_watch_for(runtime: Runtime, tenant_id: uuid.UUID) -> dict[str, int]:
    """One territory's watch (call outside any tenant scope); what it did."""
    escalation = await escalate_overdue(runtime, tenant_id)
    checked = await check_readmissions(runtime, tenant_id)
    reminded = await remind_overdue(runtime, tenant_id)
    return {
        "alerted": escalation.alerted,
        "handed_over": escalation.handed_over,
        "marked": escalation.marked,
        "readmission_checks": checked,
        "funding_reminders": reminded,
    }


async def run_watch(runtime: Runtime) -> dict[str, Any]:
    """Every territory's watch; the totals, and the territories that failed (logged)."""
    totals: dict[str, Any] = {
        "tenants": 0,
        "alerted": 0,
        "handed_over": 0,
        "marked": 0,
        "readmission_checks": 0,
        "funding_reminders": 0,
        "failed": [],
    }
    for tenant in await list_tenants():
        try:
            done = await run_watch_for(runtime, tenant.id)
        except Exception:
            log.exception("watch of territory %s failed", tenant.slug)
            totals["failed"].append(tenant.slug)
            continue
        totals["tenants"] += 1
        for key, value in done.items():
            totals[key] += value
    return totals
