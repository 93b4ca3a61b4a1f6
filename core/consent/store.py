"""Loading and saving consents, care teams, carer links and break-glass declarations.

Every function here runs in the caller's ``tenant_scope`` (row-level security limits it to the
tenant) and turns rows into the values of ``core.consent.model``; the rules never see a row.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.consent.model import (
    Action,
    BreakGlass,
    CarerLink,
    CareTeamMembership,
    Consent,
    ConsentKind,
    DataCategory,
    Purpose,
    Recipient,
    RecipientKind,
    RecordedBy,
)
from core.db.connection import scoped_connection
from core.identity.roles import Role


@dataclass(frozen=True)
class AccessContext:
    """What the rules need about one person: their consents, care team and carer links."""

    consents: tuple[Consent, ...]
    care_team: tuple[CareTeamMembership, ...]
    carer_links: tuple[CarerLink, ...]


_CONSENT_COLUMNS = (
    "c.id, c.person_id, c.kind, c.recipient_kind, c.recipient_organisation_id, c.recipient_role, "
    "c.recipient_user_id, c.actions, c.categories, c.purposes, c.valid_from, c.valid_until, "
    "c.recorded_by, c.recorded_at, c.proof_reference, c.revoked_at"
)


def consent_from_row(row: Mapping[str, Any]) -> Consent:
    recipient = Recipient(
        RecipientKind(row["recipient_kind"]),
        organisation_id=row["recipient_organisation_id"],
        named_role=Role(row["recipient_role"]) if row["recipient_role"] else None,
        user_id=row["recipient_user_id"],
    )
    return Consent(
        id=row["id"],
        person_id=row["person_id"],
        recipient=recipient,
        actions=frozenset(Action(a) for a in row["actions"]),
        categories=frozenset(DataCategory(c) for c in row["categories"]),
        purposes=frozenset(Purpose(p) for p in row["purposes"]),
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        recorded_by=RecordedBy(row["recorded_by"]),
        recorded_at=row["recorded_at"],
        proof_reference=row["proof_reference"],
        revoked_at=row["revoked_at"],
        kind=ConsentKind(row["kind"]),
    )


async def load_context(person_id: uuid.UUID) -> AccessContext:
    connection = scoped_connection()
    consents = await connection.fetch(
        f"SELECT {_CONSENT_COLUMNS} FROM consent c WHERE c.person_id = $1", person_id
    )
    team = await connection.fetch(
        "SELECT person_id, coalesce(member_user_id, member_organisation_id) AS member_id, role, since, until "
        "FROM care_team_member WHERE person_id = $1",
        person_id,
    )
    links = await connection.fetch(
        "SELECT id, person_id, carer_id, granted_at, revoked_at FROM carer_link WHERE person_id = $1",
        person_id,
    )
    return AccessContext(
        consents=tuple(consent_from_row(row) for row in consents),
        care_team=tuple(CareTeamMembership(**dict(row)) for row in team),
        carer_links=tuple(CarerLink(**dict(row)) for row in links),
    )


async def insert_consent(consent: Consent, recorded_by_user_id: uuid.UUID | None) -> None:
    """Save a validated consent (its constructor already refused what cannot be meant)."""
    recipient = consent.recipient
    await scoped_connection().execute(
        "INSERT INTO consent (id, tenant_id, person_id, kind, recipient_kind, recipient_organisation_id, "
        "recipient_role, recipient_user_id, actions, categories, purposes, valid_from, valid_until, "
        "recorded_by, recorded_by_user_id, recorded_at, proof_reference) "
        "VALUES ($1, current_setting('app.tenant_id')::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
        "$13, $14, $15, $16)",
        consent.id,
        consent.person_id,
        consent.kind.value,
        recipient.kind.value,
        recipient.organisation_id,
        recipient.named_role.value if recipient.named_role else None,
        recipient.user_id,
        sorted_codes(consent.actions),
        sorted_codes(consent.categories),
        sorted_codes(consent.purposes),
        consent.valid_from,
        consent.valid_until,
        consent.recorded_by.value,
        recorded_by_user_id,
        consent.recorded_at,
        consent.proof_reference.strip() if consent.proof_reference else None,
    )


def sorted_codes(values: Iterable[Any]) -> list[str]:
    """Enum members (or strings) as their sorted codes, as stored in the array columns."""
    return sorted(str(value) for value in values)


async def revoke(consent_id: uuid.UUID, person_id: uuid.UUID, by_user: uuid.UUID, at: dt.datetime) -> bool:
    """Set the revocation of a consent of ``person_id`` still in effect; False if there was none."""
    status = await scoped_connection().execute(
        "UPDATE consent SET revoked_at = $3, revoked_by_user_id = $4 "
        "WHERE id = $1 AND person_id = $2 AND revoked_at IS NULL",
        consent_id,
        person_id,
        at,
        by_user,
    )
    return status != "UPDATE 0"


async def latest_break_glass(
    person_id: uuid.UUID, user_id: uuid.UUID, at: dt.datetime
) -> tuple[uuid.UUID, dt.datetime, bytes] | None:
    """The user's most recent declaration for this person at or before ``at``: id, instant, ciphertext."""
    row = await scoped_connection().fetchrow(
        "SELECT id, declared_at, justification_ciphertext FROM break_glass "
        "WHERE person_id = $1 AND user_account_id = $2 AND declared_at <= $3 "
        "ORDER BY declared_at DESC LIMIT 1",
        person_id,
        user_id,
        at,
    )
    if row is None:
        return None
    return row["id"], row["declared_at"], bytes(row["justification_ciphertext"])


def break_glass_value(justification: str, declared_at: dt.datetime) -> BreakGlass:
    return BreakGlass(justification=justification, at=declared_at)
