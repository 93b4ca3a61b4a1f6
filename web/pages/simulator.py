"""The public « Quelles aides pour moi ? » simulator of the marketplace (``/t/{slug}/services/aides``).

An anonymous questionnaire (age, commune, recent discharge, pension, GIR, income bracket, household,
mutuelle, employer contract) read from the query string: a GET form, so the URL can be shared and
the page works without JavaScript; with htmx, each change replaces the results only
(``#aides-resultats``) and pushes the URL. The results: every programme of the territory with its
verdict, its explanation and its estimate, then the published offers covering the commune that
accept at least one eligible programme, each with the programmes that may pay for it and the
estimated remaining share for a reference quantity (said on the page).

Nothing is stored and nothing is logged: the answers are not personal (no name, no identifier), and
the access log line of this page is written without its query string.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
from litestar import get
from litestar.di import NamedDependency
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from core.errors import InvalidInput
from core.financing.registry import TerritoryFunders, territory_funders
from core.financing.situation import Situation
from core.funders import remaining_share
from core.marketplace.search import OfferHit, search_offers
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import PUBLIC
from web.pages.funding_form import (
    FIELDS,
    GIR_CHOICES,
    HOUSEHOLDS,
    INCOME_CHOICES,
    PENSION_CHOICES,
    REFERENCE_QUANTITIES,
    Answer,
    assess_all,
    parse_situation,
    read_values,
    reference_quote,
)
from web.pages.nav import navigation

RESULTS_ID = "aides-resultats"
PATH = "/services/aides"
MAX_OFFER_PAGES = 5
"""Pages of the marketplace search read for the offers of a commune (20 offers each)."""


class _NoQueryString(logging.Filter):
    """Drop the query string (the answers) from uvicorn's access log lines of the simulator."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and PATH in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


logging.getLogger("uvicorn.access").addFilter(_NoQueryString())


@dataclass(frozen=True)
class CoveredOffer:
    """An offer some eligible programme may pay for, with its estimate for the reference quantity."""

    hit: OfferHit
    programmes: list[tuple[str, int | None]]
    """(Programme label, estimated amount for the reference quantity) of each eligible programme."""
    reference_words: str
    reference_cents: int | None
    remaining_cents: int | None


def _offer_estimates(
    funders: TerritoryFunders, situation: Situation, hits: list[OfferHit], eligible: list[Answer]
) -> list[CoveredOffer]:
    covered = []
    for hit in hits:
        accepting = [a for a in eligible if a.code in hit.accepted_programmes]
        if not accepting:
            continue
        reference = reference_quote(hit.price_cents, hit.price_unit)
        quote = reference[0] if reference else None
        programmes: list[tuple[str, int | None]] = []
        for answer in accepting:
            found = funders.find(answer.code)
            assert found is not None
            estimate = found[0].assess(found[1], situation, quote).estimate
            programmes.append((answer.programme.label, estimate.amount_cents if estimate else None))
        remaining = None
        if quote is not None:
            remaining = remaining_share(quote, [amount for _label, amount in programmes if amount])
        covered.append(
            CoveredOffer(
                hit,
                programmes,
                reference[1] if reference else "",
                quote,
                remaining,
            )
        )
    return covered


async def _offers(tenant: TenantRecord, commune: str) -> list[OfferHit]:
    hits: list[OfferHit] = []
    for page in range(1, MAX_OFFER_PAGES + 1):
        results = await search_offers(tenant.id, commune=commune, page=page)
        hits += results.hits
        if page >= results.pages:
            break
    return hits


@get("/t/{slug:str}" + PATH, opt=PUBLIC.opt(), include_in_schema=False)
async def simulator_page(
    request: HTMXRequest, tenant: NamedDependency[TenantRecord], runtime: NamedDependency[Runtime]
) -> Template:
    """« Quelles aides pour moi ? »: the questionnaire and its results (the results alone for htmx)."""
    values = read_values(request.query_params)
    answered = any(values[name] for name in FIELDS)
    errors: dict[str, str] = {}
    answers: list[Answer] = []
    offers: list[CoveredOffer] = []
    try:
        situation = parse_situation(values, tenant.departements)
    except InvalidInput as refused:
        errors = {e.field: e.message for e in refused.errors} or {"form": refused.detail}
    else:
        funders = await territory_funders(runtime.plugins, tenant.id, tenant.enabled_plugins)
        answers = await assess_all(funders, situation, None)
        eligible = [a for a in answers if a.eligible]
        if situation.commune_insee and eligible:
            hits = await _offers(tenant, situation.commune_insee)
            offers = await anyio.to_thread.run_sync(_offer_estimates, funders, situation, hits, eligible)
    base = f"/t/{tenant.slug}{PATH}"
    kept = {name: value for name, value in values.items() if value}
    context: dict[str, Any] = {
        "tenant": tenant,
        "base": base,
        "values": values,
        "errors": errors,
        "answered": answered,
        "answers": answers,
        "offers": offers,
        "commune": values["commune"] if "commune" not in errors else "",
        "results_id": RESULTS_ID,
        "services": f"/t/{tenant.slug}/services",
        "share_query": urlencode(kept),
        "pension_choices": PENSION_CHOICES,
        "income_choices": INCOME_CHOICES,
        "gir_choices": GIR_CHOICES,
        "households": [(code, label) for code, (label, _h, _alone) in HOUSEHOLDS.items()],
        "references": [words for _quantity, words in REFERENCE_QUANTITIES.values()],
        "fields": FIELDS,
    }
    status = 422 if errors else 200
    if request.htmx and request.htmx.target == RESULTS_ID:
        context["oob"] = True
        return Template("simulator/_results.html", context=context, status_code=status)
    context.update(await navigation(request, tenant))
    return Template("simulator/page.html", context=context, status_code=status)


SIMULATOR_PAGES: list[Any] = [simulator_page]
