"""Plain values exchanged with routing plugins (the public plugin API of events)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    """Kinds of life event the core knows."""

    HOSPITAL_DISCHARGE = "hospital_discharge"
    HOSPITAL_ADMISSION = "hospital_admission"


class AssigneeKind(StrEnum):
    ROLE = "role"
    ORGANISATION = "organisation"


class Priority(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"


@dataclass(frozen=True)
class EventView:
    """An event as routing plugins see it."""

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


@dataclass(frozen=True)
class RoutingContext:
    """Everything a routing rule may use besides the event itself."""

    tenant_slug: str
    departements: tuple[str, ...]
    person: PersonSituation
    now: dt.datetime


@dataclass(frozen=True)
class ProposedAction:
    """One action a plugin proposes; the core stores it as an action proposal.

    ``key`` identifies the proposal within the plugin for one event (e.g.
    ``"nurse_visit"``): proposing the same key twice stores it once.
    """

    key: str
    action_type: str
    title: str
    assignee_kind: AssigneeKind
    assignee: str
    due_at: dt.datetime
    priority: Priority = Priority.ROUTINE
