"""Login through the tenant's identity providers, choosing a role, logout, my profile."""

from __future__ import annotations

import hmac
import uuid
from typing import Any, cast
from urllib.parse import quote

import httpx
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from core.access.policy import Actor, Permission
from core.audit.trail import Actor as AuditActor
from core.audit.trail import Outcome, Record, record
from core.config import Environment
from core.errors import NotFound
from core.identity.accounts import choose_membership, close_session, open_session, upsert_account
from core.identity.directory import active_membership, memberships_at_login
from core.identity.oidc_client import (
    LOGIN_TTL,
    LoginFailed,
    Provider,
    Transport,
    TransportFor,
    begin_login,
    complete_login,
    list_providers,
)
from core.identity.roles import ROLE_LABELS
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import AUTHENTICATED, PUBLIC, SESSION_COOKIE, current_session, requires
from web.pages.nav import navigation

_ASGIApp = Any
LOGIN_STATE_COOKIE = "parcours_login_state"


def callback_url(runtime: Runtime, tenant: TenantRecord) -> str:
    return f"{runtime.settings.base_url}/t/{tenant.slug}/auth/callback"


def transports(request: Request[Any, Any, Any], runtime: Runtime) -> TransportFor:
    """The built-in IdP is this very app: reach it in-process; any other IdP over the network."""
    builtin = runtime.settings.base_url + "/idp"

    def transport_for(provider: Provider) -> Transport:
        if provider.issuer == builtin:
            return httpx.ASGITransport(app=cast(_ASGIApp, request.app))
        return None

    return transport_for


def safe_next(tenant: TenantRecord, next_path: str | None) -> str:
    """Only a path inside this tenant (no open redirect)."""
    home = f"/t/{tenant.slug}/"
    if next_path and next_path.startswith(home) and "//" not in next_path and "\\" not in next_path:
        return next_path
    return home + "moi"


@get("/t/{slug:str}/login", opt=PUBLIC.opt(), include_in_schema=False)
async def login_page(
    request: Request[Any, Any, Any],
    tenant: NamedDependency[TenantRecord],
    runtime: NamedDependency[Runtime],
    next: FromQuery[str | None] = None,
) -> Template:
    providers = await list_providers(tenant.id, runtime.keyring)
    return Template(
        "auth/login.html",
        context={
            "tenant": tenant,
            "providers": providers,
            "next": safe_next(tenant, next),
            **await navigation(request, tenant),
        },
    )


@get("/t/{slug:str}/login/{key:str}", opt=PUBLIC.opt(), include_in_schema=False)
async def start_login(
    request: Request[Any, Any, Any],
    key: FromPath[str],
    tenant: NamedDependency[TenantRecord],
    runtime: NamedDependency[Runtime],
    next: FromQuery[str | None] = None,
) -> Redirect:
    providers = await list_providers(tenant.id, runtime.keyring)
    provider = provider_with_key(providers, key)
    if provider is None:
        raise NotFound("fournisseur d'identité inconnu pour ce territoire")
    url, state = await begin_login(
        tenant.id,
        provider,
        transports(request, runtime)(provider),
        callback_url(runtime, tenant),
        safe_next(tenant, next),
    )
    response = Redirect(url, status_code=303)
    response.set_cookie(
        LOGIN_STATE_COOKIE,
        state,
        path=f"/t/{tenant.slug}/auth/callback",
        httponly=True,
        secure=runtime.settings.env is Environment.PRODUCTION,
        samesite="lax",
        max_age=int(LOGIN_TTL.total_seconds()),
    )
    return response


def provider_with_key(providers: list[Provider], key: str) -> Provider | None:
    return next((provider for provider in providers if provider.key == key), None)


@get("/t/{slug:str}/auth/callback", opt=PUBLIC.opt(), include_in_schema=False)
async def login_callback(
    request: Request[Any, Any, Any],
    tenant: NamedDependency[TenantRecord],
    runtime: NamedDependency[Runtime],
    code: FromQuery[str | None] = None,
    error: FromQuery[str | None] = None,
) -> Response[Any]:
    state = request.query_params.get("state")  # ``state`` is reserved as a handler parameter
    started_here = request.cookies.get(LOGIN_STATE_COOKIE, "")
    providers = await list_providers(tenant.id, runtime.keyring)
    try:
        if error or not code or not state:
            raise LoginFailed(f"connexion refusée par le fournisseur d'identité ({error or 'sans code'})")
        if not hmac.compare_digest(state, started_here):
            raise LoginFailed(
                "cette connexion n'a pas été commencée dans ce navigateur : recommencez "
                "depuis la page de connexion"
            )
        identity, return_to = await complete_login(
            tenant.id, providers, transports(request, runtime), callback_url(runtime, tenant), state, code
        )
    except LoginFailed as failure:
        await record(
            tenant.id,
            Record(AuditActor.anonymous(), "login", Outcome.FAILURE, detail={"reason": failure.detail}),
        )
        return Template(
            "auth/login_failed.html",
            context={"tenant": tenant, "reason": failure.detail, **await navigation(request, tenant)},
            status_code=401,
        )
    account = await upsert_account(identity.issuer, identity.subject, identity.email, identity.display_name)
    memberships = await memberships_at_login(tenant.id, account)
    actor = AuditActor("user", str(account.id))
    if not memberships and not account.is_platform_admin:
        await record(tenant.id, Record(actor, "login", Outcome.DENIED, detail={"reason": "aucun rôle"}))
        return Template(
            "auth/no_role.html",
            context={**await navigation(request, tenant), "tenant": tenant, "account": account},
            status_code=403,
        )
    await record(tenant.id, Record(actor, "login", Outcome.SUCCESS, detail={"issuer": identity.issuer}))
    token, session_id = await open_session(account, runtime.settings.session_max_hours)
    if len(memberships) == 1:
        await choose_membership(session_id, tenant.id, memberships[0].id)
        target = return_to
    else:
        target = f"/t/{tenant.slug}/compte/choisir?next={quote(return_to)}"
    response: Response[Any] = Redirect(target, status_code=303)
    _set_session_cookie(response, runtime, token)
    response.delete_cookie(LOGIN_STATE_COOKIE, path=f"/t/{tenant.slug}/auth/callback")
    return response


def _set_session_cookie(response: Response[Any], runtime: Runtime, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/",
        httponly=True,
        secure=runtime.settings.env is Environment.PRODUCTION,
        samesite="lax",
        max_age=runtime.settings.session_max_hours * 3600,
    )


@get("/t/{slug:str}/compte/choisir", opt=AUTHENTICATED.opt(), include_in_schema=False)
async def choose_page(
    request: Request[Any, Any, Any], tenant: NamedDependency[TenantRecord], next: FromQuery[str | None] = None
) -> Template:
    session = await current_session(request)
    assert session is not None
    memberships = await memberships_at_login(tenant.id, session.account)
    return Template(
        "auth/choose.html",
        context={
            "tenant": tenant,
            "memberships": memberships,
            "labels": ROLE_LABELS,
            "next": safe_next(tenant, next),
            **await navigation(request, tenant),
        },
    )


@post("/t/{slug:str}/compte/choisir", opt=AUTHENTICATED.opt(), include_in_schema=False)
async def choose_submit(
    request: Request[Any, Any, Any],
    tenant: NamedDependency[TenantRecord],
    data: URLEncodedBody[dict[str, str]],
) -> Redirect:
    session = await current_session(request)
    assert session is not None
    try:
        membership_id = uuid.UUID(data.get("membership_id", ""))
    except ValueError as error:
        raise NotFound("rôle introuvable") from error
    membership = await active_membership(tenant.id, session.account.id, membership_id)
    if membership is None:
        raise NotFound("rôle introuvable")
    await choose_membership(session.id, tenant.id, membership.id)
    return Redirect(safe_next(tenant, data.get("next")), status_code=303)


@post("/t/{slug:str}/logout", opt=AUTHENTICATED.opt(), include_in_schema=False)
async def logout(request: Request[Any, Any, Any], tenant: NamedDependency[TenantRecord]) -> Response[Any]:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await close_session(token)
    response: Response[Any] = Redirect(f"/t/{tenant.slug}/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@get("/t/{slug:str}/moi", opt=requires(Permission.WORKSPACE).opt(), include_in_schema=False)
async def my_profile(
    request: Request[Any, Any, Any], tenant: NamedDependency[TenantRecord], actor: NamedDependency[Actor]
) -> Template:
    session = await current_session(request)
    assert session is not None
    memberships = await memberships_at_login(tenant.id, session.account)
    return Template(
        "auth/profile.html",
        context={
            "tenant": tenant,
            "actor": actor,
            "memberships": memberships,
            "labels": ROLE_LABELS,
            **await navigation(request, tenant),
        },
    )
