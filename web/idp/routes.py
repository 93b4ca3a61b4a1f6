"""The built-in OpenID Connect provider under ``/idp``: thin handlers.

The protocol lives in :mod:`core.identity.idp.server`; these handlers parse
the HTTP request, call it and render its outcome. Every route is public to
the platform's guard (``PUBLIC``): the provider authenticates its own
callers (a password on the login form, client credentials at ``/token``, a
bearer token at ``/userinfo``).

Failed logins are counted per username and client address in a Litestar
store: after :data:`MAX_FAILURES` failures within :data:`FAILURE_WINDOW`
seconds, that username is refused from that address until the window ends.
The platform's per-address limit on login paths (:mod:`web.ratelimit`)
applies on top.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

from litestar import HttpMethod, Request, Response, get, post, route
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from litestar.stores.base import Store

from core.identity.idp.server import (
    AuthorizeOutcome,
    IdpContext,
    begin_authorization,
    carried_parameters,
    complete_authorization,
    discovery_document,
    token_endpoint,
    userinfo_endpoint,
)
from core.identity.idp.service import normalise_username, public_jwks
from core.runtime import Runtime
from web.authz import PUBLIC
from web.security import CONTENT_SECURITY_POLICY

FORM = "application/x-www-form-urlencoded"
LOGIN_TITLE = "Connexion — fournisseur d'identité de démonstration"
LOGIN_FAILED = "Identifiant ou mot de passe incorrect."
LOGIN_THROTTLED = (
    "Trop de tentatives de connexion échouées pour cet identifiant. Réessayez dans un quart d'heure."
)
FAILURE_STORE = "idp_login_failures"
MAX_FAILURES = 5
FAILURE_WINDOW = 15 * 60
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}
_ORIGIN_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def idp_context(runtime: Runtime) -> IdpContext:
    """The provider's issuer is ``PARCOURS_BASE_URL`` + ``/idp``."""
    return IdpContext(
        issuer=runtime.settings.base_url.rstrip("/") + "/idp",
        keyring=runtime.keyring,
        now=runtime.clock(),
    )


@get("/idp/.well-known/openid-configuration", opt=PUBLIC.opt(), include_in_schema=False)
async def idp_discovery(runtime: NamedDependency[Runtime]) -> Response[dict[str, Any]]:
    """OpenID Provider metadata."""
    return Response(discovery_document(idp_context(runtime).issuer), headers=PUBLIC_CACHE)


@get("/idp/jwks", opt=PUBLIC.opt(), include_in_schema=False)
async def idp_jwks(runtime: NamedDependency[Runtime]) -> Response[dict[str, Any]]:
    """The public keys that sign ID tokens (a key is created on first use)."""
    return Response(await public_jwks(runtime.keyring, runtime.clock()), headers=PUBLIC_CACHE)


@get("/idp/authorize", opt=PUBLIC.opt(), include_in_schema=False)
async def idp_authorize(request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[Any]:
    """Validate the authorization request, then show the login form."""
    query = [(name, value) for name, value in request.query_params.multi_items() if isinstance(value, str)]
    outcome = await begin_authorization(idp_context(runtime), request.headers, query)
    return _answer(outcome, username=outcome.parameters.get("login_hint", ""))


@post("/idp/authorize", opt=PUBLIC.opt(), include_in_schema=False, status_code=200)
async def idp_login(request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[Any]:
    """Check the credentials; on success, redirect to the client with a code."""
    form = [(name, value) for name, value in (await request.form()).multi_items() if isinstance(value, str)]
    fields = dict(reversed(form))
    username, password = fields.get("username", ""), fields.get("password", "")
    context = idp_context(runtime)
    store = request.app.stores.get(FAILURE_STORE)
    key = _failure_key(username, request)
    if await _failures(store, key) >= MAX_FAILURES:
        outcome = await begin_authorization(context, request.headers, list(carried_parameters(form).items()))
        return _answer(outcome, username=username, error=LOGIN_THROTTLED, status=429)
    outcome = await complete_authorization(context, request.headers, form, username, password)
    if outcome.login_failed:
        await store.set(key, str(await _failures(store, key) + 1), expires_in=FAILURE_WINDOW)
        return _answer(outcome, username=username, error=LOGIN_FAILED)
    if outcome.kind == "redirect" and outcome.error is None:
        await store.delete(key)
    return _answer(outcome, username=username)


@post("/idp/token", opt=PUBLIC.opt(), include_in_schema=False, status_code=200)
async def idp_token(request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[Any]:
    """The authorization-code exchange (client authentication: HTTP Basic or form)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != FORM:
        return Response(
            {"error": "invalid_request", "error_description": f"The body must be {FORM}."},
            status_code=400,
            headers=NO_STORE,
        )
    form = [(name, value) for name, value in (await request.form()).multi_items() if isinstance(value, str)]
    result = await token_endpoint(idp_context(runtime), request.headers, form)
    return Response(result.body, status_code=result.status, headers=dict(result.headers))


@route(
    "/idp/userinfo",
    http_method=[HttpMethod.GET, HttpMethod.POST],
    opt=PUBLIC.opt(),
    include_in_schema=False,
    status_code=200,
)
async def idp_userinfo(request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> Response[Any]:
    """The claims of the bearer token's account."""
    result = await userinfo_endpoint(idp_context(runtime), request.headers)
    headers = dict(result.headers)
    headers.setdefault("Cache-Control", "no-store")
    return Response(result.body, status_code=result.status, headers=headers)


IDP_HANDLERS = [idp_discovery, idp_jwks, idp_authorize, idp_login, idp_token, idp_userinfo]
"""Registered by the app factory."""


def _answer(
    outcome: AuthorizeOutcome, *, username: str = "", error: str | None = None, status: int = 200
) -> Response[Any]:
    if outcome.kind == "redirect":
        assert outcome.location is not None
        return Redirect(outcome.location, status_code=303, headers=NO_STORE)
    if outcome.kind == "error":
        return Template(
            "idp/error.html",
            context={
                "title": "Demande de connexion refusée",
                "message": outcome.message,
                "error": outcome.error,
            },
            status_code=400,
            headers=NO_STORE,
        )
    return Template(
        "idp/login.html",
        context={
            "title": LOGIN_TITLE,
            "client_name": outcome.client_name,
            "parameters": outcome.parameters,
            "username": username,
            "error": error,
        },
        status_code=status,
        headers={**NO_STORE, "Content-Security-Policy": _login_csp(outcome.redirect_uri)},
    )


def _login_csp(redirect_uri: str | None) -> str:
    """The platform's policy, letting the login form's redirect reach the client.

    ``form-action`` also governs the redirect that follows a form submission,
    so the (validated, registered) redirect URI's origin is allowed too.
    """
    if not redirect_uri:
        return CONTENT_SECURITY_POLICY
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not _ORIGIN_HOST.match(parts.netloc):
        return CONTENT_SECURITY_POLICY
    origin = f"{parts.scheme}://{parts.netloc}"
    return CONTENT_SECURITY_POLICY.replace("form-action 'self'", f"form-action 'self' {origin}")


def _failure_key(username: str, request: Request[Any, Any, Any]) -> str:
    address = request.client.host if request.client else "unknown"
    who = f"{normalise_username(username)}\x00{address}".encode()
    return "idp-login:" + hashlib.sha256(who).hexdigest()


async def _failures(store: Store, key: str) -> int:
    value = await store.get(key)
    try:
        return int(value or 0)
    except ValueError:
        return 0
