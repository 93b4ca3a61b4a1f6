"""Single-purpose links for recipients without an account (a pharmacist, a home-help provider).

The holder of a proposal or the coordination creates a link for one recipient; it lets whoever
holds it do one thing: answer this proposal (acknowledge, accept or refuse with a reason, start,
complete) until it expires or is revoked. The token is 32 random bytes shown once; only its SHA-256
digest is stored, so a database leak yields no usable link. What the page behind the link shows of
the person is decided by consent, as for a signed-in user of the recipient's organisation, and
audited under the link's id.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

from core.access.policy import Actor as SessionActor
from core.consent.access import AccessRequest, check_all
from core.consent.model import Action, DataCategory, Purpose
from core.crypto import sha256_hex
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import FieldError, Forbidden, Gone, InvalidInput, NotFound
from core.events.catalogue import Catalogue
from core.identity.roles import OrganisationKind, Role
from core.proposals.lifecycle import LINK_MOVES, STATUS_LABELS, Move, Status, allowed_moves
from core.proposals.queries import MASKED
from core.proposals.service import Acting, lock, may_act, move
from core.runtime import Runtime

DEFAULT_DAYS = 7
MAX_DAYS = 30
HEALTH_KINDS = frozenset(
    {OrganisationKind.NURSING_PRACTICE, OrganisationKind.PHARMACY, OrganisationKind.GP_PRACTICE}
)


@dataclass(frozen=True)
class NewLink:
    id: uuid.UUID
    token: str
    """Shown once to its creator; never stored."""
    expires_at: dt.datetime


async def create_link(
    runtime: Runtime,
    actor: SessionActor,
    proposal_id: uuid.UUID,
    *,
    organisation_id: uuid.UUID | None = None,
    recipient_label: str = "",
    recipient_email: str | None = None,
    days: int = DEFAULT_DAYS,
) -> NewLink:
    """A link for one recipient (a directory organisation, or named in words), valid ``days`` days."""
    assert actor.tenant_id is not None
    recipient_label = recipient_label.strip()[:200]
    errors = []
    if not 1 <= days <= MAX_DAYS:
        errors.append(FieldError("days", f"entre 1 et {MAX_DAYS} jours"))
    if organisation_id is None and not recipient_label:
        errors.append(FieldError("recipient", "choisissez une structure ou nommez le destinataire"))
    if recipient_email and ("@" not in recipient_email or len(recipient_email) > 320):
        errors.append(FieldError("email", "adresse électronique invalide"))
    if errors:
        raise InvalidInput("lien non créé", errors)
    token = secrets.token_urlsafe(32)
    link_id = uuid.uuid4()
    now = runtime.clock()
    expires_at = now + dt.timedelta(days=days)
    async with tenant_scope(actor.tenant_id):
        row = await lock(proposal_id)
        if not may_act(Acting.user(actor, ""), row):
            raise Forbidden("seuls la coordination et le détenteur de l'action peuvent créer un lien")
        if organisation_id is not None:
            name = await scoped_connection().fetchval(
                "SELECT name FROM organisation WHERE id = $1", organisation_id
            )
            if name is None:
                raise InvalidInput(
                    "lien non créé", [FieldError("recipient", "structure inconnue de l'annuaire")]
                )
            recipient_label = recipient_label or str(name)
        await scoped_connection().execute(
            "INSERT INTO action_link (id, tenant_id, proposal_id, token_digest, recipient_organisation_id, "
            "recipient_label, recipient_email, created_by_user_id, created_at, expires_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            link_id,
            actor.tenant_id,
            proposal_id,
            sha256_hex(token),
            organisation_id,
            recipient_label,
            recipient_email or None,
            actor.user_id,
            now,
            expires_at,
        )
        await scoped_connection().execute(
            "INSERT INTO proposal_history (id, tenant_id, proposal_id, kind, to_assignee, actor_user_id, "
            "actor_label, via, at) VALUES ($1, $2, $3, 'link', $4, $5, $6, 'user', $7)",
            uuid.uuid4(),
            actor.tenant_id,
            proposal_id,
            f"lien envoyé à {recipient_label} (valable jusqu'au {expires_at:%d/%m/%Y})",
            actor.user_id,
            "coordination" if actor.role is Role.COORDINATOR else "détenteur de l'action",
            now,
        )
    return NewLink(link_id, token, expires_at)


async def revoke_link(
    runtime: Runtime, actor: SessionActor, proposal_id: uuid.UUID, link_id: uuid.UUID
) -> None:
    assert actor.tenant_id is not None
    async with tenant_scope(actor.tenant_id):
        row = await lock(proposal_id)
        if not may_act(Acting.user(actor, ""), row):
            raise Forbidden("seuls la coordination et le détenteur de l'action peuvent retirer un lien")
        await scoped_connection().execute(
            "UPDATE action_link SET revoked_at = $3 "
            "WHERE id = $1 AND proposal_id = $2 AND revoked_at IS NULL",
            link_id,
            proposal_id,
            runtime.clock(),
        )


@dataclass(frozen=True)
class LinkGrant:
    """What a valid token allows: one proposal, acted on as its recipient."""

    link_id: uuid.UUID
    proposal_id: uuid.UUID
    recipient_label: str
    recipient_organisation_id: uuid.UUID | None
    recipient_kind: str | None
    expires_at: dt.datetime

    def acting(self) -> Acting:
        return Acting.link(self.link_id, f"{self.recipient_label} (par lien)", self.recipient_organisation_id)

    def reader(self, tenant_id: uuid.UUID) -> SessionActor:
        """The consent rules' view of the recipient: a provider, or a health professional."""
        kind = self.recipient_kind
        role = Role.PROFESSIONAL if kind in {k.value for k in HEALTH_KINDS} else Role.PROVIDER_STAFF
        return SessionActor(
            user_id=self.link_id,
            is_platform_admin=False,
            tenant_id=tenant_id,
            role=role,
            organisation_id=self.recipient_organisation_id,
        )


async def open_link(runtime: Runtime, tenant_id: uuid.UUID, token: str) -> LinkGrant:
    """The grant of a token: 404 unknown, 410 expired or revoked."""
    if not token or len(token) > 100:
        raise NotFound("lien inconnu")
    async with tenant_scope(tenant_id):
        row = await scoped_connection().fetchrow(
            "SELECT l.*, o.kind FROM action_link l "
            "LEFT JOIN organisation o ON o.id = l.recipient_organisation_id WHERE l.token_digest = $1",
            sha256_hex(token),
        )
        if row is None:
            raise NotFound("lien inconnu")
        if row["revoked_at"] is not None:
            raise Gone("ce lien a été retiré par la coordination")
        now = runtime.clock()
        if row["expires_at"] <= now:
            raise Gone("ce lien a expiré : demandez-en un nouveau à la coordination")
        await scoped_connection().execute(
            "UPDATE action_link SET last_used_at = $2 WHERE id = $1", row["id"], now
        )
    return LinkGrant(
        row["id"],
        row["proposal_id"],
        row["recipient_label"],
        row["recipient_organisation_id"],
        row["kind"],
        row["expires_at"],
    )


@dataclass(frozen=True)
class LinkView:
    grant: LinkGrant
    action_label: str
    title: str
    description: str
    status: Status
    status_label: str
    due_at: dt.datetime
    version: int
    person_label: str
    commune_insee: str | None
    moves: list[Move]


async def link_view(
    runtime: Runtime, tenant_id: uuid.UUID, grant: LinkGrant, catalogue: Catalogue
) -> LinkView:
    """The proposal as the link's recipient sees it (the person named only if consent allows)."""
    async with tenant_scope(tenant_id):
        row = await scoped_connection().fetchrow(
            "SELECT p.*, pe.given_names, pe.family_name, pe.commune_insee, pe.phone, pe.address "
            "FROM action_proposal p JOIN person pe ON pe.id = p.person_id WHERE p.id = $1",
            grant.proposal_id,
        )
    if row is None:
        raise NotFound("action introuvable")
    request = AccessRequest(DataCategory.ADMINISTRATIVE, Action.READ)
    reader = grant.reader(tenant_id)
    purpose = Purpose.SERVICE_DELIVERY if reader.role is Role.PROVIDER_STAFF else Purpose.CARE_COORDINATION
    decision = (await check_all(runtime, reader, row["person_id"], [request], purpose, access="link"))[
        request
    ]
    status = Status(row["status"])
    label = MASKED
    if decision.allowed:
        label = f"{row['given_names']} {row['family_name']}"
        if row["address"]:
            label += f" — {row['address']}"
        if row["phone"]:
            label += f" — {row['phone']}"
    return LinkView(
        grant=grant,
        action_label=catalogue.action_label(row["action_type"]),
        title=row["title"],
        description=row["description"],
        status=status,
        status_label=STATUS_LABELS[status],
        due_at=row["due_at"],
        version=row["version"],
        person_label=label,
        commune_insee=row["commune_insee"],
        moves=[m for m in allowed_moves(status) if m in LINK_MOVES],
    )


async def act_through_link(
    runtime: Runtime,
    tenant_id: uuid.UUID,
    token: str,
    what: Move,
    *,
    version: int | None = None,
    reason_code: str | None = None,
    note: str = "",
) -> Status:
    """Apply a move as the link's recipient (only the moves a link allows)."""
    grant = await open_link(runtime, tenant_id, token)
    return await move(
        runtime,
        tenant_id,
        grant.proposal_id,
        what,
        grant.acting(),
        version=version,
        reason_code=reason_code,
        note=note,
    )
