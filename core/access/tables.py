"""API clients and the bearer tokens issued to them (tenant tables)."""

from __future__ import annotations

from piccolo.columns import UUID, Array, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db.engine import DB


class ApiClient(Table, db=DB, tablename="api_client"):
    """A partner system (a hospital, a funder) calling the API of one tenant.

    Its column ``organisation_id`` (the organisation a funder's system acts for, nullable) is added
    by raw DDL (migration ``2026-11-24T00:30:00``) and read with SQL: not declared here on purpose.
    """

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    client_id = Varchar(length=64, null=False)
    """Public identifier, unique per tenant (see the migration)."""
    name = Varchar(length=200, null=False)
    secret_hash = Text(null=False)
    """argon2id hash of the client secret; the secret itself is shown once."""
    scopes = Array(base_column=Varchar(length=50))
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)


class ApiToken(Table, db=DB, tablename="api_token"):
    """A bearer access token; only its SHA-256 digest is stored."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    api_client = ForeignKey(
        ApiClient, null=False, on_delete=OnDelete.restrict, db_column_name="api_client_id"
    )
    token_digest = Varchar(length=64, null=False)
    scopes = Array(base_column=Varchar(length=50))
    issued_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(null=False)
