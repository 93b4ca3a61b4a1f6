"""« Modération des offres »: the territory's coordinators and admins suspend and reinstate offers.

Every rule is the core's (``core.marketplace.moderation``): these handlers read forms, call one
service and render. ``/t/{slug}/admin/offres`` lists every provider's offers (filters by status and
by text, in the URL; htmx swaps the list alone). Each row's « Suspendre » form (a coded reason, a
note) and « Rétablir » button answer htmx with the row alone, its change announced in the page's
live region (out of band); a missing reason comes back inline (422) with nothing changed, someone
faster as the core's « Impossible : … » (409). Plain browsers get a 303 back to the list they
were on, or the whole page with the row's errors. Responses carry ``Cache-Control: no-store``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from litestar import get, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from core.access.policy import Actor, Permission
from core.errors import Conflict, DomainError, InvalidInput
from core.marketplace.moderation import (
    MAX_PAGE,
    NOTE_MAX,
    STATUS_FILTERS,
    ModeratedOffer,
    moderated_offer,
    moderation_queue,
    reinstate_offer,
    suspend_offer,
)
from core.marketplace.offers import SUSPENSION_REASONS
from core.marketplace.search import MAX_QUERY_CHARS
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import requires
from web.pages.forms import done, field_errors, form_text, is_fragment
from web.pages.nav import navigation

MODERATE = requires(Permission.OFFERS_MODERATE).opt()
NO_STORE = CacheControlHeader(no_store=True)
LIST_ID = "moderation-list"
NOTICES = {
    "suspendue": "L'offre est suspendue : elle n'apparaît plus dans la recherche. Sa structure est prévenue.",
    "retablie": "L'offre est rétablie, en pause : sa structure la publiera quand elle le souhaitera.",
}


@dataclass(frozen=True)
class ListQuery:
    """The list's address: status filter, text and page, as French query parameters."""

    status: str = ""
    text: str = ""
    page: int = 1

    @classmethod
    def parse(cls, status: str | None, text: str | None, page: str | None) -> ListQuery:
        """Unknown values fall back to the defaults (an old bookmark still opens the list)."""
        number = int(page) if page and page.isdigit() and len(page) <= 6 else 1
        return cls(
            status=status if status in STATUS_FILTERS else "",
            text=" ".join((text or "").split())[:MAX_QUERY_CHARS],
            page=min(max(number, 1), MAX_PAGE),
        )

    @classmethod
    def from_url(cls, url: str) -> ListQuery:
        """The filters of a list address sent back by a form (anything else: the defaults)."""
        query = parse_qs(urlsplit(url).query)

        def first(name: str) -> str | None:
            return query.get(name, [None])[0]

        return cls.parse(first("statut"), first("q"), first("page"))

    def params(self, **changes: Any) -> str:
        """The query string of this address with ``changes`` (defaults left out: short URLs)."""
        query = replace(self, **changes)
        pairs = [("statut", query.status, ""), ("q", query.text, ""), ("page", str(query.page), "1")]
        kept = [(name, value) for name, value, default in pairs if value != default]
        return "?" + urlencode(kept) if kept else ""


def _base(tenant: TenantRecord) -> str:
    return f"/t/{tenant.slug}/admin/offres"


def _list_url(tenant: TenantRecord, retour: str) -> str:
    """The list address a row's form came from: its filters only, never another address."""
    return _base(tenant) + ListQuery.from_url(retour).params()


def _back(tenant: TenantRecord, retour: str, notice: str) -> str:
    """The list a plain browser came from, with the notice of what was done."""
    url = _list_url(tenant, retour)
    return url + ("&" if "?" in url else "?") + urlencode({"fait": notice})


def _common(tenant: TenantRecord) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "base": _base(tenant),
        "list_id": LIST_ID,
        "reasons": list(SUSPENSION_REASONS.items()),
        "note_max": NOTE_MAX,
    }


async def _list_page(
    request: HTMXRequest,
    tenant: TenantRecord,
    actor: Actor,
    query: ListQuery,
    *,
    notice: str = "",
    failed: uuid.UUID | None = None,
    values: dict[str, str] | None = None,
    error: DomainError | None = None,
) -> Template:
    """The list (the whole page, or the list alone for htmx); a refused row's errors inline."""
    page = await moderation_queue(actor, query.status or None, query.text, query.page)
    context: dict[str, Any] = {
        **_common(tenant),
        "query": query,
        "page": page,
        "here": _base(tenant) + query.params(),
        "status_filters": list(STATUS_FILTERS.items()),
        "filter_label": STATUS_FILTERS.get(query.status, "Publiées, en pause ou suspendues"),
        "notice": notice,
        "failed": failed,
        "values": values or {},
        "errors": field_errors(error) if error is not None and error.errors else {},
        "page_error": error.detail if error is not None and not error.errors else "",
        **await navigation(request, tenant),
    }
    status = error.status if error is not None else 200
    if is_fragment(request) and request.htmx.target == LIST_ID:
        return Template("moderation/_list.html", context=context, status_code=status)
    return Template("moderation/index.html", context=context, status_code=status)


async def _row_page(
    request: HTMXRequest,
    tenant: TenantRecord,
    actor: Actor,
    row: ModeratedOffer,
    here: str,
    *,
    announce: str = "",
    values: dict[str, str] | None = None,
    error: DomainError | None = None,
) -> Template:
    """One row, as htmx swaps it: the new status (and the announcement), or the refusal inline."""
    nav = await navigation(request, tenant)
    context: dict[str, Any] = {
        **_common(tenant),
        "row": row,
        "here": here,
        "csrf": nav["csrf"],
        "failed": row.id if error is not None and error.errors else None,
        "values": values or {},
        "errors": field_errors(error) if error is not None and error.errors else {},
        "row_error": error.detail if error is not None and not error.errors else "",
        "row_swapped": True,
        "announce": announce,
    }
    status = error.status if error is not None else 200
    return Template("moderation/_row.html", context=context, status_code=status)


@get("/t/{slug:str}/admin/offres", opt=MODERATE, include_in_schema=False, cache_control=NO_STORE)
async def moderation_page(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    statut: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
    fait: FromQuery[str | None] = None,
) -> Template:
    """« Modération des offres »: every provider's offers, most recently changed first."""
    query = ListQuery.parse(statut, q, page)
    return await _list_page(request, tenant, actor, query, notice=NOTICES.get(fait or "", ""))


@post(
    "/t/{slug:str}/admin/offres/{offer_id:uuid}/suspendre",
    opt=MODERATE,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def suspend_submit(
    request: HTMXRequest,
    offer_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Suspend the offer with a reason; the row again (htmx) or a 303 to the list, 422 inline."""
    form = await request.form()
    retour = form_text(form, "retour")
    values = {"reason": form_text(form, "reason"), "note": form_text(form, "note")[:5000]}
    try:
        row = await suspend_offer(runtime, actor, offer_id, values["reason"], values["note"])
    except (InvalidInput, Conflict) as refused:
        return await _refused(request, tenant, actor, offer_id, retour, refused, values)
    if is_fragment(request):
        announce = (
            f"L'offre « {row.title} » est suspendue : {row.reason_label.lower()}. Sa structure est prévenue."
        )
        return await _row_page(request, tenant, actor, row, _list_url(tenant, retour), announce=announce)
    return done(request, _back(tenant, retour, "suspendue"))


@post(
    "/t/{slug:str}/admin/offres/{offer_id:uuid}/retablir",
    opt=MODERATE,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def reinstate_submit(
    request: HTMXRequest,
    offer_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Lift the suspension (the offer is paused); the row again (htmx) or a 303 to the list."""
    retour = form_text(await request.form(), "retour")
    try:
        row = await reinstate_offer(runtime, actor, offer_id)
    except Conflict as refused:
        return await _refused(request, tenant, actor, offer_id, retour, refused, {})
    if is_fragment(request):
        announce = f"L'offre « {row.title} » est rétablie, en pause. Sa structure est prévenue."
        return await _row_page(request, tenant, actor, row, _list_url(tenant, retour), announce=announce)
    return done(request, _back(tenant, retour, "retablie"))


async def _refused(
    request: HTMXRequest,
    tenant: TenantRecord,
    actor: Actor,
    offer_id: uuid.UUID,
    retour: str,
    error: DomainError,
    values: dict[str, str],
) -> Template:
    """A refused move, nothing changed: the row (htmx) or the list it was on, with the refusal."""
    if is_fragment(request):
        row = await moderated_offer(actor, offer_id)
        return await _row_page(
            request, tenant, actor, row, _list_url(tenant, retour), values=values, error=error
        )
    return await _list_page(
        request, tenant, actor, ListQuery.from_url(retour), failed=offer_id, values=values, error=error
    )


MODERATION_PAGES: list[Any] = [moderation_page, suspend_submit, reinstate_submit]
