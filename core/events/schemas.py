"""The shape of an event declaration, validated at the edge (msgspec)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

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


class DischargeDetails(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    ward: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    discharge_summary_available: bool | None = None
    establishment_finess: Annotated[str, msgspec.Meta(pattern=r"^\d{9}$")] | None = None


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    """A life event declared by a partner or a professional."""

    type: Literal["hospital_discharge", "hospital_admission"]
    occurred_at: Annotated[
        dt.datetime,
        msgspec.Meta(
            tz=True,
            description="Date et heure de l'événement (ISO 8601 avec fuseau) ; "
            "pour une sortie programmée, la date prévue.",
        ),
    ]
    person: PersonIn
    details: DischargeDetails = msgspec.field(default_factory=DischargeDetails)


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
