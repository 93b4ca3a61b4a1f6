"""Plain events and contexts for testing routing rules as functions (no database)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from core.events.model import (
    CareTeamMember,
    EventView,
    PersonSituation,
    ProposedAction,
    RoutingContext,
)

PARIS_WINTER = dt.timezone(dt.timedelta(hours=1))
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
EVENT_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")


def make_event(type_: str, occurred_at: dt.datetime = NOW, **details: Any) -> EventView:
    return EventView(id=EVENT_ID, type=type_, occurred_at=occurred_at, details=details)


def make_context(
    age: int = 80,
    lives_alone: bool | None = False,
    now: dt.datetime = NOW,
    *,
    has_carer: bool = False,
    care_team: Iterable[CareTeamMember] = (),
    funders: Iterable[str] = (),
    recent_events: Iterable[str] = (),
) -> RoutingContext:
    return RoutingContext(
        tenant_slug="landes",
        departements=("40",),
        person=PersonSituation(age=age, commune_insee="40192", lives_alone=lives_alone, has_carer=has_carer),
        now=now,
        care_team=tuple(care_team),
        funders=tuple(funders),
        recent_events=tuple(recent_events),
    )


def by_key(proposals: list[ProposedAction]) -> dict[str, ProposedAction]:
    keyed = {proposal.key: proposal for proposal in proposals}
    assert len(keyed) == len(proposals), "two proposals share a key"
    return keyed
