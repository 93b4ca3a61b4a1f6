"""The catalogue of event types and action types: what may be declared, what may be proposed.

The core ships the types below; plugins add theirs through the ``event_types`` and ``action_types``
hooks (a tenant sees the core's types and those of the plugins it enabled). Each event type says
which category of the person's data it belongs to, so the consent rules decide who may see it, and
validates its details with a msgspec structure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec

from core.consent.model import DataCategory
from core.events.model import EventType

Text200 = Annotated[str, msgspec.Meta(max_length=200)]
Finess = Annotated[str, msgspec.Meta(pattern=r"^\d{9}$", description="Numéro FINESS (9 chiffres).")]


class NoDetails(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """An event with nothing more to say than its type and date."""


class AdmissionDetails(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    ward: Text200 | None = None
    establishment_finess: Finess | None = None
    planned: bool | None = None


class DischargeDetails(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    ward: Text200 | None = None
    discharge_summary_available: bool | None = None
    establishment_finess: Finess | None = None
    destination: Literal["home", "nursing_home", "other"] | None = None


class EmergencyDetails(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    establishment_finess: Finess | None = None
    admitted: bool | None = None


class FallDetails(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    injured: bool | None = None
    long_lie: bool | None = None
    """Stayed on the floor more than an hour."""
    remote_alarm: bool | None = None
    """The person has a remote alarm (téléassistance)."""


class CarerUnavailableDetails(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    reason: Literal["illness", "hospitalisation", "other"] = "other"
    expected_until: dt.date | None = None


class AutonomyLossDetails(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    domains: list[Literal["mobility", "hygiene", "meals", "medication", "cognition", "housekeeping"]] = (
        msgspec.field(default_factory=list)
    )


class AlertDetails(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    urgency: Literal["routine", "urgent"] = "routine"
    subject: Annotated[str, msgspec.Meta(max_length=120)] | None = None
    """A short subject, without medical detail (it may appear in notifications)."""


class TeleconsultationDetails(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    preferred_date: dt.date | None = None
    specialty: Text200 | None = None


@dataclass(frozen=True)
class EventTypeSpec:
    """One kind of life event."""

    code: str
    label: str
    """French label, shown in pages."""
    category: DataCategory
    """The category of the person's data this event belongs to (decides who may see it)."""
    details: type[msgspec.Struct] = NoDetails
    readmission: bool = False
    """An event of this type within 30 days of a discharge counts as a readmission."""
    declarable_by_person: bool = False
    """The person or a carer may declare it from the portal."""

    def validate_details(self, details: Any) -> dict[str, Any]:
        """The details as builtins, validated (``msgspec.ValidationError`` on bad input)."""
        value = msgspec.convert(details or {}, self.details)
        built: dict[str, Any] = msgspec.to_builtins(value)
        return built


@dataclass(frozen=True)
class ActionTypeSpec:
    """One kind of action a proposal asks for."""

    code: str
    label: str
    service_type: str | None = None
    """The marketplace service type that delivers it, when a provider does."""


CORE_EVENT_TYPES: tuple[EventTypeSpec, ...] = (
    EventTypeSpec(
        EventType.HOSPITAL_ADMISSION,
        "Hospitalisation",
        DataCategory.MEDICAL,
        AdmissionDetails,
        readmission=True,
        declarable_by_person=True,
    ),
    EventTypeSpec(
        EventType.HOSPITAL_DISCHARGE, "Sortie d'hospitalisation", DataCategory.MEDICAL, DischargeDetails
    ),
    EventTypeSpec(
        EventType.EMERGENCY_VISIT,
        "Passage aux urgences",
        DataCategory.MEDICAL,
        EmergencyDetails,
        readmission=True,
        declarable_by_person=True,
    ),
    EventTypeSpec(
        EventType.FALL_AT_HOME,
        "Chute à domicile",
        DataCategory.MEDICAL,
        FallDetails,
        declarable_by_person=True,
    ),
    EventTypeSpec(
        EventType.CARER_UNAVAILABLE,
        "Aidant indisponible",
        DataCategory.SOCIAL,
        CarerUnavailableDetails,
        declarable_by_person=True,
    ),
    EventTypeSpec(
        EventType.AUTONOMY_LOSS,
        "Perte d'autonomie constatée",
        DataCategory.SOCIAL,
        AutonomyLossDetails,
        declarable_by_person=True,
    ),
    EventTypeSpec(
        EventType.GP_ALERT_TO_SOCIAL,
        "Alerte du médecin traitant au service social",
        DataCategory.SOCIAL,
        AlertDetails,
    ),
    EventTypeSpec(
        EventType.SOCIAL_ALERT_TO_GP,
        "Alerte du service social au médecin traitant",
        DataCategory.SOCIAL,
        AlertDetails,
    ),
    EventTypeSpec(
        EventType.TELECONSULTATION_REQUEST,
        "Demande de téléconsultation assistée par un infirmier",
        DataCategory.MEDICAL,
        TeleconsultationDetails,
        declarable_by_person=True,
    ),
    EventTypeSpec(EventType.DEATH, "Décès", DataCategory.ADMINISTRATIVE),
)

CORE_ACTION_TYPES: tuple[ActionTypeSpec, ...] = (
    ActionTypeSpec("home_help_assessment", "Évaluation des besoins d'aide à domicile", "home_help"),
    ActionTypeSpec("temporary_home_help", "Aide à domicile temporaire", "home_help"),
    ActionTypeSpec("nurse_visit", "Passage infirmier", "home_nursing"),
    ActionTypeSpec("pharmacy_delivery", "Préparation et livraison des médicaments", "pharmacy_delivery"),
    ActionTypeSpec("gp_follow_up_call", "Appel de suivi du médecin traitant"),
    ActionTypeSpec("gp_visit", "Consultation du médecin traitant"),
    ActionTypeSpec("funding_request", "Demande de financement"),
    ActionTypeSpec("social_assessment", "Évaluation sociale"),
    ActionTypeSpec("respite_care", "Solution de répit ou d'accueil temporaire", "respite"),
    ActionTypeSpec("remote_alarm", "Installation d'une téléassistance", "remote_alarm"),
    ActionTypeSpec("home_adaptation", "Adaptation du logement", "home_adaptation"),
    ActionTypeSpec("fall_prevention_assessment", "Évaluation du risque de chute"),
    ActionTypeSpec("teleconsultation", "Téléconsultation assistée", "home_nursing"),
    ActionTypeSpec("coordination_check", "Point de coordination"),
    ActionTypeSpec("close_file", "Clôture du parcours"),
)


@dataclass(frozen=True)
class Catalogue:
    """The event and action types one territory knows (the core's and its plugins')."""

    events: dict[str, EventTypeSpec]
    actions: dict[str, ActionTypeSpec]

    def event(self, code: str) -> EventTypeSpec | None:
        return self.events.get(code)

    def event_label(self, code: str) -> str:
        spec = self.events.get(code)
        return spec.label if spec else code

    def action_label(self, code: str) -> str:
        spec = self.actions.get(code)
        return spec.label if spec else code


def build_catalogue(contributions: list[tuple[str, list[Any]]]) -> Catalogue:
    """The core's types plus those plugins returned (a plugin cannot redefine a core type)."""
    events = {spec.code: spec for spec in CORE_EVENT_TYPES}
    actions = {spec.code: spec for spec in CORE_ACTION_TYPES}
    for plugin, specs in contributions:
        for spec in specs or []:
            if isinstance(spec, EventTypeSpec):
                events.setdefault(spec.code, spec)
            elif isinstance(spec, ActionTypeSpec):
                actions.setdefault(spec.code, spec)
            else:
                raise TypeError(f"{plugin} declared {type(spec).__name__}, not a type spec")
    return Catalogue(events, actions)


async def tenant_catalogue(pm: Any, enabled: tuple[str, ...]) -> Catalogue:
    """The catalogue of a territory: the core's types and those of its enabled plugins."""
    from core.plugins import call_each

    contributions = await call_each(pm, enabled, "event_types")
    contributions += await call_each(pm, enabled, "action_types")
    return build_catalogue(contributions)
