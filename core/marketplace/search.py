"""Public search of the marketplace: published offers covering a commune, French full text + trigrams.

Nothing here is personal data: offers are public, and the search runs in the territory's scope
for anyone. Text is matched two ways, OR-ed: French full-text search over the unaccented title,
type label and description (``websearch_to_tsquery``: any text is valid syntax), and trigram word
similarity on the unaccented title, which forgives typos and truncated words (« portage de repa »).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass

from core import locale
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import FieldError, InvalidInput
from core.marketplace.taxonomy import label_of, taxonomy

PAGE_SIZE = 20
MAX_PAGE = 500
MAX_QUERY_CHARS = 200
COMMUNE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
PROGRAMME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,59}$")
SORTS = {"relevance": "Pertinence", "price": "Prix croissant", "lead_time": "Délai le plus court"}
"""Orders of the results (code → French label); relevance is the default."""
MAX_WITHIN_DAYS = 365
UNIT_LABELS = {"hour": "heure", "meal": "repas", "month": "mois", "visit": "passage", "flat": "forfait"}
"""French name of each price unit."""


def departement_of(commune: str) -> str:
    """The département of an INSEE commune code: 2A/2B for Corsica, 3 characters overseas (97x)."""
    if commune.startswith("97"):
        return commune[:3]
    return commune[:2]


def clean_text(text: str) -> str:
    """The query as searched: control characters dropped (PostgreSQL refuses NUL), spaces
    collapsed, at most ``MAX_QUERY_CHARS`` characters."""
    kept = "".join(" " if unicodedata.category(char) in {"Cc", "Cs", "Zl", "Zp"} else char for char in text)
    return " ".join(kept.split())[:MAX_QUERY_CHARS]


def price_text(cents: int | None, unit: str | None) -> str:
    """« 25,00 € / heure », « 150,00 € (forfait) », or « Prix sur demande » — everywhere an offer's
    price is shown (results, offer page, exports)."""
    if cents is None:
        return "Prix sur demande"
    amount = locale.money(cents)
    if unit == "flat":
        return f"{amount} (forfait)"
    return f"{amount} / {UNIT_LABELS.get(unit or '', unit)}"


def lead_time_text(days: int) -> str:
    """« Dès aujourd'hui », « Sous 1 jour », « Sous 3 jours »."""
    if days <= 0:
        return "Dès aujourd'hui"
    return f"Sous {days} jour{'s' if days > 1 else ''}"


@dataclass(frozen=True)
class OfferHit:
    """One offer in the results (public information only)."""

    id: uuid.UUID
    title: str
    description: str
    service_type: str
    provider_name: str
    price_cents: int | None
    price_unit: str | None
    lead_time_days: int
    opening_hours: str | None
    accepted_programmes: list[str]
    languages: list[str]
    score: float

    @property
    def type_label(self) -> str:
        return label_of(self.service_type)

    @property
    def price_text(self) -> str:
        return price_text(self.price_cents, self.price_unit)

    @property
    def lead_time_text(self) -> str:
        return lead_time_text(self.lead_time_days)


@dataclass(frozen=True)
class SearchResults:
    hits: list[OfferHit]
    total: int
    page: int
    page_size: int = PAGE_SIZE
    commune: str | None = None
    """The INSEE code searched, if any."""

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def validate(
    commune: str | None,
    service_type: str | None,
    programme: str | None,
    max_price_cents: int | None,
    page: int,
    min_price_cents: int | None = None,
    within_days: int | None = None,
    sort: str = "relevance",
) -> None:
    """Raise :class:`InvalidInput` naming every field that is wrong."""
    errors = []
    if commune is not None and not COMMUNE.match(commune):
        errors.append(FieldError("commune", "code INSEE de commune à 5 caractères, par exemple 40192"))
    if service_type is not None and service_type not in taxonomy():
        errors.append(FieldError("type", "type de service inconnu"))
    if programme is not None and not PROGRAMME.match(programme):
        errors.append(FieldError("programme", "programme de financement inconnu"))
    if max_price_cents is not None and not 0 <= max_price_cents <= 10**9:
        errors.append(FieldError("prix_max", "prix maximal en euros, positif"))
    if min_price_cents is not None and not 0 <= min_price_cents <= 10**9:
        errors.append(FieldError("prix_min", "prix minimal en euros, positif"))
    elif min_price_cents is not None and max_price_cents is not None and min_price_cents > max_price_cents:
        errors.append(FieldError("prix_min", "le prix minimal dépasse le prix maximal"))
    if within_days is not None and not 0 <= within_days <= MAX_WITHIN_DAYS:
        errors.append(FieldError("delai", f"un nombre de jours de 0 à {MAX_WITHIN_DAYS}"))
    if sort not in SORTS:
        errors.append(FieldError("tri", "tri par pertinence, prix ou délai"))
    if not 1 <= page <= MAX_PAGE:
        errors.append(FieldError("page", f"numéro de page entre 1 et {MAX_PAGE}"))
    if errors:
        raise InvalidInput("recherche invalide", errors)


ORDERS = {
    "relevance": "{p}score DESC, {p}price_cents ASC NULLS LAST, {p}title, {p}id",
    "price": "{p}price_cents ASC NULLS LAST, {p}score DESC, {p}title, {p}id",
    "lead_time": "{p}lead_time_days ASC, {p}score DESC, {p}price_cents ASC NULLS LAST, {p}title, {p}id",
}
"""ORDER BY of each sort over the page's rows (``p``: the row's alias); ties end on the id."""


def build_search(
    query: str = "",
    commune: str | None = None,
    service_type: str | None = None,
    programme: str | None = None,
    max_price_cents: int | None = None,
    page: int = 1,
    min_price_cents: int | None = None,
    within_days: int | None = None,
    sort: str = "relevance",
) -> tuple[str, list[object]]:
    """The SQL of one search and its parameters, after :func:`validate` (:class:`InvalidInput`).

    Run in the territory's scope (row-level security picks the tenant). Each row is one offer of
    the page, with ``score`` and ``total`` (the count of all matches, every page). The benchmark
    runs this very statement from a bare handler (``bench/marketplace_search.py``).

    The statement holds only the filters given (no ``$n IS NULL OR …``): the commune becomes a
    semi-join the planner can start from, and no cached generic plan has to serve every shape.
    Under row-level security the text operators (``@@``, ``<%``) cannot use their indexes (they are
    not leakproof), so the text is matched last: behind a fence (``OFFSET 0``) when other filters
    narrow the offers first. Matches are counted and sorted on narrow rows; the page's 20 rows
    alone are then read in full (see docs/performance.md, « Marketplace search »).
    """
    validate(commune, service_type, programme, max_price_cents, page, min_price_cents, within_days, sort)
    text = clean_text(query)
    params: list[object] = []

    def param(value: object) -> str:
        params.append(value)
        return f"${len(params)}"

    filters = ["o.status = 'published'"]
    if commune:
        listed, whole = param(commune), param(departement_of(commune))
        filters.append(
            "EXISTS (SELECT 1 FROM offer_coverage c WHERE c.tenant_id = o.tenant_id AND c.offer_id = o.id "
            f"AND (c.commune_insee = {listed}::text OR c.departement = {whole}::text))"
        )
    if service_type:
        filters.append(f"o.service_type = {param(service_type)}::text")
    if programme:
        filters.append(f"{param(programme)}::text = ANY(o.accepted_programmes)")
    if max_price_cents is not None:
        filters.append(f"o.price_cents <= {param(max_price_cents)}::int")
    if min_price_cents is not None:
        filters.append(f"o.price_cents >= {param(min_price_cents)}::int")
    if within_days is not None:
        filters.append(f"o.lead_time_days <= {param(within_days)}::int")
    where = " AND ".join(filters)
    columns = "o.id, {score} AS score, o.price_cents, o.lead_time_days, o.title"
    if text:
        typed = param(text)
        # Sub-selects: computed once per search even when a cached generic plan cannot fold them.
        words = f"(SELECT websearch_to_tsquery('french', parcours_unaccent({typed})))"
        typed_key, title_key = (
            f"(SELECT parcours_unaccent(lower({typed})))",
            "parcours_unaccent(lower(o.title))",
        )
        score = f"(ts_rank(o.search_vector, {words}) + word_similarity({typed_key}, {title_key}))::float8"
        matches = f"(o.search_vector @@ {words} OR {typed_key} <% {title_key})"
        if len(filters) > 1:  # the other filters first: OFFSET 0 keeps the text filter out of that scan
            narrowed = (
                f"SELECT o.id, o.search_vector, o.title, o.price_cents, o.lead_time_days "
                f"FROM service_offer o WHERE {where}"
            )
            hits = f"SELECT {columns.format(score=score)} FROM ({narrowed} OFFSET 0) o WHERE {matches}"
        else:
            hits = f"SELECT {columns.format(score=score)} FROM service_offer o WHERE {where} AND {matches}"
    else:
        hits = f"SELECT {columns.format(score='0::float8')} FROM service_offer o WHERE {where}"
    limit, offset = param(PAGE_SIZE), param((page - 1) * PAGE_SIZE)
    order = ORDERS[sort]
    sql = f"""
        WITH hits AS ({hits}),
        page AS (
            SELECT id, score, price_cents, lead_time_days, title, count(*) OVER () AS total FROM hits
            ORDER BY {order.format(p="")}
            LIMIT {limit} OFFSET {offset}
        )
        SELECT o.id, o.title, o.description, o.service_type, org.name AS provider_name,
               o.price_cents, o.price_unit, o.lead_time_days, o.opening_hours,
               o.accepted_programmes, o.languages, page.score, page.total
        FROM page
        JOIN service_offer o ON o.id = page.id
        JOIN organisation org ON org.tenant_id = o.tenant_id AND org.id = o.provider_organisation_id
        ORDER BY {order.format(p="page.")}
    """
    return sql, params


async def search_offers(
    tenant_id: uuid.UUID,
    query: str = "",
    commune: str | None = None,
    service_type: str | None = None,
    programme: str | None = None,
    max_price_cents: int | None = None,
    page: int = 1,
    min_price_cents: int | None = None,
    within_days: int | None = None,
    sort: str = "relevance",
) -> SearchResults:
    """Published offers of the territory matching the text and filters, best first then cheapest.

    ``commune``: only offers covering it (listed, or its whole département); ``within_days``: only
    offers that can start within that many days (lead time); ``sort``: a key of :data:`SORTS`.
    """
    sql, params = build_search(
        query, commune, service_type, programme, max_price_cents, page, min_price_cents, within_days, sort
    )
    async with tenant_scope(tenant_id):
        rows = await scoped_connection().fetch(sql, *params)
    hits = [
        OfferHit(
            id=row["id"],
            title=row["title"],
            description=row["description"],
            service_type=row["service_type"],
            provider_name=row["provider_name"],
            price_cents=row["price_cents"],
            price_unit=row["price_unit"],
            lead_time_days=row["lead_time_days"],
            opening_hours=row["opening_hours"],
            accepted_programmes=list(row["accepted_programmes"] or []),
            languages=list(row["languages"] or []),
            score=row["score"],
        )
        for row in rows
    ]
    total = rows[0]["total"] if rows else 0
    if not rows and page > 1:
        # Past the last page: count what there is, so the page can link back.
        first = await search_offers(
            tenant_id,
            query,
            commune,
            service_type,
            programme,
            max_price_cents,
            min_price_cents=min_price_cents,
            within_days=within_days,
            sort=sort,
        )
        total = first.total
    return SearchResults(hits=hits, total=total, page=page, commune=commune)
