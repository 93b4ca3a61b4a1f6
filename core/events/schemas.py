"""The shape of an event declaration, validated at the edge (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
CommuneCode = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(\d{5}|2[AB]\d{3})$",
        description="Code officiel géographique INSEE de la commune (5 caractères).",
        examples=["40192"],
    ),
]


class PersonIn(msgspec.Struct, forbid_unknown_fields=True):
    """The person concerned, as the declaring partner knows them."""

    ins: Annotated[
        str,
        msgspec.Meta(
            min_length=13,
            max_length=21,
            description="INS / NIR, 15 caractères clé comprise (Corse : 2A / 2B).",
            examples=["242024019212345"],
        ),
    ]
    family_name: Name
    given_names: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    birth_date: dt.date
    commune_insee: CommuneCode
    lives_alone: bool | None = None


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    """A life event declared by a partner or a professional."""

    type: Annotated[
        str,
        msgspec.Meta(
            pattern=r"^[a-z][a-z0-9_]{2,49}$",
            description="Type d'événement : hospital_admission, hospital_discharge, emergency_visit, "
            "fall_at_home, carer_unavailable, autonomy_loss, gp_alert_to_social, social_alert_to_gp, "
            "teleconsultation_request, death (et ceux des modules du territoire).",
            examples=["hospital_discharge"],
        ),
    ]
    occurred_at: Annotated[
        dt.datetime,
        msgspec.Meta(
            tz=True,
            description="Date et heure de l'événement (ISO 8601 avec fuseau) ; "
            "pour une sortie programmée, la date prévue.",
        ),
    ]
    person: PersonIn
    details: Annotated[
        dict[str, Any],
        msgspec.Meta(
            description="Précisions propres au type (ex. sortie : ward, discharge_summary_available, "
            "establishment_finess, destination ; chute : injured, long_lie, remote_alarm). "
            "Jamais de diagnostic : les détails circulent avec l'événement.",
        ),
    ] = msgspec.field(default_factory=dict)


class ProposalOut(msgspec.Struct):
    id: str
    action_type: str
    title: str
    assignee_kind: str
    assignee: str
    priority: str
    due_at: dt.datetime
    status: str
    source_plugin: str
    suggested_funding: list[str] = msgspec.field(default_factory=list)
    escalation_level: int = 0


class EventOut(msgspec.Struct):
    id: str
    type: str
    status: str
    occurred_at: dt.datetime
    created_at: dt.datetime
    routed_at: dt.datetime | None
    details: dict[str, Any]
    proposals: list[ProposalOut]


class EventReceived(msgspec.Struct):
    id: str
    status: str
