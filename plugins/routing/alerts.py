"""Alerts between the GP and the social services: the one alerted acts, in time.

- ``gp_alert_to_social``: the GP (médecin traitant) worries about the person's social situation;
  a social worker makes a social assessment, within 24 hours when the alert is urgent, else 5 days.
- ``social_alert_to_gp``: a social worker worries about the person's health; the GP of the care
  team sees the person, within 48 hours when the alert is urgent, else 7 days.

The alert's ``subject`` is never copied into titles (they may appear in notifications).
"""

from __future__ import annotations

import datetime as dt

from core import hookimpl
from core.events.model import (
    EventType,
    EventView,
    Priority,
    ProposedAction,
    RoutingContext,
    Target,
)
from plugins.routing.common import deadline


def is_urgent(event: EventView) -> bool:
    return event.details.get("urgency") == "urgent"


def alert_actions(event: EventView, context: RoutingContext) -> list[ProposedAction]:
    """The proposals for one event (a plain function, tested as such)."""
    urgent = is_urgent(event)
    priority = Priority.URGENT if urgent else Priority.ROUTINE
    if event.type == EventType.GP_ALERT_TO_SOCIAL:
        delay = dt.timedelta(hours=24) if urgent else dt.timedelta(days=5)
        return [
            ProposedAction(
                key="social_assessment",
                action_type="social_assessment",
                title="Évaluation sociale demandée par le médecin traitant",
                target=Target.role("social_worker"),
                due_at=deadline(event.occurred_at, delay, context.now),
                priority=priority,
            )
        ]
    if event.type == EventType.SOCIAL_ALERT_TO_GP:
        delay = dt.timedelta(hours=48) if urgent else dt.timedelta(days=7)
        return [
            ProposedAction(
                key="gp_visit",
                action_type="gp_visit",
                title="Consultation du médecin traitant demandée par le service social",
                target=Target.care_team("gp_practice"),
                due_at=deadline(event.occurred_at, delay, context.now),
                priority=priority,
            )
        ]
    return []


@hookimpl
def propose_actions(event: EventView, context: RoutingContext) -> list[ProposedAction]:
    return alert_actions(event, context)
