"""Tables of login: accounts and sessions (platform-wide), pending OIDC logins (per tenant).

A person may work in several territories: the account is platform-wide,
memberships (roles) are per tenant (``core/identity/directory_tables.py``).
"""

from __future__ import annotations

from piccolo.columns import JSONB, UUID, Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db.engine import DB


class UserAccount(Table, db=DB, tablename="user_account"):
    """Someone who logs in, known by the (issuer, subject) of their identity provider."""

    id = UUID(primary_key=True)
    issuer = Varchar(length=300, null=False)
    subject = Varchar(length=300, null=False)
    email = Varchar(length=320, null=True, default=None)
    display_name = Varchar(length=200, null=False)
    is_platform_admin = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)


class WebSession(Table, db=DB, tablename="web_session"):
    """A browser session; the cookie holds a random token, the table its SHA-256."""

    id = UUID(primary_key=True)
    token_digest = Varchar(length=64, null=False, unique=True)
    user_account = ForeignKey(
        UserAccount, null=False, on_delete=OnDelete.restrict, db_column_name="user_account_id"
    )
    csrf_token = Varchar(length=64, null=False)
    current_memberships = JSONB(default="{}")
    """tenant id → membership id chosen for that tenant."""
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(null=False)
    revoked_at = Timestamptz(null=True, default=None)


class OidcLoginRequest(Table, db=DB, tablename="oidc_login_request"):
    """A login started at an identity provider of a tenant, waiting for its callback (single use)."""

    id = UUID(primary_key=True)
    state_digest = Varchar(length=64, null=False)
    """Unique per tenant (see the migration)."""
    tenant_id = UUID(null=False)
    provider_id = UUID(null=False)
    nonce = Varchar(length=128, null=False)
    code_verifier = Varchar(length=128, null=False)
    return_to = Varchar(length=500, null=False)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(null=False)
    used_at = Timestamptz(null=True, default=None)
