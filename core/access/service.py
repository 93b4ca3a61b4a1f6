"""API clients, client-credentials tokens and bearer authentication.

Secrets and tokens are never stored: a client secret as an argon2id hash,
an access token as its SHA-256 digest. The token endpoint itself is
authlib's client-credentials grant (see :mod:`core.access.token_server`).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.crypto import sha256_hex
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import FieldError, InvalidInput

SCOPES = {
    "events:write": "Déclarer des événements",
    "events:read": "Lire les événements et leurs propositions d'action",
    "directory:read": "Lire l'annuaire (organisations, professionnels)",
    "directory:write": "Ajouter des organisations et des professionnels à l'annuaire",
    "followup:read": "Lire le suivi pseudonymisé des événements et les exports du territoire",
    "funding:read": "Lire les demandes de financement adressées à l'organisme du client",
    "funding:decide": "Décider des demandes de financement adressées à l'organisme du client",
}
_hasher = PasswordHasher()


@dataclass(frozen=True)
class ClientRecord:
    id: uuid.UUID
    tenant_id: uuid.UUID
    client_id: str
    name: str
    secret_hash: str
    scopes: tuple[str, ...]

    def verify_secret(self, secret: str) -> bool:
        try:
            return _hasher.verify(self.secret_hash, secret)
        except (VerificationError, InvalidHashError):
            return False


@dataclass(frozen=True)
class Principal:
    """Who is calling the API: a client of one tenant, with scopes."""

    tenant_id: uuid.UUID
    client_id: str
    name: str
    scopes: frozenset[str]
    organisation_id: uuid.UUID | None = None
    """The organisation the client acts for (a funder's system), if registered with one."""
    id: uuid.UUID | None = None
    """The client's record id (stable; the client id is its public name)."""


@dataclass(frozen=True)
class NewClient:
    client_id: str
    client_secret: str


def check_scopes(scopes: list[str]) -> list[str]:
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise InvalidInput(
            "portées invalides",
            [FieldError("scope", f"portées connues : {', '.join(sorted(SCOPES))}")],
        )
    return list(dict.fromkeys(scopes))


async def _check_organisation(organisation_id: uuid.UUID | None) -> None:
    """In the tenant's scope: the organisation must be one of the territory's."""
    if organisation_id is None:
        return
    found = await scoped_connection().fetchval("SELECT 1 FROM organisation WHERE id = $1", organisation_id)
    if found is None:
        raise InvalidInput(
            "organisation inconnue", [FieldError("organisation", "organisation inconnue dans ce territoire")]
        )


async def create_client(
    tenant_id: uuid.UUID, name: str, scopes: list[str], organisation_id: uuid.UUID | None = None
) -> NewClient:
    """Register an API client; the secret is returned once and stored hashed.

    ``organisation_id``: the organisation it acts for (a funder's system sees that funder's requests)."""
    if not name.strip():
        raise InvalidInput("nom obligatoire", [FieldError("name", "le nom est obligatoire")])
    scopes = check_scopes(scopes)
    client_id = "pc_" + secrets.token_hex(12)
    client_secret = secrets.token_urlsafe(32)
    async with tenant_scope(tenant_id):
        await _check_organisation(organisation_id)
        await scoped_connection().execute(
            "INSERT INTO api_client (id, tenant_id, client_id, name, secret_hash, scopes, "
            "created_at, organisation_id) VALUES ($1, $2, $3, $4, $5, $6, now(), $7)",
            uuid.uuid4(),
            tenant_id,
            client_id,
            name.strip(),
            _hasher.hash(client_secret),
            scopes,
            organisation_id,
        )
    return NewClient(client_id, client_secret)


async def register_known_client(
    tenant_id: uuid.UUID,
    client_id: str,
    name: str,
    client_secret: str,
    scopes: list[str],
    organisation_id: uuid.UUID | None = None,
) -> None:
    """Create a client with a chosen id and secret, if absent (demo territories only); an existing
    one keeps its secret and scopes, and takes the organisation given."""
    scopes = check_scopes(scopes)
    async with tenant_scope(tenant_id):
        await _check_organisation(organisation_id)
        await scoped_connection().execute(
            "INSERT INTO api_client (id, tenant_id, client_id, name, secret_hash, scopes, "
            "created_at, organisation_id) VALUES ($1, $2, $3, $4, $5, $6, now(), $7) "
            "ON CONFLICT (tenant_id, client_id) DO UPDATE SET organisation_id = EXCLUDED.organisation_id",
            uuid.uuid4(),
            tenant_id,
            client_id,
            name,
            _hasher.hash(client_secret),
            scopes,
            organisation_id,
        )


async def find_client(tenant_id: uuid.UUID, client_id: str) -> ClientRecord | None:
    """An active client of this tenant (a client of another tenant is not found)."""
    async with tenant_scope(tenant_id):
        row = await scoped_connection().fetchrow(
            "SELECT id, tenant_id, client_id, name, secret_hash, scopes FROM api_client "
            "WHERE client_id = $1 AND revoked_at IS NULL",
            client_id,
        )
    if row is None:
        return None
    return ClientRecord(**{**dict(row), "scopes": tuple(row["scopes"])})


async def store_token(
    client: ClientRecord, access_token: str, scopes: list[str], expires_at: dt.datetime
) -> None:
    async with tenant_scope(client.tenant_id):
        await scoped_connection().execute(
            "INSERT INTO api_token (id, tenant_id, api_client_id, token_digest, scopes, "
            "issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, now(), $6)",
            uuid.uuid4(),
            client.tenant_id,
            client.id,
            sha256_hex(access_token),
            scopes,
            expires_at,
        )


async def authenticate_bearer(tenant_id: uuid.UUID, access_token: str) -> Principal | None:
    """The principal of a valid, unexpired token of this tenant; else None."""
    async with tenant_scope(tenant_id):
        row = await scoped_connection().fetchrow(
            "SELECT c.id, c.client_id, c.name, c.organisation_id, t.scopes FROM api_token t "
            "JOIN api_client c ON c.id = t.api_client_id "
            "WHERE t.token_digest = $1 AND t.expires_at > now() AND c.revoked_at IS NULL",
            sha256_hex(access_token),
        )
    if row is None:
        return None
    return Principal(
        tenant_id,
        row["client_id"],
        row["name"],
        frozenset(row["scopes"]),
        organisation_id=row["organisation_id"],
        id=row["id"],
    )
