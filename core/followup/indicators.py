"""The territory's follow-up indicators over a period, computed in SQL within the tenant's scope.

The period selects events by the date they occurred (``[since, until)``; an open ``until`` keeps the
discharges already planned); every figure is about those events and the actions, funding lines and
readmission checks that stem from them. Nothing here identifies a person: these are counts.

- events by type, actions by status;
- median time to first response: hours from an action's creation to its first status change
  (acknowledged, accepted, refused…), over the actions that had one;
- share completed on time: actions completed by their due date, over the completed actions;
- late: actions still awaited past their due date; escalations: actions escalated to the
  coordination (level ≥ 1), and handed to the fallback (level 2);
- D+7 and D+30 readmission rates: over the discharges whose check has run (pending ones are
  counted apart, never as « not readmitted »);
- funding: lines by status with their amounts. A line's amount is the amount asked while pending and
  the amount granted once decided: « requested » sums every line's amount on record, « approved »
  those approved (fully or partly) or paid.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.events.catalogue import Catalogue
from core.events.routing import READMISSION_HORIZONS
from core.proposals.lifecycle import OPEN, STATUS_LABELS, Status
from core.proposals.service import FUNDING_STATUSES

DEFAULT_DAYS = 90
APPROVED = ("approved", "partially_approved", "paid")
_AWAITING = [status.value for status in OPEN | {Status.REJECTED}]
_STATUS_CODES = frozenset(status.value for status in Status)


@dataclass(frozen=True)
class Count:
    code: str
    label: str
    count: int


@dataclass(frozen=True)
class FundingCount:
    status: str
    label: str
    lines: int
    amount_cents: int


@dataclass(frozen=True)
class ReadmissionRate:
    horizon_days: int
    checked: int
    """Discharges whose check has run."""
    readmitted: int
    pending: int
    """Checks not yet due or not yet run (left out of the rate)."""

    @property
    def rate(self) -> float | None:
        """Share of checked discharges followed by a readmission (0–1), None when none was checked."""
        return self.readmitted / self.checked if self.checked else None


@dataclass(frozen=True)
class Indicators:
    since: dt.datetime | None
    until: dt.datetime | None
    events_total: int
    events_by_type: list[Count]
    actions_total: int
    actions_by_status: list[Count]
    responded: int
    """Actions with a first response."""
    median_first_response_hours: float | None
    completed: int
    completed_on_time: int
    late: int
    """Actions still awaited past their due date."""
    escalated: int
    """Escalated to the coordination (level 1 or more)."""
    escalated_to_fallback: int
    readmissions: list[ReadmissionRate]
    funding_by_status: list[FundingCount]
    funding_requested_cents: int
    funding_approved_cents: int

    @property
    def on_time_share(self) -> float | None:
        """Completed on time over completed (0–1), None when nothing was completed."""
        return self.completed_on_time / self.completed if self.completed else None

    def readmission(self, horizon_days: int) -> ReadmissionRate:
        return next(rate for rate in self.readmissions if rate.horizon_days == horizon_days)


def default_since(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=DEFAULT_DAYS)


def period_clause(
    args: list[Any], since: dt.datetime | None, until: dt.datetime | None, column: str = "e.occurred_at"
) -> str:
    """SQL restricting ``column`` to [since, until), either bound open; the bounds go to ``args``."""
    clauses = []
    if since is not None:
        args.append(since)
        clauses.append(f"{column} >= ${len(args)}")
    if until is not None:
        args.append(until)
        clauses.append(f"{column} < ${len(args)}")
    return " AND ".join(clauses) or "TRUE"


def status_label(code: str) -> str:
    """The label of an action's status code; the code itself when it is not a known status."""
    try:
        return STATUS_LABELS[Status(code)]
    except ValueError:
        return code


async def indicators(
    tenant_id: uuid.UUID,
    catalogue: Catalogue,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    *,
    now: dt.datetime | None = None,
) -> Indicators:
    """The indicators of the events that occurred in [since, until) (both bounds may be None)."""
    now = now or dt.datetime.now(dt.UTC)
    args: list[Any] = []
    where = period_clause(args, since, until)
    async with tenant_scope(tenant_id):
        connection = scoped_connection()
        events = await connection.fetch(
            f"SELECT e.type, count(*) AS n FROM event e WHERE {where} "
            "GROUP BY e.type ORDER BY n DESC, e.type",
            *args,
        )
        statuses = await connection.fetch(
            "SELECT p.status, count(*) AS n FROM action_proposal p JOIN event e ON e.id = p.event_id "
            f"WHERE {where} GROUP BY p.status",
            *args,
        )
        n = len(args)
        actions = await connection.fetchrow(
            "SELECT count(*) AS total, count(p.first_response_at) AS responded, "
            "percentile_cont(0.5) WITHIN GROUP "
            "(ORDER BY extract(epoch FROM p.first_response_at - p.created_at)) AS median_seconds, "
            "count(*) FILTER (WHERE p.status = 'completed') AS completed, "
            "count(*) FILTER (WHERE p.status = 'completed' AND p.completed_at <= p.due_at) AS on_time, "
            f"count(*) FILTER (WHERE p.status = ANY(${n + 1}::text[]) AND p.due_at < ${n + 2}) AS late, "
            "count(*) FILTER (WHERE p.escalation_level >= 1) AS escalated, "
            "count(*) FILTER (WHERE p.escalation_level >= 2) AS fallback "
            f"FROM action_proposal p JOIN event e ON e.id = p.event_id WHERE {where}",
            *args,
            _AWAITING,
            now,
        )
        checks = await connection.fetch(
            "SELECT c.horizon_days, count(*) FILTER (WHERE c.checked_at IS NOT NULL) AS checked, "
            "count(*) FILTER (WHERE c.checked_at IS NOT NULL AND c.readmitted) AS readmitted, "
            "count(*) FILTER (WHERE c.checked_at IS NULL) AS pending "
            f"FROM readmission_check c JOIN event e ON e.id = c.discharge_event_id WHERE {where} "
            "GROUP BY c.horizon_days",
            *args,
        )
        funding = await connection.fetch(
            "SELECT f.status, count(*) AS lines, coalesce(sum(f.amount_cents), 0)::bigint AS cents "
            "FROM proposal_funding f JOIN action_proposal p ON p.id = f.proposal_id "
            f"JOIN event e ON e.id = p.event_id WHERE {where} GROUP BY f.status",
            *args,
        )
    by_status = {row["status"]: row["n"] for row in statuses}
    by_horizon = {row["horizon_days"]: row for row in checks}
    by_funding = {row["status"]: row for row in funding}
    median = actions["median_seconds"]
    return Indicators(
        since=since,
        until=until,
        events_total=sum(row["n"] for row in events),
        events_by_type=[Count(row["type"], catalogue.event_label(row["type"]), row["n"]) for row in events],
        actions_total=actions["total"],
        actions_by_status=[
            Count(status.value, STATUS_LABELS[status], by_status.get(status.value, 0)) for status in Status
        ]
        + [
            Count(code, status_label(code), count)
            for code, count in by_status.items()
            if code not in _STATUS_CODES
        ],
        responded=actions["responded"],
        median_first_response_hours=round(float(median) / 3600, 1) if median is not None else None,
        completed=actions["completed"],
        completed_on_time=actions["on_time"],
        late=actions["late"],
        escalated=actions["escalated"],
        escalated_to_fallback=actions["fallback"],
        readmissions=[
            ReadmissionRate(
                days,
                by_horizon[days]["checked"] if days in by_horizon else 0,
                by_horizon[days]["readmitted"] if days in by_horizon else 0,
                by_horizon[days]["pending"] if days in by_horizon else 0,
            )
            for days in READMISSION_HORIZONS
        ],
        funding_by_status=[
            FundingCount(
                code,
                label,
                by_funding[code]["lines"] if code in by_funding else 0,
                by_funding[code]["cents"] if code in by_funding else 0,
            )
            for code, label in FUNDING_STATUSES.items()
        ],
        funding_requested_cents=sum(row["cents"] for row in funding),
        funding_approved_cents=sum(row["cents"] for code, row in by_funding.items() if code in APPROVED),
    )
