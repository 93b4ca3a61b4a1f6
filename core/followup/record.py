"""The follow-up record of an event: event → actions → carrier → funding → outcome, and readmissions.

Pseudonymous by construction: nothing read here names the person (no name, no INS, no free text —
notes and comments stay in their encrypted tables, proposal titles written by rules are left out).
The person appears as :func:`pseudonym`, a keyed digest of their record's id under the tenant's
lookup key: stable across exports of one territory, meaningless elsewhere, and not the id itself.
The pages that show a name ask the consent decision point first (see ``web.pages.followup``).

Everything runs in the tenant's scope (row-level security): another territory's event is not found.

Timeliness (``on_time``): a completed action is on time when it was completed by its due date; an
action someone still has to act on (open, or refused and awaiting the coordination's decision) is
late once its due date has passed, undecided (None) before; a cancelled or failed action has none.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg

from core import locale
from core.crypto import Keyring
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.events.catalogue import Catalogue
from core.followup.indicators import period_clause, status_label
from core.identity.roles import ROLE_LABELS, Role
from core.proposals.lifecycle import (
    CANCELLATION_REASONS,
    OPEN,
    REJECTION_REASONS,
    Status,
)
from core.proposals.service import FUNDING_STATUSES

PSEUDONYM_LENGTH = 16
"""Hex characters of the keyed digest kept (64 bits: no collision in a territory's lifetime)."""
_PSEUDONYM_DOMAIN = "parcours/followup/pseudonym/v1:"

SOURCE_LABELS = {"api": "Partenaire (API)", "page": "Saisie dans Parcours"}
READMISSION_STATES = {
    "pending": "À vérifier",
    "readmitted": "Retour à l'hôpital",
    "not_readmitted": "Pas de retour à l'hôpital",
}
TIMELINESS_LABELS = {True: "Dans les délais", False: "En retard", None: "—"}
_AWAITING = frozenset(OPEN | {Status.REJECTED})
"""Someone still has to act (a refused action waits for the coordination): these can be late."""


def pseudonym(keyring: Keyring, tenant_id: uuid.UUID, person_id: uuid.UUID) -> str:
    """The person's stable pseudonym in this territory's follow-up (a truncated keyed digest)."""
    return keyring.lookup_digest(tenant_id, _PSEUDONYM_DOMAIN + str(person_id))[:PSEUDONYM_LENGTH]


def day_bounds(since: dt.date | None, until: dt.date | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Days (``until`` included) as instants: midnight in Paris at the start of ``since``, after ``until``."""

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=locale.TIME_ZONE)

    return (
        midnight(since) if since is not None else None,
        midnight(until + dt.timedelta(days=1)) if until is not None else None,
    )


def euros(cents: int | None) -> Decimal | None:
    """An amount in cents as euros with two decimals."""
    return None if cents is None else (Decimal(cents) / 100).quantize(Decimal("0.01"))


def euros_label(cents: int | None, currency: str = "EUR") -> str:
    """« 450,00 € »."""
    return "" if cents is None else locale.money(cents, currency)


def on_time(
    status: str, due_at: dt.datetime, completed_at: dt.datetime | None, now: dt.datetime
) -> bool | None:
    """Completed by its due date? Late if still awaited past it; None when not (yet) decidable."""
    if status == Status.COMPLETED:
        return completed_at is not None and completed_at <= due_at
    if status in _AWAITING:
        return False if now > due_at else None
    return None


def _reason_label(status: str, reason: str | None) -> str:
    if not reason:
        return ""
    reasons = CANCELLATION_REASONS if status == Status.CANCELLED else REJECTION_REASONS
    return reasons.get(reason, reason)


def _holder(row: asyncpg.Record) -> str:
    if row["assignee_kind"] == "organisation":
        return str(row["holder_organisation"] or "structure inconnue")
    if row["assignee_kind"] == "user":
        return str(row["holder_user"] or "utilisateur inconnu")
    try:
        return ROLE_LABELS[Role(row["assignee"])]
    except ValueError:
        return str(row["assignee"])


@dataclass(frozen=True)
class FundingLine:
    programme: str
    funder: str
    status: str
    status_label: str
    amount_cents: int | None
    currency: str
    decided_at: dt.datetime | None

    @property
    def amount(self) -> Decimal | None:
        return euros(self.amount_cents)

    @property
    def amount_label(self) -> str:
        return euros_label(self.amount_cents, self.currency)


@dataclass(frozen=True)
class ActionStep:
    """One proposal of the event, from its holder to its outcome."""

    id: uuid.UUID
    action_type: str
    action_label: str
    status: str
    status_label: str
    holder: str
    """Who holds it now (an organisation, a user of the territory or a role)."""
    carrier: str | None
    """Who carries it out: the directory organisation's name, or the name given in words."""
    carrier_organisation_id: uuid.UUID | None
    created_at: dt.datetime
    due_at: dt.datetime
    first_response_at: dt.datetime | None
    completed_at: dt.datetime | None
    on_time: bool | None
    escalation_level: int
    funding: list[FundingLine]
    outcome_reason: str | None
    """Coded reason of a refusal, a failure or a cancellation."""
    outcome_reason_label: str

    @property
    def timeliness_label(self) -> str:
        return TIMELINESS_LABELS[self.on_time]

    @property
    def closed(self) -> bool:
        return self.status in {Status.COMPLETED, Status.CANCELLED, Status.FAILED}


@dataclass(frozen=True)
class ReadmissionLine:
    """One check of the readmission watch of a discharge (D+7, D+30)."""

    horizon_days: int
    due_at: dt.datetime
    checked_at: dt.datetime | None
    readmitted: bool | None
    """None until checked."""
    readmission_type: str | None
    readmission_label: str | None
    readmitted_at: dt.datetime | None

    @property
    def state(self) -> str:
        if self.checked_at is None or self.readmitted is None:
            return "pending"
        return "readmitted" if self.readmitted else "not_readmitted"

    @property
    def state_label(self) -> str:
        return READMISSION_STATES[self.state]


@dataclass(frozen=True)
class EventRecord:
    event_id: uuid.UUID
    event_type: str
    event_label: str
    occurred_at: dt.datetime
    declared_at: dt.datetime
    source: str
    """``api`` (a partner) or ``page`` (declared in Parcours)."""
    source_label: str
    status: str
    """``received`` or ``routed``."""
    routed_at: dt.datetime | None
    person_pseudonym: str
    person_id: uuid.UUID
    """For the pages' consent decision only: never exported (the pseudonym stands for the person)."""
    actions: list[ActionStep]
    readmissions: list[ReadmissionLine]


@dataclass(frozen=True)
class TerritoryRow:
    """One action of the territory, flat (exports and the API): one row per action, always."""

    event_id: uuid.UUID
    event_type: str
    event_label: str
    event_date: dt.datetime
    person_pseudonym: str
    action_id: uuid.UUID
    action_type: str
    action_label: str
    status: str
    status_label: str
    carrier: str | None
    created_at: dt.datetime
    due_at: dt.datetime
    first_response_at: dt.datetime | None
    completed_at: dt.datetime | None
    on_time: bool | None
    escalation_level: int
    funding_programmes: str | None
    """The action's funding programmes, joined with « ; » (in programme order)."""
    funding_status: str | None
    """Their statuses, in the same order."""
    funding_amount: str | None
    """Their amounts in euros (« 450.00 »; empty when unknown), in the same order."""
    readmitted_d7: bool | None
    """For a discharge: readmitted within 7 days (None until checked, or not a discharge)."""
    readmitted_d30: bool | None


@dataclass(frozen=True)
class RecentEvent:
    event_id: uuid.UUID
    event_type: str
    event_label: str
    occurred_at: dt.datetime
    person_pseudonym: str
    actions: int
    completed: int
    late: int
    escalated: int


_PROPOSALS = (
    "SELECT p.id, p.event_id, p.action_type, p.status, p.status_reason, p.assignee_kind, p.assignee, "
    "ho.name AS holder_organisation, hu.display_name AS holder_user, p.carrier_organisation_id, "
    "coalesce(co.name, p.carrier_label) AS carrier, p.created_at, p.due_at, p.first_response_at, "
    "p.completed_at, p.escalation_level FROM action_proposal p "
    "LEFT JOIN organisation ho ON ho.id = p.assignee_organisation_id AND p.assignee_kind = 'organisation' "
    "LEFT JOIN user_account hu ON hu.id = p.assignee_user_id AND p.assignee_kind = 'user' "
    "LEFT JOIN organisation co ON co.id = p.carrier_organisation_id "
)


async def _funding(proposal_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[FundingLine]]:
    rows = await scoped_connection().fetch(
        "SELECT proposal_id, programme, funder_label, status, amount_cents, currency, decided_at "
        "FROM proposal_funding WHERE proposal_id = ANY($1::uuid[]) ORDER BY proposal_id, programme",
        proposal_ids,
    )
    found: dict[uuid.UUID, list[FundingLine]] = {}
    for row in rows:
        found.setdefault(row["proposal_id"], []).append(
            FundingLine(
                programme=row["programme"],
                funder=row["funder_label"],
                status=row["status"],
                status_label=FUNDING_STATUSES.get(row["status"], row["status"]),
                amount_cents=row["amount_cents"],
                currency=row["currency"] or "EUR",
                decided_at=row["decided_at"],
            )
        )
    return found


def _step(
    row: asyncpg.Record, funding: list[FundingLine], catalogue: Catalogue, now: dt.datetime
) -> ActionStep:
    return ActionStep(
        id=row["id"],
        action_type=row["action_type"],
        action_label=catalogue.action_label(row["action_type"]),
        status=row["status"],
        status_label=status_label(row["status"]),
        holder=_holder(row),
        carrier=row["carrier"],
        carrier_organisation_id=row["carrier_organisation_id"],
        created_at=row["created_at"],
        due_at=row["due_at"],
        first_response_at=row["first_response_at"],
        completed_at=row["completed_at"],
        on_time=on_time(row["status"], row["due_at"], row["completed_at"], now),
        escalation_level=row["escalation_level"],
        funding=funding,
        outcome_reason=row["status_reason"],
        outcome_reason_label=_reason_label(row["status"], row["status_reason"]),
    )


async def event_record(
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    catalogue: Catalogue,
    *,
    keyring: Keyring,
    now: dt.datetime | None = None,
) -> EventRecord | None:
    """The follow-up record of one event of the tenant, or None (unknown here)."""
    now = now or dt.datetime.now(dt.UTC)
    async with tenant_scope(tenant_id):
        connection = scoped_connection()
        event = await connection.fetchrow(
            "SELECT id, person_id, type, occurred_at, created_at, source, status, routed_at "
            "FROM event WHERE id = $1",
            event_id,
        )
        if event is None:
            return None
        proposals = await connection.fetch(
            _PROPOSALS + "WHERE p.event_id = $1 ORDER BY p.due_at, p.action_type, p.id", event_id
        )
        funding = await _funding([row["id"] for row in proposals])
        checks = await connection.fetch(
            "SELECT c.horizon_days, c.due_at, c.checked_at, c.readmitted, r.type AS readmission_type, "
            "r.occurred_at AS readmitted_at FROM readmission_check c "
            "LEFT JOIN event r ON r.id = c.readmission_event_id "
            "WHERE c.discharge_event_id = $1 ORDER BY c.horizon_days",
            event_id,
        )
    return EventRecord(
        event_id=event["id"],
        event_type=event["type"],
        event_label=catalogue.event_label(event["type"]),
        occurred_at=event["occurred_at"],
        declared_at=event["created_at"],
        source=event["source"],
        source_label=SOURCE_LABELS.get(event["source"], event["source"]),
        status=event["status"],
        routed_at=event["routed_at"],
        person_pseudonym=pseudonym(keyring, tenant_id, event["person_id"]),
        person_id=event["person_id"],
        actions=[_step(row, funding.get(row["id"], []), catalogue, now) for row in proposals],
        readmissions=[
            ReadmissionLine(
                horizon_days=row["horizon_days"],
                due_at=row["due_at"],
                checked_at=row["checked_at"],
                readmitted=row["readmitted"] if row["checked_at"] is not None else None,
                readmission_type=row["readmission_type"],
                readmission_label=(
                    catalogue.event_label(row["readmission_type"]) if row["readmission_type"] else None
                ),
                readmitted_at=row["readmitted_at"],
            )
            for row in checks
        ],
    )


def _joined(values: list[str]) -> str | None:
    return "; ".join(values) if values else None


async def territory_rows(
    tenant_id: uuid.UUID,
    catalogue: Catalogue,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    *,
    keyring: Keyring,
    now: dt.datetime | None = None,
) -> list[TerritoryRow]:
    """Every action of the events that occurred in [since, until), one row each, oldest event first."""
    now = now or dt.datetime.now(dt.UTC)
    args: list[Any] = []
    where = period_clause(args, since, until)
    async with tenant_scope(tenant_id):
        rows = await scoped_connection().fetch(
            "SELECT p.id, p.event_id, e.type AS event_type, e.occurred_at, e.person_id, p.action_type, "
            "p.status, coalesce(co.name, p.carrier_label) AS carrier, p.created_at, p.due_at, "
            "p.first_response_at, p.completed_at, p.escalation_level, "
            "CASE WHEN r7.checked_at IS NOT NULL THEN r7.readmitted END AS readmitted_d7, "
            "CASE WHEN r30.checked_at IS NOT NULL THEN r30.readmitted END AS readmitted_d30 "
            "FROM action_proposal p JOIN event e ON e.id = p.event_id "
            "LEFT JOIN organisation co ON co.id = p.carrier_organisation_id "
            "LEFT JOIN readmission_check r7 ON r7.discharge_event_id = e.id AND r7.horizon_days = 7 "
            "LEFT JOIN readmission_check r30 ON r30.discharge_event_id = e.id AND r30.horizon_days = 30 "
            f"WHERE {where} ORDER BY e.occurred_at, e.id, p.due_at, p.action_type, p.id",
            *args,
        )
        funding = await _funding([row["id"] for row in rows])
    result = []
    for row in rows:
        lines = funding.get(row["id"], [])
        amounts = [str(line.amount) if line.amount is not None else "" for line in lines]
        result.append(
            TerritoryRow(
                event_id=row["event_id"],
                event_type=row["event_type"],
                event_label=catalogue.event_label(row["event_type"]),
                event_date=row["occurred_at"],
                person_pseudonym=pseudonym(keyring, tenant_id, row["person_id"]),
                action_id=row["id"],
                action_type=row["action_type"],
                action_label=catalogue.action_label(row["action_type"]),
                status=row["status"],
                status_label=status_label(row["status"]),
                carrier=row["carrier"],
                created_at=row["created_at"],
                due_at=row["due_at"],
                first_response_at=row["first_response_at"],
                completed_at=row["completed_at"],
                on_time=on_time(row["status"], row["due_at"], row["completed_at"], now),
                escalation_level=row["escalation_level"],
                funding_programmes=_joined([line.programme for line in lines]),
                funding_status=_joined([line.status for line in lines]),
                funding_amount=_joined(amounts) if any(amounts) else None,
                readmitted_d7=row["readmitted_d7"],
                readmitted_d30=row["readmitted_d30"],
            )
        )
    return result


async def recent_events(
    tenant_id: uuid.UUID,
    catalogue: Catalogue,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    *,
    keyring: Keyring,
    now: dt.datetime | None = None,
    limit: int = 50,
) -> list[RecentEvent]:
    """The latest events of the period with their action counts (pseudonymous), latest first."""
    now = now or dt.datetime.now(dt.UTC)
    args: list[Any] = [now, [status.value for status in _AWAITING]]
    where = period_clause(args, since, until)
    async with tenant_scope(tenant_id):
        rows = await scoped_connection().fetch(
            "SELECT e.id, e.type, e.occurred_at, e.person_id, count(p.id) AS actions, "
            "count(p.id) FILTER (WHERE p.status = 'completed') AS completed, "
            "count(p.id) FILTER (WHERE (p.status = 'completed' AND p.completed_at > p.due_at) "
            "OR (p.status = ANY($2::text[]) AND p.due_at < $1)) AS late, "
            "count(p.id) FILTER (WHERE p.escalation_level > 0) AS escalated "
            "FROM event e LEFT JOIN action_proposal p ON p.event_id = e.id "
            f"WHERE {where} GROUP BY e.id ORDER BY e.occurred_at DESC, e.id LIMIT {int(limit)}",
            *args,
        )
    return [
        RecentEvent(
            event_id=row["id"],
            event_type=row["type"],
            event_label=catalogue.event_label(row["type"]),
            occurred_at=row["occurred_at"],
            person_pseudonym=pseudonym(keyring, tenant_id, row["person_id"]),
            actions=row["actions"],
            completed=row["completed"],
            late=row["late"],
            escalated=row["escalated"],
        )
        for row in rows
    ]


async def person_name(tenant_id: uuid.UUID, person_id: uuid.UUID) -> str | None:
    """« Jeanne Lafitte », or None for an erased file. Callers ask the consent decision point first."""
    async with tenant_scope(tenant_id):
        row = await scoped_connection().fetchrow(
            "SELECT given_names, family_name, erased_at FROM person WHERE id = $1", person_id
        )
    if row is None or row["erased_at"] is not None:
        return None
    return f"{row['given_names']} {row['family_name']}"
