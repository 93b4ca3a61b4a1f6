"""Accounts, clients, codes, tokens and the signing key of the built-in provider.

Nothing secret is stored in clear: passwords and client secrets as argon2id
hashes (verified off the event loop), authorization codes and access tokens
as their SHA-256 digest, the RSA signing key encrypted by the keyring. The
tables are platform-wide (no tenant), so queries run on a plain pool
connection, outside any tenant scope.

The protocol itself (what a request must contain, what a response holds) is
in :mod:`core.identity.idp.server`; this module only reads and writes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from joserfc.jwk import RSAKey

from core.crypto import Keyring, sha256_hex
from core.db.engine import DB
from core.errors import Conflict, FieldError, InvalidInput

CODE_TTL = dt.timedelta(minutes=10)
"""Lifetime of an authorization code (RFC 6749 §4.1.2 recommends at most 10 minutes)."""
ID_TOKEN_TTL = dt.timedelta(minutes=5)
ACCESS_TOKEN_TTL = dt.timedelta(minutes=10)
"""Lifetime of an access token; it only serves ``/idp/userinfo`` right after login."""
RETIRED_KEY_PUBLISHED_FOR = dt.timedelta(hours=1)
"""A retired signing key stays in the JWKS this long (tokens it signed are still checked)."""

SUPPORTED_SCOPES = ("openid", "profile", "email")
SIGNING_ALG = "RS256"
SIGNING_KEY_TENANT = uuid.UUID(int=0)
"""Keyring "tenant" of the provider's own secrets (the provider belongs to no tenant)."""
SIGNING_KEY_FIELD = "idp.signing_key"

RESERVED_CLAIMS = frozenset(
    [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "nbf",
        "jti",
        "auth_time",
        "nonce",
        "acr",
        "amr",
        "azp",
        "at_hash",
        "c_hash",
        "sid",
        "email",
        "email_verified",
        "given_name",
        "family_name",
        "name",
        "preferred_username",
    ]
)
"""Claims the provider sets itself; ``extra_claims`` may not override them."""

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{0,99}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}$")
_CLAIM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,63}$")
_MAX_PASSWORD = 1024

_hasher = PasswordHasher()  # argon2id with argon2-cffi's current parameters


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Account:
    """A person who can log in at the provider."""

    id: uuid.UUID
    username: str
    email: str | None
    given_name: str
    family_name: str
    extra_claims: Mapping[str, Any] = field(default_factory=dict)
    disabled: bool = False

    @property
    def subject(self) -> str:
        """The ``sub`` claim: the account id, stable for the account's life."""
        return str(self.id)

    def claims(self, scopes: Collection[str]) -> dict[str, Any]:
        """The user claims released for ``scopes`` (ID token and userinfo).

        ``profile`` releases the names, ``email`` the address; the account's
        extra claims (``rpps``…) are released with ``openid`` itself.
        """
        claims: dict[str, Any] = {"sub": self.subject}
        if "profile" in scopes:
            claims.update(
                given_name=self.given_name,
                family_name=self.family_name,
                name=f"{self.given_name} {self.family_name}".strip(),
                preferred_username=self.username,
            )
        if "email" in scopes and self.email:
            # Demo accounts are provisioned by an operator: the address is vouched for.
            claims.update(email=self.email, email_verified=True)
        for name, value in self.extra_claims.items():
            if name not in RESERVED_CLAIMS:
                claims[name] = value
        return claims


@dataclass(frozen=True)
class IdpClientRecord:
    """A registered relying party."""

    id: uuid.UUID
    client_id: str
    name: str
    client_secret_hash: str
    redirect_uris: tuple[str, ...]

    def verify_secret(self, secret: str) -> bool:
        """argon2id verification: slow on purpose, call it off the event loop."""
        return _verify(self.client_secret_hash, secret)


@dataclass(frozen=True)
class NewIdpClient:
    """A freshly registered client: the secret is shown here, once."""

    client_id: str
    client_secret: str


@dataclass(frozen=True)
class PendingCode:
    """An authorization code issued by the protocol logic, not yet stored."""

    code: str
    client_id: str
    account_id: uuid.UUID
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    auth_time: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True)
class StoredCode:
    """An authorization code as stored (its digest, never the code)."""

    id: uuid.UUID
    code_digest: str
    client_id: str
    account_id: uuid.UUID
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    auth_time: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None

    def matches(self, code: str) -> bool:
        return hmac.compare_digest(self.code_digest, digest(code))


@dataclass(frozen=True)
class IssuedToken:
    """An access token issued by the protocol logic, not yet stored."""

    access_token: str
    client_id: str
    account_id: uuid.UUID
    scope: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class StoredToken:
    """A stored access token with its account (for userinfo)."""

    token_digest: str
    client_id: str
    scope: str
    expires_at: dt.datetime
    revoked: bool
    account: Account


@dataclass(frozen=True)
class SigningKey:
    """The active ID-token signing key, decrypted."""

    kid: str
    private_key: RSAKey


# --------------------------------------------------------------------------- helpers


digest = sha256_hex
"""SHA-256 (hex) of a code or token: what is stored and looked up."""


def new_authorization_code() -> str:
    """A random, URL-safe authorization code (256 bits)."""
    return secrets.token_urlsafe(32)


def new_access_token() -> str:
    """A random, opaque access token (256 bits)."""
    return secrets.token_urlsafe(32)


def normalise_username(username: str) -> str:
    return username.strip().lower()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the username is unknown (same cost as a real one)."""
    return _hasher.hash(secrets.token_urlsafe(16))


async def _hash(secret: str) -> str:
    return await asyncio.to_thread(_hasher.hash, secret)


@asynccontextmanager
async def _connection() -> AsyncIterator[asyncpg.Connection]:
    """A pool connection of the current event loop (platform tables: no tenant scope)."""
    pool = await DB.ensure_pool()
    async with pool.acquire() as connection:
        yield connection


def _account(row: Mapping[str, Any]) -> Account:
    extra = row["extra_claims"]
    return Account(
        id=row["id"],
        username=row["username"],
        email=row["email"],
        given_name=row["given_name"],
        family_name=row["family_name"],
        extra_claims=json.loads(extra) if isinstance(extra, str) else dict(extra or {}),
        disabled=row["disabled_at"] is not None,
    )


_ACCOUNT_COLUMNS = "id, username, email, given_name, family_name, extra_claims, disabled_at"


# --------------------------------------------------------------------------- accounts


def _check_account(
    username: str,
    password: str,
    email: str | None,
    given_name: str,
    family_name: str,
    extra_claims: Mapping[str, Any],
) -> None:
    errors = []
    if not USERNAME.match(username):
        errors.append(
            FieldError(
                "username",
                "1 à 100 caractères : lettres, chiffres et . _ @ + -, en commençant par une lettre "
                "ou un chiffre",
            )
        )
    if not password or len(password) > _MAX_PASSWORD:
        errors.append(FieldError("password", f"le mot de passe doit compter 1 à {_MAX_PASSWORD} caractères"))
    if email is not None and not EMAIL.match(email):
        errors.append(FieldError("email", "adresse électronique invalide"))
    if not given_name.strip() or len(given_name) > 100:
        errors.append(FieldError("given_name", "le prénom est obligatoire (100 caractères au plus)"))
    if not family_name.strip() or len(family_name) > 100:
        errors.append(FieldError("family_name", "le nom est obligatoire (100 caractères au plus)"))
    for name in extra_claims:
        if name in RESERVED_CLAIMS or not _CLAIM_NAME.match(name):
            errors.append(FieldError(f"extra_claims.{name}", "nom de claim réservé ou invalide"))
    try:
        json.dumps(dict(extra_claims))
    except (TypeError, ValueError):
        errors.append(FieldError("extra_claims", "les valeurs doivent être sérialisables en JSON"))
    if errors:
        raise InvalidInput("compte invalide", errors)


async def create_account(
    username: str,
    password: str,
    *,
    given_name: str,
    family_name: str,
    email: str | None = None,
    extra_claims: Mapping[str, Any] | None = None,
) -> Account:
    """Create an account; raises :class:`Conflict` if the username is taken."""
    username = normalise_username(username)
    extra = dict(extra_claims or {})
    _check_account(username, password, email, given_name, family_name, extra)
    password_hash = await _hash(password)
    async with _connection() as connection:
        row = await connection.fetchrow(
            "INSERT INTO idp_account (id, username, password_hash, email, given_name, family_name, "
            "extra_claims, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, now()) "
            f"ON CONFLICT (username) DO NOTHING RETURNING {_ACCOUNT_COLUMNS}",
            uuid.uuid4(),
            username,
            password_hash,
            email,
            given_name.strip(),
            family_name.strip(),
            json.dumps(extra),
        )
    if row is None:
        raise Conflict(f"l'identifiant {username!r} est déjà pris")
    return _account(row)


async def find_account(username: str) -> Account | None:
    """The account with this username (disabled or not), or None."""
    async with _connection() as connection:
        row = await connection.fetchrow(
            f"SELECT {_ACCOUNT_COLUMNS} FROM idp_account WHERE username = $1",
            normalise_username(username),
        )
    return _account(row) if row else None


async def get_account(account_id: uuid.UUID) -> Account | None:
    async with _connection() as connection:
        row = await connection.fetchrow(
            f"SELECT {_ACCOUNT_COLUMNS} FROM idp_account WHERE id = $1", account_id
        )
    return _account(row) if row else None


async def authenticate(username: str, password: str) -> Account | None:
    """The enabled account whose password this is, else None.

    An unknown username costs the same argon2 verification as a wrong
    password, so response times do not reveal which usernames exist.
    """
    async with _connection() as connection:
        row = await connection.fetchrow(
            f"SELECT {_ACCOUNT_COLUMNS}, password_hash FROM idp_account WHERE username = $1",
            normalise_username(username),
        )
    password_hash = row["password_hash"] if row else _dummy_hash()
    valid = await asyncio.to_thread(_verify, password_hash, password[:_MAX_PASSWORD])
    if row is None or not valid:
        return None
    account = _account(row)
    return None if account.disabled else account


async def ensure_demo_account(username: str, password: str, claims: Mapping[str, Any]) -> Account:
    """Create or update a demo account so that it has this password and these claims.

    ``claims`` holds ``given_name`` and ``family_name`` (required), ``email``
    (optional) and any extra claims (``rpps``…). Idempotent: calling it again
    with the same values changes nothing (the password is not re-hashed); a
    disabled account is enabled again.
    """
    username = normalise_username(username)
    values = dict(claims)
    given_name = str(values.pop("given_name", ""))
    family_name = str(values.pop("family_name", ""))
    email_value = values.pop("email", None)
    email = str(email_value) if email_value is not None else None
    values.pop("email_verified", None)
    _check_account(username, password, email, given_name, family_name, values)
    async with _connection() as connection:
        current = await connection.fetchrow(
            "SELECT password_hash FROM idp_account WHERE username = $1", username
        )
    keep_hash = current is not None and await asyncio.to_thread(_verify, current["password_hash"], password)
    password_hash = current["password_hash"] if current is not None and keep_hash else await _hash(password)
    async with _connection() as connection:
        row = await connection.fetchrow(
            "INSERT INTO idp_account (id, username, password_hash, email, given_name, family_name, "
            "extra_claims, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, now()) "
            "ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, "
            "email = EXCLUDED.email, given_name = EXCLUDED.given_name, "
            "family_name = EXCLUDED.family_name, extra_claims = EXCLUDED.extra_claims, "
            f"disabled_at = NULL RETURNING {_ACCOUNT_COLUMNS}",
            uuid.uuid4(),
            username,
            password_hash,
            email,
            given_name.strip(),
            family_name.strip(),
            json.dumps(values),
        )
    assert row is not None
    return _account(row)


# --------------------------------------------------------------------------- clients


def _check_client(name: str, redirect_uris: Collection[str]) -> None:
    errors = []
    if not name.strip() or len(name) > 200:
        errors.append(FieldError("name", "le nom est obligatoire (200 caractères au plus)"))
    if not redirect_uris:
        errors.append(FieldError("redirect_uris", "au moins une adresse de retour"))
    for uri in redirect_uris:
        if not valid_redirect_uri(uri):
            errors.append(
                FieldError(
                    "redirect_uris",
                    f"adresse de retour invalide : {uri!r} (URL http(s) absolue, sans fragment)",
                )
            )
    if errors:
        raise InvalidInput("client invalide", errors)


def valid_redirect_uri(uri: str) -> bool:
    """An absolute http(s) URL with a host and no fragment, credentials or spaces."""
    if len(uri) > 2000 or any(c.isspace() for c in uri):
        return False
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not parts.fragment
        and "#" not in uri
        and parts.username is None
    )


async def register_client(name: str, redirect_uris: Collection[str]) -> NewIdpClient:
    """Register a relying party; its secret is returned once and stored hashed."""
    uris = list(dict.fromkeys(redirect_uris))
    _check_client(name, uris)
    client_id = "idp_" + secrets.token_hex(12)
    client_secret = secrets.token_urlsafe(32)
    async with _connection() as connection:
        await connection.execute(
            "INSERT INTO idp_client (id, client_id, client_secret_hash, name, redirect_uris, "
            "created_at) VALUES ($1, $2, $3, $4, $5, now())",
            uuid.uuid4(),
            client_id,
            await _hash(client_secret),
            name.strip(),
            uris,
        )
    return NewIdpClient(client_id, client_secret)


async def ensure_client(
    client_id: str, secret: str, name: str, redirect_uris: Collection[str]
) -> IdpClientRecord:
    """Create or update a client with a chosen id and secret (demo and tests).

    Idempotent: calling it again with the same values changes nothing (the
    secret is not re-hashed); other values replace the stored ones.
    """
    uris = list(dict.fromkeys(redirect_uris))
    _check_client(name, uris)
    if not re.fullmatch(r"[A-Za-z0-9._~-]{1,100}", client_id):
        raise InvalidInput(
            "client invalide",
            [FieldError("client_id", "1 à 100 caractères : lettres, chiffres et . _ ~ -")],
        )
    if not secret:
        raise InvalidInput("client invalide", [FieldError("secret", "le secret est obligatoire")])
    current = await find_client(client_id)
    keep = current is not None and await asyncio.to_thread(current.verify_secret, secret)
    secret_hash = current.client_secret_hash if current is not None and keep else await _hash(secret)
    async with _connection() as connection:
        row = await connection.fetchrow(
            "INSERT INTO idp_client (id, client_id, client_secret_hash, name, redirect_uris, "
            "created_at) VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (client_id) DO UPDATE SET "
            "client_secret_hash = EXCLUDED.client_secret_hash, name = EXCLUDED.name, "
            "redirect_uris = EXCLUDED.redirect_uris "
            "RETURNING id, client_id, name, client_secret_hash, redirect_uris",
            uuid.uuid4(),
            client_id,
            secret_hash,
            name.strip(),
            uris,
        )
    assert row is not None
    return _client(row)


def _client(row: Mapping[str, Any]) -> IdpClientRecord:
    return IdpClientRecord(
        id=row["id"],
        client_id=row["client_id"],
        name=row["name"],
        client_secret_hash=row["client_secret_hash"],
        redirect_uris=tuple(row["redirect_uris"] or ()),
    )


async def find_client(client_id: str) -> IdpClientRecord | None:
    async with _connection() as connection:
        row = await connection.fetchrow(
            "SELECT id, client_id, name, client_secret_hash, redirect_uris FROM idp_client "
            "WHERE client_id = $1",
            client_id,
        )
    return _client(row) if row else None


# --------------------------------------------------------------------------- codes and tokens


async def nonce_used(client_id: str, nonce: str) -> bool:
    """Whether a code was already issued to this client with this nonce (replay)."""
    async with _connection() as connection:
        found = await connection.fetchval(
            "SELECT 1 FROM idp_authorization_code WHERE client_id = $1 AND nonce = $2 LIMIT 1",
            client_id,
            nonce,
        )
    return found is not None


async def store_authorization_code(code: PendingCode) -> None:
    """Store a code issued by the protocol logic (its digest only)."""
    async with _connection() as connection:
        await connection.execute(
            "INSERT INTO idp_authorization_code (id, code_digest, client_id, account_id, "
            "redirect_uri, scope, nonce, code_challenge, code_challenge_method, auth_time, "
            "expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            uuid.uuid4(),
            digest(code.code),
            code.client_id,
            code.account_id,
            code.redirect_uri,
            code.scope,
            code.nonce,
            code.code_challenge,
            code.code_challenge_method,
            code.auth_time,
            code.expires_at,
        )


async def load_authorization_code(code: str) -> tuple[StoredCode, Account] | None:
    """The stored code with this value and its account (used or not), or None."""
    async with _connection() as connection:
        row = await connection.fetchrow(
            "SELECT c.id AS code_id, c.code_digest, c.client_id, c.account_id, c.redirect_uri, "
            "c.scope, c.nonce, c.code_challenge, c.code_challenge_method, c.auth_time, "
            "c.expires_at, c.used_at, a.id, a.username, a.email, a.given_name, a.family_name, "
            "a.extra_claims, a.disabled_at FROM idp_authorization_code c "
            "JOIN idp_account a ON a.id = c.account_id WHERE c.code_digest = $1",
            digest(code),
        )
    if row is None:
        return None
    stored = StoredCode(
        id=row["code_id"],
        code_digest=row["code_digest"],
        client_id=row["client_id"],
        account_id=row["account_id"],
        redirect_uri=row["redirect_uri"],
        scope=row["scope"],
        nonce=row["nonce"],
        code_challenge=row["code_challenge"],
        code_challenge_method=row["code_challenge_method"],
        auth_time=row["auth_time"],
        expires_at=row["expires_at"],
        used_at=row["used_at"],
    )
    return stored, _account(row)


async def revoke_tokens_of_code(code_id: uuid.UUID, now: dt.datetime) -> None:
    """A code presented again: revoke what it gave (RFC 6749 §4.1.2, RFC 9700 §4.5)."""
    async with _connection() as connection:
        await connection.execute(
            "UPDATE idp_access_token SET revoked_at = $2 "
            "WHERE authorization_code_id = $1 AND revoked_at IS NULL",
            code_id,
            now,
        )


async def redeem_authorization_code(code_id: uuid.UUID, token: IssuedToken, now: dt.datetime) -> bool:
    """Mark the code used and store its access token, in one transaction.

    Returns False, storing nothing, if the code was used (a concurrent
    redemption won) or expired meanwhile: a code is redeemed at most once.
    """
    async with _connection() as connection, connection.transaction():
        claimed = await connection.fetchval(
            "UPDATE idp_authorization_code SET used_at = $2 "
            "WHERE id = $1 AND used_at IS NULL AND expires_at > $2 RETURNING id",
            code_id,
            now,
        )
        if claimed is None:
            return False
        await connection.execute(
            "INSERT INTO idp_access_token (id, token_digest, client_id, account_id, "
            "authorization_code_id, scope, issued_at, expires_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            uuid.uuid4(),
            digest(token.access_token),
            token.client_id,
            token.account_id,
            code_id,
            token.scope,
            now,
            token.expires_at,
        )
    return True


async def find_access_token(access_token: str) -> StoredToken | None:
    """The stored token with this value and its account, or None (expiry is checked later)."""
    async with _connection() as connection:
        row = await connection.fetchrow(
            "SELECT t.token_digest, t.client_id, t.scope, t.expires_at, t.revoked_at, "
            "a.id, a.username, a.email, a.given_name, a.family_name, a.extra_claims, a.disabled_at "
            "FROM idp_access_token t JOIN idp_account a ON a.id = t.account_id "
            "WHERE t.token_digest = $1",
            digest(access_token),
        )
    if row is None:
        return None
    return StoredToken(
        token_digest=row["token_digest"],
        client_id=row["client_id"],
        scope=row["scope"],
        expires_at=row["expires_at"],
        revoked=row["revoked_at"] is not None,
        account=_account(row),
    )


# --------------------------------------------------------------------------- signing key

_decrypted: dict[str, RSAKey] = {}
"""Decrypted keys by kid (the kid is the key's thumbprint, so an entry never goes stale)."""


def _new_key() -> RSAKey:
    key = RSAKey.generate_key(2048, private=True)
    kid = key.thumbprint()
    return RSAKey.import_key(key.as_dict(private=True), {"kid": kid, "use": "sig", "alg": SIGNING_ALG})


async def signing_key(keyring: Keyring) -> SigningKey:
    """The active signing key; an RSA-2048 key is created (and stored encrypted) on first use.

    Two processes creating the first key at once cannot both succeed: a
    unique partial index allows one active key, and the loser reads the winner's.
    """
    async with _connection() as connection:
        row = await connection.fetchrow(
            "SELECT kid, private_jwk_ciphertext FROM idp_signing_key WHERE retired_at IS NULL"
        )
        if row is None:
            key = await asyncio.to_thread(_new_key)
            ciphertext = keyring.encrypt(
                SIGNING_KEY_TENANT, SIGNING_KEY_FIELD, json.dumps(key.as_dict(private=True))
            )
            await connection.execute(
                "INSERT INTO idp_signing_key (id, kid, private_jwk_ciphertext, public_jwk, created_at) "
                "VALUES ($1, $2, $3, $4::jsonb, now()) ON CONFLICT DO NOTHING",
                uuid.uuid4(),
                key.kid,
                ciphertext,
                json.dumps(key.as_dict(private=False)),
            )
            row = await connection.fetchrow(
                "SELECT kid, private_jwk_ciphertext FROM idp_signing_key WHERE retired_at IS NULL"
            )
            assert row is not None
    kid: str = row["kid"]
    private_key = _decrypted.get(kid)
    if private_key is None:
        jwk = json.loads(
            keyring.decrypt(SIGNING_KEY_TENANT, SIGNING_KEY_FIELD, bytes(row["private_jwk_ciphertext"]))
        )
        private_key = RSAKey.import_key(jwk)
        _decrypted[kid] = private_key
    return SigningKey(kid=kid, private_key=private_key)


async def public_jwks(keyring: Keyring, now: dt.datetime) -> dict[str, Any]:
    """The JWK Set of the public signing keys: the active one and those retired recently."""
    await signing_key(keyring)
    async with _connection() as connection:
        rows = await connection.fetch(
            "SELECT public_jwk FROM idp_signing_key WHERE retired_at IS NULL OR retired_at > $1 "
            "ORDER BY created_at DESC",
            now - RETIRED_KEY_PUBLISHED_FOR,
        )
    keys = []
    for row in rows:
        jwk = row["public_jwk"]
        keys.append(json.loads(jwk) if isinstance(jwk, str) else dict(jwk))
    return {"keys": keys}
