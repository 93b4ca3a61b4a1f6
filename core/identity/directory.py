"""The tenant directory: organisations, professionals and memberships (who holds which role)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from asyncpg import UniqueViolationError

from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Conflict, FieldError, InvalidInput, NotFound
from core.identity.accounts import Account
from core.identity.identifiers import InvalidIdentifier, parse_identifier
from core.identity.roles import OrganisationKind, Role

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$", re.ASCII)
COMMUNE = re.compile(r"^(\d{5}|2[AB]\d{3})$", re.ASCII)


@dataclass(frozen=True)
class OrganisationRecord:
    id: uuid.UUID
    kind: str
    name: str
    finess_ej: str | None
    finess_et: str | None
    siret: str | None
    commune_insee: str | None


@dataclass(frozen=True)
class MembershipRecord:
    id: uuid.UUID
    tenant_id: uuid.UUID
    role: Role
    status: str
    organisation_id: uuid.UUID | None
    organisation_name: str | None
    person_id: uuid.UUID | None
    account_id: uuid.UUID | None
    account_name: str | None
    invited_email: str | None
    created_at: dt.datetime


def _identifier(errors: list[FieldError], field: str, kind: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return str(parse_identifier(kind, value))
    except InvalidIdentifier as error:
        errors.append(FieldError(field, str(error)))
        return None


def check_organisation(
    kind: str,
    name: str,
    *,
    finess_ej: str | None = None,
    finess_et: str | None = None,
    siret: str | None = None,
    commune_insee: str | None = None,
    email: str | None = None,
) -> dict[str, str | None]:
    """Validate an organisation; return its normalised fields or raise naming each bad field."""
    errors: list[FieldError] = []
    if kind not in OrganisationKind.__members__.values():
        errors.append(FieldError("kind", "type d'organisation inconnu"))
    if not name.strip():
        errors.append(FieldError("name", "le nom est obligatoire"))
    elif len(name.strip()) > 200:
        errors.append(FieldError("name", "200 caractères au plus"))
    values: dict[str, str | None] = {
        "finess_ej": _identifier(errors, "finess_ej", "finess_ej", finess_ej),
        "finess_et": _identifier(errors, "finess_et", "finess_et", finess_et),
        "siret": _identifier(errors, "siret", "siret", siret),
    }
    commune = (commune_insee or "").strip().upper() or None
    if commune is not None and not COMMUNE.match(commune):
        errors.append(FieldError("commune_insee", "code commune INSEE à 5 caractères"))
    mail = (email or "").strip() or None
    if mail is not None and not EMAIL.match(mail):
        errors.append(FieldError("email", "adresse électronique invalide"))
    if errors:
        raise InvalidInput("organisation invalide", errors)
    return {**values, "kind": kind, "name": name.strip(), "commune_insee": commune, "email": mail}


async def create_organisation(tenant_id: uuid.UUID, **fields: str | None) -> OrganisationRecord:
    kind = fields.pop("kind") or ""
    name = fields.pop("name") or ""
    values = check_organisation(kind, name, **fields)
    organisation_id = uuid.uuid4()
    async with tenant_scope(tenant_id):
        await scoped_connection().execute(
            "INSERT INTO organisation (id, tenant_id, kind, name, finess_ej, finess_et, siret, "
            "commune_insee, email, is_demo, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, false, now())",
            organisation_id,
            tenant_id,
            values["kind"],
            values["name"],
            values["finess_ej"],
            values["finess_et"],
            values["siret"],
            values["commune_insee"],
            values["email"],
        )
    return OrganisationRecord(
        organisation_id,
        str(values["kind"]),
        str(values["name"]),
        values["finess_ej"],
        values["finess_et"],
        values["siret"],
        values["commune_insee"],
    )


async def list_organisations(tenant_id: uuid.UUID) -> list[OrganisationRecord]:
    async with tenant_scope(tenant_id):
        rows = await scoped_connection().fetch(
            "SELECT id, kind, name, finess_ej, finess_et, siret, commune_insee FROM organisation "
            "ORDER BY name"
        )
    return [OrganisationRecord(**dict(row)) for row in rows]


PROFESSIONAL_LIMITS: dict[str, int] = {
    "profession": 60,
    "family_name": 100,
    "given_names": 200,
    "email": 320,
}
"""Longest value of each text field of ``professional`` (the columns' lengths)."""


def check_professional(
    profession: str,
    family_name: str,
    given_names: str,
    *,
    rpps: str | None = None,
    adeli: str | None = None,
    email: str | None = None,
) -> dict[str, str | None]:
    """Validate a professional (RPPS/ADELI keys, required names, e-mail, lengths).

    Return the normalised fields (identifiers compacted, text stripped, empty
    optional values as ``None``) or raise ``InvalidInput`` naming each bad field.
    """
    errors: list[FieldError] = []
    rpps_value = _identifier(errors, "rpps", "rpps", rpps)
    adeli_value = _identifier(errors, "adeli", "adeli", adeli)
    texts = {
        "profession": profession.strip(),
        "family_name": family_name.strip(),
        "given_names": given_names.strip(),
    }
    for field, value in texts.items():
        if not value:
            errors.append(FieldError(field, "obligatoire"))
        elif len(value) > PROFESSIONAL_LIMITS[field]:
            errors.append(FieldError(field, f"{PROFESSIONAL_LIMITS[field]} caractères au plus"))
    mail = (email or "").strip() or None
    if mail is not None and not EMAIL.match(mail):
        errors.append(FieldError("email", "adresse électronique invalide"))
    elif mail is not None and len(mail) > PROFESSIONAL_LIMITS["email"]:
        errors.append(FieldError("email", f"{PROFESSIONAL_LIMITS['email']} caractères au plus"))
    if errors:
        raise InvalidInput("professionnel invalide", errors)
    return {**texts, "rpps": rpps_value, "adeli": adeli_value, "email": mail}


async def create_professional(
    tenant_id: uuid.UUID,
    *,
    profession: str,
    family_name: str,
    given_names: str,
    rpps: str | None = None,
    adeli: str | None = None,
    email: str | None = None,
    is_demo: bool = False,
) -> uuid.UUID:
    """Add a professional (RPPS/ADELI checked); an RPPS already known returns the existing one."""
    values = check_professional(profession, family_name, given_names, rpps=rpps, adeli=adeli, email=email)
    async with tenant_scope(tenant_id):
        connection = scoped_connection()
        if values["rpps"] is not None:
            existing = await connection.fetchval(
                "SELECT id FROM professional WHERE rpps = $1", values["rpps"]
            )
            if existing is not None:
                known: uuid.UUID = existing
                return known
        professional_id = uuid.uuid4()
        try:
            await connection.execute(
                "INSERT INTO professional (id, tenant_id, rpps, adeli, profession, family_name, "
                "given_names, email, is_demo, created_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())",
                professional_id,
                tenant_id,
                values["rpps"],
                values["adeli"],
                values["profession"],
                values["family_name"],
                values["given_names"],
                values["email"],
                is_demo,
            )
        except UniqueViolationError as error:  # the same RPPS added concurrently
            raise Conflict("ce numéro RPPS est déjà dans l'annuaire") from error
    return professional_id


@dataclass(frozen=True)
class ProfessionalRecord:
    id: uuid.UUID
    profession: str
    family_name: str
    given_names: str
    rpps: str | None
    adeli: str | None


async def list_professionals(tenant_id: uuid.UUID) -> list[ProfessionalRecord]:
    async with tenant_scope(tenant_id):
        rows = await scoped_connection().fetch(
            "SELECT id, profession, family_name, given_names, rpps, adeli FROM professional "
            "ORDER BY family_name, given_names"
        )
    return [ProfessionalRecord(**dict(row)) for row in rows]


def check_invitation(email: str, role: str) -> tuple[str, Role]:
    errors = []
    mail = email.strip().lower()
    if not EMAIL.match(mail):
        errors.append(FieldError("email", "adresse électronique invalide"))
    try:
        chosen = Role(role)
    except ValueError:
        errors.append(FieldError("role", "rôle inconnu"))
        chosen = Role.PROFESSIONAL
    if errors:
        raise InvalidInput("invitation invalide", errors)
    return mail, chosen


_MEMBERSHIP_SELECT = (
    "SELECT m.id, m.tenant_id, m.role, m.status, m.organisation_id, o.name AS organisation_name, "
    "m.person_id, m.user_account_id AS account_id, a.display_name AS account_name, "
    "m.invited_email, m.created_at "
    "FROM membership m LEFT JOIN organisation o ON o.id = m.organisation_id "
    "LEFT JOIN user_account a ON a.id = m.user_account_id "
)


def _membership(row: dict) -> MembershipRecord:
    return MembershipRecord(**{**dict(row), "role": Role(row["role"])})


async def invite_member(
    tenant_id: uuid.UUID,
    email: str,
    role: str,
    organisation_id: uuid.UUID | None,
    invited_by: str,
    *,
    professional_id: uuid.UUID | None = None,
    person_id: uuid.UUID | None = None,
) -> MembershipRecord:
    """Invite someone by e-mail: the role becomes theirs at their first login with that address."""
    mail, chosen = check_invitation(email, role)
    async with tenant_scope(tenant_id):
        connection = scoped_connection()
        if organisation_id is not None and not await connection.fetchval(
            "SELECT 1 FROM organisation WHERE id = $1", organisation_id
        ):
            raise InvalidInput(
                "organisation inconnue", [FieldError("organisation_id", "organisation inconnue")]
            )
        duplicate = await connection.fetchval(
            "SELECT 1 FROM membership m LEFT JOIN user_account a ON a.id = m.user_account_id "
            "WHERE m.role = $1 AND m.organisation_id IS NOT DISTINCT FROM $2 "
            "AND m.status <> 'revoked' AND lower(coalesce(a.email, m.invited_email)) = $3",
            chosen.value,
            organisation_id,
            mail,
        )
        if duplicate:
            raise Conflict(f"{mail} a déjà ce rôle pour cette organisation")
        row = await connection.fetchrow(
            "INSERT INTO membership (id, tenant_id, organisation_id, professional_id, person_id, role, "
            "status, invited_email, invited_by, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, 'invited', $7, $8, now()) RETURNING id",
            uuid.uuid4(),
            tenant_id,
            organisation_id,
            professional_id,
            person_id,
            chosen.value,
            mail,
            invited_by,
        )
        created = await connection.fetchrow(_MEMBERSHIP_SELECT + "WHERE m.id = $1", row["id"])
    return _membership(created)


async def list_memberships(tenant_id: uuid.UUID) -> list[MembershipRecord]:
    async with tenant_scope(tenant_id):
        rows = await scoped_connection().fetch(
            _MEMBERSHIP_SELECT + "ORDER BY m.status, coalesce(a.display_name, m.invited_email)"
        )
    return [_membership(row) for row in rows]


async def revoke_membership(tenant_id: uuid.UUID, membership_id: uuid.UUID) -> None:
    async with tenant_scope(tenant_id):
        status = await scoped_connection().execute(
            "UPDATE membership SET status = 'revoked', revoked_at = now() "
            "WHERE id = $1 AND status <> 'revoked'",
            membership_id,
        )
    if status == "UPDATE 0":
        raise NotFound("rôle introuvable ou déjà retiré")


async def memberships_at_login(tenant_id: uuid.UUID, account: Account) -> list[MembershipRecord]:
    """Activate the invitations sent to the account's e-mail; return its active roles here."""
    async with tenant_scope(tenant_id):
        connection = scoped_connection()
        if account.email:
            await connection.execute(
                "UPDATE membership SET user_account_id = $1, status = 'active', activated_at = now() "
                "WHERE status = 'invited' AND user_account_id IS NULL AND lower(invited_email) = $2",
                account.id,
                account.email.lower(),
            )
        rows = await connection.fetch(
            _MEMBERSHIP_SELECT + "WHERE m.user_account_id = $1 AND m.status = 'active' "
            "ORDER BY m.role, o.name",
            account.id,
        )
    return [_membership(row) for row in rows]


async def active_membership(
    tenant_id: uuid.UUID, account_id: uuid.UUID, membership_id: uuid.UUID
) -> MembershipRecord | None:
    async with tenant_scope(tenant_id):
        row = await scoped_connection().fetchrow(
            _MEMBERSHIP_SELECT + "WHERE m.id = $1 AND m.user_account_id = $2 AND m.status = 'active'",
            membership_id,
            account_id,
        )
    return _membership(row) if row else None
