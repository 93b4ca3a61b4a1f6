"""Death of the person: the coordination closes the file.

The coordinator closes the person's care pathway within 7 days: cancels what is still planned,
tells the care team and providers, and stops the follow-up. The title carries no detail.
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
from plugins.routing.common import deadline


def death_actions(event: EventView, context: RoutingContext) -> list[ProposedAction]:
    """The proposals for one event (a plain function, tested as such)."""
    if event.type != EventType.DEATH:
        return []
    return [
        ProposedAction(
            key="close_file",
            action_type="close_file",
            title="Clôturer le parcours et prévenir les intervenants",
            target=Target.role("coordinator"),
            due_at=deadline(event.occurred_at, dt.timedelta(days=7), context.now),
        )
    ]


@hookimpl
def propose_actions(event: EventView, context: RoutingContext) -> list[ProposedAction]:
    return death_actions(event, context)
