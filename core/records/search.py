"""Finding a person's file: my people (care team or a consent naming me) and search by identity.

Search requires the family name *and* the birth date, matched exactly (accents and case aside), as
identity-vigilance rules ask: nobody browses the territory's population. Each search is audited
(with the number of matches, never the terms).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from dataclasses import dataclass

from core.access.policy import Actor as SessionActor
from core.audit.trail import Outcome, Record, append
from core.consent.access import audit_actor
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import FieldError, InvalidInput


@dataclass(frozen=True)
class PersonMatch:
    id: uuid.UUID
    family_name: str
    given_names: str
    birth_date: dt.date
    commune_insee: str
    why: str
    """Why this person is in my list: « équipe de soins », « consentement », « recherche »."""


def fold(text: str) -> str:
    """Lower case without accents, for identity matching."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


async def my_people(actor: SessionActor) -> list[PersonMatch]:
    """People whose care team includes me or my organisation, or whose consent in force names me."""
    assert actor.tenant_id is not None
    members = [actor.user_id] + ([actor.organisation_id] if actor.organisation_id else [])
    async with tenant_scope(actor.tenant_id):
        rows = await scoped_connection().fetch(
            "SELECT p.id, p.family_name, p.given_names, p.birth_date, p.commune_insee, "
            "bool_or(t.id IS NOT NULL) AS in_team FROM person p "
            "LEFT JOIN care_team_member t ON t.person_id = p.id AND t.role = $2 "
            "AND coalesce(t.member_user_id, t.member_organisation_id) = ANY($1::uuid[]) "
            "AND (t.until IS NULL OR t.until > now()) "
            "LEFT JOIN consent c ON c.person_id = p.id AND c.kind = 'grant' AND c.revoked_at IS NULL "
            "AND (c.valid_until IS NULL OR c.valid_until > now()) AND ("
            "c.recipient_user_id = $3 OR c.recipient_organisation_id = ANY($1::uuid[]) "
            "OR c.recipient_role = $2) "
            "WHERE p.erased_at IS NULL AND (t.id IS NOT NULL OR c.id IS NOT NULL) "
            "GROUP BY p.id ORDER BY p.family_name, p.given_names",
            members,
            actor.role.value if actor.role else "",
            actor.user_id,
        )
    return [
        PersonMatch(
            row["id"],
            row["family_name"],
            row["given_names"],
            row["birth_date"],
            row["commune_insee"],
            "équipe de soins" if row["in_team"] else "consentement",
        )
        for row in rows
    ]


async def search_people(actor: SessionActor, family_name: str, birth_date: str) -> list[PersonMatch]:
    errors = []
    if len(family_name.strip()) < 2:
        errors.append(FieldError("family_name", "nom de naissance requis"))
    try:
        born = dt.date.fromisoformat(birth_date.strip())
    except ValueError:
        errors.append(FieldError("birth_date", "date de naissance au format AAAA-MM-JJ"))
    if errors:
        raise InvalidInput("recherche incomplète", errors)
    assert actor.tenant_id is not None
    async with tenant_scope(actor.tenant_id):
        rows = await scoped_connection().fetch(
            "SELECT id, family_name, given_names, birth_date, commune_insee FROM person "
            "WHERE birth_date = $1 AND erased_at IS NULL ORDER BY given_names",
            born,
        )
        found = [
            PersonMatch(**dict(row), why="recherche")
            for row in rows
            if fold(row["family_name"]) == fold(family_name)
        ]
        await append(
            Record(audit_actor(actor), "person.search", Outcome.SUCCESS, detail={"matches": str(len(found))})
        )
    return found
