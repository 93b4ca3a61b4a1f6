"""The readmission watch: did the person come back to hospital within 7 and 30 days of a discharge?

Routing stores, for each hospital discharge, one ``readmission_check`` per horizon
(:data:`core.events.routing.READMISSION_HORIZONS`), due at discharge + horizon. Once a check is due,
:func:`check_readmissions` looks for an event of the same person whose type counts as a readmission
(:attr:`core.events.catalogue.EventTypeSpec.readmission`: hospital admission, emergency visit, and
those of the territory's plugins) that occurred after the discharge and at most ``horizon`` days
later, and records the answer (with the first such event). An event declared after its check ran
does not change that check's answer: the check records what was known at its due date.

One conditional statement per run: only rows still unchecked are updated, rows another watch is
checking at the same moment are skipped (``FOR UPDATE SKIP LOCKED``), so a check is answered once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.events.catalogue import tenant_catalogue
from core.runtime import Runtime
from core.tenancy.service import get_tenant_by_id

BATCH = 1000
"""Checks answered per run at most (the next run takes the rest)."""


@dataclass(frozen=True)
class ReadmissionStatus:
    """One check of one discharge, for the person's file."""

    discharge_event_id: uuid.UUID
    discharged_at: dt.datetime
    horizon_days: int
    due_at: dt.datetime
    checked_at: dt.datetime | None
    """None: not yet due, or not yet checked."""
    readmitted: bool | None
    readmission_event_id: uuid.UUID | None
    readmission_type: str | None
    readmitted_at: dt.datetime | None


async def readmission_types(runtime: Runtime, enabled_plugins: tuple[str, ...]) -> list[str]:
    """The event types of a territory that count as a readmission."""
    catalogue = await tenant_catalogue(runtime.plugins, enabled_plugins)
    return sorted(code for code, spec in catalogue.events.items() if spec.readmission)


async def check_readmissions(runtime: Runtime, tenant_id: uuid.UUID) -> int:
    """Answer the territory's due, unchecked readmission checks; return how many (outside any scope)."""
    tenant = await get_tenant_by_id(tenant_id)
    if tenant is None:
        return 0
    types = await readmission_types(runtime, tenant.enabled_plugins)
    now = runtime.clock()
    async with tenant_scope(tenant_id):
        rows = await scoped_connection().fetch(
            "UPDATE readmission_check c SET checked_at = $1, readmitted = due.readmission_id IS NOT NULL, "
            "readmission_event_id = due.readmission_id FROM ("
            "  SELECT rc.id, (SELECT e.id FROM event e WHERE e.person_id = rc.person_id "
            "    AND e.type = ANY($2::text[]) AND e.occurred_at > d.occurred_at "
            "    AND e.occurred_at <= d.occurred_at + make_interval(days => rc.horizon_days) "
            "    ORDER BY e.occurred_at, e.id LIMIT 1) AS readmission_id "
            "  FROM readmission_check rc JOIN event d ON d.id = rc.discharge_event_id "
            "  WHERE rc.checked_at IS NULL AND rc.due_at <= $1 "
            "  ORDER BY rc.due_at LIMIT $3 FOR UPDATE OF rc SKIP LOCKED"
            ") AS due WHERE c.id = due.id AND c.checked_at IS NULL RETURNING c.id",
            now,
            types,
            BATCH,
        )
    return len(rows)


async def readmission_status(person_id: uuid.UUID) -> list[ReadmissionStatus]:
    """The person's readmission checks, latest discharge first, shortest horizon first.

    Runs in the caller's tenant scope; the caller decides who may see it (it says the person went
    to hospital: medical data).
    """
    rows = await scoped_connection().fetch(
        "SELECT c.discharge_event_id, d.occurred_at AS discharged_at, c.horizon_days, c.due_at, "
        "c.checked_at, c.readmitted, c.readmission_event_id, r.type AS readmission_type, "
        "r.occurred_at AS readmitted_at FROM readmission_check c "
        "JOIN event d ON d.id = c.discharge_event_id "
        "LEFT JOIN event r ON r.id = c.readmission_event_id "
        "WHERE c.person_id = $1 ORDER BY d.occurred_at DESC, c.discharge_event_id, c.horizon_days",
        person_id,
    )
    return [ReadmissionStatus(**dict(row)) for row in rows]
