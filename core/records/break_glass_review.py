"""Emergency accesses (« bris de glace ») as the DPO reviews them, and as a file page announces them.

The DPO sees every declaration of the territory: when, by whom (name, role, organisation), the
justification (decrypted with the person's key, since it may describe their health), and how many
accesses were decided under it. The person is named only by a pseudonymous reference (the first
eight characters of their record's id): the review is about the professionals' conduct, not about
who the person is. Each review is itself audited.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from core.access.policy import Actor as SessionActor
from core.access.policy import Permission, role_has
from core.audit.trail import Outcome, Record, append
from core.consent.access import BREAK_GLASS_FIELD, audit_actor
from core.consent.rules import BREAK_GLASS_EXCLUDED_ROLES, BREAK_GLASS_VALIDITY
from core.consent.store import latest_break_glass
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Forbidden
from core.identity.roles import ROLE_LABELS, Role
from core.runtime import Runtime
from core.vault.service import KeyErased, PersonCipher

ERASED_JUSTIFICATION = "justification effacée avec le dossier de la personne"


@dataclass(frozen=True)
class BreakGlassReview:
    """One declaration as the DPO sees it."""

    id: uuid.UUID
    declared_at: dt.datetime
    user_name: str
    role: str
    """The declarer's role, in French."""
    organisation: str | None
    justification: str
    accesses: int
    """Decisions taken under this declaration (audit entries citing it)."""
    person_reference: str
    """First eight characters of the person's id: pseudonymous, never a name."""
    active: bool
    """Still within its hour of validity."""


def may_declare_break_glass(actor: SessionActor) -> bool:
    """Can ``actor``'s role declare an emergency access at all (the rules decide each request)?"""
    role = actor.role
    return (
        role is not None
        and role not in BREAK_GLASS_EXCLUDED_ROLES
        and role is not Role.DPO
        and role_has(role, Permission.PERSON_FILES)
    )


async def active_break_glass_until(
    runtime: Runtime, actor: SessionActor, person_id: uuid.UUID
) -> dt.datetime | None:
    """When ``actor``'s emergency access to ``person_id`` ends, if one is in progress; else None."""
    if actor.tenant_id is None:
        return None
    at = runtime.clock()
    async with tenant_scope(actor.tenant_id):
        found = await latest_break_glass(person_id, actor.user_id, at)
    if found is None:
        return None
    until = found[1] + BREAK_GLASS_VALIDITY
    return until if at < until else None


async def break_glass_declarations(
    runtime: Runtime, actor: SessionActor, since_days: int = 90
) -> list[BreakGlassReview]:
    """The territory's declarations of the last ``since_days`` days, newest first (role ``dpo`` only)."""
    if actor.role is not Role.DPO or actor.tenant_id is None:
        raise Forbidden("la revue des accès en urgence est réservée au délégué à la protection des données")
    at = runtime.clock()
    since = at - dt.timedelta(days=since_days)
    async with tenant_scope(actor.tenant_id):
        connection = scoped_connection()
        rows = await connection.fetch(
            "SELECT b.id, b.person_id, b.declared_at, b.role, b.justification_ciphertext, "
            "u.display_name, o.name AS organisation_name, "
            "(SELECT count(*) FROM audit_entry e WHERE e.target_kind = 'person' "
            "AND e.target_id = b.person_id::text AND e.action IN ('person.read', 'person.write') "
            "AND e.detail->>'break_glass_id' = b.id::text) AS accesses "
            "FROM break_glass b JOIN user_account u ON u.id = b.user_account_id "
            "LEFT JOIN organisation o ON o.id = b.organisation_id "
            "WHERE b.declared_at >= $1 ORDER BY b.declared_at DESC, b.id",
            since,
        )
        reviews = []
        ciphers: dict[uuid.UUID, PersonCipher | None] = {}
        for row in rows:
            reviews.append(
                BreakGlassReview(
                    id=row["id"],
                    declared_at=row["declared_at"],
                    user_name=row["display_name"],
                    role=_role_label(row["role"]),
                    organisation=row["organisation_name"],
                    justification=await _justification(
                        runtime, ciphers, row["person_id"], bytes(row["justification_ciphertext"])
                    ),
                    accesses=int(row["accesses"]),
                    person_reference=str(row["person_id"])[:8],
                    active=at < row["declared_at"] + BREAK_GLASS_VALIDITY,
                )
            )
        # Reading the justifications is an access to personal data: it leaves a trace.
        await append(
            Record(
                audit_actor(actor),
                "break_glass.reviewed",
                Outcome.SUCCESS,
                detail={"declarations": str(len(reviews)), "since_days": str(since_days)},
            )
        )
    return reviews


def _role_label(value: str) -> str:
    try:
        return ROLE_LABELS[Role(value)]
    except ValueError:
        return value


async def _justification(
    runtime: Runtime,
    ciphers: dict[uuid.UUID, PersonCipher | None],
    person_id: uuid.UUID,
    ciphertext: bytes,
) -> str:
    """The clear justification, in the caller's tenant scope; a placeholder once the file is erased.
    ``ciphers`` keeps each person's key for the other declarations of the same review."""
    if person_id not in ciphers:
        try:
            ciphers[person_id] = await runtime.vault.person_cipher(person_id)
        except KeyErased:
            ciphers[person_id] = None
    cipher = ciphers[person_id]
    if cipher is None:
        return ERASED_JUSTIFICATION
    return cipher.decrypt_text(BREAK_GLASS_FIELD, ciphertext)
