"""Resolve what a routing rule asked for (a target) into who holds the proposal (an assignee).

A rule may name a user, an organisation or a role, or ask for "the care team's organisation of this
kind" or "a provider from the marketplace". The last two are resolved against the person's care team
and the territory's directory; when nobody fits unambiguously, the territory's coordinators receive
the proposal to dispatch it (they see why in its history).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from core.db.connection import scoped_connection
from core.events.model import Target, TargetKind
from core.identity.roles import ROLE_LABELS, OrganisationKind, Role

SERVICE_PROVIDER_KINDS: dict[str, OrganisationKind] = {
    "home_help": OrganisationKind.HOME_HELP_PROVIDER,
    "respite": OrganisationKind.HOME_HELP_PROVIDER,
    "home_nursing": OrganisationKind.NURSING_PRACTICE,
    "pharmacy_delivery": OrganisationKind.PHARMACY,
}
"""Until the marketplace chooses among offers: the directory kind that delivers a service type."""


class AssigneeKind:
    USER = "user"
    ORGANISATION = "organisation"
    ROLE = "role"


@dataclass(frozen=True)
class Assignee:
    kind: str
    value: str
    label: str
    user_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None
    note: str | None = None
    """Why the target was resolved this way, when it was not taken literally."""


def role_assignee(role: Role, note: str | None = None) -> Assignee:
    return Assignee(AssigneeKind.ROLE, role.value, ROLE_LABELS[role], note=note)


def coordinators(note: str) -> Assignee:
    return role_assignee(Role.COORDINATOR, note)


async def organisation_assignee(organisation_id: uuid.UUID, note: str | None = None) -> Assignee | None:
    row = await scoped_connection().fetchrow(
        "SELECT id, name FROM organisation WHERE id = $1", organisation_id
    )
    if row is None:
        return None
    return Assignee(
        AssigneeKind.ORGANISATION, str(row["id"]), row["name"], organisation_id=row["id"], note=note
    )


async def user_assignee(user_id: uuid.UUID) -> Assignee | None:
    row = await scoped_connection().fetchrow(
        "SELECT u.id, u.display_name, m.organisation_id FROM membership m "
        "JOIN user_account u ON u.id = m.user_account_id "
        "WHERE m.user_account_id = $1 AND m.status = 'active' LIMIT 1",
        user_id,
    )
    if row is None:
        return None
    return Assignee(
        AssigneeKind.USER,
        str(row["id"]),
        row["display_name"],
        user_id=row["id"],
        organisation_id=row["organisation_id"],
    )


async def _of_kind(person_id: uuid.UUID, kind: str, what: str) -> Assignee:
    """The care team's organisation of ``kind``; else the territory's only one; else the coordinators.

    One query: the organisations of that kind, the person's care-team members first.
    """
    rows = await scoped_connection().fetch(
        "SELECT o.id, o.name, c.id IS NOT NULL AS in_team FROM organisation o "
        "LEFT JOIN care_team_member c ON c.member_organisation_id = o.id AND c.person_id = $1 "
        "AND c.until IS NULL WHERE o.kind = $2 ORDER BY (c.id IS NULL), c.since, o.name, o.id LIMIT 2",
        person_id,
        kind,
    )
    if rows and (rows[0]["in_team"] or len(rows) == 1):
        note = (
            "membre de l'équipe de soins"
            if rows[0]["in_team"]
            else "seule structure de ce type sur le territoire"
        )
        return Assignee(
            AssigneeKind.ORGANISATION,
            str(rows[0]["id"]),
            rows[0]["name"],
            organisation_id=rows[0]["id"],
            note=note,
        )
    if rows:
        return coordinators(f"plusieurs structures possibles ({what}) : à attribuer par la coordination")
    return coordinators(
        f"aucune structure de ce type dans l'annuaire ({what}) : à attribuer par la coordination"
    )


async def resolve(target: Target, person_id: uuid.UUID) -> Assignee:
    """Who holds a new proposal, in the caller's tenant scope. Never fails: coordinators by default."""
    if target.kind is TargetKind.USER:
        found = await user_assignee(uuid.UUID(target.value))
        return found or coordinators("destinataire sans compte actif : à attribuer par la coordination")
    if target.kind is TargetKind.ORGANISATION:
        found = await organisation_assignee(uuid.UUID(target.value))
        return found or coordinators("structure inconnue de l'annuaire : à attribuer par la coordination")
    if target.kind is TargetKind.ROLE:
        return role_assignee(Role(target.value))
    if target.kind is TargetKind.CARE_TEAM:
        return await _of_kind(person_id, OrganisationKind(target.value).value, target.value)
    kind = SERVICE_PROVIDER_KINDS.get(target.value)
    if kind is None:
        return coordinators(f"prestataire à choisir ({target.value}) : à attribuer par la coordination")
    return await _of_kind(person_id, kind.value, target.value)
