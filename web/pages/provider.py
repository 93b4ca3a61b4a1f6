"""« Mes offres »: the provider console, where a provider's staff describe, publish and pause offers.

Every rule is the core's (``core.marketplace.offers``): these handlers read forms, call one
service and render. Forms answer htmx with the form alone (inline errors, 422) and plain
browsers with the whole page; a success sends both to the list (``forms.done``) with a notice.
The « Publier » / « Mettre en pause » buttons answer htmx with the list alone. Another
organisation's offer is « introuvable » (404). Responses carry ``Cache-Control: no-store``.

« Importer des offres » uploads a CSV or an HSDS 3.0 package of the organisation's offers
(``core.marketplace.exchange``: all or nothing); the page shows the report, every refused line or
JSON path inline (422). Territory admins import HSDS packages for any provider of the territory
at ``/t/{slug}/admin/offres/import``.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import get, post
from litestar.datastructures import CacheControlHeader, FormMultiDict, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from core.access.policy import Actor, Permission
from core.errors import Conflict, FieldError, InvalidInput
from core.marketplace.csv_import import ALIASES, COLUMNS, REQUIRED
from core.marketplace.exchange import (
    MAX_IMPORT_BYTES,
    ImportReport,
    detect_format,
    file_problem,
    import_offers,
    importer_for,
)
from core.marketplace.offers import (
    STATUS_LABELS,
    Offer,
    OfferInput,
    create_offer,
    get_offer,
    list_offers,
    set_status,
    split_codes,
    update_offer,
)
from core.marketplace.providers import MAX_SITES, provider_profile
from core.marketplace.search import UNIT_LABELS
from core.marketplace.taxonomy import taxonomy
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import requires
from web.money import format_euros, parse_euros
from web.pages.forms import done, field_errors, form_text, is_fragment
from web.pages.nav import navigation

OFFERS = requires(Permission.OFFERS).opt()
ADMIN = requires(Permission.TENANT_ADMIN).opt()
NO_STORE = CacheControlHeader(no_store=True)
FORM_ID = "offer-form"
LIST_ID = "offer-list"
FIELDS = (
    "service_type",
    "title",
    "description",
    "price",
    "price_unit",
    "capacity_per_week",
    "lead_time_days",
    "opening_hours",
    "accepted_programmes",
    "languages",
    "accessibility",
    "coverage",
)
NOTICES = {
    "creee": "L'offre a été créée en brouillon : publiez-la pour qu'elle apparaisse dans la recherche.",
    "modifiee": "L'offre a été enregistrée.",
    "published": "L'offre est publiée : elle apparaît dans la recherche des services.",
    "paused": "L'offre est en pause : elle n'apparaît plus dans la recherche.",
}
MOVE_BUTTONS = {"published": "Publier", "paused": "Mettre en pause"}
IMPORT_ID = "offer-import"
IMPORT_FIELD = "fichier"
IMPORT_BODY_LIMIT = MAX_IMPORT_BYTES + 256 * 1024


def _list_url(tenant: TenantRecord, notice: str = "") -> str:
    return f"/t/{tenant.slug}/prestataire" + (f"?fait={notice}" if notice else "")


def _whole_number(values: dict[str, str], name: str, message: str, errors: list[FieldError]) -> int | None:
    text = values[name].strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 6:
        errors.append(FieldError(name, message))
        return None
    return int(text)


SITE_FIELD = "coverage_site_"
"""Prefix of the coverage field of one of the provider's sites (then the site's id)."""


def _site_coverage(values: dict[str, str]) -> tuple[tuple[uuid.UUID, tuple[str, ...]], ...]:
    found = []
    for name, text in values.items():
        if name.startswith(SITE_FIELD):
            try:
                found.append((uuid.UUID(name.removeprefix(SITE_FIELD)), split_codes(text)))
            except ValueError:
                continue
    return tuple(found)


def parse_offer_form(values: dict[str, str]) -> OfferInput:
    """The form's strings as an :class:`OfferInput`, checked; :class:`InvalidInput` naming every
    wrong field (the page's own ones — price, numbers — and the core's)."""
    errors: list[FieldError] = []
    price_cents = None
    try:
        price_cents = parse_euros(values["price"])
    except InvalidInput:
        errors.append(FieldError("price", "prix en euros, par exemple 25,50 (deux décimales au plus)"))
    capacity = _whole_number(values, "capacity_per_week", "un nombre entier, ou rien", errors)
    lead = _whole_number(values, "lead_time_days", "un nombre de jours, de 0 à 90", errors)
    data = OfferInput(
        service_type=values["service_type"],
        title=values["title"],
        description=values["description"],
        price_cents=price_cents,
        price_unit=values["price_unit"] or None,
        capacity_per_week=capacity,
        lead_time_days=lead or 0,
        opening_hours=values["opening_hours"],
        accepted_programmes=split_codes(values["accepted_programmes"]),
        languages=split_codes(values["languages"]),
        accessibility=values["accessibility"],
        coverage=split_codes(values["coverage"]),
        site_coverage=_site_coverage(values),
    )
    try:
        data = data.checked()
    except InvalidInput as refused:
        errors += [e for e in refused.errors if e.field not in {f.field for f in errors}]
    if errors:
        raise InvalidInput("offre invalide", errors)
    return data


def _values(offer: Offer | None) -> dict[str, str]:
    """The form's strings for an existing offer (empty for a new one: French by default)."""
    if offer is None:
        return {name: "" for name in FIELDS} | {"lead_time_days": "0", "languages": "fr"}
    return {
        "service_type": offer.service_type,
        "title": offer.title,
        "description": offer.description,
        "price": format_euros(offer.price_cents),
        "price_unit": offer.price_unit or "",
        "capacity_per_week": "" if offer.capacity_per_week is None else str(offer.capacity_per_week),
        "lead_time_days": str(offer.lead_time_days),
        "opening_hours": offer.opening_hours,
        "accepted_programmes": ", ".join(offer.accepted_programmes),
        "languages": ", ".join(offer.languages),
        "accessibility": offer.accessibility,
        "coverage": ", ".join(offer.coverage),
    } | {f"{SITE_FIELD}{site.site_id}": ", ".join(site.codes) for site in offer.sites}


async def _form_page(
    request: HTMXRequest,
    tenant: TenantRecord,
    actor: Actor,
    offer: Offer | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
) -> Template:
    """The offer's form (new when ``offer`` is None): the form alone for htmx, 422 with errors.
    One coverage field per site of the provider, beside the provider's own."""
    action = f"/t/{tenant.slug}/prestataire/offres/" + (str(offer.id) if offer else "nouvelle")
    sites = (await provider_profile(actor)).sites
    shown = {f"{SITE_FIELD}{site.id}" for site in sites}
    for name in [name for name in errors or {} if name.startswith(SITE_FIELD) and name not in shown]:
        # a site the form does not show (removed meanwhile, or made up): said beside the coverage
        errors = {**(errors or {}), "coverage": (errors or {})[name]}
    context: dict[str, Any] = {
        "sites": sites,
        "site_field": SITE_FIELD,
        "tenant": tenant,
        "offer": offer,
        "action": action,
        "values": values,
        "errors": errors or {},
        "form_id": FORM_ID,
        "service_types": [(item.code, item.label) for item in taxonomy().values()],
        "units": list(UNIT_LABELS.items()),
        "back": _list_url(tenant),
    }
    status = 422 if errors else 200
    if is_fragment(request) and request.htmx.target == FORM_ID:
        nav = await navigation(request, tenant)
        return Template("provider/_form.html", context={**context, "csrf": nav["csrf"]}, status_code=status)
    return Template(
        "provider/form.html", context={**context, **await navigation(request, tenant)}, status_code=status
    )


async def _list_page(
    request: HTMXRequest,
    tenant: TenantRecord,
    actor: Actor,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> Template:
    context: dict[str, Any] = {
        "tenant": tenant,
        "offers": await list_offers(actor),
        "notice": notice,
        "error": error,
        "list_id": LIST_ID,
        "status_labels": STATUS_LABELS,
        "move_buttons": MOVE_BUTTONS,
        "units": UNIT_LABELS,
        **await navigation(request, tenant),
    }
    if is_fragment(request) and request.htmx.target == LIST_ID:
        return Template("provider/_list.html", context=context, status_code=status)
    return Template("provider/index.html", context=context, status_code=status)


def _form_values(form: FormMultiDict) -> dict[str, str]:
    sites = [name for name in form if name.startswith(SITE_FIELD)][:MAX_SITES]
    return {name: form_text(form, name)[:5000] for name in (*FIELDS, *sites)}


@get("/t/{slug:str}/prestataire", opt=OFFERS, include_in_schema=False, cache_control=NO_STORE)
async def offers_page(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    fait: FromQuery[str | None] = None,
) -> Template:
    """« Mes offres »: the organisation's offers with their status, coverage and moves."""
    return await _list_page(request, tenant, actor, notice=NOTICES.get(fait or "", ""))


@get("/t/{slug:str}/prestataire/offres/nouvelle", opt=OFFERS, include_in_schema=False, cache_control=NO_STORE)
async def new_offer_page(
    request: HTMXRequest, tenant: NamedDependency[TenantRecord], actor: NamedDependency[Actor]
) -> Template:
    """The empty form of a new offer."""
    return await _form_page(request, tenant, actor, None, _values(None))


@post(
    "/t/{slug:str}/prestataire/offres/nouvelle",
    opt=OFFERS,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def new_offer_submit(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Create the offer as a draft; the form again with inline errors (422) when refused."""
    values = _form_values(await request.form())
    try:
        await create_offer(runtime, actor, parse_offer_form(values))
    except InvalidInput as refused:
        return await _form_page(request, tenant, actor, None, values, field_errors(refused))
    return done(request, _list_url(tenant, "creee"))


@get(
    "/t/{slug:str}/prestataire/offres/{offer_id:uuid}",
    opt=OFFERS,
    include_in_schema=False,
    cache_control=NO_STORE,
)
async def edit_offer_page(
    request: HTMXRequest,
    offer_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
) -> Template:
    """The form of one of the organisation's offers (404 for anyone else's)."""
    offer = await get_offer(actor, offer_id)
    return await _form_page(request, tenant, actor, offer, _values(offer))


@post(
    "/t/{slug:str}/prestataire/offres/{offer_id:uuid}",
    opt=OFFERS,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def edit_offer_submit(
    request: HTMXRequest,
    offer_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Save the offer (its status is kept: a published offer changes in the search at once)."""
    offer = await get_offer(actor, offer_id)
    values = _form_values(await request.form())
    try:
        await update_offer(runtime, actor, offer_id, parse_offer_form(values))
    except InvalidInput as refused:
        return await _form_page(request, tenant, actor, offer, values, field_errors(refused))
    return done(request, _list_url(tenant, "modifiee"))


@post(
    "/t/{slug:str}/prestataire/offres/{offer_id:uuid}/statut",
    opt=OFFERS,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def offer_status_submit(
    request: HTMXRequest,
    offer_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Publish or pause; htmx gets the list again, a plain browser a 303 to it (409 when refused)."""
    status = form_text(await request.form(), "status")
    try:
        await set_status(runtime, actor, offer_id, status)
    except (Conflict, InvalidInput) as refused:
        return await _list_page(request, tenant, actor, error=refused.detail, status=refused.status)
    if is_fragment(request) and request.htmx.target == LIST_ID:
        return await _list_page(request, tenant, actor, notice=NOTICES[status])
    return done(request, _list_url(tenant, status))


def _import_url(tenant: TenantRecord, admin: bool) -> str:
    return f"/t/{tenant.slug}/admin/offres/import" if admin else f"/t/{tenant.slug}/prestataire/import"


async def _import_page(
    request: HTMXRequest,
    tenant: TenantRecord,
    *,
    admin: bool,
    report: ImportReport | None = None,
) -> Template:
    """The import form, with the report of the last upload (422 when it was refused)."""
    aliases: dict[str, list[str]] = {}
    for alias, column in ALIASES.items():
        aliases.setdefault(column, []).append(alias)
    context: dict[str, Any] = {
        "tenant": tenant,
        "admin": admin,
        "action": _import_url(tenant, admin),
        "back": f"/t/{tenant.slug}/admin/" if admin else _list_url(tenant),
        "report": report,
        "import_id": IMPORT_ID,
        "field": IMPORT_FIELD,
        "limit_mb": MAX_IMPORT_BYTES // (1024 * 1024),
        "columns": [(name, aliases.get(name, []), name in REQUIRED) for name in COLUMNS],
        "units": list(UNIT_LABELS.items()),
        "service_types": [(item.code, item.label) for item in taxonomy().values()],
        **await navigation(request, tenant),
    }
    status = 422 if report is not None and not report.ok else 200
    if is_fragment(request) and request.htmx.target == IMPORT_ID:
        return Template("provider/_import.html", context=context, status_code=status)
    return Template("provider/import.html", context=context, status_code=status)


async def _uploaded(request: HTMXRequest) -> bytes | None:
    """The uploaded file's bytes (at most one byte past the limit); None when no file was sent."""
    upload = (await request.form()).get(IMPORT_FIELD)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    try:
        return await upload.read(MAX_IMPORT_BYTES + 1)
    finally:
        await upload.close()


async def _run_import(
    request: HTMXRequest, tenant: TenantRecord, actor: Actor, runtime: Runtime, *, admin: bool
) -> Template:
    importer = importer_for(actor, any_provider=admin)
    data = await _uploaded(request)
    if data is None:
        report = ImportReport("csv").refuse([file_problem("choisissez un fichier CSV ou JSON (HSDS)")])
    elif admin and detect_format(data) != "hsds":
        report = ImportReport("csv").refuse(
            [
                file_problem(
                    "ici, seuls les paquets HSDS 3.0 (JSON) s'importent : un fichier CSV décrit les offres "
                    "d'une seule structure, que son personnel importe depuis « Mes offres »"
                )
            ]
        )
    else:
        report = await import_offers(runtime, importer, data)
    return await _import_page(request, tenant, admin=admin, report=report)


@get("/t/{slug:str}/prestataire/import", opt=OFFERS, include_in_schema=False, cache_control=NO_STORE)
async def import_page(request: HTMXRequest, tenant: NamedDependency[TenantRecord]) -> Template:
    """« Importer des offres »: a CSV or an HSDS 3.0 package of the organisation's offers."""
    return await _import_page(request, tenant, admin=False)


@post(
    "/t/{slug:str}/prestataire/import",
    opt=OFFERS,
    request_max_body_size=IMPORT_BODY_LIMIT,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def import_submit(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template:
    """Import the uploaded file: the report, or every refused line (422, nothing written)."""
    return await _run_import(request, tenant, actor, runtime, admin=False)


@get("/t/{slug:str}/admin/offres/import", opt=ADMIN, include_in_schema=False, cache_control=NO_STORE)
async def admin_import_page(request: HTMXRequest, tenant: NamedDependency[TenantRecord]) -> Template:
    """A territory admin's import of an HSDS 3.0 package, for any provider of the territory."""
    return await _import_page(request, tenant, admin=True)


@post(
    "/t/{slug:str}/admin/offres/import",
    opt=ADMIN,
    request_max_body_size=IMPORT_BODY_LIMIT,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def admin_import_submit(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template:
    """Import the uploaded HSDS package (its organisations must be providers of the territory)."""
    return await _run_import(request, tenant, actor, runtime, admin=True)


PROVIDER_PAGES: list[Any] = [
    offers_page,
    new_offer_page,
    new_offer_submit,
    edit_offer_page,
    edit_offer_submit,
    offer_status_submit,
    import_page,
    import_submit,
    admin_import_page,
    admin_import_submit,
]
