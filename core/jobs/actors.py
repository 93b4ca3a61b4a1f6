"""Dramatiq actors. They receive ids only and use the process's runtime.

Import this module only after :func:`core.jobs.system.JobSystem.start` has
set the broker (dramatiq binds actors to the broker current at import).
"""

from __future__ import annotations

import logging
import uuid

import dramatiq

from core.config import get_settings
from core.events.intake import ROUTE_EVENT
from core.events.routing import route_event
from core.jobs.runtime import current_runtime
from core.jobs.watch import run_watch, run_watch_for
from core.notifications.email import send_notification_emails
from core.notifications.service import EMAIL_TOPIC
from core.outbox.service import Dispatch, Handler, Outcome, process

QUEUE = get_settings().queue
log = logging.getLogger(__name__)


def outbox_handlers() -> dict[str, Handler]:
    """Outbox topic → handler run inside the message's transaction."""
    runtime = current_runtime()

    async def route(payload: dict) -> None:
        await route_event(runtime, uuid.UUID(payload["event_id"]))

    async def email(payload: dict) -> None:
        await send_notification_emails(runtime, payload)

    return {ROUTE_EVENT: route, EMAIL_TOPIC: email}


@dramatiq.actor(queue_name=QUEUE, max_retries=5, min_backoff=500, max_backoff=30_000)
async def process_outbox_message(tenant_id: str, message_id: str) -> None:
    """Run one outbox message (at least once; the handler is idempotent)."""
    runtime = current_runtime()
    outcome: Outcome = await process(
        Dispatch(uuid.UUID(tenant_id), uuid.UUID(message_id)),
        outbox_handlers(),
        runtime.settings.outbox_max_attempts,
    )
    log.info("outbox message %s: %s", message_id, outcome.value)


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=600_000)
async def watch_tick(tenant_id: str | None = None) -> None:
    """Escalate overdue proposals and answer due readmission checks, for one territory or all.

    Not retried: the next tick does the same (every step is idempotent).
    """
    runtime = current_runtime()
    if tenant_id is None:
        log.info("watch: %s", await run_watch(runtime))
        return
    done = await run_watch_for(runtime, uuid.UUID(tenant_id))
    if any(done.values()):
        log.info("watch of territory %s: %s", tenant_id, done)
