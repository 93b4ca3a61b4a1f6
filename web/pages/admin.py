"""Territory administration: organisations of the directory and members (invitations, roles)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, URLEncodedBody
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from core.access.policy import Actor, Permission
from core.audit.trail import Actor as AuditActor
from core.audit.trail import Outcome, Record, record
from core.errors import Conflict, FieldError, InvalidInput, NotFound
from core.identity.directory import (
    create_organisation,
    create_professional,
    invite_member,
    list_memberships,
    list_organisations,
    list_professionals,
    revoke_membership,
)
from core.identity.roles import ORGANISATION_LABELS, ROLE_LABELS, Role
from core.tenancy.service import TenantRecord
from web.authz import requires
from web.pages.forms import done
from web.pages.nav import navigation

ADMIN = requires(Permission.TENANT_ADMIN).opt()


async def audit(
    tenant: TenantRecord, actor: Actor, action: str, target_kind: str, target_id: str, **detail: str
) -> None:
    """Every administrative change leaves a trace in the tenant's audit trail."""
    await record(
        tenant.id,
        Record(
            AuditActor("user", str(actor.user_id), str(actor.organisation_id or actor.role)),
            action,
            Outcome.SUCCESS,
            target_kind,
            target_id,
            detail,
        ),
    )


async def _context(request: Request[Any, Any, Any], tenant: TenantRecord, **extra: Any) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "role_labels": ROLE_LABELS,
        "kind_labels": ORGANISATION_LABELS,
        **await navigation(request, tenant),
        **extra,
    }


@get("/t/{slug:str}/admin/", opt=ADMIN, include_in_schema=False)
async def admin_home(
    request: Request[Any, Any, Any], tenant: NamedDependency[TenantRecord], actor: NamedDependency[Actor]
) -> Template:
    organisations = await list_organisations(tenant.id)
    memberships = await list_memberships(tenant.id)
    return Template(
        "admin/home.html",
        context=await _context(
            request, tenant, organisations=organisations, memberships=memberships, actor=actor
        ),
    )


async def _refused(
    request: HTMXRequest,
    tenant: TenantRecord,
    page: str,
    form: str,
    values: dict[str, str],
    errors: dict[str, str],
    **lists: Any,
) -> Template:
    """The form again with its inline errors (422): the fragment for htmx, the page otherwise."""
    return Template(
        form if request.htmx else page,
        context=await _context(request, tenant, errors=errors, values=values, **lists),
        status_code=422,
    )


def _field_errors(invalid: InvalidInput) -> dict[str, str]:
    return {error.field: error.message for error in invalid.errors}


@get("/t/{slug:str}/admin/organisations", opt=ADMIN, include_in_schema=False)
async def organisations_page(request: HTMXRequest, tenant: NamedDependency[TenantRecord]) -> Template:
    return Template(
        "admin/organisations.html",
        context=await _context(
            request, tenant, organisations=await list_organisations(tenant.id), errors={}, values={}
        ),
    )


@post("/t/{slug:str}/admin/organisations", opt=ADMIN, include_in_schema=False)
async def organisations_create(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    data: URLEncodedBody[dict[str, str]],
) -> Template | Redirect | ClientRedirect:
    values = {
        key: data.get(key, "")
        for key in ("kind", "name", "finess_ej", "finess_et", "siret", "commune_insee", "email")
    }
    try:
        created = await create_organisation(tenant.id, **values)
    except InvalidInput as invalid:
        return await _refused(
            request,
            tenant,
            "admin/organisations.html",
            "admin/_organisation_form.html",
            values,
            _field_errors(invalid),
            organisations=await list_organisations(tenant.id),
        )
    await audit(tenant, actor, "organisation.create", "organisation", str(created.id), name=created.name)
    return done(request, f"/t/{tenant.slug}/admin/organisations")


PROFESSIONAL_FIELDS = ("profession", "family_name", "given_names", "rpps", "adeli", "email")


@get("/t/{slug:str}/admin/professionnels", opt=ADMIN, include_in_schema=False)
async def professionals_page(request: HTMXRequest, tenant: NamedDependency[TenantRecord]) -> Template:
    return Template(
        "admin/professionals.html",
        context=await _context(
            request, tenant, professionals=await list_professionals(tenant.id), errors={}, values={}
        ),
    )


@post("/t/{slug:str}/admin/professionnels", opt=ADMIN, include_in_schema=False)
async def professionals_create(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    data: URLEncodedBody[dict[str, str]],
) -> Template | Redirect | ClientRedirect:
    values = {key: data.get(key, "") for key in PROFESSIONAL_FIELDS}
    try:
        professional_id = await create_professional(
            tenant.id,
            profession=values["profession"],
            family_name=values["family_name"],
            given_names=values["given_names"],
            rpps=values["rpps"],
            adeli=values["adeli"],
            email=values["email"],
        )
    except InvalidInput as invalid:
        return await _refused(
            request,
            tenant,
            "admin/professionals.html",
            "admin/_professional_form.html",
            values,
            _field_errors(invalid),
            professionals=await list_professionals(tenant.id),
        )
    await audit(tenant, actor, "professional.create", "professional", str(professional_id))
    return done(request, f"/t/{tenant.slug}/admin/professionnels")


@get("/t/{slug:str}/admin/membres", opt=ADMIN, include_in_schema=False)
async def members_page(request: HTMXRequest, tenant: NamedDependency[TenantRecord]) -> Template:
    return Template(
        "admin/members.html",
        context=await _context(
            request,
            tenant,
            memberships=await list_memberships(tenant.id),
            organisations=await list_organisations(tenant.id),
            errors={},
            values={},
        ),
    )


@post("/t/{slug:str}/admin/membres", opt=ADMIN, include_in_schema=False)
async def members_invite(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    data: URLEncodedBody[dict[str, str]],
) -> Template | Redirect | ClientRedirect:
    values = {key: data.get(key, "") for key in ("email", "role", "organisation_id")}
    errors: dict[str, str] = {}
    organisation_id: uuid.UUID | None = None
    try:
        if values["organisation_id"]:
            organisation_id = uuid.UUID(values["organisation_id"])
        if values["role"] == Role.TERRITORY_ADMIN and actor.role is not Role.TERRITORY_ADMIN:
            raise InvalidInput(
                "rôle réservé",
                [FieldError("role", "seul un administrateur du territoire peut en nommer un autre")],
            )
        invited = await invite_member(
            tenant.id, values["email"], values["role"], organisation_id, str(actor.user_id)
        )
    except ValueError:
        errors["organisation_id"] = "organisation inconnue"
    except InvalidInput as invalid:
        errors = _field_errors(invalid)
    except Conflict as conflict:
        errors["email"] = conflict.detail
    if errors:
        return await _refused(
            request,
            tenant,
            "admin/members.html",
            "admin/_member_form.html",
            values,
            errors,
            memberships=await list_memberships(tenant.id),
            organisations=await list_organisations(tenant.id),
        )
    await audit(tenant, actor, "membership.invite", "membership", str(invited.id), role=invited.role.value)
    return done(request, f"/t/{tenant.slug}/admin/membres")


@post("/t/{slug:str}/admin/membres/{membership_id:uuid}/retirer", opt=ADMIN, include_in_schema=False)
async def members_revoke(
    request: HTMXRequest,
    membership_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
) -> Redirect | ClientRedirect:
    target = next((m for m in await list_memberships(tenant.id) if m.id == membership_id), None)
    if target is None:
        raise NotFound("rôle introuvable")
    if target.role is Role.TERRITORY_ADMIN and actor.role is not Role.TERRITORY_ADMIN:
        raise PermissionDeniedException(detail="seul un administrateur du territoire peut retirer ce rôle")
    await revoke_membership(tenant.id, membership_id)
    await audit(tenant, actor, "membership.revoke", "membership", str(membership_id))
    return done(request, f"/t/{tenant.slug}/admin/membres")
