"""The life of one funder's line of a funding request: statuses, who may move it, what a move needs.

Pure rules (no database): :mod:`core.financing.requests` applies them under a row lock.

    draft → submitted → under_review ⇄ information_requested
                      ↘ approved / partially_approved → paid
                      ↘ refused (coded reason)
    draft / submitted / under_review / information_requested → withdrawn (by the requester)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from core.errors import FieldError, InvalidInput


class LineStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    INFORMATION_REQUESTED = "information_requested"
    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    REFUSED = "refused"
    PAID = "paid"
    WITHDRAWN = "withdrawn"


STATUS_LABELS = {
    LineStatus.DRAFT: "Brouillon",
    LineStatus.SUBMITTED: "Envoyée",
    LineStatus.UNDER_REVIEW: "En cours d'instruction",
    LineStatus.INFORMATION_REQUESTED: "Informations demandées",
    LineStatus.APPROVED: "Accordée",
    LineStatus.PARTIALLY_APPROVED: "Accordée en partie",
    LineStatus.REFUSED: "Refusée",
    LineStatus.PAID: "Versée",
    LineStatus.WITHDRAWN: "Retirée",
}

OPEN = frozenset({LineStatus.SUBMITTED, LineStatus.UNDER_REVIEW, LineStatus.INFORMATION_REQUESTED})
"""Waiting for the funder (its deadline runs)."""
GRANTED = frozenset({LineStatus.APPROVED, LineStatus.PARTIALLY_APPROVED, LineStatus.PAID})
DECIDED = GRANTED | {LineStatus.REFUSED}

FUNDER_MOVES: dict[LineStatus, frozenset[LineStatus]] = {
    LineStatus.SUBMITTED: frozenset(
        {
            LineStatus.UNDER_REVIEW,
            LineStatus.INFORMATION_REQUESTED,
            LineStatus.APPROVED,
            LineStatus.PARTIALLY_APPROVED,
            LineStatus.REFUSED,
        }
    ),
    LineStatus.UNDER_REVIEW: frozenset(
        {
            LineStatus.INFORMATION_REQUESTED,
            LineStatus.APPROVED,
            LineStatus.PARTIALLY_APPROVED,
            LineStatus.REFUSED,
        }
    ),
    LineStatus.INFORMATION_REQUESTED: frozenset(
        {LineStatus.APPROVED, LineStatus.PARTIALLY_APPROVED, LineStatus.REFUSED}
    ),
    LineStatus.APPROVED: frozenset({LineStatus.PAID}),
    LineStatus.PARTIALLY_APPROVED: frozenset({LineStatus.PAID}),
}
"""What the funder's agents may do from each status."""

REQUESTER_MOVES: dict[LineStatus, frozenset[LineStatus]] = {
    LineStatus.DRAFT: frozenset({LineStatus.SUBMITTED, LineStatus.WITHDRAWN}),
    LineStatus.SUBMITTED: frozenset({LineStatus.WITHDRAWN}),
    LineStatus.UNDER_REVIEW: frozenset({LineStatus.WITHDRAWN}),
    LineStatus.INFORMATION_REQUESTED: frozenset({LineStatus.UNDER_REVIEW, LineStatus.WITHDRAWN}),
}
"""What the requester (social worker, the person, their carer) may do: send, answer, withdraw."""

REFUSAL_REASONS = {
    "not_eligible": "Conditions d'attribution non remplies",
    "income_above_ceiling": "Ressources au-dessus du plafond",
    "incomplete_file": "Dossier incomplet",
    "not_resident": "Hors du territoire de l'organisme",
    "other_scheme": "Relève d'un autre organisme ou régime",
    "already_funded": "Besoin déjà financé",
    "budget_exhausted": "Budget de l'action sociale épuisé",
    "other": "Autre motif (précisé)",
}

FUNDING_STATUS = {
    LineStatus.DRAFT: "requested",
    LineStatus.SUBMITTED: "requested",
    LineStatus.UNDER_REVIEW: "requested",
    LineStatus.INFORMATION_REQUESTED: "requested",
    LineStatus.APPROVED: "approved",
    LineStatus.PARTIALLY_APPROVED: "partially_approved",
    LineStatus.REFUSED: "refused",
    LineStatus.PAID: "paid",
}
"""A line's status as the follow-up record of the routed action shows it (``proposal_funding``)."""


@dataclass(frozen=True)
class LineMove:
    """One move of a line, as typed by a funder's agent or the requester."""

    to: LineStatus
    amount_cents: int | None = None
    hours: int | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    conditions: str = ""
    reason_code: str | None = None
    note: str = ""
    """A question (information requested), an answer, or the explanation of a decision."""
    expected_version: int | None = None


MAX_NOTE = 4000


def check_move(move: LineMove) -> None:
    """Refuse an incomplete or contradictory move, naming each field (in French)."""
    errors: list[FieldError] = []
    note = move.note.strip()
    if len(note) > MAX_NOTE:
        errors.append(FieldError("note", f"{MAX_NOTE} caractères au plus"))
    if move.to in (LineStatus.APPROVED, LineStatus.PARTIALLY_APPROVED):
        if move.amount_cents is None or move.amount_cents <= 0:
            errors.append(FieldError("amount", "indiquez le montant accordé"))
        if move.period_start is None:
            errors.append(FieldError("period_start", "indiquez le début de la période"))
        if move.period_end is None:
            errors.append(FieldError("period_end", "indiquez la fin de la période"))
        elif move.period_start is not None and move.period_end < move.period_start:
            errors.append(FieldError("period_end", "la fin précède le début"))
        if move.hours is not None and not 0 <= move.hours <= 2000:
            errors.append(FieldError("hours", "nombre d'heures entre 0 et 2 000"))
        if len(move.conditions) > 2000:
            errors.append(FieldError("conditions", "2 000 caractères au plus"))
    if move.to is LineStatus.REFUSED:
        if move.reason_code not in REFUSAL_REASONS:
            errors.append(FieldError("reason_code", "choisissez le motif du refus"))
        elif move.reason_code == "other" and len(note) < 5:
            errors.append(FieldError("note", "précisez le motif du refus"))
    if move.to is LineStatus.INFORMATION_REQUESTED and len(note) < 5:
        errors.append(FieldError("note", "écrivez la question posée au demandeur"))
    if move.to is LineStatus.UNDER_REVIEW and move.note and len(note) < 2:
        errors.append(FieldError("note", "réponse trop courte"))
    if errors:
        raise InvalidInput("décision incomplète", errors)
