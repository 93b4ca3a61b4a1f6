"""The person's and carers' orders of marketplace offers, from their portal (``Permission.PORTAL``).

``/t/{slug}/mon-dossier/commandes``: « Mes commandes », the person's orders, newest first, each with
its offer (linked to its public page), provider, period, weekly quantity, status and decline reason;
« Annuler » on those the core still lets them cancel (``Order.cancellable``: requested, or accepted
and not yet started). ``…/commandes/{order_id}/annuler`` cancels one (``cancel_order``); another
person's order is unknown (404), one answered or started meanwhile comes back with the core's
« Impossible : … » message (409).

``/t/{slug}/mon-dossier/commander/{offer_id}``: the order form of a published offer, for the person
shown. The person orders for herself, a carer for the person she helps, chosen as on every portal
page (``?personne=`` among ``people_i_manage``, the hidden field ``personne`` in the form). The
fields are read as on the professional's form (``web.pages.orders.order_fields``) and the order is
the core's (``place_order``): a bad field comes back inline (422), no capacity left answers 409 with
« Plus de disponibilité sur cette période », success goes to « Mes commandes » with a confirmation.

Every response carries ``Cache-Control: no-store``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from core import locale
from core.access.policy import Actor
from core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from core.marketplace.orders import (
    STATUS_LABELS,
    cancel_order,
    order_form,
    orders_for_person,
    place_order,
)
from core.marketplace.search import UNIT_LABELS
from core.records.portal import ManagedPerson, choose_person
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.pages.forms import done, field_errors, form_text
from web.pages.orders import NO_STORE, order_fields, order_values, refused_page
from web.pages.portal import BASE, PORTAL, portal_context, portal_message, portal_url

NOTICES = {
    "commande": "Commande envoyée au prestataire. Il l'acceptera ou la refusera ici.",
    "annulation": "Commande annulée. Le prestataire en est prévenu.",
}
"""Confirmations of « Mes commandes » after a form, by ``?fait=``."""
FIELD_LABELS = {"start": "Date de début", "end": "Date de fin", "quantity": "Quantité par semaine"}
"""The order form's fields, as the error summary names them."""


def _orders_url(tenant: TenantRecord, subject: uuid.UUID, done_what: str = "") -> str:
    return portal_url(tenant, "/commandes", personne=str(subject), fait=done_what)


def _form_url(tenant: TenantRecord, offer_id: uuid.UUID) -> str:
    return f"/t/{tenant.slug}/mon-dossier/commander/{offer_id}"


# ---------------------------------------------------------------- « Mes commandes »


async def _list_page(
    request: HTMXRequest,
    tenant: TenantRecord,
    actor: Actor,
    runtime: Runtime,
    subject: ManagedPerson,
    people: list[ManagedPerson],
    *,
    notice: str = "",
    error: DomainError | None = None,
) -> Template:
    message = portal_message(error) if error else None
    try:
        orders = await orders_for_person(runtime, actor, subject.id)
    except Forbidden as refused:
        message, orders = f"Les commandes ne vous sont pas accessibles : {refused.detail}.", []
    context = await portal_context(
        request,
        tenant,
        subject,
        people,
        "orders",
        orders=orders,
        units=UNIT_LABELS,
        today=locale.paris_day(runtime.clock()),
        notice=notice,
        services=f"/t/{tenant.slug}/services",
    )
    context["error"] = message
    status = 200 if error is None else (409 if isinstance(error, Conflict) else 422)
    return Template("portal/orders.html", context=context, status_code=status)


@get(BASE + "/commandes", opt=PORTAL, include_in_schema=False, cache_control=NO_STORE)
async def my_orders(
    request: HTMXRequest,
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    personne: FromQuery[str | None] = None,
    fait: FromQuery[str | None] = None,
) -> Template:
    """« Mes commandes »: the person's orders, newest first."""
    subject, people = await choose_person(actor, personne)
    notice = NOTICES.get(fait or "", "")
    return await _list_page(request, tenant, actor, runtime, subject, people, notice=notice)


@post(
    BASE + "/commandes/{order_id:uuid}/annuler",
    opt=PORTAL,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def order_cancel(
    request: HTMXRequest,
    order_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Cancel one order of a person the user manages (404 for any other)."""
    form = await request.form()
    subject, people = await choose_person(actor, form_text(form, "personne"))
    try:
        order = await cancel_order(runtime, actor, order_id)
    except Conflict as error:
        return await _list_page(request, tenant, actor, runtime, subject, people, error=error)
    return done(request, _orders_url(tenant, order.person_id, "annulation"))


# ---------------------------------------------------------------- ordering


async def _form_page(
    request: HTMXRequest,
    tenant: TenantRecord,
    actor: Actor,
    runtime: Runtime,
    offer_id: uuid.UUID,
    subject: ManagedPerson,
    people: list[ManagedPerson],
    *,
    values: dict[str, str] | None = None,
    error: DomainError | None = None,
) -> Template:
    try:
        form = await order_form(runtime, actor, offer_id, subject.id)
    except Forbidden as refused:
        return await refused_page(request, tenant, refused)
    if error is None and form.offer.status != "published":
        raise NotFound("offre introuvable : elle n'existe pas ou n'est pas publiée")
    start = locale.paris_day(runtime.clock()) + dt.timedelta(days=1)
    errors = field_errors(error) if error else {}
    context = await portal_context(
        request,
        tenant,
        subject,
        people,
        "order",
        form=form,
        action_url=_form_url(tenant, offer_id),
        offer_url=f"/t/{tenant.slug}/services/offres/{offer_id}",
        orders_url=_orders_url(tenant, subject.id),
        values=values
        or {"start": start.isoformat(), "end": (start + dt.timedelta(days=27)).isoformat(), "quantity": ""},
        errors=errors,
        field_labels=FIELD_LABELS,
        unit=UNIT_LABELS.get(form.offer.price_unit or "", "unité"),
        status_labels=STATUS_LABELS,
    )
    status = 200
    if isinstance(error, InvalidInput):
        status = 422
    elif isinstance(error, Conflict):
        status = 409
    return Template("portal/order_form.html", context=context, status_code=status)


@get(BASE + "/commander/{offer_id:uuid}", opt=PORTAL, include_in_schema=False, cache_control=NO_STORE)
async def portal_order_page(
    request: HTMXRequest,
    offer_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
    personne: FromQuery[str | None] = None,
) -> Template:
    """The order form of one published offer, for the person shown."""
    subject, people = await choose_person(actor, personne)
    return await _form_page(request, tenant, actor, runtime, offer_id, subject, people)


@post(
    BASE + "/commander/{offer_id:uuid}",
    opt=PORTAL,
    include_in_schema=False,
    status_code=200,
    cache_control=NO_STORE,
)
async def portal_order_create(
    request: HTMXRequest,
    offer_id: FromPath[uuid.UUID],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template | Redirect | ClientRedirect:
    """Place the order; back to « Mes commandes » with a confirmation."""
    form = await request.form()
    subject, people = await choose_person(actor, form_text(form, "personne"))
    values = order_values(form)
    try:
        start, end, quantity = order_fields(values, locale.paris_day(runtime.clock()))
        await place_order(runtime, actor, offer_id, subject.id, start, end, quantity)
    except (InvalidInput, Conflict) as error:
        return await _form_page(
            request, tenant, actor, runtime, offer_id, subject, people, values=values, error=error
        )
    except Forbidden as refused:
        return await refused_page(request, tenant, refused)
    return done(request, _orders_url(tenant, subject.id, "commande"))


PORTAL_ORDER_PAGES: list[Any] = [my_orders, order_cancel, portal_order_page, portal_order_create]
"""The person's and carers' orders of marketplace offers from their portal (pages)."""
