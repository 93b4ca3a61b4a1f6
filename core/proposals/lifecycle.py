"""The statuses of an action proposal and the moves between them (pure rules, no database).

Statuses are those of FHIR Task as the HL7 Gravity SDOH referral pattern uses them: the proposal is
*requested* from its assignee, who acknowledges it (*received*), *accepts* or *rejects* it with a
coded reason, starts it (*in-progress*) and ends it (*completed*, or *failed* with a reason); the
coordination may *cancel* it. A reassignment puts it back to *requested* for its new holder.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    REQUESTED = "requested"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


STATUS_LABELS: dict[Status, str] = {
    Status.REQUESTED: "À traiter",
    Status.RECEIVED: "Prise en compte",
    Status.ACCEPTED: "Acceptée",
    Status.REJECTED: "Refusée",
    Status.IN_PROGRESS: "En cours",
    Status.COMPLETED: "Réalisée",
    Status.CANCELLED: "Annulée",
    Status.FAILED: "Non réalisée",
}

OPEN = frozenset({Status.REQUESTED, Status.RECEIVED, Status.ACCEPTED, Status.IN_PROGRESS})
"""Someone still has to act: these count for deadlines and escalation."""
CLOSED = frozenset({Status.COMPLETED, Status.CANCELLED, Status.FAILED})
REASSIGNABLE = frozenset({Status.REQUESTED, Status.RECEIVED, Status.ACCEPTED, Status.REJECTED})


class Move(StrEnum):
    """What a user does to a proposal (each is one transition)."""

    ACKNOWLEDGE = "acknowledge"
    ACCEPT = "accept"
    REJECT = "reject"
    START = "start"
    COMPLETE = "complete"
    FAIL = "fail"
    CANCEL = "cancel"


MOVES: dict[Move, tuple[frozenset[Status], Status]] = {
    Move.ACKNOWLEDGE: (frozenset({Status.REQUESTED}), Status.RECEIVED),
    Move.ACCEPT: (frozenset({Status.REQUESTED, Status.RECEIVED}), Status.ACCEPTED),
    Move.REJECT: (frozenset({Status.REQUESTED, Status.RECEIVED}), Status.REJECTED),
    Move.START: (frozenset({Status.ACCEPTED}), Status.IN_PROGRESS),
    Move.COMPLETE: (frozenset({Status.ACCEPTED, Status.IN_PROGRESS}), Status.COMPLETED),
    Move.FAIL: (frozenset({Status.ACCEPTED, Status.IN_PROGRESS}), Status.FAILED),
    Move.CANCEL: (OPEN | {Status.REJECTED}, Status.CANCELLED),
}

MOVE_LABELS: dict[Move, str] = {
    Move.ACKNOWLEDGE: "Prendre en compte",
    Move.ACCEPT: "Accepter",
    Move.REJECT: "Refuser",
    Move.START: "Démarrer",
    Move.COMPLETE: "Marquer réalisée",
    Move.FAIL: "Déclarer non réalisée",
    Move.CANCEL: "Annuler",
}

NEEDS_REASON = frozenset({Move.REJECT, Move.FAIL, Move.CANCEL})

REJECTION_REASONS: dict[str, str] = {
    "outside_area": "Hors de notre zone d'intervention",
    "no_capacity": "Plus de disponibilité dans le délai",
    "not_our_service": "Ne correspond pas à nos services",
    "missing_information": "Informations insuffisantes",
    "already_handled": "Déjà pris en charge par ailleurs",
    "person_declined": "La personne refuse",
    "person_unreachable": "Personne injoignable",
    "other": "Autre motif (préciser en commentaire)",
}
"""Coded reasons of a refusal, a failure or a cancellation (as orientation platforms code them)."""

CANCELLATION_REASONS: dict[str, str] = {
    "no_longer_needed": "N'est plus nécessaire",
    "person_deceased": "Décès de la personne",
    "person_readmitted": "Nouvelle hospitalisation",
    "duplicate": "Doublon",
    "person_declined": "La personne refuse",
    "other": "Autre motif (préciser en commentaire)",
}

LINK_MOVES = frozenset({Move.ACKNOWLEDGE, Move.ACCEPT, Move.REJECT, Move.START, Move.COMPLETE, Move.FAIL})
"""What a recipient without an account may do through a signed link (never cancel)."""


def target_of(move: Move, current: Status) -> Status | None:
    """The status ``move`` leads to from ``current``, or None when it is not allowed."""
    sources, target = MOVES[move]
    return target if current in sources else None


def allowed_moves(current: Status) -> list[Move]:
    return [move for move, (sources, _) in MOVES.items() if current in sources]


def reasons_for(move: Move) -> dict[str, str]:
    return CANCELLATION_REASONS if move is Move.CANCEL else REJECTION_REASONS
