"""A proposal's thread: the receiver asks for missing information, the sender answers. Encrypted."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import FieldError, Forbidden, InvalidInput
from core.identity.roles import Role
from core.proposals.assignment import role_assignee
from core.proposals.notify import holders, notify_users, proposal_link
from core.proposals.service import Acting, holder_assignee, lock, may_act
from core.runtime import Runtime
from core.tenancy.service import get_tenant_by_id

COMMENT_FIELD = "proposal.comment"
MAX_COMMENT = 4000


@dataclass(frozen=True)
class Comment:
    id: uuid.UUID
    author: str
    via: str
    body: str
    created_at: dt.datetime


async def add_comment(
    runtime: Runtime, tenant_id: uuid.UUID, proposal_id: uuid.UUID, acting: Acting, body: str
) -> uuid.UUID:
    """Add a message to the thread; the holders and the coordination are told (without its text)."""
    body = body.strip()
    if not body or len(body) > MAX_COMMENT:
        raise InvalidInput("message vide ou trop long", [FieldError("body", f"1 à {MAX_COMMENT} caractères")])
    comment_id = uuid.uuid4()
    async with tenant_scope(tenant_id):
        row = await lock(proposal_id)
        if not may_act(acting, row):
            raise Forbidden("seuls les intervenants de cette action peuvent écrire dans son fil")
        cipher = await runtime.vault.person_cipher(row["person_id"])
        await scoped_connection().execute(
            "INSERT INTO proposal_comment (id, tenant_id, proposal_id, author_user_id, author_label, via, "
            "body_ciphertext, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            comment_id,
            tenant_id,
            proposal_id,
            acting.user_id,
            acting.label[:300],
            acting.via,
            cipher.encrypt(COMMENT_FIELD, body),
            runtime.clock(),
        )
        tenant = await get_tenant_by_id(tenant_id)
        assert tenant is not None
        readers = await holders(await holder_assignee(row)) + await holders(role_assignee(Role.COORDINATOR))
        await notify_users(
            runtime,
            [user for user in readers if user != acting.user_id],
            "proposal.comment",
            "Nouveau message sur une action",
            f"{acting.label} a écrit sur une action que vous suivez.",
            proposal_link(tenant, proposal_id),
        )
    return comment_id


async def comments(runtime: Runtime, person_id: uuid.UUID, proposal_id: uuid.UUID) -> list[Comment]:
    """The thread, oldest first, in the caller's tenant scope. The caller has checked consent."""
    rows = await scoped_connection().fetch(
        "SELECT id, author_label, via, body_ciphertext, created_at FROM proposal_comment "
        "WHERE proposal_id = $1 ORDER BY created_at, id",
        proposal_id,
    )
    if not rows:
        return []
    cipher = await runtime.vault.person_cipher(person_id)
    return [
        Comment(
            row["id"],
            row["author_label"],
            row["via"],
            cipher.decrypt_text(COMMENT_FIELD, row["body_ciphertext"]),
            row["created_at"],
        )
        for row in rows
    ]
