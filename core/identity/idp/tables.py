"""Tables of the built-in OpenID Connect provider (platform-wide, no tenant).

Secrets are never stored in clear: passwords and client secrets as argon2id
hashes, authorization codes and access tokens as their SHA-256 digest, the
signing key encrypted with the keyring.
"""

from __future__ import annotations

from piccolo.columns import JSONB, UUID, Array, Bytea, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db.engine import DB


class IdpAccount(Table, db=DB, tablename="idp_account"):
    """A person who can log in at the provider (a demo professional)."""

    id = UUID(primary_key=True)
    """Stable; the ``sub`` claim."""
    username = Varchar(length=100, unique=True, null=False)
    """Normalised (trimmed, lower case)."""
    password_hash = Text(null=False)
    """argon2id hash of the password."""
    email = Varchar(length=254, null=True, default=None)
    given_name = Varchar(length=100, null=False)
    family_name = Varchar(length=100, null=False)
    extra_claims = JSONB(default="{}", null=False)
    """Claims added to the ID token and userinfo, e.g. ``{"rpps": "10001234567"}``."""
    created_at = Timestamptz(default=TimestamptzNow())
    disabled_at = Timestamptz(null=True, default=None)


class IdpClient(Table, db=DB, tablename="idp_client"):
    """A relying party registered at the provider (confidential client)."""

    id = UUID(primary_key=True)
    client_id = Varchar(length=100, unique=True, null=False)
    client_secret_hash = Text(null=False)
    """argon2id hash of the client secret; the secret itself is shown once."""
    name = Varchar(length=200, null=False)
    redirect_uris = Array(base_column=Varchar(length=2000))
    """Exact redirection URIs; a request's ``redirect_uri`` must equal one of them."""
    created_at = Timestamptz(default=TimestamptzNow())


class IdpAuthorizationCode(Table, db=DB, tablename="idp_authorization_code"):
    """A one-time authorization code (10 minutes); only its SHA-256 digest is stored."""

    id = UUID(primary_key=True)
    code_digest = Varchar(length=64, unique=True, null=False)
    client_id = Varchar(length=100, null=False)
    account = ForeignKey(IdpAccount, null=False, on_delete=OnDelete.restrict, db_column_name="account_id")
    redirect_uri = Varchar(length=2000, null=False)
    scope = Text(null=False)
    nonce = Text(null=True, default=None)
    code_challenge = Varchar(length=128, null=False)
    code_challenge_method = Varchar(length=10, null=False)
    auth_time = Timestamptz(null=False)
    expires_at = Timestamptz(null=False)
    used_at = Timestamptz(null=True, default=None)
    """Set by the one successful redemption."""


class IdpAccessToken(Table, db=DB, tablename="idp_access_token"):
    """An opaque access token for ``/idp/userinfo``; only its SHA-256 digest is stored."""

    id = UUID(primary_key=True)
    token_digest = Varchar(length=64, unique=True, null=False)
    client_id = Varchar(length=100, null=False)
    account = ForeignKey(IdpAccount, null=False, on_delete=OnDelete.restrict, db_column_name="account_id")
    authorization_code = ForeignKey(
        IdpAuthorizationCode,
        null=False,
        on_delete=OnDelete.restrict,
        db_column_name="authorization_code_id",
    )
    """The code it was issued for: a replayed code revokes its tokens (RFC 6749 §4.1.2)."""
    scope = Text(null=False)
    issued_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(null=False)
    revoked_at = Timestamptz(null=True, default=None)


class IdpSigningKey(Table, db=DB, tablename="idp_signing_key"):
    """An RSA key signing ID tokens; at most one is active (not retired)."""

    id = UUID(primary_key=True)
    kid = Varchar(length=64, unique=True, null=False)
    """The key's RFC 7638 thumbprint."""
    private_jwk_ciphertext = Bytea(null=False)
    """The private JWK, encrypted by the keyring (AES-256-GCM)."""
    public_jwk = JSONB(null=False)
    created_at = Timestamptz(default=TimestamptzNow())
    retired_at = Timestamptz(null=True, default=None)
