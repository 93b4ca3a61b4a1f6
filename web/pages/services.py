"""``/t/{slug}/services``: the public search of the marketplace (no login, no personal data).

A GET form (shareable URLs, works without JavaScript); with htmx, typing or changing a filter
replaces only the results (``#service-results``) and pushes the URL. A bad filter (a commune that
is not an INSEE code…) answers 422 with the message beside the field, never a 500; with htmx the
fields' messages are swapped out of band and ``services-search.js`` marks the fields invalid.

``/t/{slug}/services/offres/{id}``: the public page of one published offer (404 for any other).
Result cards link to it with ``?retour=`` (the search's query string); the page rebuilds the
« Retour aux résultats » link from the known search parameters only, always under this
territory's search path, so ``retour`` can never send anyone elsewhere.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlencode

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from core.access.policy import Actor, Permission, decide
from core.errors import FieldError, InvalidInput, NotFound
from core.geo import communes
from core.locale import paris_day
from core.marketplace.public import PublicOffer, coverage_text, public_offer
from core.marketplace.search import SORTS, SearchResults, search_offers
from core.marketplace.taxonomy import taxonomy
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import PUBLIC, RoleChoiceRequired, actor_for, current_session
from web.pages.nav import navigation

RESULTS_ID = "service-results"
MAX_RETURN_CHARS = 600
"""Longest ``retour`` read: the search's own query string is far shorter."""
WITHIN_CHOICES = (
    ("0", "Dès aujourd'hui"),
    ("2", "Sous 2 jours"),
    ("7", "Sous une semaine"),
    ("15", "Sous 15 jours"),
    ("30", "Sous un mois"),
)
"""« Disponible »: lead times offered in the form (any number of days works in the URL)."""
FIELD_MESSAGES = ("commune", "type", "programme", "prix_min", "prix_max", "delai", "tri")
"""Fields whose message (hint or error) an htmx answer swaps out of band."""


@dataclass(frozen=True)
class ServiceQuery:
    """The search as typed (strings, for the form) and as searched (checked values)."""

    q: str = ""
    commune: str = ""
    service_type: str = ""
    programme: str = ""
    max_price: str = ""
    page: int = 1
    min_price: str = ""
    within: str = ""
    """« Disponible sous N jours » (the offer's lead time)."""
    sort: str = ""

    def params(self, **changes: Any) -> str:
        """The query string of this search with ``changes`` (empty values left out)."""
        values = {
            "q": self.q,
            "commune": self.commune,
            "type": self.service_type,
            "programme": self.programme,
            "prix_min": self.min_price,
            "prix_max": self.max_price,
            "delai": self.within,
            "tri": self.sort,
            "page": self.page,
        }
        values.update(changes)
        kept = {k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)}
        return "?" + urlencode(kept) if kept else ""

    def return_param(self) -> str:
        """``?retour=…`` for a link to an offer, so its page can link back to these results."""
        params = self.params()
        return "?" + urlencode({"retour": params[1:]}) if params else ""

    def search_arguments(self, departements: tuple[str, ...] = ()) -> dict[str, Any]:
        """Keyword arguments of :func:`search_offers`; raises :class:`InvalidInput` naming every
        wrong field. The commune may be typed as a name (« Dax », « St-Paul-lès-Dax (40) ») or an
        INSEE code; homonyms are told apart by the territory's ``departements``."""
        errors: list[FieldError] = []
        commune = None
        if self.commune:
            try:
                commune = communes.resolve(self.commune, departements).code
            except InvalidInput as refused:
                errors.extend(refused.errors)
        prices = {}
        for field, text in (("prix_min", self.min_price), ("prix_max", self.max_price)):
            if text and (not text.isdigit() or len(text) > 7):
                errors.append(FieldError(field, "prix en euros, un nombre entier"))
            elif text:
                prices[field] = int(text) * 100
        within = None
        if self.within and (not self.within.isdigit() or len(self.within) > 3):
            errors.append(FieldError("delai", "un nombre de jours"))
        elif self.within:
            within = int(self.within)
        if self.sort and self.sort not in SORTS:
            errors.append(FieldError("tri", "tri par pertinence, prix ou délai"))
        if errors:
            raise InvalidInput("recherche invalide", errors)
        return {
            "query": self.q,
            "commune": commune,
            "service_type": self.service_type or None,
            "programme": self.programme or None,
            "max_price_cents": prices.get("prix_max"),
            "min_price_cents": prices.get("prix_min"),
            "within_days": within,
            "sort": self.sort or "relevance",
            "page": self.page,
        }


def parse_query(
    q: str | None,
    commune: str | None,
    service_type: str | None,
    programme: str | None,
    max_price: str | None,
    page: str | None,
    min_price: str | None = None,
    within: str | None = None,
    sort: str | None = None,
) -> ServiceQuery:
    """Trim the raw parameters; a page that is not a number is page 1."""
    number = int(page) if page and page.isdigit() and len(page) <= 4 else 1
    return ServiceQuery(
        q=(q or "").strip()[:200],
        commune=(commune or "").strip()[:80],
        service_type=(service_type or "").strip()[:40],
        programme=(programme or "").strip()[:60],
        max_price=(max_price or "").strip()[:10],
        page=max(number, 1),
        min_price=(min_price or "").strip()[:10],
        within=(within or "").strip()[:4],
        sort=(sort or "").strip()[:12],
    )


def query_from_return(retour: str | None) -> ServiceQuery:
    """The search a ``retour`` query string names; anything else in it is ignored."""
    values = parse_qs((retour or "")[:MAX_RETURN_CHARS], max_num_fields=20)

    def first(name: str) -> str | None:
        found = values.get(name)
        return found[0] if found else None

    return parse_query(
        first("q"),
        first("commune"),
        first("type"),
        first("programme"),
        first("prix_max"),
        first("page"),
        first("prix_min"),
        first("delai"),
        first("tri"),
    )


async def run_search(tenant: TenantRecord, query: ServiceQuery) -> SearchResults:
    return await search_offers(tenant.id, **query.search_arguments(tenant.departements))


@get("/t/{slug:str}/services", opt=PUBLIC.opt(), include_in_schema=False)
async def services_page(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    q: FromQuery[str | None] = None,
    commune: FromQuery[str | None] = None,
    service_type: Annotated[str | None, QueryParameter(name="type")] = None,
    programme: FromQuery[str | None] = None,
    prix_max: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
    prix_min: FromQuery[str | None] = None,
    delai: FromQuery[str | None] = None,
    tri: FromQuery[str | None] = None,
) -> Template:
    """« Trouver un service »: the form and one page of results (the results alone for htmx)."""
    query = parse_query(q, commune, service_type, programme, prix_max, page, prix_min, delai, tri)
    results: SearchResults | None = None
    errors: dict[str, str] = {}
    try:
        results = await run_search(tenant, query)
    except InvalidInput as refused:
        errors = {error.field: error.message for error in refused.errors} or {"form": refused.detail}
    base = f"/t/{tenant.slug}/services"
    context: dict[str, Any] = {
        "tenant": tenant,
        "base": base,
        "query": query,
        "results": results,
        "errors": errors,
        "service_types": list(taxonomy().values()),
        "sorts": SORTS,
        "within_choices": WITHIN_CHOICES,
        "territory_communes": communes.of_departements(tenant.departements),
        "commune_label": communes.name_of(results.commune) if results and results.commune else "",
        "results_id": RESULTS_ID,
        "field_messages": FIELD_MESSAGES,
    }
    status = 422 if errors else 200
    if request.htmx and request.htmx.target == RESULTS_ID:
        # The fields' messages too, out of band: the form stays as typed, only its notes change.
        context["oob"] = True
        return Template("services/_results.html", context=context, status_code=status)
    context.update(await navigation(request, tenant))
    return Template("services/search.html", context=context, status_code=status)


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value and len(value) <= 36 else None
    except ValueError:
        return None


async def _viewer(request: HTMXRequest, tenant: TenantRecord) -> tuple[bool, Actor | None]:
    """Whether someone is signed in, and their role in this territory if they have one chosen
    (the page is public: nobody is sent to choose)."""
    session = await current_session(request)
    if session is None:
        return False, None
    try:
        return True, await actor_for(session, tenant, request.url.path)
    except RoleChoiceRequired:
        return True, None


def order_link(
    tenant: TenantRecord,
    offer_id: uuid.UUID,
    signed_in: bool,
    viewer: Actor | None,
    personne: str | None,
    action: str | None,
) -> dict[str, str]:
    """How this viewer may order: ``href`` of « Commander » (the order page, for the person named),
    ``portal`` for the person or a carer (their portal's order form, « Commander ce service »), or
    what to do first (sign in, choose a role, open the person's file); empty for someone whose role
    does not order (the order pages' own policies, asked of :func:`decide`)."""
    path = f"/t/{tenant.slug}/services/offres/{offer_id}"
    if not signed_in:
        return {"login": f"/t/{tenant.slug}/login?next={quote(path)}"}
    if viewer is None:
        return {"choose": f"/t/{tenant.slug}/compte/choisir?next={quote(path)}"}
    if decide(viewer, Permission.PORTAL, tenant.id).allowed:
        return {"portal": f"/t/{tenant.slug}/mon-dossier/commander/{offer_id}"}
    if not decide(viewer, Permission.PROPOSALS, tenant.id).allowed:
        return {}
    person_id = _uuid(personne)
    if person_id is None:
        hint = "Pour commander, ouvrez cette offre depuis le dossier ou les actions de la personne."
        people = decide(viewer, Permission.PERSON_FILES, tenant.id).allowed
        return {"hint": hint, "people": f"/t/{tenant.slug}/personnes" if people else ""}
    params = {"personne": str(person_id)}
    proposal_id = _uuid(action)
    if proposal_id is not None:
        params["action"] = str(proposal_id)
    return {"href": f"{path}/commander?{urlencode(params)}"}


def offer_json_ld(offer: PublicOffer, url: str) -> dict[str, Any]:
    """schema.org ``Service`` of the offer (public facts only)."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Service",
        "name": offer.title,
        "serviceType": offer.type_label,
        "url": url,
        "provider": {"@type": "Organization", "name": offer.provider_name},
        "areaServed": [
            {"@type": "AdministrativeArea", "identifier": code}
            for code in (*offer.communes, *offer.departements)
        ],
    }
    if offer.description:
        data["description"] = offer.description
    if offer.price_cents is not None:
        data["offers"] = {
            "@type": "Offer",
            "price": f"{offer.price_cents // 100}.{offer.price_cents % 100:02d}",
            "priceCurrency": "EUR",
        }
    return data


@get("/t/{slug:str}/services/offres/{offer_id:str}", opt=PUBLIC.opt(), include_in_schema=False)
async def offer_page(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    runtime: NamedDependency[Runtime],
    offer_id: FromPath[str],
    retour: FromQuery[str | None] = None,
    personne: FromQuery[str | None] = None,
    action: FromQuery[str | None] = None,
) -> Template:
    """The public page of one published offer; « introuvable » (404) for anything else."""
    found = _uuid(offer_id)
    offer = await public_offer(tenant.id, found) if found is not None else None
    if offer is None:
        raise NotFound("offre introuvable : elle n'existe pas ou n'est pas publiée")
    base = f"/t/{tenant.slug}/services"
    signed_in, viewer = await _viewer(request, tenant)
    context: dict[str, Any] = {
        "tenant": tenant,
        "offer": offer,
        "back_href": base + query_from_return(retour).params(),
        "order": order_link(tenant, offer.id, signed_in, viewer, personne, action),
        "json_ld": offer_json_ld(offer, f"{runtime.settings.base_url}{base}/offres/{offer.id}"),
        "coverage_text": coverage_text,
        "own_coverage": coverage_text(offer.own_coverage),
        "agreements": offer.agreements_on(paris_day(runtime.clock())),
        **await navigation(request, tenant),
    }
    return Template("services/offer.html", context=context)


SERVICES_PAGES = [services_page, offer_page]
