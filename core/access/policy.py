"""The one authorization policy: who may do what, in which tenant. Deny by default.

Every web route names the permission it needs (see ``web/authz.py``); this
module decides. Roles are per tenant; platform administrators may
administer every tenant's registry but gain no access to people's data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from core.identity.roles import Role


class Permission(StrEnum):
    PLATFORM_ADMIN = "platform.admin"
    TENANT_ADMIN = "tenant.admin"
    """Invite users, manage organisations and memberships of a territory."""
    DIRECTORY_READ = "directory.read"
    WORKSPACE = "workspace"
    """Any authenticated member of the tenant: profile, switching accounts."""
    PERSON_FILES = "person.files"
    """Professionals: find a person, open their file (each category still decided by consent)."""
    PORTAL = "portal"
    """The person and their carers: my file, my consents, my access log."""
    AUDIT_REVIEW = "audit.review"
    """The DPO: emergency accesses and the access log of the territory."""
    PROPOSALS = "proposals"
    """Work on action proposals: the inbox, accept/complete, comments, links (each read of the
    person's data still decided by consent)."""
    OFFERS = "offers.manage"
    """A service provider's console: its offers, their coverage, the orders it receives."""
    OFFERS_MODERATE = "offers.moderate"
    """The territory's moderation of the marketplace: every provider's offers, suspend one with a
    reason (it leaves the search, its public page and the exports), reinstate it."""
    FOLLOW_UP = "followup.read"
    """The territory's follow-up records, indicators and exports (pseudonymous)."""
    FUNDING = "funding.requests"
    """Prepare and follow funding requests for a person (each read still decided by consent)."""
    FUNDING_DECIDE = "funding.decide"
    """A funder's console: the queue of its organisation's requests, decisions, exports."""


_BASE = frozenset({Permission.WORKSPACE})
_DIRECTORY = frozenset({Permission.DIRECTORY_READ})
_FILES = frozenset({Permission.PERSON_FILES})
_WORK = _FILES | {Permission.PROPOSALS}
_FUNDING = frozenset({Permission.FUNDING})
_TERRITORY = frozenset({Permission.TENANT_ADMIN, Permission.FOLLOW_UP, Permission.OFFERS_MODERATE})
"""The territory's own staff (its admins and coordinators): administration, follow-up, moderation."""

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.TERRITORY_ADMIN: _BASE | _DIRECTORY | _TERRITORY,
    Role.COORDINATOR: _BASE | _DIRECTORY | _WORK | _FUNDING | _TERRITORY,
    Role.PROFESSIONAL: _BASE | _DIRECTORY | _WORK | _FUNDING,
    Role.SOCIAL_WORKER: _BASE | _DIRECTORY | _WORK | _FUNDING,
    Role.PROVIDER_STAFF: _BASE | _DIRECTORY | _WORK | {Permission.OFFERS},
    Role.FUNDER_AGENT: _BASE | _DIRECTORY | _WORK | {Permission.FUNDING_DECIDE},
    Role.EMPLOYER_HR: _BASE,
    Role.DPO: _BASE | _DIRECTORY | {Permission.AUDIT_REVIEW},
    Role.PERSON: _BASE | {Permission.PORTAL},
    Role.CARER: _BASE | {Permission.PORTAL},
}


@dataclass(frozen=True)
class Actor:
    """A logged-in user as seen in one tenant (``role`` None: no membership there)."""

    user_id: uuid.UUID
    is_platform_admin: bool
    tenant_id: uuid.UUID | None
    role: Role | None
    membership_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    """For the roles ``person`` and ``carer``: the person record the user is."""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


def decide(actor: Actor | None, permission: Permission, tenant_id: uuid.UUID | None) -> Decision:
    """May ``actor`` use ``permission`` in ``tenant_id``? Always says why."""
    if actor is None:
        return Decision(False, "authentification requise")
    if permission is Permission.PLATFORM_ADMIN:
        if actor.is_platform_admin:
            return Decision(True, "administrateur de la plateforme")
        return Decision(False, "réservé aux administrateurs de la plateforme")
    if tenant_id is None or actor.tenant_id != tenant_id or actor.role is None:
        return Decision(False, "aucun rôle dans ce territoire")
    if permission in ROLE_PERMISSIONS.get(actor.role, frozenset()):
        return Decision(True, f"rôle {actor.role.value}")
    return Decision(False, f"le rôle {actor.role.value} ne permet pas {permission.value}")


def role_has(role: Role, permission: Permission) -> bool:
    """Does ``role`` carry ``permission`` in its tenant?"""
    return permission in ROLE_PERMISSIONS.get(role, frozenset())
