"""Test plugin for the kill-the-worker test: routing takes a while, and says which process runs it.

Each call waits ``STEADY_ROUTING_DELAY_MS`` milliseconds (asynchronously: the worker's other
threads keep routing), then proposes one action. With ``STEADY_ROUTING_DIR`` set, the first call
in a process creates ``<dir>/<pid>``: the test knows that process is routing. Without those
variables (the test's own process) it proposes at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from pathlib import Path

from core import hookimpl
from core.events.model import EventView, ProposedAction, RoutingContext, Target


@hookimpl
async def propose_actions(event: EventView, context: RoutingContext) -> list[ProposedAction]:
    folder = os.environ.get("STEADY_ROUTING_DIR")
    if folder:
        (Path(folder) / str(os.getpid())).touch()
    delay = float(os.environ.get("STEADY_ROUTING_DELAY_MS", "0")) / 1000
    if delay > 0:
        await asyncio.sleep(delay)
    return [
        ProposedAction(
            key="steady_check",
            action_type="coordination_check",
            title="Vérification de coordination",
            target=Target.role("coordinator"),
            due_at=event.occurred_at + dt.timedelta(days=1),
        )
    ]
