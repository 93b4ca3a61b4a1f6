"""``/t/{slug}/services``: the public search of the marketplace (no login, no personal data).

A GET form (shareable URLs, works without JavaScript); with htmx, typing or changing a filter
replaces only the results (``#service-results``) and pushes the URL. A bad filter (a commune that
is not an INSEE code…) answers 422 with the message beside the field, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from core.errors import FieldError, InvalidInput
from core.marketplace.search import SearchResults, search_offers
from core.marketplace.taxonomy import taxonomy
from core.tenancy.service import TenantRecord
from web.authz import PUBLIC
from web.pages.nav import navigation

RESULTS_ID = "service-results"


@dataclass(frozen=True)
class ServiceQuery:
    """The search as typed (strings, for the form) and as searched (checked values)."""

    q: str = ""
    commune: str = ""
    service_type: str = ""
    programme: str = ""
    max_price: str = ""
    page: int = 1

    def params(self, **changes: Any) -> str:
        """The query string of this search with ``changes`` (empty values left out)."""
        values = {
            "q": self.q,
            "commune": self.commune,
            "type": self.service_type,
            "programme": self.programme,
            "prix_max": self.max_price,
            "page": self.page,
        }
        values.update(changes)
        kept = {k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)}
        return "?" + urlencode(kept) if kept else ""

    def search_arguments(self) -> dict[str, Any]:
        """Keyword arguments of :func:`search_offers`; raises :class:`InvalidInput` on bad input."""
        errors = []
        max_price_cents = None
        if self.max_price:
            if not self.max_price.isdigit() or len(self.max_price) > 7:
                errors.append(FieldError("prix_max", "prix maximal en euros, un nombre entier"))
            else:
                max_price_cents = int(self.max_price) * 100
        if errors:
            raise InvalidInput("recherche invalide", errors)
        return {
            "query": self.q,
            "commune": self.commune.upper() or None,
            "service_type": self.service_type or None,
            "programme": self.programme or None,
            "max_price_cents": max_price_cents,
            "page": self.page,
        }


def parse_query(
    q: str | None,
    commune: str | None,
    service_type: str | None,
    programme: str | None,
    max_price: str | None,
    page: str | None,
) -> ServiceQuery:
    """Trim the raw parameters; a page that is not a number is page 1."""
    number = int(page) if page and page.isdigit() and len(page) <= 4 else 1
    return ServiceQuery(
        q=(q or "").strip()[:200],
        commune=(commune or "").strip()[:10],
        service_type=(service_type or "").strip()[:40],
        programme=(programme or "").strip()[:60],
        max_price=(max_price or "").strip()[:10],
        page=max(number, 1),
    )


async def run_search(tenant: TenantRecord, query: ServiceQuery) -> SearchResults:
    return await search_offers(tenant.id, **query.search_arguments())


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
) -> Template:
    """« Trouver un service »: the form and one page of results (the results alone for htmx)."""
    query = parse_query(q, commune, service_type, programme, prix_max, page)
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
        "results_id": RESULTS_ID,
    }
    status = 422 if errors else 200
    if request.htmx and request.htmx.target == RESULTS_ID:
        return Template("services/_results.html", context=context, status_code=status)
    context.update(await navigation(request, tenant))
    return Template("services/search.html", context=context, status_code=status)


SERVICES_PAGES = [services_page]
