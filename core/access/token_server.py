"""OAuth 2.0 client-credentials token endpoint, on authlib's server parts.

authlib's grant logic is synchronous; the web layer loads the client from
the database first, runs this server, then stores the issued token.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.util import extract_basic_authorization, scope_to_list

from core.access.service import SCOPES, ClientRecord


class _Client(ClientMixin):
    def __init__(self, record: ClientRecord) -> None:
        self.record = record

    def get_client_id(self) -> str:
        return self.record.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = set(self.record.scopes)
        if not scope:
            return " ".join(self.record.scopes)
        return " ".join(s for s in scope_to_list(scope) if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return self.record.verify_secret(client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


@dataclass
class Issued:
    client: ClientRecord
    access_token: str
    scopes: list[str]
    expires_at: dt.datetime


@dataclass
class TokenResponse:
    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]]
    issued: Issued | None = field(default=None)


class _ClientCredentialsGrant(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class TokenServer(AuthorizationServer):
    """One token request against one (possibly unknown) client."""

    def __init__(self, client: ClientRecord | None, ttl_seconds: int, now: dt.datetime) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self._client = client
        self._ttl = ttl_seconds
        self._now = now
        self.issued: Issued | None = None
        self.register_grant(_ClientCredentialsGrant)
        self.register_token_generator("default", self._generate)

    def query_client(self, client_id: str) -> _Client | None:
        if self._client is not None and self._client.client_id == client_id:
            return _Client(self._client)
        return None

    def _generate(
        self,
        grant_type: str,
        client: _Client,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        granted = client.get_allowed_scope(scope)
        return {
            "token_type": "Bearer",
            "access_token": secrets.token_urlsafe(32),
            "expires_in": self._ttl,
            "scope": granted,
        }

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        self.issued = Issued(
            client=request.client.record,
            access_token=token["access_token"],
            scopes=scope_to_list(token["scope"]) or [],
            expires_at=self._now + dt.timedelta(seconds=self._ttl),
        )

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> TokenResponse:
        return TokenResponse(status, dict(body), list(headers), self.issued)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


class _FormRequest(OAuth2Request):
    """A token request whose parameters came in a form body."""

    def __init__(self, uri: str, headers: Mapping[str, str], form: dict[str, str]) -> None:
        super().__init__("POST", uri, headers=headers)
        self._form = form
        self.payload = BasicOAuth2Payload(form)

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}


def token_request(uri: str, headers: Mapping[str, str], form: dict[str, str]) -> OAuth2Request:
    """An authlib request; ``headers`` must be case-insensitive (HTTP semantics)."""
    return _FormRequest(uri, headers, form)


def client_id_of(headers: Mapping[str, str], form: dict[str, str]) -> str | None:
    """The client id from HTTP Basic credentials or the form (to load the client first)."""
    client_id, _ = extract_basic_authorization(headers)
    return client_id or form.get("client_id")
