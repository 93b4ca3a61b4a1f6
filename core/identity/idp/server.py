"""The OpenID Connect protocol of the built-in provider, on authlib's server parts.

authlib's grant logic is synchronous, the database is not. Every endpoint
therefore runs in three steps, as :mod:`core.access.token_server` does:

1. **load** what the request needs (the client, the code and its account,
   whether the nonce was seen, the signing key, the access token);
2. **run authlib** on that data only (:class:`IdpServer` never touches the
   database; the token exchange runs in a worker thread because argon2 and
   RSA signing are slow);
3. **persist** what authlib produced (the code it issued, the code it
   redeemed and the token it issued), then answer.

What is authlib's and what is ours:

- The authorization endpoint and the token endpoint are authlib's
  :class:`AuthorizationCodeGrant` (client authentication ``client_secret_basic``
  and ``client_secret_post``), with authlib's PKCE extension
  :class:`CodeChallenge` (``required=True``, narrowed to ``S256`` and made
  mandatory for confidential clients too: authlib only forces it on public
  clients) and authlib's :class:`OpenIDCode` extension
  (``require_nonce=True``), which validates the nonce and ``prompt`` and
  signs the ID token with joserfc.
- The userinfo endpoint is authlib's :class:`UserInfoEndpoint` behind
  :class:`ResourceProtector` and :class:`BearerTokenValidator`. Its
  ``acquire_token()`` exists only in authlib's framework integrations (Flask,
  Django), which read the current request; :class:`_Protector` is the
  minimal equivalent for a request we hand it.
- Written here: discovery (a plain dictionary; authlib only validates such
  documents), the JWKS (from the stored keys), the stricter checks a
  general-purpose grant leaves open (``redirect_uri`` and ``state``
  required, ``response_mode`` only ``query``, no request objects, the
  ``openid`` scope required, unknown scopes ignored as OpenID Connect asks),
  French messages for the error page, and single use of a code enforced by
  the database (a conditional update), not by authlib's
  ``delete_authorization_code`` hook alone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    AuthorizationServer,
    ClientMixin,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Request,
    ResourceProtector,
)
from authlib.oauth2.rfc6749.errors import InsecureTransportError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from authlib.oauth2.rfc6749.util import extract_basic_authorization, scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo, UserInfoEndpoint
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey

from core.crypto import Keyring
from core.identity.idp import service
from core.identity.idp.service import (
    ACCESS_TOKEN_TTL,
    CODE_TTL,
    ID_TOKEN_TTL,
    SIGNING_ALG,
    SUPPORTED_SCOPES,
    Account,
    IdpClientRecord,
    IssuedToken,
    PendingCode,
    SigningKey,
    StoredCode,
    StoredToken,
)

AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
REQUEST_PARAMETERS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
    "ui_locales",
    "acr_values",
    "response_mode",
)
"""Authorization request parameters carried by the login form's hidden fields."""
MAX_PARAMETER_LENGTH = 512
"""Longest ``state``, ``nonce`` or ``login_hint`` accepted (they travel in forms and URLs)."""


@dataclass(frozen=True)
class IdpContext:
    """What every endpoint needs from the running process."""

    issuer: str
    """``base_url + "/idp"``; every endpoint URL derives from it."""
    keyring: Keyring
    now: dt.datetime

    def endpoint(self, name: str) -> str:
        return f"{self.issuer}/{name}"


@dataclass(frozen=True)
class EndpointResponse:
    """An HTTP answer of a JSON endpoint (token, userinfo)."""

    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class AuthorizeOutcome:
    """What the authorization endpoint answers.

    - ``login``: show the login form (``parameters`` go to hidden fields);
      ``login_failed`` when the credentials were wrong.
    - ``redirect``: send the browser to ``location`` (a code, or an OAuth
      error for the client: the client and its redirect URI were valid).
    - ``error``: show the French error page, never redirect (unknown client,
      unregistered or missing redirect URI, malformed request).
    """

    kind: Literal["login", "redirect", "error"]
    location: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    client_name: str | None = None
    redirect_uri: str | None = None
    login_failed: bool = False
    error: str | None = None
    message: str | None = None


# --------------------------------------------------------------------------- authlib adapters


class _Payload(OAuth2Payload):
    """Request parameters from ``(name, value)`` pairs (repeated names are kept)."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in pairs:
            self._datalist[name].append(value)
        self._data = {name: values[0] for name, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _Request(OAuth2Request):
    """An authlib request built from already-parsed parameters."""

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        pairs: Iterable[tuple[str, str]] = (),
        *,
        in_body: bool,
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self.payload = _Payload(pairs)
        self._in_body = in_body

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data if self._in_body else {}

    @property
    def args(self) -> dict[str, str]:
        return {} if self._in_body else self.payload.data


class _Client(ClientMixin):
    def __init__(self, record: IdpClientRecord) -> None:
        self.record = record

    @property
    def client_id(self) -> str:
        return self.record.client_id

    @property
    def client_metadata(self) -> dict[str, Any]:
        return {}

    def get_client_id(self) -> str:
        return self.record.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # OpenID Connect requires redirect_uri in every request

    def get_allowed_scope(self, scope: str | None) -> str:
        return " ".join(dict.fromkeys(s for s in scope_to_list(scope) or [] if s in SUPPORTED_SCOPES))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.record.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return self.record.verify_secret(client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class _Code(AuthorizationCodeMixin):
    """A stored code as authlib's grant and its extensions read it."""

    def __init__(self, record: StoredCode) -> None:
        self.record = record
        self.code_challenge = record.code_challenge
        self.code_challenge_method = record.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.record.redirect_uri

    def get_scope(self) -> str:
        return self.record.scope

    def get_nonce(self) -> str | None:
        return self.record.nonce

    def get_auth_time(self) -> int:
        return int(self.record.auth_time.timestamp())

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> list[str]:
        return ["pwd"]


class _RedirectUriError(InvalidRequestError):
    """The redirect URI is missing or not registered: never redirect to it."""


class _RequestNotSupported(OAuth2Error):
    error = "request_not_supported"


class _CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    server: IdpServer

    @staticmethod
    def validate_authorization_redirect_uri(request: OAuth2Request, client: _Client) -> str:
        redirect_uri = request.payload.redirect_uri
        if not redirect_uri:
            raise _RedirectUriError("Missing 'redirect_uri' in request.")
        if not client.check_redirect_uri(redirect_uri):
            raise _RedirectUriError("The 'redirect_uri' is not registered for this client.")
        return str(redirect_uri)

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        data = self.request.payload.data
        if not data.get("state"):
            raise InvalidRequestError("Missing 'state' in request.", redirect_uri=redirect_uri)
        for name in ("state", "nonce", "login_hint"):
            if len(data.get(name) or "") > MAX_PARAMETER_LENGTH:
                raise InvalidRequestError(f"The '{name}' is too long.", redirect_uri=redirect_uri)
        if data.get("response_mode", "query") != "query":
            raise InvalidRequestError("Only response_mode=query is supported.", redirect_uri=redirect_uri)
        if "request" in data or "request_uri" in data:
            raise _RequestNotSupported(
                description="Request objects are not supported.", redirect_uri=redirect_uri
            )
        return redirect_uri

    def generate_authorization_code(self) -> str:
        return service.new_authorization_code()

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        now = self.server.context.now
        self.server.issued_code = PendingCode(
            code=code,
            client_id=request.client.get_client_id(),
            account_id=request.user.id,
            redirect_uri=data["redirect_uri"],
            scope=request.scope,
            nonce=data.get("nonce"),
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            auth_time=now,
            expires_at=now + CODE_TTL,
        )

    def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
        record = self.server.stored_code
        if record is None or not record.matches(code):
            return None
        if record.client_id != client.get_client_id() or record.used_at is not None:
            return None
        if record.expires_at <= self.server.context.now:
            return None
        return _Code(record)

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        # Recorded here; made durable (and single-use) by redeem_authorization_code.
        self.server.redeemed_code = authorization_code.record

    def authenticate_user(self, authorization_code: _Code) -> Account | None:
        account = self.server.code_account
        if account is None or account.disabled or account.id != authorization_code.record.account_id:
            return None
        return account


class _S256Challenge(CodeChallenge):
    """authlib's PKCE, ``S256`` only, and required from every client."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: AuthorizationCodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge' (PKCE is required).")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class _OpenIDCode(OpenIDCode):
    """authlib's OpenID Connect extension, on the preloaded nonce check and key."""

    def __init__(self, server: IdpServer) -> None:
        super().__init__(require_nonce=True)
        self.server = server

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return self.server.nonce_seen

    def resolve_client_private_key(self, client: _Client) -> RSAKey:
        key = self.server.signing_key
        if key is None:
            raise RuntimeError("the signing key was not loaded")
        return key.private_key

    def get_client_algorithm(self, client: _Client) -> str:
        return SIGNING_ALG

    def get_encode_header(self, client: _Client) -> dict[str, str]:
        key = self.server.signing_key
        assert key is not None
        return {"alg": SIGNING_ALG, "kid": key.kid}

    def get_client_claims(self, client: _Client) -> dict[str, Any]:
        now = int(self.server.context.now.timestamp())
        return {
            "iss": self.server.context.issuer,
            "aud": client.get_client_id(),
            "iat": now,
            "exp": now + int(ID_TOKEN_TTL.total_seconds()),
        }

    def generate_user_info(self, user: Account, scope: str) -> UserInfo:
        return UserInfo(user.claims(scope_to_list(scope) or []))


class _AccessToken:
    """A stored access token as authlib's bearer validator reads it."""

    def __init__(self, record: StoredToken, client: _Client | None, now: dt.datetime) -> None:
        self.record = record
        self.client = client
        self.scope = record.scope
        self._now = now

    def get_scope(self) -> str:
        return self.record.scope

    def is_expired(self) -> bool:
        return self.record.expires_at <= self._now

    def is_revoked(self) -> bool:
        return self.record.revoked or self.record.account.disabled or self.client is None

    def get_client(self) -> _Client | None:
        return self.client

    def get_user(self) -> Account:
        return self.record.account


class _BearerValidator(BearerTokenValidator):
    def __init__(self, token: _AccessToken | None) -> None:
        super().__init__(realm="parcours-idp")
        self.token = token

    def authenticate_token(self, token_string: str) -> _AccessToken | None:
        if self.token is None or self.token.record.token_digest != service.digest(token_string):
            return None
        return self.token


class _Protector(ResourceProtector):
    """``acquire_token`` for one given request (authlib's lives in its Flask/Django glue)."""

    def __init__(self, request: OAuth2Request, validator: _BearerValidator) -> None:
        super().__init__()
        self.request = request
        self.register_token_validator(validator)
        self._default_auth_type = "Bearer"  # the challenge's scheme, as RFC 6750 spells it

    def acquire_token(self, scopes: str | list[str] | None = None) -> _AccessToken:
        required = [scopes] if isinstance(scopes, str) else scopes
        token: _AccessToken = self.validate_request(required, self.request)
        return token


class _UserInfo(UserInfoEndpoint):
    server: IdpServer

    def generate_user_info(self, user: Account, scope: str) -> UserInfo:
        return UserInfo(user.claims(scope_to_list(scope) or []))

    def get_issuer(self) -> str:
        return self.server.context.issuer


class IdpServer(AuthorizationServer):
    """authlib's authorization server over preloaded data, for one request.

    Reads only what it was given; what it issues is left in ``issued_code``,
    ``redeemed_code`` and ``issued_token`` for the caller to persist.
    """

    def __init__(
        self,
        context: IdpContext,
        client: IdpClientRecord | None,
        *,
        nonce_seen: bool = False,
        stored_code: StoredCode | None = None,
        code_account: Account | None = None,
        signing_key: SigningKey | None = None,
    ) -> None:
        super().__init__(scopes_supported=list(SUPPORTED_SCOPES))
        self.context = context
        self.client = client
        self.nonce_seen = nonce_seen
        self.stored_code = stored_code
        self.code_account = code_account
        self.signing_key = signing_key
        self.issued_code: PendingCode | None = None
        self.redeemed_code: StoredCode | None = None
        self.issued_token: IssuedToken | None = None
        self.register_grant(_CodeGrant, [_S256Challenge(required=True), _OpenIDCode(self)])
        self.register_token_generator("default", self._generate_token)

    def query_client(self, client_id: str) -> _Client | None:
        if self.client is not None and self.client.client_id == client_id:
            return _Client(self.client)
        return None

    def validate_requested_scope(self, scope: str | None) -> None:
        # OpenID Connect: unknown scopes are ignored (get_allowed_scope drops them),
        # but this provider only does OpenID Connect.
        if "openid" not in (scope_to_list(scope) or []):
            raise InvalidScopeError("The 'openid' scope is required.")

    def _generate_token(
        self,
        grant_type: str,
        client: _Client,
        user: Account | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        return {
            "token_type": "Bearer",
            "access_token": service.new_access_token(),
            "expires_in": int(ACCESS_TOKEN_TTL.total_seconds()),
            "scope": scope or "",
        }

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        self.issued_token = IssuedToken(
            access_token=token["access_token"],
            client_id=request.client.get_client_id(),
            account_id=request.user.id,
            scope=token["scope"],
            expires_at=self.context.now + ACCESS_TOKEN_TTL,
        )

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> EndpointResponse:
        return EndpointResponse(status, dict(body) if body else {}, list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


# --------------------------------------------------------------------------- French messages

_PAGE_MESSAGES = {
    "invalid_client": "Cette application (client_id) n'est pas connue du fournisseur d'identité.",
    "insecure_transport": "Le fournisseur d'identité n'accepte que des adresses en HTTPS.",
}


def _page_message(error: OAuth2Error | None) -> str:
    if isinstance(error, _RedirectUriError):
        return (
            "L'adresse de retour (redirect_uri) est absente ou n'est pas enregistrée pour cette "
            "application : la connexion ne peut pas continuer."
        )
    return _PAGE_MESSAGES.get(
        str(error.error) if error else "",
        "La demande de connexion est incomplète ou mal formée : elle ne peut pas aboutir.",
    )


def _error_outcome(error: OAuth2Error) -> AuthorizeOutcome:
    """An OAuth error: to the client if its redirect URI was validated, else the page."""
    if error.redirect_uri:
        _, _, headers = error()
        return AuthorizeOutcome("redirect", location=dict(headers)["Location"], error=str(error.error))
    return AuthorizeOutcome("error", error=str(error.error), message=_page_message(error))


def carried_parameters(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The authorization request parameters among ``pairs`` (first value of each)."""
    carried: dict[str, str] = {}
    for name, value in pairs:
        if name in REQUEST_PARAMETERS and name not in carried:
            carried[name] = value
    return carried


# --------------------------------------------------------------------------- endpoints


async def _load_for_authorization(
    pairs: list[tuple[str, str]],
) -> tuple[IdpClientRecord | None, bool]:
    data = dict(reversed(pairs))  # first value wins, as in _Payload
    client_id, nonce = data.get("client_id"), data.get("nonce")
    client = await service.find_client(client_id) if client_id else None
    nonce_seen = bool(client and nonce) and await service.nonce_used(client_id or "", nonce or "")
    return client, nonce_seen


async def begin_authorization(
    context: IdpContext, headers: Mapping[str, str], query: list[tuple[str, str]]
) -> AuthorizeOutcome:
    """``GET /authorize``: validate the request, then ask for the login form."""
    client, nonce_seen = await _load_for_authorization(query)
    try:
        request = _Request("GET", context.endpoint("authorize"), headers, query, in_body=False)
        server = IdpServer(context, client, nonce_seen=nonce_seen)
        grant = server.get_consent_grant(request, end_user=None)
    except OAuth2Error as error:
        return _error_outcome(error)
    assert client is not None
    return AuthorizeOutcome(
        "login",
        parameters=carried_parameters(query),
        client_name=client.name,
        redirect_uri=grant.redirect_uri,
    )


async def complete_authorization(
    context: IdpContext,
    headers: Mapping[str, str],
    form: list[tuple[str, str]],
    username: str,
    password: str,
) -> AuthorizeOutcome:
    """``POST /authorize``: re-validate the carried request, check the credentials, issue a code.

    Wrong credentials give the login form again (no code, nothing stored).
    """
    carried = carried_parameters(form)
    pairs = list(carried.items())
    client, nonce_seen = await _load_for_authorization(pairs)
    try:
        request = _Request("POST", context.endpoint("authorize"), headers, pairs, in_body=True)
        server = IdpServer(context, client, nonce_seen=nonce_seen)
        grant = server.get_consent_grant(request, end_user=None)
    except OAuth2Error as error:
        return _error_outcome(error)
    assert client is not None
    account = await service.authenticate(username, password) if username and password else None
    if account is None:
        return AuthorizeOutcome(
            "login",
            parameters=carried,
            client_name=client.name,
            redirect_uri=grant.redirect_uri,
            login_failed=True,
        )
    response: EndpointResponse = server.create_authorization_response(
        request, grant_user=account, grant=grant
    )
    location = dict(response.headers).get("Location")
    if server.issued_code is None:  # an OAuth error after all (authlib answered it)
        if location:
            return AuthorizeOutcome("redirect", location=location, error=response.body.get("error"))
        return AuthorizeOutcome("error", error=response.body.get("error"), message=_page_message(None))
    await service.store_authorization_code(server.issued_code)
    return AuthorizeOutcome("redirect", location=location)


async def token_endpoint(
    context: IdpContext, headers: Mapping[str, str], form: list[tuple[str, str]]
) -> EndpointResponse:
    """``POST /token``: the authorization-code exchange. ``headers`` must be case-insensitive."""
    data = dict(reversed(form))
    basic_id, _ = extract_basic_authorization(headers)
    client_id = basic_id or data.get("client_id")
    client = await service.find_client(client_id) if client_id else None
    stored_code: StoredCode | None = None
    code_account: Account | None = None
    code = data.get("code")
    if code and data.get("grant_type") == "authorization_code":
        loaded = await service.load_authorization_code(code)
        if loaded is not None:
            stored_code, code_account = loaded
            if stored_code.used_at is not None:
                # A second redemption: refused below, and what the first one gave is revoked.
                await service.revoke_tokens_of_code(stored_code.id, context.now)
    key = await service.signing_key(context.keyring)
    server = IdpServer(context, client, stored_code=stored_code, code_account=code_account, signing_key=key)
    try:
        request = _Request("POST", context.endpoint("token"), headers, form, in_body=True)
    except InsecureTransportError as error:
        return server.handle_error_response(None, error)
    # argon2 verification and RSA signing are slow: keep them off the event loop.
    response: EndpointResponse = await anyio.to_thread.run_sync(server.create_token_response, request)
    if response.status == 200:
        redeemed, issued = server.redeemed_code, server.issued_token
        if redeemed is None or issued is None:  # pragma: no cover - authlib calls both on success
            raise RuntimeError("the token exchange did not redeem a code")
        if not await service.redeem_authorization_code(redeemed.id, issued, context.now):
            return server.handle_error_response(request, InvalidGrantError("Invalid 'code' in request."))
    return response


async def userinfo_endpoint(context: IdpContext, headers: Mapping[str, str]) -> EndpointResponse:
    """``GET``/``POST /userinfo``: the claims of the access token's account, for its scopes."""
    scheme, _, value = headers.get("authorization", "").partition(" ")
    stored = await service.find_access_token(value.strip()) if scheme.lower() == "bearer" else None
    client = await service.find_client(stored.client_id) if stored else None
    token = _AccessToken(stored, _Client(client) if client else None, context.now) if stored else None
    server = IdpServer(context, client)
    try:
        request = _Request("GET", context.endpoint("userinfo"), headers, in_body=False)
    except InsecureTransportError as error:
        return server.handle_error_response(None, error)
    endpoint = _UserInfo(resource_protector=_Protector(request, _BearerValidator(token)))
    server.register_endpoint(endpoint)
    response: EndpointResponse = server.create_endpoint_response("userinfo", request)
    return response


def discovery_document(issuer: str) -> dict[str, Any]:
    """OpenID Provider metadata (OpenID Connect Discovery 1.0 §3)."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks",
        "scopes_supported": list(SUPPORTED_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [SIGNING_ALG],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "amr",
            "at_hash",
            "name",
            "given_name",
            "family_name",
            "preferred_username",
            "email",
            "email_verified",
        ],
        "ui_locales_supported": ["fr-FR"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }
