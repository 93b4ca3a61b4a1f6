"""Exports of the territory's follow-up rows (CSV for French spreadsheets, JSON), and their audit entry.

The CSV opens as is in a French Excel: UTF-8 with a byte-order mark, ``;`` between fields, decimal
commas, dates as « AAAA-MM-JJ HH:MM » in Paris time, booleans as « oui » / « non » (empty: not
decidable yet). Each export appends one ``followup.export`` entry to the tenant's audit trail with its
format, period and row count (the rows themselves are pseudonymous).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import msgspec

from core import locale
from core.audit.trail import Actor, Outcome, Record, record
from core.followup.record import TerritoryRow
from core.spreadsheet import csv_bytes

COLUMNS: tuple[tuple[str, str], ...] = (
    ("event_id", "Événement (identifiant)"),
    ("event_type", "Type d'événement (code)"),
    ("event_label", "Type d'événement"),
    ("event_date", "Date de l'événement"),
    ("person_pseudonym", "Personne (pseudonyme)"),
    ("action_id", "Action (identifiant)"),
    ("action_type", "Type d'action (code)"),
    ("action_label", "Action"),
    ("status", "Statut (code)"),
    ("status_label", "Statut"),
    ("carrier", "Prestataire"),
    ("created_at", "Proposée le"),
    ("due_at", "Échéance"),
    ("first_response_at", "Première réponse le"),
    ("completed_at", "Réalisée le"),
    ("on_time", "Dans les délais"),
    ("escalation_level", "Niveau d'escalade"),
    ("funding_programmes", "Financement(s)"),
    ("funding_status", "Statut du financement"),
    ("funding_amount", "Montant (€)"),
    ("readmitted_d7", "Réhospitalisation à J+7"),
    ("readmitted_d30", "Réhospitalisation à J+30"),
)
"""Every field of :class:`TerritoryRow`, in order, with its French header."""

assert [name for name, _ in COLUMNS] == [f.name for f in fields(TerritoryRow)], "columns out of date"


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dt.datetime):
        return value.astimezone(locale.TIME_ZONE).strftime("%Y-%m-%d %H:%M")
    if name == "funding_amount":
        return str(value).replace(".", ",")
    return str(value)


def rows_csv(rows: list[TerritoryRow]) -> bytes:
    """The rows as a CSV file for French spreadsheets (BOM, ``;``, French header)."""
    return csv_bytes(
        (header for _, header in COLUMNS),
        ([_cell(name, getattr(row, name)) for name, _ in COLUMNS] for row in rows),
    )


def rows_json(rows: list[TerritoryRow], since: dt.datetime | None, until: dt.datetime | None) -> bytes:
    """The rows as one JSON document: ``{"since", "until", "count", "rows": [...]}``."""
    return msgspec.json.encode({"since": since, "until": until, "count": len(rows), "rows": rows})


def file_name(slug: str, extension: str, today: dt.date) -> str:
    return f"suivi-{slug}-{today.isoformat()}.{extension}"


def disposition(slug: str, extension: str, clock: Callable[[], dt.datetime]) -> str:
    """``Content-Disposition`` of an export file (the slug is ASCII: no ``filename*`` needed)."""
    today = locale.paris_day(clock())
    return f'attachment; filename="{file_name(slug, extension, today)}"'


async def audit_export(
    tenant_id: uuid.UUID,
    actor: Actor,
    *,
    export_format: str,
    rows: int,
    since: dt.datetime | None,
    until: dt.datetime | None,
    via: str,
) -> None:
    """One ``followup.export`` entry in the tenant's audit trail (in a transaction of its own)."""
    detail = {
        "format": export_format,
        "rows": rows,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "via": via,
    }
    await record(
        tenant_id, Record(actor, "followup.export", Outcome.SUCCESS, "tenant", str(tenant_id), detail)
    )
