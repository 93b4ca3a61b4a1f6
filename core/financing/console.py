"""What a funder's console and its system read in bulk: the counters of the queue and the export of
the organisation's lines (CSV for a French spreadsheet, JSON), with their audit entry.

A funder's agent (or its API client, acting for the organisation) only ever reads its own
organisation's lines. An export row names the person only when the consent decision point allows
the reader the person's administrative data for the instruction of a funding (one audited decision
per person); other rows carry a pseudonym, stable for this funder in this territory (a keyed digest:
two funders cannot link their exports through it). No free text leaves (notes, needs, conditions
stay in the console).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import msgspec

from core import locale
from core.access.policy import Actor as SessionActor
from core.audit.trail import Actor as AuditActor
from core.audit.trail import Outcome, Record, record
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Forbidden
from core.financing.lines import REFUSAL_REASONS, STATUS_LABELS, LineStatus
from core.financing.registry import TerritoryFunders
from core.identity.roles import Role
from core.proposals.queries import visible_people
from core.runtime import Runtime
from core.spreadsheet import csv_bytes

_PSEUDONYM_DOMAIN = "parcours/funding/pseudonym/v1:"
PSEUDONYM_LENGTH = 16
MAX_ROWS = 10_000


def _organisation(actor: SessionActor) -> uuid.UUID:
    if actor.role is not Role.FUNDER_AGENT or actor.organisation_id is None or actor.tenant_id is None:
        raise Forbidden("réservé aux agents d'un financeur")
    return actor.organisation_id


async def queue_counts(actor: SessionActor, views: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """How many of the organisation's lines each view of the queue holds (``views``: name →
    statuses), and how many open ones are past their deadline (``en-retard``)."""
    organisation = _organisation(actor)
    assert actor.tenant_id is not None
    async with tenant_scope(actor.tenant_id):
        rows = await scoped_connection().fetch(
            "SELECT status, count(*) AS n, count(*) FILTER (WHERE due_at < now()) AS late "
            "FROM funding_line WHERE funder_organisation_id = $1 GROUP BY status",
            organisation,
        )
    by_status = {row["status"]: (row["n"], row["late"]) for row in rows}
    counts = {name: sum(by_status.get(s, (0, 0))[0] for s in statuses) for name, statuses in views.items()}
    open_statuses = {
        s.value for s in (LineStatus.SUBMITTED, LineStatus.UNDER_REVIEW, LineStatus.INFORMATION_REQUESTED)
    }
    counts["en-retard"] = sum(late for status, (_, late) in by_status.items() if status in open_statuses)
    return counts


@dataclass(frozen=True)
class ExportRow:
    """One line of the organisation, as its own system imports it."""

    line_id: str
    request_id: str
    funder: str
    programme: str
    programme_label: str
    status: str
    status_label: str
    submitted_at: dt.datetime | None
    due_at: dt.datetime | None
    decided_at: dt.datetime | None
    requested_cents: int | None
    decided_cents: int | None
    decided_hours: int | None
    period_start: dt.date | None
    period_end: dt.date | None
    reason_code: str | None
    reason_label: str | None
    person_pseudonym: str
    identity_shared: bool
    """The person's consent lets this funder read their administrative data: the next columns are filled."""
    family_name: str | None
    given_names: str | None
    birth_date: dt.date | None
    commune_insee: str | None


COLUMNS: tuple[tuple[str, str], ...] = (
    ("line_id", "Demande (identifiant de la ligne)"),
    ("request_id", "Dossier (identifiant)"),
    ("funder", "Financeur (code)"),
    ("programme", "Programme (code)"),
    ("programme_label", "Programme"),
    ("status", "Statut (code)"),
    ("status_label", "Statut"),
    ("submitted_at", "Reçue le"),
    ("due_at", "Échéance"),
    ("decided_at", "Décidée le"),
    ("requested_cents", "Montant demandé (€)"),
    ("decided_cents", "Montant accordé (€)"),
    ("decided_hours", "Heures accordées"),
    ("period_start", "Début de la période"),
    ("period_end", "Fin de la période"),
    ("reason_code", "Motif de refus (code)"),
    ("reason_label", "Motif de refus"),
    ("person_pseudonym", "Personne (pseudonyme)"),
    ("identity_shared", "Identité transmise"),
    ("family_name", "Nom"),
    ("given_names", "Prénoms"),
    ("birth_date", "Date de naissance"),
    ("commune_insee", "Commune (code INSEE)"),
)
"""Every field of :class:`ExportRow`, in order, with its French header."""

assert [name for name, _ in COLUMNS] == [f.name for f in fields(ExportRow)], "columns out of date"


def pseudonym(
    runtime: Runtime, tenant_id: uuid.UUID, organisation_id: uuid.UUID, person_id: uuid.UUID
) -> str:
    """The person's stable pseudonym for this funder organisation (a truncated keyed digest)."""
    message = f"{_PSEUDONYM_DOMAIN}{organisation_id}:{person_id}"
    return runtime.keyring.lookup_digest(tenant_id, message)[:PSEUDONYM_LENGTH]


async def export_rows(
    runtime: Runtime,
    actor: SessionActor,
    funders: TerritoryFunders,
    *,
    status: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[ExportRow]:
    """The organisation's lines sent to it (drafts never are), submitted in ``[since, until)``,
    oldest first; identity columns only where consent allows."""
    organisation = _organisation(actor)
    assert actor.tenant_id is not None
    async with tenant_scope(actor.tenant_id):
        rows = await scoped_connection().fetch(
            "SELECT l.id, l.request_id, l.funder, l.programme, l.status, l.submitted_at, l.due_at, "
            "l.decided_at, l.requested_cents, l.decided_cents, l.decided_hours, l.period_start, "
            "l.period_end, l.reason_code, r.person_id, p.family_name, p.given_names, p.birth_date, "
            "p.commune_insee, p.erased_at FROM funding_line l JOIN funding_request r ON r.id = l.request_id "
            "JOIN person p ON p.id = r.person_id WHERE l.funder_organisation_id = $1 AND l.status <> 'draft' "
            "AND ($2::text IS NULL OR l.status = $2) AND ($3::timestamptz IS NULL OR l.submitted_at >= $3) "
            "AND ($4::timestamptz IS NULL OR l.submitted_at < $4) ORDER BY l.submitted_at, l.id LIMIT $5",
            organisation,
            status or None,
            since,
            until,
            MAX_ROWS,
        )
    visible = await visible_people(runtime, actor, [row["person_id"] for row in rows], "funding_export")
    found = []
    for row in rows:
        shown = visible[row["person_id"]] and row["erased_at"] is None
        programme = funders.find(row["programme"])
        found.append(
            ExportRow(
                line_id=str(row["id"]),
                request_id=str(row["request_id"]),
                funder=row["funder"],
                programme=row["programme"],
                programme_label=programme[1].label if programme else row["programme"],
                status=row["status"],
                status_label=STATUS_LABELS[LineStatus(row["status"])],
                submitted_at=row["submitted_at"],
                due_at=row["due_at"],
                decided_at=row["decided_at"],
                requested_cents=row["requested_cents"],
                decided_cents=row["decided_cents"],
                decided_hours=row["decided_hours"],
                period_start=row["period_start"],
                period_end=row["period_end"],
                reason_code=row["reason_code"],
                reason_label=REFUSAL_REASONS.get(row["reason_code"] or ""),
                person_pseudonym=pseudonym(runtime, actor.tenant_id, organisation, row["person_id"]),
                identity_shared=shown,
                family_name=row["family_name"] if shown else None,
                given_names=row["given_names"] if shown else None,
                birth_date=row["birth_date"] if shown else None,
                commune_insee=row["commune_insee"] if shown else None,
            )
        )
    return found


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dt.datetime):
        return value.astimezone(locale.TIME_ZONE).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if name.endswith("_cents"):
        return f"{value // 100},{value % 100:02d}"
    return str(value)


def rows_csv(rows: list[ExportRow]) -> bytes:
    """The rows for a French spreadsheet (amounts in euros with a decimal comma, Paris times)."""
    return csv_bytes(
        (header for _, header in COLUMNS),
        ([_cell(name, getattr(row, name)) for name, _ in COLUMNS] for row in rows),
    )


def rows_json(rows: list[ExportRow], since: dt.datetime | None, until: dt.datetime | None) -> bytes:
    """``{"since", "until", "count", "rows": [...]}``; amounts in cents."""
    return msgspec.json.encode({"since": since, "until": until, "count": len(rows), "rows": rows})


def file_name(slug: str, extension: str, now: dt.datetime) -> str:
    return f"financements-{slug}-{locale.paris_day(now).isoformat()}.{extension}"


async def audit_export(
    tenant_id: uuid.UUID,
    actor: AuditActor,
    organisation_id: uuid.UUID,
    *,
    export_format: str,
    rows: list[ExportRow],
    status: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    via: str,
) -> None:
    """One ``funding.export`` entry in the tenant's audit trail (in a transaction of its own)."""
    detail = {
        "format": export_format,
        "rows": len(rows),
        "identified": sum(1 for row in rows if row.identity_shared),
        "status": status,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "via": via,
    }
    await record(
        tenant_id,
        Record(actor, "funding.export", Outcome.SUCCESS, "organisation", str(organisation_id), detail),
    )
