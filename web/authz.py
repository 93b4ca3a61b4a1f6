"""One guard on every route: each handler declares its policy, anything undeclared is denied.

Policies, set with ``opt=policy(...)`` on a handler (or a router/controller):

- ``PUBLIC``: anyone (pages of the public site, health, the API description);
- ``api_scope(scope)``: a bearer token of the tenant in the path, with that scope;
- ``AUTHENTICATED``: a browser session, no role needed (choosing a role, logging out);
- ``requires(permission)``: a session whose chosen role in the path's tenant grants
  ``permission`` (decided by :func:`core.access.policy.decide`).

Unauthenticated page requests are redirected to the tenant's login page;
API requests get 401. Unsafe methods under a session must carry the
session's CSRF token (form field ``_csrf`` or header ``X-CSRF-Token``).
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection, Request
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from core.access.policy import Actor, Permission, decide
from core.access.service import authenticate_bearer
from core.errors import NotFound
from core.identity.accounts import Session, choose_membership, load_session
from core.identity.directory import active_membership, memberships_at_login
from core.runtime import Runtime
from core.tenancy.service import TenantRecord, get_tenant

SESSION_COOKIE = "parcours_session"
CSRF_FIELD = "_csrf"
CSRF_HEADER = "x-csrf-token"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Policy:
    kind: str
    """public, api, authenticated or permission."""
    scope: str | None = None
    permission: Permission | None = None

    def opt(self) -> dict[str, Any]:
        return {"policy": self}


PUBLIC = Policy("public")
AUTHENTICATED = Policy("authenticated")


def api_scope(scope: str) -> Policy:
    return Policy("api", scope=scope)


def requires(permission: Permission) -> Policy:
    return Policy("permission", permission=permission)


class LoginRequired(NotAuthorizedException):
    """No (live) session: pages redirect to the login page of ``slug``."""

    def __init__(self, slug: str | None, next_path: str) -> None:
        super().__init__(detail="connexion requise")
        self.slug = slug
        self.next_path = next_path


class CsrfRejected(PermissionDeniedException):
    def __init__(self) -> None:
        super().__init__(detail="jeton anti-rejeu (CSRF) absent ou invalide : rechargez la page")


def policy_of(handler: BaseRouteHandler) -> Policy | None:
    policy = handler.opt.get("policy")
    return policy if isinstance(policy, Policy) else None


def exempt_from_policy(path: str, methods: set[str] | frozenset[str]) -> bool:
    """Routes Litestar generates itself: the API description and OPTIONS answers (no content)."""
    return path == "/schema" or path.startswith("/schema/") or set(methods) == {"OPTIONS"}


async def _tenant(connection: ASGIConnection[Any, Any, Any, Any]) -> TenantRecord | None:
    slug = connection.path_params.get("slug")
    if slug is None:
        return None
    if "tenant" in connection.state:
        cached: TenantRecord | None = connection.state.tenant
        return cached
    tenant = await get_tenant(slug)
    connection.state.tenant = tenant
    return tenant


async def current_session(connection: ASGIConnection[Any, Any, Any, Any]) -> Session | None:
    if "session_record" in connection.state:
        cached: Session | None = connection.state.session_record
        return cached
    token = connection.cookies.get(SESSION_COOKIE)
    runtime: Runtime = connection.app.state.runtime
    session = await load_session(token, runtime.settings.session_idle_minutes) if token else None
    connection.state.session_record = session
    return session


class RoleChoiceRequired(PermissionDeniedException):
    """Several roles in this tenant and none chosen yet: pages send the user to choose one."""

    def __init__(self, slug: str, next_path: str) -> None:
        super().__init__(detail="choisissez votre rôle dans ce territoire")
        self.slug = slug
        self.next_path = next_path


async def actor_for(session: Session, tenant: TenantRecord | None, next_path: str = "/") -> Actor:
    """The session's user in ``tenant``. Entering a territory for the first time in a
    session picks the user's only role there (or asks which one): no new login needed."""
    membership = None
    if tenant is not None:
        chosen = session.current_memberships.get(str(tenant.id))
        if chosen:
            membership = await active_membership(tenant.id, session.account.id, uuid.UUID(chosen))
        if membership is None:
            available = await memberships_at_login(tenant.id, session.account)
            if len(available) > 1:
                raise RoleChoiceRequired(tenant.slug, next_path)
            if available:
                membership = available[0]
                await choose_membership(session.id, tenant.id, membership.id)
    return Actor(
        user_id=session.account.id,
        is_platform_admin=session.account.is_platform_admin,
        tenant_id=tenant.id if tenant else None,
        role=membership.role if membership else None,
        membership_id=membership.id if membership else None,
        organisation_id=membership.organisation_id if membership else None,
        person_id=membership.person_id if membership else None,
    )


async def _check_csrf(connection: ASGIConnection[Any, Any, Any, Any], session: Session) -> None:
    if not isinstance(connection, Request) or connection.method not in _UNSAFE:
        return
    sent = connection.headers.get(CSRF_HEADER)
    if (
        sent is None
        and isinstance(connection, Request)
        and "form" in connection.headers.get("content-type", "")
    ):
        value = (await connection.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if sent is None or not hmac.compare_digest(sent, session.csrf_token):
        raise CsrfRejected()


async def authorize(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The global guard."""
    policy = policy_of(handler)
    if policy is None:
        if exempt_from_policy(connection.url.path, getattr(handler, "http_methods", set())):
            return
        raise PermissionDeniedException(detail="aucune règle d'accès déclarée pour cette adresse")
    if policy.kind == "public":
        return
    tenant = await _tenant(connection)
    if tenant is None and "slug" in connection.path_params:
        raise NotFound(f"aucun territoire {connection.path_params['slug']!r}")
    if policy.kind == "api":
        await _authorize_api(connection, tenant, policy)
        return
    session = await current_session(connection)
    if session is None:
        raise LoginRequired(tenant.slug if tenant else None, connection.url.path)
    await _check_csrf(connection, session)
    if policy.kind == "authenticated":
        return
    assert policy.permission is not None
    actor = await actor_for(session, tenant, connection.url.path)
    connection.state.actor = actor
    decision = decide(actor, policy.permission, tenant.id if tenant else None)
    if not decision.allowed:
        raise PermissionDeniedException(detail=decision.reason)


async def _authorize_api(
    connection: ASGIConnection[Any, Any, Any, Any], tenant: TenantRecord | None, policy: Policy
) -> None:
    if tenant is None:
        raise NotFound("territoire requis")
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException(
            detail="jeton d'accès (Bearer) manquant",
            headers={"WWW-Authenticate": 'Bearer realm="parcours", error="invalid_request"'},
        )
    principal = await authenticate_bearer(tenant.id, token.strip())
    if principal is None:
        raise NotAuthorizedException(
            detail="jeton d'accès invalide, expiré ou d'un autre territoire",
            headers={"WWW-Authenticate": 'Bearer realm="parcours", error="invalid_token"'},
        )
    if policy.scope not in principal.scopes:
        raise PermissionDeniedException(detail=f"portée {policy.scope!r} requise")
    connection.state.principal = principal
