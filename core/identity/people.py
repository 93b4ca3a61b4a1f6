"""People receiving care and their carers (aidants)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from core.crypto import Keyring
from core.db.connection import scoped_connection
from core.db.scope import current_tenant_id, tenant_scope
from core.errors import Conflict, FieldError, InvalidInput, NotFound
from core.identity.nir import Nir
from core.vault.keys import KeyErased
from core.vault.service import PERSON_INS_FIELD, Vault

GRANTORS = ("person", "legal_representative")
INS_FIELD = PERSON_INS_FIELD
"""Field name of the INS ciphertext (associated data)."""


@dataclass(frozen=True)
class PersonIdentity:
    """What identifies a person at intake (names as on the INS, birth date, commune)."""

    nir: Nir
    family_name: str
    given_names: str
    birth_date: dt.date
    commune_insee: str
    lives_alone: bool | None = None


@dataclass(frozen=True)
class CarerRecord:
    link_id: uuid.UUID
    carer_id: uuid.UUID
    family_name: str
    given_names: str
    relationship: str
    granted_by: str
    granted_at: dt.datetime


async def upsert_person(
    identity: PersonIdentity, keyring: Keyring, vault: Vault, *, is_demo: bool = False
) -> uuid.UUID:
    """The person with this INS in the current tenant (created, or updated), by keyed digest.

    A new person gets a data key (``vault``) that encrypts their INS; the key is stored only if this
    call created the person, so the key stored is always the one their INS was encrypted with (a
    concurrent intake of the same INS that loses the race updates the winner's row instead)."""
    tenant_id = current_tenant_id()
    value = str(identity.nir)
    digest = keyring.lookup_digest(tenant_id, value)
    connection = scoped_connection()
    existing: uuid.UUID | None = await connection.fetchval(
        "SELECT id FROM person WHERE ins_digest = $1", digest
    )
    if existing is not None:
        await connection.execute(
            f"UPDATE person SET {_IDENTITY_UPDATE} WHERE id = $1",
            existing,
            identity.family_name,
            identity.given_names,
            identity.birth_date,
            identity.commune_insee,
            identity.lives_alone,
            is_demo,
        )
        return existing
    person_id = uuid.uuid4()
    cipher = vault.new_person_key(person_id)
    row = await connection.fetchrow(
        "INSERT INTO person (id, tenant_id, ins_digest, ins_ciphertext, family_name, given_names, "
        "birth_date, commune_insee, lives_alone, ins_status, is_demo, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'provisional', $10, now(), now()) "
        "ON CONFLICT (tenant_id, ins_digest) DO UPDATE SET family_name = EXCLUDED.family_name, "
        "given_names = EXCLUDED.given_names, birth_date = EXCLUDED.birth_date, "
        "commune_insee = EXCLUDED.commune_insee, "
        "lives_alone = COALESCE(EXCLUDED.lives_alone, person.lives_alone), "
        "is_demo = person.is_demo OR EXCLUDED.is_demo, updated_at = now() "
        "RETURNING id, (xmax = 0) AS inserted",
        person_id,
        tenant_id,
        digest,
        cipher.encrypt(INS_FIELD, value),
        identity.family_name,
        identity.given_names,
        identity.birth_date,
        identity.commune_insee,
        identity.lives_alone,
        is_demo,
    )
    if row["inserted"]:
        await vault.save_person_key(cipher)
    found: uuid.UUID = row["id"]
    return found


_IDENTITY_UPDATE = (
    "family_name = $2, given_names = $3, birth_date = $4, commune_insee = $5, "
    "lives_alone = COALESCE($6, lives_alone), is_demo = is_demo OR $7, updated_at = now()"
)


async def read_ins(person_id: uuid.UUID, vault: Vault) -> str:
    """The clear INS of the current tenant's person ``person_id``.

    :class:`~core.errors.NotFound` for an unknown person, :class:`~core.vault.keys.KeyErased` (a
    ``Gone``) once their file was erased or their key destroyed."""
    row = await scoped_connection().fetchrow("SELECT ins_ciphertext FROM person WHERE id = $1", person_id)
    if row is None:
        raise NotFound("personne inconnue dans ce territoire")
    if row["ins_ciphertext"] is None:
        raise KeyErased("le dossier de cette personne a été effacé")
    cipher = await vault.person_cipher(person_id)
    return cipher.decrypt_text(INS_FIELD, bytes(row["ins_ciphertext"]))


async def find_person(nir: Nir, keyring: Keyring) -> uuid.UUID | None:
    """The id of the current tenant's person with this INS, or None."""
    tenant_id = current_tenant_id()
    found: uuid.UUID | None = await scoped_connection().fetchval(
        "SELECT id FROM person WHERE ins_digest = $1", keyring.lookup_digest(tenant_id, str(nir))
    )
    return found


async def grant_carer(
    tenant_id: uuid.UUID,
    person_id: uuid.UUID,
    carer_id: uuid.UUID,
    relationship: str,
    granted_by: str,
) -> uuid.UUID:
    """Record that ``carer_id`` cares for ``person_id``, granted by the person or their representative."""
    errors = []
    if person_id == carer_id:
        errors.append(FieldError("carer", "une personne ne peut pas être sa propre aidante"))
    if granted_by not in GRANTORS:
        errors.append(FieldError("granted_by", "accordé par la personne ou son représentant légal"))
    if not relationship.strip() or len(relationship) > 60:
        errors.append(FieldError("relationship", "lien avec la personne (60 caractères au plus)"))
    if errors:
        raise InvalidInput("lien d'aidant invalide", errors)
    async with tenant_scope(tenant_id):
        connection = scoped_connection()
        existing = await connection.fetchval(
            "SELECT id FROM carer_link WHERE person_id = $1 AND carer_id = $2 AND revoked_at IS NULL",
            person_id,
            carer_id,
        )
        if existing is not None:
            raise Conflict("cet aidant est déjà reconnu pour cette personne")
        link_id = uuid.uuid4()
        try:
            await connection.execute(
                "INSERT INTO carer_link (id, tenant_id, person_id, carer_id, relationship, "
                "granted_by, granted_at) VALUES ($1, $2, $3, $4, $5, $6, now())",
                link_id,
                tenant_id,
                person_id,
                carer_id,
                relationship.strip(),
                granted_by,
            )
        except asyncpg.ForeignKeyViolationError as error:
            raise NotFound("personne inconnue dans ce territoire") from error
    return link_id


async def revoke_carer(tenant_id: uuid.UUID, link_id: uuid.UUID) -> None:
    """End a carer relationship (kept, dated, for the record)."""
    async with tenant_scope(tenant_id):
        status = await scoped_connection().execute(
            "UPDATE carer_link SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", link_id
        )
    if status == "UPDATE 0":
        raise NotFound("lien d'aidant introuvable ou déjà retiré")


async def carers_of(tenant_id: uuid.UUID, person_id: uuid.UUID) -> list[CarerRecord]:
    async with tenant_scope(tenant_id):
        rows = await scoped_connection().fetch(
            "SELECT l.id AS link_id, c.id AS carer_id, c.family_name, c.given_names, l.relationship, "
            "l.granted_by, l.granted_at FROM carer_link l JOIN person c ON c.id = l.carer_id "
            "WHERE l.person_id = $1 AND l.revoked_at IS NULL ORDER BY l.granted_at",
            person_id,
        )
    return [CarerRecord(**dict(row)) for row in rows]


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Age in whole years on ``day``."""
    years = day.year - birth_date.year
    return years - ((day.month, day.day) < (birth_date.month, birth_date.day))
