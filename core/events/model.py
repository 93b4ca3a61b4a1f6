"""Plain values exchanged with routing plugins (the public plugin API of events).

A routing plugin receives an :class:`EventView` and a :class:`RoutingContext` and returns
:class:`ProposedAction` values. Each proposal names a :class:`Target`: who should act. The core
resolves the target into an assignee (a user, an organisation or a role of the territory), stores
the proposal as a task that follows the FHIR Task statuses, and follows it until it is done.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    """Kinds of life event the core knows (plugins may declare more, see ``event_types``)."""

    HOSPITAL_ADMISSION = "hospital_admission"
    HOSPITAL_DISCHARGE = "hospital_discharge"
    EMERGENCY_VISIT = "emergency_visit"
    FALL_AT_HOME = "fall_at_home"
    CARER_UNAVAILABLE = "carer_unavailable"
    AUTONOMY_LOSS = "autonomy_loss"
    GP_ALERT_TO_SOCIAL = "gp_alert_to_social"
    SOCIAL_ALERT_TO_GP = "social_alert_to_gp"
    TELECONSULTATION_REQUEST = "teleconsultation_request"
    DEATH = "death"


class TargetKind(StrEnum):
    """Who a proposal is for, as a rule expresses it."""

    USER = "user"
    """A named user account (``value``: its id)."""
    ORGANISATION = "organisation"
    """A named organisation of the directory (``value``: its id)."""
    ROLE = "role"
    """Anyone holding a role in the territory (``value``: a ``core.identity.roles.Role``)."""
    CARE_TEAM = "care_team"
    """The organisation of that kind in the person's care team (``value``: an ``OrganisationKind``);
    without one, any organisation of that kind the territory has, else the coordinators."""
    MARKETPLACE = "marketplace"
    """A provider chosen among the territory's published offers (``value``: a service type code),
    see :mod:`core.proposals.assignment`; the coordinators when no offer fits."""


class Priority(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"


@dataclass(frozen=True)
class Target:
    """Who should act on a proposal. Build it with the class methods."""

    kind: TargetKind
    value: str

    @classmethod
    def user(cls, user_id: uuid.UUID) -> Target:
        return cls(TargetKind.USER, str(user_id))

    @classmethod
    def organisation(cls, organisation_id: uuid.UUID) -> Target:
        return cls(TargetKind.ORGANISATION, str(organisation_id))

    @classmethod
    def role(cls, role: str) -> Target:
        return cls(TargetKind.ROLE, str(role))

    @classmethod
    def care_team(cls, organisation_kind: str) -> Target:
        return cls(TargetKind.CARE_TEAM, str(organisation_kind))

    @classmethod
    def marketplace(cls, service_type: str) -> Target:
        return cls(TargetKind.MARKETPLACE, service_type)


@dataclass(frozen=True)
class EventView:
    """An event as routing plugins see it (``details`` as validated for its type)."""

    id: uuid.UUID
    type: str
    occurred_at: dt.datetime
    details: dict[str, Any]


@dataclass(frozen=True)
class PersonSituation:
    """What routing may know of the person, at the event date (no identifiers)."""

    age: int
    commune_insee: str
    lives_alone: bool | None
    has_carer: bool = False
    """At least one active carer (aidant) is linked to the person."""


@dataclass(frozen=True)
class CareTeamMember:
    """One member of the person's care team, as routing sees it (no personal data)."""

    organisation_id: uuid.UUID | None
    organisation_kind: str | None
    user_id: uuid.UUID | None
    role: str
    function: str | None


@dataclass(frozen=True)
class RoutingContext:
    """Everything a routing rule may use besides the event itself."""

    tenant_slug: str
    departements: tuple[str, ...]
    person: PersonSituation
    now: dt.datetime
    care_team: tuple[CareTeamMember, ...] = ()
    funders: tuple[str, ...] = ()
    """Names of the funder plugins the territory enabled (``funders.carsat_ardh``…)."""
    recent_events: tuple[str, ...] = ()
    """Types of the person's other events of the last 30 days, most recent first."""


@dataclass(frozen=True)
class ProposedAction:
    """One action a plugin proposes; the core stores it as an action proposal.

    ``key`` identifies the proposal within the plugin for one event (e.g. ``"nurse_visit"``):
    proposing the same key twice stores it once. ``title`` and ``description`` are shown to the
    assignee and may appear in notifications: they must carry no medical detail.
    ``suggested_funding`` lists funding programme codes (``ardh``, ``apa``… declared by funder plugins)
    that may pay for it; a « demande de financement » gets a draft request with those the territory offers.
    """

    key: str
    action_type: str
    title: str
    target: Target
    due_at: dt.datetime
    priority: Priority = Priority.ROUTINE
    description: str = ""
    service_type: str | None = None
    """The marketplace service type the action calls for, when a provider delivers it."""
    suggested_funding: tuple[str, ...] = field(default_factory=tuple)
