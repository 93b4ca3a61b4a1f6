"""OpenID Connect relying party: log users in through a tenant's identity providers.

Authorization code flow with PKCE (S256), ``state`` and ``nonce``, as Pro
Santé Connect, FranceConnect and any standard IdP (Keycloak…) expect.
authlib builds the authorization URL and exchanges the code; joserfc
verifies the ID token (signature against the provider's JWKS, then iss,
aud, exp, nonce). Pending logins are stored server-side, single use, ten
minutes at most.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from core.crypto import Keyring, sha256_hex
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import DomainError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import AsyncOAuth2Client

LOGIN_TTL = dt.timedelta(minutes=10)
_DISCOVERY_TTL_SECONDS = 300.0


class LoginFailed(DomainError):
    status = 401
    title = "Connexion impossible"
    slug = "login-failed"


@dataclass(frozen=True)
class Provider:
    id: uuid.UUID
    key: str
    label: str
    issuer: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    audience: str


@dataclass(frozen=True)
class VerifiedIdentity:
    issuer: str
    subject: str
    email: str | None
    display_name: str
    claims: dict[str, Any]


async def register_provider(
    tenant_id: uuid.UUID,
    keyring: Keyring,
    *,
    key: str,
    label: str,
    issuer: str,
    client_id: str,
    client_secret: str,
    scopes: tuple[str, ...] = ("openid", "profile", "email"),
    audience: str = "all",
) -> None:
    """Add or update (by ``key``) an identity provider of the tenant."""
    async with tenant_scope(tenant_id):
        await scoped_connection().execute(
            "INSERT INTO identity_provider (id, tenant_id, key, label, issuer, client_id, "
            "client_secret_ciphertext, scopes, audience, enabled, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, true, now()) "
            "ON CONFLICT (tenant_id, key) DO UPDATE SET label = EXCLUDED.label, "
            "issuer = EXCLUDED.issuer, client_id = EXCLUDED.client_id, "
            "client_secret_ciphertext = EXCLUDED.client_secret_ciphertext, "
            "scopes = EXCLUDED.scopes, audience = EXCLUDED.audience",
            uuid.uuid4(),
            tenant_id,
            key,
            label,
            issuer.rstrip("/"),
            client_id,
            keyring.encrypt(tenant_id, "identity_provider.client_secret", client_secret),
            list(scopes),
            audience,
        )


async def list_providers(tenant_id: uuid.UUID, keyring: Keyring) -> list[Provider]:
    async with tenant_scope(tenant_id):
        rows = await scoped_connection().fetch(
            "SELECT id, key, label, issuer, client_id, client_secret_ciphertext, scopes, audience "
            "FROM identity_provider WHERE enabled ORDER BY created_at"
        )
    return [
        Provider(
            id=row["id"],
            key=row["key"],
            label=row["label"],
            issuer=row["issuer"],
            client_id=row["client_id"],
            client_secret=keyring.decrypt(
                tenant_id, "identity_provider.client_secret", row["client_secret_ciphertext"]
            ),
            scopes=tuple(row["scopes"]),
            audience=row["audience"],
        )
        for row in rows
    ]


class Discovery:
    """Cached OpenID provider metadata and keys, per issuer."""

    def __init__(self) -> None:
        self._metadata: dict[str, tuple[float, dict[str, Any]]] = {}

    async def metadata(self, http: httpx.AsyncClient, issuer: str) -> dict[str, Any]:
        cached = self._metadata.get(issuer)
        if cached and time.monotonic() - cached[0] < _DISCOVERY_TTL_SECONDS:
            return cached[1]
        response = await http.get(issuer + "/.well-known/openid-configuration")
        response.raise_for_status()
        metadata: dict[str, Any] = response.json()
        if metadata.get("issuer", "").rstrip("/") != issuer:
            raise LoginFailed("le fournisseur d'identité annonce un autre émetteur")
        self._metadata[issuer] = (time.monotonic(), metadata)
        return metadata

    async def keys(self, http: httpx.AsyncClient, metadata: dict[str, Any]) -> KeySet:
        response = await http.get(metadata["jwks_uri"])
        response.raise_for_status()
        return KeySet.import_key_set(response.json())


DISCOVERY = Discovery()


async def _provider_metadata(
    provider: Provider, transport: httpx.AsyncBaseTransport | None, *, with_keys: bool = True
) -> tuple[dict[str, Any], KeySet | None]:
    """Discovery document (and keys) of ``provider``; unreachable → :class:`LoginFailed`."""
    try:
        async with _http(transport) as http:
            metadata = await DISCOVERY.metadata(http, provider.issuer)
            keys = await DISCOVERY.keys(http, metadata) if with_keys else None
    except (httpx.HTTPError, ValueError, KeyError) as error:
        raise LoginFailed(f"le fournisseur d'identité « {provider.label} » est injoignable") from error
    return metadata, keys


Transport = httpx.AsyncBaseTransport | None
"""None: real HTTP. The web layer passes an in-process transport for its own built-in IdP."""
TransportFor = Callable[[Provider], Transport]

_TIMEOUT = httpx.Timeout(10.0)


def _http(transport: Transport) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=transport, timeout=_TIMEOUT)


def _oauth_client(provider: Provider, transport: Transport, redirect_uri: str) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        scope=" ".join(provider.scopes),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        transport=transport,
        timeout=_TIMEOUT,
    )


async def begin_login(
    tenant_id: uuid.UUID,
    provider: Provider,
    transport: Transport,
    redirect_uri: str,
    return_to: str,
) -> tuple[str, str]:
    """Record a pending login; return the provider's authorization URL and the ``state``.

    The caller binds ``state`` to the browser (a cookie), so that a callback
    link forged by someone else cannot log this browser into their account."""
    metadata, _ = await _provider_metadata(provider, transport, with_keys=False)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    code_verifier = secrets.token_urlsafe(48)
    async with _oauth_client(provider, transport, redirect_uri) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, code_verifier=code_verifier, nonce=nonce
        )
    async with tenant_scope(tenant_id):
        await scoped_connection().execute(
            "INSERT INTO oidc_login_request (id, tenant_id, provider_id, state_digest, nonce, "
            "code_verifier, return_to, created_at, expires_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, now(), now() + make_interval(secs => $8))",
            uuid.uuid4(),
            tenant_id,
            provider.id,
            sha256_hex(state),
            nonce,
            code_verifier,
            return_to,
            LOGIN_TTL.total_seconds(),
        )
    return str(url), state


async def complete_login(
    tenant_id: uuid.UUID,
    providers: list[Provider],
    transport_for: TransportFor,
    redirect_uri: str,
    state: str,
    code: str,
) -> tuple[VerifiedIdentity, str]:
    """Redeem the pending login of ``state``; return the verified identity and where to go next."""
    async with tenant_scope(tenant_id):
        pending = await scoped_connection().fetchrow(
            "UPDATE oidc_login_request SET used_at = now() WHERE state_digest = $1 "
            "AND used_at IS NULL AND expires_at > now() "
            "RETURNING provider_id, nonce, code_verifier, return_to",
            sha256_hex(state),
        )
    if pending is None:
        raise LoginFailed("demande de connexion inconnue, expirée ou déjà utilisée : recommencez")
    provider = next((p for p in providers if p.id == pending["provider_id"]), None)
    if provider is None:
        raise LoginFailed("ce fournisseur d'identité n'est plus proposé")
    transport = transport_for(provider)
    metadata, keys = await _provider_metadata(provider, transport)
    try:
        async with _oauth_client(provider, transport, redirect_uri) as client:
            token = await client.fetch_token(
                metadata["token_endpoint"], code=code, code_verifier=pending["code_verifier"]
            )
    except Exception as error:  # authlib raises OAuthError; transport errors too
        raise LoginFailed("le fournisseur d'identité a refusé l'échange du code") from error
    id_token = token.get("id_token")
    if not id_token:
        raise LoginFailed("le fournisseur d'identité n'a pas fourni de jeton d'identité")
    assert keys is not None
    claims = verify_id_token(id_token, keys, provider, pending["nonce"])
    name = (
        " ".join(part for part in (claims.get("given_name"), claims.get("family_name")) if part)
        or claims.get("name")
        or claims.get("preferred_username")
        or claims["sub"]
    )
    identity = VerifiedIdentity(
        issuer=provider.issuer,
        subject=str(claims["sub"]),
        # Only a verified address may claim an invitation sent to it.
        email=claims.get("email") if claims.get("email_verified") is True else None,
        display_name=str(name),
        claims=claims,
    )
    return identity, pending["return_to"]


def verify_id_token(id_token: str, keys: KeySet, provider: Provider, nonce: str) -> dict[str, Any]:
    """Signature, then issuer, audience, expiry and nonce."""
    try:
        token = jwt.decode(id_token, keys, algorithms=["RS256", "ES256", "PS256"])
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": provider.issuer},
            aud={"essential": True, "value": provider.client_id},
            sub={"essential": True},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        registry.validate(token.claims)
    except (JoseError, ValueError) as error:
        raise LoginFailed(f"jeton d'identité refusé ({error.__class__.__name__})") from error
    return dict(token.claims)
