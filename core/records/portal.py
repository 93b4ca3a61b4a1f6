"""Whose file a portal user manages: the person their own, a carer each person who recognised her.

The portal (role ``person`` or ``carer``) always works on one person at a time, chosen among
``people_i_manage``; ``choose_person`` refuses anyone else with ``NotFound``, so a carer cannot
reach, or even learn the existence of, a person she is not linked to.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from core.access.policy import Actor
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import NotFound
from core.identity.roles import Role

OWN_FILE = "vous-même"
"""The relation shown for the person's own record."""


@dataclass(frozen=True)
class ManagedPerson:
    """A person whose portal the user opens, and what the user is to them."""

    id: uuid.UUID
    given_names: str
    family_name: str
    relation: str
    """« vous-même » for the person; for a carer the relationship of her link (« fille »…)."""

    @property
    def name(self) -> str:
        return f"{self.given_names} {self.family_name}"


async def people_i_manage(actor: Actor) -> list[ManagedPerson]:
    """The person's own record, or the persons whose active carer link names the carer (oldest first).

    Anyone else (another role, no person record, no tenant) manages nobody. Erased files are left
    out of a carer's list; the person still sees her own record (the file then answers « effacé »).
    """
    if actor.tenant_id is None or actor.person_id is None or actor.role not in (Role.PERSON, Role.CARER):
        return []
    async with tenant_scope(actor.tenant_id):
        if actor.role is Role.PERSON:
            row = await scoped_connection().fetchrow(
                "SELECT id, given_names, family_name FROM person WHERE id = $1", actor.person_id
            )
            return (
                []
                if row is None
                else [ManagedPerson(row["id"], row["given_names"], row["family_name"], OWN_FILE)]
            )
        rows = await scoped_connection().fetch(
            "SELECT p.id, p.given_names, p.family_name, l.relationship FROM carer_link l "
            "JOIN person p ON p.id = l.person_id WHERE l.carer_id = $1 AND l.revoked_at IS NULL "
            "AND l.granted_at <= now() AND p.erased_at IS NULL ORDER BY l.granted_at, l.id",
            actor.person_id,
        )
    people = {
        row["id"]: ManagedPerson(row["id"], row["given_names"], row["family_name"], row["relationship"])
        for row in rows
    }
    return list(people.values())


async def choose_person(actor: Actor, requested: str | None) -> tuple[ManagedPerson, list[ManagedPerson]]:
    """The person asked for (``?personne=<uuid>``; default the first) and the whole list.

    ``NotFound`` when the user manages nobody, or asks for anyone not in their list (a malformed
    id included): the answer does not tell whether that person exists.
    """
    people = await people_i_manage(actor)
    if not people:
        raise NotFound("aucun dossier n'est rattaché à votre compte dans ce territoire")
    if not requested:
        return people[0], people
    try:
        wanted = uuid.UUID(requested)
    except ValueError:
        wanted = None
    chosen = next((person for person in people if person.id == wanted), None)
    if chosen is None:
        raise NotFound("cette personne ne fait pas partie des dossiers que vous suivez")
    return chosen, people
