"""Test plugin: the first routing call hangs (so the test can kill the process mid-routing).

It writes the marker file named by ``SLOW_ROUTING_MARKER`` then sleeps; once
the marker exists (or in a process without that variable), it proposes one
action at once.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

from core import hookimpl
from core.events.model import EventView, ProposedAction, RoutingContext, Target


@hookimpl
def propose_actions(event: EventView, context: RoutingContext) -> list[ProposedAction]:
    name = os.environ.get("SLOW_ROUTING_MARKER")
    marker = Path(name) if name else None
    if marker is not None and not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(120)
    return [
        ProposedAction(
            key="slow_check",
            action_type="coordination_check",
            title="Vérification de coordination",
            target=Target.role("coordinator"),
            due_at=event.occurred_at + dt.timedelta(days=1),
        )
    ]
