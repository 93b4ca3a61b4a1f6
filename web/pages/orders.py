"""Ordering an offer of the marketplace for a person, and the provider's « Commandes ».

``/t/{slug}/services/offres/{offer_id}/commander?personne=…``: a professional (``Permission.PROPOSALS``)
orders the offer for the person named by id (and optionally for a routed action, ``?action=…``).
Opening the form reads the person's administrative data (consent decides, audited); ordering writes
them. A missing or bad field comes back inline (422); no capacity left answers 409 with « Plus de
disponibilité sur cette période »; a refused access, the French « not allowed » page (403). The
person and their carers order from the same core service (``place_order``) on their portal page,
``web/pages/portal_orders.py``, which reads the posted fields with :func:`order_fields` too.

``/t/{slug}/prestataire/commandes`` (``Permission.OFFERS``): the orders the provider received, with
Accepter / Refuser (coded reason) on each requested one; with htmx a decision swaps only its row,
and someone faster gets the row back with the core's « Impossible : … » message (409).

Every response carries ``Cache-Control: no-store``.
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

from core import locale
from core.access.policy import Actor, Permission
from core.errors import Conflict, DomainError, FieldError, Forbidden, InvalidInput, NotFound
from core.marketplace.orders import (
    DECLINE_REASONS,
    STATUS_LABELS,
    Order,
    decide_order,
    order_form,
    orders_for_provider,
    place_order,
    validate,
)
from core.marketplace.search import UNIT_LABELS
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import requires
from web.pages.forms import done, field_errors, is_fragment
from web.pages.nav import navigation

ORDER = requires(Permission.PROPOSALS).opt()
PROVIDER = requires(Permission.OFFERS).opt()
NO_STORE = CacheControlHeader(no_store=True)


def _text(form: FormMultiDict, name: str) -> str:
    value = form.get(name)
    return value.strip()[:200] if isinstance(value, str) else ""


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


async def refused_page(request: HTMXRequest, tenant: TenantRecord, error: Forbidden) -> Template:
    return Template(
        "orders/refused.html",
        context={"tenant": tenant, "detail": error.detail, **await navigation(request, tenant)},
        status_code=403,
    )


# ---------------------------------------------------------------- ordering


ORDER_FIELDS = ("start", "end", "quantity")


def order_values(form: FormMultiDict) -> dict[str, str]:
    """The posted period and quantity as typed (shown again in the form)."""
    return {name: _text(form, name) for name in ORDER_FIELDS}


def order_fields(
    values: dict[str, str], today: dt.date, errors: list[FieldError] | None = None
) -> tuple[dt.date | None, dt.date | None, int | None]:
    """Start, end and weekly quantity of a posted order form. A malformed field (a date that is not
    one, a quantity that is not a whole number), or any of ``errors``, raises ``InvalidInput`` with
    the core's own checks (``validate``) of the other fields; the rest is ``place_order``'s."""
    errors = list(errors or [])
    quantity = int(values["quantity"]) if values["quantity"].isdigit() else None
    if values["start"] and _date(values["start"]) is None:
        errors.append(FieldError("start", "date invalide"))
    if values["end"] and _date(values["end"]) is None:
        errors.append(FieldError("end", "date invalide"))
    if values["quantity"] and quantity is None:
        errors.append(FieldError("quantity", "un nombre entier"))
    if errors:
        try:
            validate(_date(values["start"]), _date(values["end"]), quantity, today)
        except InvalidInput as more:
            named = {e.field for e in errors}
            errors += [e for e in more.errors if e.field not in named]
        raise InvalidInput("commande invalide", errors)
    return _date(values["start"]), _date(values["end"]), quantity


def _order_url(tenant: TenantRecord, offer_id: uuid.UUID) -> str:
    return f"/t/{tenant.slug}/services/offres/{offer_id}/commander"


async def _form_page(
    request: HTMXRequest,
    tenant: TenantRecord,
    actor: Actor,
    runtime: Runtime,
    offer_id: uuid.UUID,
    person: str | None,
    proposal: str | None,
    *,
    values: dict[str, str] | None = None,
    error: DomainError | None = None,
    notice: str = "",
) -> Template:
    person_id = _uuid(person)
    if person_id is None:
        raise NotFound("choisissez d'abord la personne (paramètre « personne » manquant ou invalide)")
    try:
        form = await order_form(runtime, actor, offer_id, person_id)
    except Forbidden as refused:
        return await refused_page(request, tenant, refused)
    status = 200
    if isinstance(error, InvalidInput):
        status = 422
    elif isinstance(error, Conflict):
        status = 409
    proposal_id = _uuid(proposal)
    start = locale.paris_day(runtime.clock()) + dt.timedelta(days=1)
    context = {
        "tenant": tenant,
        "form": form,
        "person_id": person_id,
        "proposal_id": proposal_id or "",
        "action_url": _order_url(tenant, offer_id),
        "values": values
        or {"start": start.isoformat(), "end": (start + dt.timedelta(days=27)).isoformat(), "quantity": ""},
        "errors": field_errors(error) if error else {},
        "notice": notice,
        "unit": UNIT_LABELS.get(form.offer.price_unit or "", "unité"),
        "status_labels": STATUS_LABELS,
        **await navigation(request, tenant),
    }
    return Template("orders/order.html", context=context, status_code=status)


@get(
    "/t/{slug:str}/services/offres/{offer_id:uuid}/commander",
    opt=ORDER,
    include_in_schema=False,
    cache_control=NO_STORE,
)
async def order_page(
    request: HTMXRequest,
    offer_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    personne: FromQuery[str | None] = None,
    action: FromQuery[str | None] = None,
    fait: FromQuery[str | None] = None,
) -> Template:
    """The order form for one person, with their orders of this offer."""
    notice = "Commande envoyée au prestataire." if fait else ""
    return await _form_page(request, tenant, actor, runtime, offer_id, personne, action, notice=notice)


@post(
    "/t/{slug:str}/services/offres/{offer_id:uuid}/commander",
    opt=ORDER,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def order_create(
    request: HTMXRequest,
    offer_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    form = await request.form()
    values = order_values(form)
    person, proposal = _text(form, "personne"), _text(form, "action")
    person_id = _uuid(person)
    if person_id is None:
        raise NotFound("personne inconnue")
    try:
        unknown = [FieldError("form", "action inconnue")] if proposal and _uuid(proposal) is None else []
        start, end, quantity = order_fields(values, locale.paris_day(runtime.clock()), unknown)
        await place_order(
            runtime, actor, offer_id, person_id, start, end, quantity, proposal_id=_uuid(proposal)
        )
    except (InvalidInput, Conflict) as error:
        return await _form_page(
            request, tenant, actor, runtime, offer_id, person, proposal, values=values, error=error
        )
    except Forbidden as refused:
        return await refused_page(request, tenant, refused)
    return done(request, f"{_order_url(tenant, offer_id)}?personne={person_id}&fait=1")


# ---------------------------------------------------------------- the provider's orders


def _list_url(tenant: TenantRecord) -> str:
    return f"/t/{tenant.slug}/prestataire/commandes"


def _row_context(tenant: TenantRecord, order: Order) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "order": order,
        "reasons": DECLINE_REASONS,
        "unit": UNIT_LABELS.get(order.price_unit or "", "unité"),
    }


@get("/t/{slug:str}/prestataire/commandes", opt=PROVIDER, include_in_schema=False, cache_control=NO_STORE)
async def provider_orders(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
) -> Template:
    """« Commandes »: the orders of the provider's offers, requested ones first."""
    return await _list_page(request, tenant, actor)


async def _list_page(
    request: HTMXRequest,
    tenant: TenantRecord,
    actor: Actor,
    *,
    error: DomainError | None = None,
    failed: uuid.UUID | None = None,
) -> Template:
    try:
        orders = await orders_for_provider(actor)
    except Forbidden as refused:
        return await refused_page(request, tenant, refused)
    status = 200 if error is None else (422 if isinstance(error, InvalidInput) else 409)
    context = {
        "tenant": tenant,
        "orders": orders,
        "reasons": DECLINE_REASONS,
        "units": UNIT_LABELS,
        "row_error": error.detail if error else "",
        "failed": failed,
        **await navigation(request, tenant),
    }
    return Template("orders/provider.html", context=context, status_code=status)


@post(
    "/t/{slug:str}/prestataire/commandes/{order_id:uuid}/decision",
    opt=PROVIDER,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def order_decision(
    request: HTMXRequest,
    order_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Accept or decline one requested order. With htmx: the row again (with the refusal's message)."""
    form = await request.form()
    decision = _text(form, "decision")
    try:
        if decision not in {"accepter", "refuser"}:
            raise InvalidInput("décision inconnue", [FieldError("decision", "accepter ou refuser")])
        order = await decide_order(
            runtime, actor, order_id, decision == "accepter", _text(form, "reason") or None
        )
    except (InvalidInput, Conflict) as error:
        if is_fragment(request):
            current = next((o for o in await orders_for_provider(actor) if o.id == order_id), None)
            if current is None:
                raise NotFound("commande introuvable") from None
            status = 422 if isinstance(error, InvalidInput) else 409
            context = {**_row_context(tenant, current), "row_error": error.detail, "csrf": _csrf(form)}
            return Template("orders/_row.html", context=context, status_code=status)
        return await _list_page(request, tenant, actor, error=error, failed=order_id)
    except Forbidden as refused:
        return await refused_page(request, tenant, refused)
    if is_fragment(request):
        context = {**_row_context(tenant, order), "row_swapped": True, "csrf": _csrf(form)}
        return Template("orders/_row.html", context=context)
    return done(request, _list_url(tenant))


def _csrf(form: FormMultiDict) -> str:
    """The token the row's forms carry again (the one this request was checked against)."""
    return _text(form, "_csrf")


ORDERS_PAGES: list[Any] = [order_page, order_create, provider_orders, order_decision]
