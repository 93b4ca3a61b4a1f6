"""``GET /t/{slug}/api/v1/services``: the public marketplace search as JSON (no token, no personal data)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter

from core.tenancy.service import TenantRecord
from web.authz import PUBLIC
from web.pages.services import parse_query, run_search


def _doc(text: str) -> Any:
    return msgspec.Meta(description=text)


class OfferOut(msgspec.Struct):
    id: str
    title: str
    description: str
    service_type: Annotated[str, _doc("Code du type de service (taxonomie du territoire).")]
    service_type_label: str
    provider: Annotated[str, _doc("Nom du prestataire.")]
    price_cents: Annotated[int | None, _doc("Prix en centimes d'euro ; null : sur demande.")]
    currency: str
    price_unit: Annotated[str | None, _doc("hour, meal, month, visit ou flat.")]
    price_label: Annotated[str, _doc("Prix affiché, p. ex. « 25,00 € / heure ».")]
    lead_time_days: Annotated[int, _doc("Délai de mise en place, en jours.")]
    opening_hours: str | None
    accepted_programmes: Annotated[list[str], _doc("Programmes de financement acceptés (codes).")]
    languages: list[str]
    score: Annotated[float, _doc("Pertinence (plus grand : plus pertinent).")]


class SearchOut(msgspec.Struct):
    commune: Annotated[str | None, _doc("Code INSEE de la commune recherchée, une fois reconnue.")]
    total: int
    page: int
    pages: int
    page_size: int
    results: list[OfferOut]


@get(
    "/t/{slug:str}/api/v1/services",
    opt=PUBLIC.opt(),
    summary="Rechercher des services à domicile",
    description="Offres publiées du territoire, sans authentification. Texte libre en français "
    "(accents et fautes de frappe tolérés), filtres : commune (nom ou code INSEE, couverture par "
    "commune ou département), type de service, programme de financement accepté, prix minimal et "
    "maximal en euros, disponibilité sous N jours. 20 résultats par page, triés par pertinence "
    "(par défaut), prix croissant (tri=price) ou délai (tri=lead_time). "
    "Paramètre invalide : 422 (RFC 9457).",
    tags=["Services"],
)
async def search_services_api(
    tenant: NamedDependency[TenantRecord],
    q: Annotated[str | None, QueryParameter(description="Texte recherché.")] = None,
    commune: Annotated[
        str | None, QueryParameter(description="Nom ou code INSEE, p. ex. Mont-de-Marsan ou 40192.")
    ] = None,
    service_type: Annotated[str | None, QueryParameter(name="type", description="Type de service.")] = None,
    programme: FromQuery[str | None] = None,
    prix_max: Annotated[str | None, QueryParameter(description="Prix maximal en euros.")] = None,
    page: FromQuery[str | None] = None,
    prix_min: Annotated[str | None, QueryParameter(description="Prix minimal en euros.")] = None,
    delai: Annotated[
        str | None, QueryParameter(description="Disponible sous N jours (délai de mise en place).")
    ] = None,
    tri: Annotated[str | None, QueryParameter(description="relevance, price ou lead_time.")] = None,
) -> SearchOut:
    query = parse_query(q, commune, service_type, programme, prix_max, page, prix_min, delai, tri)
    found = await run_search(tenant, query)
    return SearchOut(
        commune=found.commune,
        total=found.total,
        page=found.page,
        pages=found.pages,
        page_size=found.page_size,
        results=[
            OfferOut(
                id=str(hit.id),
                title=hit.title,
                description=hit.description,
                service_type=hit.service_type,
                service_type_label=hit.type_label,
                provider=hit.provider_name,
                price_cents=hit.price_cents,
                currency="EUR",
                price_unit=hit.price_unit,
                price_label=hit.price_text,
                lead_time_days=hit.lead_time_days,
                opening_hours=hit.opening_hours,
                accepted_programmes=hit.accepted_programmes,
                languages=hit.languages,
                score=hit.score,
            )
            for hit in found.hits
        ],
    )
