"""Teleconsultation request: a teleconsultation with a nurse at the person's side.

A person who can hardly travel may see a doctor by video, a nurse being present at home to help
and examine (téléconsultation assistée). The rule proposes:

- the assisted teleconsultation, by a home-nursing provider, due at the end of the preferred day
  (Europe/Paris) when one is given and still ahead, else within 3 days,
- a coordination check by the GP's practice (médecin traitant), to schedule it with the nurse,
  due the day before the teleconsultation (at the earliest 4 hours from now).

The requested specialty is never copied into titles (they may appear in notifications).

Reference: Assurance maladie, avenant 6 à la convention infirmière (2019): téléconsultation
assistée par un infirmier.
"""

from __future__ import annotations

import datetime as dt

from core import hookimpl
from core.events.model import (
    EventType,
    EventView,
    ProposedAction,
    RoutingContext,
    Target,
)
from plugins.routing.common import MIN_LEAD, as_date, end_of_day

DEFAULT_DELAY = dt.timedelta(days=3)
"""Without a usable preferred date, the teleconsultation is due 3 days from now."""


def teleconsultation_due(event: EventView, now: dt.datetime) -> dt.datetime:
    """The end of the preferred day if it is still at least 4 hours ahead, else ``now + 3 days``."""
    preferred = as_date(event.details.get("preferred_date"))
    if preferred is not None:
        due = end_of_day(preferred)
        if due >= now + MIN_LEAD:
            return due
    return now + DEFAULT_DELAY


def teleconsultation_actions(event: EventView, context: RoutingContext) -> list[ProposedAction]:
    """The proposals for one event (a plain function, tested as such)."""
    if event.type != EventType.TELECONSULTATION_REQUEST:
        return []
    due = teleconsultation_due(event, context.now)
    check_due = min(due, max(due - dt.timedelta(days=1), context.now + MIN_LEAD))
    return [
        ProposedAction(
            key="teleconsultation",
            action_type="teleconsultation",
            title="Téléconsultation assistée par un infirmier au domicile",
            target=Target.marketplace("home_nursing"),
            service_type="home_nursing",
            due_at=due,
        ),
        ProposedAction(
            key="teleconsultation_scheduling",
            action_type="coordination_check",
            title="Organiser la téléconsultation avec l'infirmier",
            target=Target.care_team("gp_practice"),
            due_at=check_due,
        ),
    ]


@hookimpl
def propose_actions(event: EventView, context: RoutingContext) -> list[ProposedAction]:
    return teleconsultation_actions(event, context)
