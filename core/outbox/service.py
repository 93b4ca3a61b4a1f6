"""Write, claim and complete outbox messages.

A message is written in the transaction of the data it concerns, so it
exists if and only if that data committed. It is then handed to the job
system (at once, and again by the dispatcher if it stays pending), and a
handler runs it inside a transaction that also marks it done: its effects
and its completion commit together, or not at all. Delivery is at least
once; handlers must be idempotent.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.db.connection import scoped_connection
from core.db.scope import current_tenant_id, tenant_scope

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]


class Outcome(StrEnum):
    DONE = "done"
    SKIPPED = "skipped"
    """Already done, locked by another worker, or unknown."""
    FAILED = "failed"


@dataclass(frozen=True)
class Dispatch:
    tenant_id: uuid.UUID
    message_id: uuid.UUID


async def enqueue(topic: str, payload: dict[str, Any]) -> Dispatch:
    """Record a message in the current tenant scope's transaction."""
    tenant_id = current_tenant_id()
    message_id = uuid.uuid4()
    await scoped_connection().execute(
        "INSERT INTO outbox_message (id, tenant_id, topic, payload, status, attempts, "
        "created_at, dispatched_at) VALUES ($1, $2, $3, $4, 'pending', 0, now(), now())",
        message_id,
        tenant_id,
        topic,
        json.dumps(payload),
    )
    return Dispatch(tenant_id, message_id)


async def process(dispatch: Dispatch, handlers: dict[str, Handler], max_attempts: int) -> Outcome:
    """Run the handler of one message and mark it done, in one transaction.

    A message locked by a concurrent worker, or already done, is skipped.
    On error the transaction rolls back, the attempt is counted in a second
    transaction, and the error propagates so the job system retries it.
    """
    try:
        async with tenant_scope(dispatch.tenant_id):
            connection = scoped_connection()
            row = await connection.fetchrow(
                "SELECT topic, payload FROM outbox_message "
                "WHERE id = $1 AND status = 'pending' FOR UPDATE SKIP LOCKED",
                dispatch.message_id,
            )
            if row is None:
                return Outcome.SKIPPED
            handler = handlers.get(row["topic"])
            if handler is None:
                raise LookupError(f"no handler for outbox topic {row['topic']!r}")
            await handler(json.loads(row["payload"]))
            await connection.execute(
                "UPDATE outbox_message SET status = 'done', done_at = now(), "
                "attempts = attempts + 1 WHERE id = $1",
                dispatch.message_id,
            )
            return Outcome.DONE
    except Exception as error:
        failed = await _record_failure(dispatch, repr(error)[:2000], max_attempts)
        log.warning("outbox message %s failed: %r", dispatch.message_id, error)
        if failed:
            return Outcome.FAILED
        raise


async def _record_failure(dispatch: Dispatch, error: str, max_attempts: int) -> bool:
    """Count a failed attempt; return True when the message is given up."""
    async with tenant_scope(dispatch.tenant_id):
        status = await scoped_connection().fetchval(
            "UPDATE outbox_message SET attempts = attempts + 1, last_error = $2, "
            "status = CASE WHEN attempts + 1 >= $3 THEN 'failed' ELSE status END "
            "WHERE id = $1 AND status = 'pending' RETURNING status",
            dispatch.message_id,
            error,
            max_attempts,
        )
    return status == "failed"


async def claim_stale(tenant_id: uuid.UUID, older_than_seconds: float, limit: int = 100) -> list[Dispatch]:
    """Pending messages of a tenant not dispatched recently; marks them dispatched now."""
    async with tenant_scope(tenant_id):
        rows = await scoped_connection().fetch(
            "UPDATE outbox_message SET dispatched_at = now() WHERE id IN ("
            "  SELECT id FROM outbox_message WHERE status = 'pending' AND "
            "  (dispatched_at IS NULL OR dispatched_at < now() - make_interval(secs => $1))"
            "  ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED"
            ") RETURNING id",
            older_than_seconds,
            limit,
        )
    return [Dispatch(tenant_id, row["id"]) for row in rows]
