"""In-app notifications: what a user must know, never medical content (a title, a short text, a link)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from core.db.connection import scoped_connection
from core.db.scope import current_tenant_id, tenant_scope
from core.identity.roles import Role
from core.outbox.service import enqueue


@dataclass(frozen=True)
class Notification:
    id: uuid.UUID
    kind: str
    title: str
    body: str
    link: str | None
    created_at: dt.datetime
    read_at: dt.datetime | None


EMAIL_TOPIC = "notification.email"


async def notify(
    recipients: list[uuid.UUID],
    kind: str,
    title: str,
    body: str,
    link: str | None = None,
    *,
    email: bool = False,
) -> int:
    """Notify each user account in ``recipients`` (duplicates once), in the caller's tenant scope.

    With ``email``, an outbox message (written in the same transaction) sends each a copy by
    e-mail; the copy says the same as the in-app notification, so never medical content.
    """
    tenant_id = current_tenant_id()
    unique = list(dict.fromkeys(recipients))
    if unique:
        rows = [(uuid.uuid4(), tenant_id, user, kind, title[:200], body[:1000], link) for user in unique]
        await scoped_connection().executemany(
            "INSERT INTO notification (id, tenant_id, recipient_user_id, kind, title, body, link, "
            "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, now())",
            rows,
        )
        if email:
            await enqueue(EMAIL_TOPIC, {"notification_ids": [str(row[0]) for row in rows]})
    return len(unique)


async def users_of_organisation(organisation_id: uuid.UUID) -> list[uuid.UUID]:
    """Active accounts of the members of an organisation, in the caller's tenant."""
    rows = await scoped_connection().fetch(
        "SELECT DISTINCT user_account_id FROM membership "
        "WHERE organisation_id = $1 AND status = 'active' AND user_account_id IS NOT NULL",
        organisation_id,
    )
    return [row["user_account_id"] for row in rows]


async def users_in_role(role: Role) -> list[uuid.UUID]:
    """Active accounts holding ``role`` in the caller's tenant."""
    rows = await scoped_connection().fetch(
        "SELECT DISTINCT user_account_id FROM membership "
        "WHERE role = $1 AND status = 'active' AND user_account_id IS NOT NULL",
        role.value,
    )
    return [row["user_account_id"] for row in rows]


async def users_of_person(person_id: uuid.UUID) -> list[uuid.UUID]:
    """Active accounts of the person themselves (role ``person``)."""
    rows = await scoped_connection().fetch(
        "SELECT DISTINCT user_account_id FROM membership WHERE role = 'person' AND person_id = $1 "
        "AND status = 'active' AND user_account_id IS NOT NULL",
        person_id,
    )
    return [row["user_account_id"] for row in rows]


async def inbox(tenant_id: uuid.UUID, user_id: uuid.UUID, limit: int = 50) -> list[Notification]:
    async with tenant_scope(tenant_id):
        rows = await scoped_connection().fetch(
            "SELECT id, kind, title, body, link, created_at, read_at FROM notification "
            "WHERE recipient_user_id = $1 ORDER BY created_at DESC LIMIT $2",
            user_id,
            limit,
        )
    return [Notification(**dict(row)) for row in rows]


async def unread_count(tenant_id: uuid.UUID, user_id: uuid.UUID) -> int:
    async with tenant_scope(tenant_id):
        count: int = await scoped_connection().fetchval(
            "SELECT count(*) FROM notification WHERE recipient_user_id = $1 AND read_at IS NULL", user_id
        )
    return count


async def mark_all_read(tenant_id: uuid.UUID, user_id: uuid.UUID) -> None:
    async with tenant_scope(tenant_id):
        await scoped_connection().execute(
            "UPDATE notification SET read_at = now() WHERE recipient_user_id = $1 AND read_at IS NULL",
            user_id,
        )
