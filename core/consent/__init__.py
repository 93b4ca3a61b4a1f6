"""Consent: who may see or change what in a person's file, and why (issue 5).

``model`` holds the values (consents, care team, carer links, decisions); ``rules.decide`` is the
one decision point, pure: the storage layer loads the person's consents and calls it.
"""

from core.consent.model import (
    Action,
    Actor,
    Basis,
    BreakGlass,
    CarerLink,
    CareTeamMembership,
    Consent,
    ConsentKind,
    DataCategory,
    Decision,
    Purpose,
    Recipient,
    RecipientKind,
    RecordedBy,
)
from core.consent.rules import decide

__all__ = [
    "Action",
    "Actor",
    "Basis",
    "BreakGlass",
    "CareTeamMembership",
    "CarerLink",
    "Consent",
    "ConsentKind",
    "DataCategory",
    "Decision",
    "Purpose",
    "Recipient",
    "RecipientKind",
    "RecordedBy",
    "decide",
]
