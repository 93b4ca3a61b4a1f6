"""``/t/{slug}/prestataire/structure``: « Ma structure » — the provider's SIRET, agreements and sites.

Three small forms on one page, each posting to its own URL and coming back with a notice (303) or,
when refused, the page again with that form's inline errors (422) and what was typed; nothing is
stored on a refusal. Removing an agreement or a site is a one-button form (a site still serving an
offer answers 409 with the core's « Impossible : … »). Guarded by ``offers.manage``; the core
checks it again and keeps every change to the actor's own organisation.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import get, post
from litestar.datastructures import CacheControlHeader, FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from core.access.policy import Actor, Permission
from core.errors import Conflict, DomainError, FieldError, InvalidInput
from core.locale import paris_day
from core.marketplace.providers import (
    AGREEMENT_KINDS,
    AgreementInput,
    SiteInput,
    add_agreement,
    provider_profile,
    remove_agreement,
    remove_site,
    save_site,
    set_siret,
)
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import requires
from web.pages.forms import done, field_errors, form_text
from web.pages.nav import navigation

OFFERS = requires(Permission.OFFERS).opt()
NO_STORE = CacheControlHeader(no_store=True)
NOTICES = {
    "siret": "Le SIRET a été enregistré.",
    "agrement": "L'agrément a été ajouté : il apparaît sur la page publique de vos offres.",
    "agrement-retire": "L'agrément a été retiré.",
    "site": "Le site a été ajouté : indiquez sa zone dans chacune de vos offres.",
    "site-modifie": "Le site a été enregistré.",
    "site-retire": "Le site a été retiré.",
}
AGREEMENT_FIELDS = ("kind", "reference", "issuer", "valid_from", "valid_until")
SITE_FIELDS = ("name", "address", "commune", "phone")


def _url(tenant: TenantRecord, notice: str = "") -> str:
    return f"/t/{tenant.slug}/prestataire/structure" + (f"?fait={notice}" if notice else "")


def _texts(form: FormMultiDict, names: tuple[str, ...]) -> dict[str, str]:
    return {name: form_text(form, name).strip()[:300] for name in names}


async def _page(
    request: HTMXRequest,
    tenant: TenantRecord,
    actor: Actor,
    *,
    notice: str = "",
    form: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    """The page; ``form`` names the form whose ``values`` and ``errors`` are shown again."""
    runtime: Runtime = request.app.state.runtime
    context: dict[str, Any] = {
        "tenant": tenant,
        "profile": await provider_profile(actor),
        "kinds": AGREEMENT_KINDS,
        "today": paris_day(runtime.clock()),
        "notice": notice,
        "form": form,
        "values": values or {},
        "errors": errors or {},
        **await navigation(request, tenant),
    }
    return Template("provider/profile.html", context=context, status_code=status)


def _date(values: dict[str, str], name: str, errors: list[FieldError]) -> dt.date | None:
    text = values[name]
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors.append(FieldError(name, "date au format jj/mm/aaaa"))
        return None


def _refused(
    request: HTMXRequest,
    tenant: TenantRecord,
    actor: Actor,
    form: str,
    values: dict[str, str],
    error: DomainError,
) -> Any:
    return _page(
        request,
        tenant,
        actor,
        form=form,
        values=values,
        errors=field_errors(error),
        status=error.status,
    )


@get("/t/{slug:str}/prestataire/structure", opt=OFFERS, include_in_schema=False, cache_control=NO_STORE)
async def profile_page(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    fait: FromQuery[str | None] = None,
) -> Template:
    """« Ma structure »: SIRET, agreements and sites, each with its form."""
    return await _page(request, tenant, actor, notice=NOTICES.get(fait or "", ""))


@post(
    "/t/{slug:str}/prestataire/structure/siret",
    opt=OFFERS,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def siret_submit(
    request: HTMXRequest, tenant: NamedDependency[TenantRecord], actor: NamedDependency[Actor]
) -> Template | Redirect | ClientRedirect:
    values = _texts(await request.form(), ("siret",))
    try:
        await set_siret(actor, values["siret"])
    except InvalidInput as refused:
        return await _refused(request, tenant, actor, "siret", values, refused)
    return done(request, _url(tenant, "siret"))


@post(
    "/t/{slug:str}/prestataire/structure/agrements",
    opt=OFFERS,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def agreement_submit(
    request: HTMXRequest, tenant: NamedDependency[TenantRecord], actor: NamedDependency[Actor]
) -> Template | Redirect | ClientRedirect:
    values = _texts(await request.form(), AGREEMENT_FIELDS)
    errors: list[FieldError] = []
    valid_from, valid_until = _date(values, "valid_from", errors), _date(values, "valid_until", errors)
    try:
        if errors:
            raise InvalidInput("agrément invalide", errors)
        data = AgreementInput(values["kind"], values["reference"], values["issuer"], valid_from, valid_until)
        await add_agreement(actor, data)
    except (InvalidInput, Conflict) as refused:
        return await _refused(request, tenant, actor, "agreement", values, refused)
    return done(request, _url(tenant, "agrement"))


@post(
    "/t/{slug:str}/prestataire/structure/agrements/{agreement_id:uuid}/retirer",
    opt=OFFERS,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def agreement_remove(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    agreement_id: FromPath[uuid.UUID],
) -> Redirect | ClientRedirect:
    await remove_agreement(actor, agreement_id)
    return done(request, _url(tenant, "agrement-retire"))


@post(
    "/t/{slug:str}/prestataire/structure/sites",
    opt=OFFERS,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def site_submit(
    request: HTMXRequest, tenant: NamedDependency[TenantRecord], actor: NamedDependency[Actor]
) -> Template | Redirect | ClientRedirect:
    values = _texts(await request.form(), SITE_FIELDS)
    data = SiteInput(values["name"], values["commune"], values["address"], values["phone"])
    try:
        await save_site(actor, data, tenant.departements)
    except (InvalidInput, Conflict) as refused:
        return await _refused(request, tenant, actor, "site", values, refused)
    return done(request, _url(tenant, "site"))


@post(
    "/t/{slug:str}/prestataire/structure/sites/{site_id:uuid}",
    opt=OFFERS,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def site_update(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    site_id: FromPath[uuid.UUID],
) -> Template | Redirect | ClientRedirect:
    """Change a site's name, address, commune or phone (the page again with its errors when refused)."""
    values = _texts(await request.form(), SITE_FIELDS)
    data = SiteInput(values["name"], values["commune"], values["address"], values["phone"])
    try:
        await save_site(actor, data, tenant.departements, site_id)
    except InvalidInput as refused:
        return await _refused(request, tenant, actor, f"site-{site_id}", values, refused)
    return done(request, _url(tenant, "site-modifie"))


@post(
    "/t/{slug:str}/prestataire/structure/sites/{site_id:uuid}/retirer",
    opt=OFFERS,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def site_remove(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    site_id: FromPath[uuid.UUID],
) -> Template | Redirect | ClientRedirect:
    try:
        await remove_site(actor, site_id)
    except Conflict as refused:
        return await _refused(request, tenant, actor, "sites", {}, refused)
    return done(request, _url(tenant, "site-retire"))


PROVIDER_PROFILE_PAGES = [
    profile_page,
    siret_submit,
    agreement_submit,
    agreement_remove,
    site_submit,
    site_update,
    site_remove,
]
