"""Append to and verify the per-tenant hash chain.

Each entry stores the SHA-256 of its canonical content together with the
hash of the previous entry of the same tenant, so removing, reordering or
editing any entry breaks every hash after it. The application role can
only INSERT and SELECT; appends of one tenant are serialised by a
transaction-level advisory lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.db.connection import scoped_connection
from core.db.scope import current_tenant_id, tenant_scope

GENESIS = "0" * 64
_LOCK_SALT = 0x4155_4449_5400  # "AUDIT"


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    ALLOWED = "allowed"
    DENIED = "denied"


@dataclass(frozen=True)
class Actor:
    kind: str
    id: str
    acting_for: str | None = None

    @classmethod
    def anonymous(cls, hint: str = "") -> Actor:
        return cls("anonymous", hint or "-")

    @classmethod
    def system(cls) -> Actor:
        return cls("system", "parcours")


@dataclass(frozen=True)
class Record:
    actor: Actor
    action: str
    outcome: Outcome
    target_kind: str | None = None
    target_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def entry_hash(
    tenant_id: uuid.UUID, seq: int, occurred_at: dt.datetime, record: Record, prev_hash: str
) -> str:
    content = {
        "tenant": str(tenant_id),
        "seq": seq,
        "at": occurred_at.astimezone(dt.UTC).isoformat(),
        "actor": [record.actor.kind, record.actor.id, record.actor.acting_for],
        "action": record.action,
        "target": [record.target_kind, record.target_id],
        "outcome": record.outcome.value,
        "detail": record.detail,
        "prev": prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lock_key(tenant_id: uuid.UUID) -> int:
    return int.from_bytes(tenant_id.bytes[:8], "big", signed=True) ^ _LOCK_SALT


async def append(record: Record) -> int:
    """Append ``record`` to the current tenant's chain; return its sequence number."""
    tenant_id = current_tenant_id()
    connection = scoped_connection()
    await connection.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(tenant_id))
    last = await connection.fetchrow("SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1")
    seq = (last["seq"] + 1) if last else 1
    prev_hash = last["hash"] if last else GENESIS
    occurred_at = await connection.fetchval("SELECT date_trunc('milliseconds', now())")
    await connection.execute(
        "INSERT INTO audit_entry (id, tenant_id, seq, occurred_at, actor_kind, actor_id, "
        "acting_for, action, target_kind, target_id, outcome, detail, prev_hash, hash) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        uuid.uuid4(),
        tenant_id,
        seq,
        occurred_at,
        record.actor.kind,
        record.actor.id,
        record.actor.acting_for,
        record.action,
        record.target_kind,
        record.target_id,
        record.outcome.value,
        json.dumps(record.detail, sort_keys=True),
        prev_hash,
        entry_hash(tenant_id, seq, occurred_at, record, prev_hash),
    )
    return int(seq)


async def record(tenant_id: uuid.UUID, entry: Record) -> int:
    """Append in a transaction of its own (kept even if the caller's work fails)."""
    async with tenant_scope(tenant_id):
        return await append(entry)


@dataclass(frozen=True)
class Verification:
    entries: int
    first_broken: int | None
    """Sequence number of the first entry whose hash or link is wrong."""

    @property
    def intact(self) -> bool:
        return self.first_broken is None


async def _entries(tenant_id: uuid.UUID) -> AsyncIterator[dict[str, Any]]:
    async with tenant_scope(tenant_id):
        connection = scoped_connection()
        async for row in connection.cursor(
            "SELECT seq, occurred_at, actor_kind, actor_id, acting_for, action, target_kind, "
            "target_id, outcome, detail, prev_hash, hash FROM audit_entry ORDER BY seq"
        ):
            yield dict(row)


async def verify(tenant_id: uuid.UUID) -> Verification:
    """Recompute the tenant's chain from the start; name the first broken entry."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    async for row in _entries(tenant_id):
        count += 1
        entry = Record(
            actor=Actor(row["actor_kind"], row["actor_id"], row["acting_for"]),
            action=row["action"],
            outcome=Outcome(row["outcome"]),
            target_kind=row["target_kind"],
            target_id=row["target_id"],
            detail=json.loads(row["detail"]),
        )
        recomputed = entry_hash(tenant_id, row["seq"], row["occurred_at"], entry, row["prev_hash"])
        if row["seq"] != expected_seq or row["prev_hash"] != expected_prev or row["hash"] != recomputed:
            return Verification(count, row["seq"])
        expected_prev, expected_seq = row["hash"], expected_seq + 1
    return Verification(count, None)
