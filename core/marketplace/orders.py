"""Orders (bookings) of marketplace offers for a person, and the provider's decision on them.

Who may order: the person (own file), a carer with an active carer link, or a professional whom
consent allows to write the person's administrative data, for the purpose their role works for
(``purpose_for``: care coordination for the care team, where the presumption applies; service
delivery for a provider's staff; funding instruction for a funder). The consent decision
(``require``) is audited in a transaction of its own, so a refusal is kept even though nothing is
ordered.

Capacity under concurrency: an offer's ``capacity_per_week`` is the number of units (hours, meals,
visits…) per week it can deliver. Placing an order locks the offer row (``SELECT … FOR UPDATE``),
then sums the weekly quantity of the offer's ``requested`` and ``accepted`` orders whose period
overlaps the new one: two people booking the last slot at once are serialised by the lock, and the
second finds the slot taken (``Conflict``). Null capacity means unlimited. The check is
conservative: every overlapping order counts, whatever the week.

A provider's staff (``organisation_id`` the offer's provider) accept or decline (coded reason) a
requested order; the row is locked and its status re-read, so of two decisions the second gets a
``Conflict``. The provider's list carries no identity of the person (showing it needs a consent
ground of its own): the order, its period, quantity and the person's commune. So an order the person
or a carer places or cancels names them « la personne elle-même » or « un aidant de la personne »,
never by name.

Cancelling (``cancel_order``): the person, a carer with an active link, or the user who placed the
order (a professional still allowed by consent to write the person's administrative data) cancels
it; anyone else is told the order does not exist (``NotFound``). A ``requested`` order may be
cancelled until the provider answers; an ``accepted`` one until the day before its start, since the
provider has planned it but not yet delivered anything; once started, stopping it is agreed with the
provider under its own terms (``Conflict``). The row is locked and its status re-read, like a
decision, so a cancellation and a decision never both pass. A cancelled order no longer holds
capacity; the provider's staff are notified in the application (the offer, the period, the quantity:
no personal data).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from core import locale
from core.access.policy import Actor
from core.audit.trail import Outcome, Record, append
from core.consent.access import audit_actor, ensure_person, require
from core.consent.model import Action, DataCategory
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from core.identity.roles import Role
from core.marketplace.search import UNIT_LABELS
from core.notifications.service import notify, users_of_organisation
from core.proposals.queries import purpose_for
from core.proposals.service import Acting, set_carrier
from core.runtime import Runtime

MAX_WEEKS = 104
MAX_QUANTITY = 1000
NO_CAPACITY = "Plus de disponibilité sur cette période"
HOLDING = ("requested", "accepted")
"""Statuses that hold capacity."""
STATUS_LABELS = {
    "requested": "Demandée",
    "accepted": "Acceptée",
    "declined": "Refusée",
    "cancelled": "Annulée",
    "completed": "Réalisée",
}
DECLINE_REASONS = {
    "no_capacity": "Plus de disponibilité",
    "out_of_area": "Hors de notre zone d'intervention",
    "not_suitable": "Prestation inadaptée à la demande",
    "other": "Autre motif",
}
PORTAL_LABELS = {Role.PERSON: "la personne elle-même", Role.CARER: "un aidant de la personne"}
"""How an order names the person or a carer who placed or cancelled it (the provider reads it)."""


@dataclass(frozen=True)
class Order:
    """One order as its lists show it (no identity of the person)."""

    id: uuid.UUID
    offer_id: uuid.UUID
    offer_title: str
    provider_name: str
    person_id: uuid.UUID
    commune_insee: str
    ordered_by_label: str
    proposal_id: uuid.UUID | None
    start_date: dt.date
    end_date: dt.date
    quantity: int
    price_unit: str | None
    status: str
    status_reason: str | None
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by_label: str | None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def reason_label(self) -> str:
        return DECLINE_REASONS.get(self.status_reason or "", self.status_reason or "")

    @property
    def period_text(self) -> str:
        return f"du {locale.day(self.start_date)} au {locale.day(self.end_date)}"

    def cancellable(self, today: dt.date) -> bool:
        """Whether it may still be cancelled on ``today`` (Paris day): requested, or accepted and not
        yet started."""
        return _cancellable(self.status, self.start_date, today)


def _cancellable(status: str, start: dt.date, today: dt.date) -> bool:
    return status == "requested" or (status == "accepted" and start > today)


_SELECT = (
    "SELECT o.*, f.title AS offer_title, f.price_unit, g.name AS provider_name, "
    "p.commune_insee FROM service_order o "
    "JOIN service_offer f ON f.id = o.offer_id "
    "JOIN organisation g ON g.id = f.provider_organisation_id "
    "JOIN person p ON p.id = o.person_id "
)


def _order(row: asyncpg.Record) -> Order:
    return Order(
        id=row["id"],
        offer_id=row["offer_id"],
        offer_title=row["offer_title"],
        provider_name=row["provider_name"],
        person_id=row["person_id"],
        commune_insee=row["commune_insee"],
        ordered_by_label=row["ordered_by_label"],
        proposal_id=row["proposal_id"],
        start_date=row["start_date"],
        end_date=row["end_date"],
        quantity=row["quantity"],
        price_unit=row["price_unit"],
        status=row["status"],
        status_reason=row["status_reason"],
        created_at=row["created_at"],
        decided_at=row["decided_at"],
        decided_by_label=row["decided_by_label"],
    )


def validate(start: dt.date | None, end: dt.date | None, quantity: int | None, today: dt.date) -> None:
    """Field errors of an order's period and quantity (``InvalidInput``)."""
    errors = []
    if start is None:
        errors.append(FieldError("start", "indiquez la date de début"))
    elif start < today:
        errors.append(FieldError("start", "la date de début est passée"))
    if end is None:
        errors.append(FieldError("end", "indiquez la date de fin"))
    elif start is not None and end < start:
        errors.append(FieldError("end", "la date de fin précède la date de début"))
    elif start is not None and (end - start).days > MAX_WEEKS * 7:
        errors.append(FieldError("end", f"au plus {MAX_WEEKS} semaines"))
    if quantity is None or quantity <= 0:
        errors.append(FieldError("quantity", "indiquez une quantité par semaine (au moins 1)"))
    elif quantity > MAX_QUANTITY:
        errors.append(FieldError("quantity", f"au plus {MAX_QUANTITY} par semaine"))
    if errors:
        raise InvalidInput("commande incomplète", errors)


async def _carer_of(actor: Actor, person_id: uuid.UUID) -> bool:
    if actor.person_id is None:
        return False
    found = await scoped_connection().fetchval(
        "SELECT 1 FROM carer_link WHERE person_id = $1 AND carer_id = $2 AND revoked_at IS NULL "
        "AND granted_at <= now()",
        person_id,
        actor.person_id,
    )
    return found is not None


async def _authorise(runtime: Runtime, actor: Actor, person_id: uuid.UUID) -> None:
    """The person themselves, their carer, or consent for a professional (``AccessDenied``)."""
    assert actor.tenant_id is not None
    if actor.role is Role.CARER:
        async with tenant_scope(actor.tenant_id):
            await ensure_person(person_id)
            if not await _carer_of(actor, person_id):
                await append(
                    Record(
                        audit_actor(actor),
                        "order.place",
                        Outcome.DENIED,
                        "person",
                        str(person_id),
                        {"reason": "aucun lien d'aidant en cours avec cette personne"},
                    )
                )
                denied = True
            else:
                denied = False
        if denied:
            raise Forbidden("aucun lien d'aidant en cours avec cette personne")
        return
    purpose = purpose_for(actor.role)
    category = DataCategory.ADMINISTRATIVE
    await require(runtime, actor, person_id, category, Action.WRITE, purpose, access="order")


async def _label(actor: Actor) -> str:
    if actor.role in PORTAL_LABELS:
        return PORTAL_LABELS[actor.role]
    name = await scoped_connection().fetchval(
        "SELECT display_name FROM user_account WHERE id = $1", actor.user_id
    )
    if actor.organisation_id is not None:
        organisation = await scoped_connection().fetchval(
            "SELECT name FROM organisation WHERE id = $1", actor.organisation_id
        )
        if organisation:
            return f"{name or 'utilisateur'}, {organisation}"[:200]
    return str(name or "utilisateur")[:200]


async def place_order(
    runtime: Runtime,
    actor: Actor,
    offer_id: uuid.UUID,
    person_id: uuid.UUID,
    start: dt.date | None,
    end: dt.date | None,
    quantity: int | None,
    proposal_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Order ``quantity`` units per week of the offer for the person from ``start`` to ``end``
    (inclusive); return the order's id. ``Conflict`` when the offer has no capacity left."""
    if actor.tenant_id is None or actor.role is None:
        raise Forbidden("aucun rôle dans ce territoire")
    validate(start, end, quantity, locale.paris_day(runtime.clock()))
    assert start is not None and end is not None and quantity is not None
    await _authorise(runtime, actor, person_id)
    async with tenant_scope(actor.tenant_id):
        connection = scoped_connection()
        offer = await connection.fetchrow(
            "SELECT id, provider_organisation_id, status, capacity_per_week, title FROM service_offer "
            "WHERE id = $1 FOR UPDATE",
            offer_id,
        )
        if offer is None:
            raise NotFound("offre introuvable dans ce territoire")
        if offer["status"] != "published":
            raise Conflict("cette offre n'est pas publiée : elle ne peut pas être commandée")
        capacity = offer["capacity_per_week"]
        if capacity is not None:
            taken = await connection.fetchval(
                "SELECT coalesce(sum(quantity), 0) FROM service_order WHERE offer_id = $1 "
                "AND status = ANY($2::text[]) AND start_date <= $4 AND end_date >= $3",
                offer_id,
                list(HOLDING),
                start,
                end,
            )
            if taken + quantity > capacity:
                left = max(capacity - taken, 0)
                raise Conflict(f"{NO_CAPACITY} (reste {left} par semaine sur {capacity})")
        label = await _label(actor)
        order_id = uuid.uuid4()
        await connection.execute(
            "INSERT INTO service_order (id, tenant_id, offer_id, person_id, ordered_by_user_id, "
            "ordered_by_label, proposal_id, start_date, end_date, quantity, status, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'requested', $11)",
            order_id,
            actor.tenant_id,
            offer_id,
            person_id,
            actor.user_id,
            label,
            proposal_id,
            start,
            end,
            quantity,
            runtime.clock(),
        )
        await append(
            Record(
                audit_actor(actor),
                "order.place",
                Outcome.SUCCESS,
                "service_order",
                str(order_id),
                {
                    "offer_id": str(offer_id),
                    "person_id": str(person_id),
                    "proposal_id": str(proposal_id or ""),
                    "quantity": str(quantity),
                },
            )
        )
        if proposal_id is not None:
            # Same transaction (the nested scope joins it): no order without its carrier, nor back.
            on_file = await connection.fetchval(
                "SELECT person_id FROM action_proposal WHERE id = $1", proposal_id
            )
            if on_file != person_id:
                wrong = FieldError("proposal", "cette action concerne une autre personne")
                raise InvalidInput("action sans rapport", [wrong])
            await set_carrier(
                runtime,
                actor.tenant_id,
                proposal_id,
                Acting.user(actor, label),
                organisation_id=offer["provider_organisation_id"],
            )
    return order_id


async def decide_order(
    runtime: Runtime, actor: Actor, order_id: uuid.UUID, accept: bool, reason: str | None = None
) -> Order:
    """The provider accepts or declines (coded ``reason``) a requested order; return it updated."""
    if actor.tenant_id is None:
        raise Forbidden("aucun rôle dans ce territoire")
    if not accept and reason not in DECLINE_REASONS:
        raise InvalidInput("motif requis", [FieldError("reason", "choisissez un motif dans la liste")])
    async with tenant_scope(actor.tenant_id):
        connection = scoped_connection()
        row = await connection.fetchrow(
            "SELECT o.*, f.provider_organisation_id FROM service_order o "
            "JOIN service_offer f ON f.id = o.offer_id WHERE o.id = $1 FOR UPDATE OF o",
            order_id,
        )
        if row is None:
            raise NotFound("commande introuvable dans ce territoire")
        if actor.organisation_id is None or actor.organisation_id != row["provider_organisation_id"]:
            raise Forbidden("cette commande est adressée à une autre structure")
        if row["status"] != "requested":
            when = locale.when(row["decided_at"]) if row["decided_at"] else ""
            raise Conflict(
                f"Impossible : commande déjà {STATUS_LABELS[row['status']].lower()}"
                f" par {row['decided_by_label']} ({when})"
            )
        status = "accepted" if accept else "declined"
        label = await _label(actor)
        await connection.execute(
            "UPDATE service_order SET status = $2, status_reason = $3, decided_at = $4, "
            "decided_by_label = $5 WHERE id = $1",
            order_id,
            status,
            None if accept else reason,
            runtime.clock(),
            label,
        )
        await append(
            Record(
                audit_actor(actor),
                "order.accept" if accept else "order.decline",
                Outcome.SUCCESS,
                "service_order",
                str(order_id),
                {"offer_id": str(row["offer_id"]), **({} if accept else {"reason": str(reason)})},
            )
        )
        found = await connection.fetchrow(_SELECT + "WHERE o.id = $1", order_id)
    return _order(found)


async def cancel_order(runtime: Runtime, actor: Actor, order_id: uuid.UUID) -> Order:
    """The person, their carer or whoever placed it cancels an order still ``requested`` (or
    ``accepted`` and not yet started); return it updated. ``NotFound`` for anyone else."""
    if actor.tenant_id is None or actor.role is None:
        raise Forbidden("aucun rôle dans ce territoire")
    async with tenant_scope(actor.tenant_id):
        known = await scoped_connection().fetchrow(
            "SELECT o.person_id, o.ordered_by_user_id, f.provider_organisation_id FROM service_order o "
            "JOIN service_offer f ON f.id = o.offer_id WHERE o.id = $1",
            order_id,
        )
        if known is None:
            mine = False
        elif actor.role is Role.PERSON:
            mine = actor.person_id == known["person_id"]
        elif actor.role is Role.CARER:
            mine = await _carer_of(actor, known["person_id"])
        else:
            mine = known["ordered_by_user_id"] == actor.user_id
    if known is None or not mine:
        raise NotFound("commande introuvable dans ce territoire")
    await _authorise(runtime, actor, known["person_id"])
    today = locale.paris_day(runtime.clock())
    async with tenant_scope(actor.tenant_id):
        connection = scoped_connection()
        row = await connection.fetchrow(_SELECT + "WHERE o.id = $1 FOR UPDATE OF o", order_id)
        current = _order(row)
        if not current.cancellable(today):
            if current.status == "accepted":
                raise Conflict(
                    f"Impossible : la prestation a commencé le {locale.day(current.start_date)} ; "
                    f"pour l'arrêter, contactez {current.provider_name}"
                )
            when = locale.when(current.decided_at) if current.decided_at else ""
            raise Conflict(
                f"Impossible : commande déjà {current.status_label.lower()}"
                f" par {current.decided_by_label} ({when})"
            )
        label = await _label(actor)
        await connection.execute(
            "UPDATE service_order SET status = 'cancelled', status_reason = NULL, decided_at = $2, "
            "decided_by_label = $3 WHERE id = $1",
            order_id,
            runtime.clock(),
            label,
        )
        await append(
            Record(
                audit_actor(actor),
                "order.cancelled",
                Outcome.SUCCESS,
                "service_order",
                str(order_id),
                {"offer_id": str(current.offer_id), "from": current.status},
            )
        )
        slug = await connection.fetchval(
            "SELECT slug FROM tenant WHERE id = current_setting('app.tenant_id')::uuid"
        )
        unit = UNIT_LABELS.get(current.price_unit or "", "unité")
        await notify(
            await users_of_organisation(known["provider_organisation_id"]),
            "order.cancelled",
            f"Commande annulée : {current.offer_title}"[:200],
            f"La commande {current.period_text}, {current.quantity} ({unit}) par semaine, a été annulée "
            f"par {label}. La capacité qu'elle réservait est de nouveau disponible.",
            f"/t/{slug}/prestataire/commandes#commande-{order_id}",
        )
        found = await connection.fetchrow(_SELECT + "WHERE o.id = $1", order_id)
    return _order(found)


async def orders_for_provider(actor: Actor, status: str | None = None) -> list[Order]:
    """The orders of the actor's organisation's offers, newest first (requested ones first)."""
    if actor.tenant_id is None or actor.organisation_id is None:
        raise Forbidden("réservé au personnel d'un prestataire")
    async with tenant_scope(actor.tenant_id):
        rows = await scoped_connection().fetch(
            _SELECT + "WHERE f.provider_organisation_id = $1 AND ($2::text IS NULL OR o.status = $2) "
            "ORDER BY (o.status = 'requested') DESC, o.created_at DESC LIMIT 500",
            actor.organisation_id,
            status,
        )
    return [_order(row) for row in rows]


async def orders_for_person(runtime: Runtime, actor: Actor, person_id: uuid.UUID) -> list[Order]:
    """The person's orders, newest first: a read of their administrative data (consent, audited)."""
    assert actor.tenant_id is not None
    await require(
        runtime,
        actor,
        person_id,
        DataCategory.ADMINISTRATIVE,
        Action.READ,
        purpose_for(actor.role),
        access="orders",
    )
    async with tenant_scope(actor.tenant_id):
        rows = await scoped_connection().fetch(
            _SELECT + "WHERE o.person_id = $1 ORDER BY o.created_at DESC LIMIT 500", person_id
        )
    return [_order(row) for row in rows]


@dataclass(frozen=True)
class OfferSummary:
    """What the order form shows of the offer (public information)."""

    id: uuid.UUID
    title: str
    provider_name: str
    status: str
    capacity_per_week: int | None
    price_unit: str | None


@dataclass(frozen=True)
class OrderForm:
    offer: OfferSummary
    person_label: str
    orders: list[Order]
    """The person's orders of this offer, newest first."""


async def order_form(runtime: Runtime, actor: Actor, offer_id: uuid.UUID, person_id: uuid.UUID) -> OrderForm:
    """The offer, the person's name and their orders of it: a read of the person's administrative
    data (consent, audited; ``AccessDenied`` when refused)."""
    orders = await orders_for_person(runtime, actor, person_id)
    assert actor.tenant_id is not None
    async with tenant_scope(actor.tenant_id):
        connection = scoped_connection()
        offer = await connection.fetchrow(
            "SELECT f.id, f.title, f.status, f.capacity_per_week, f.price_unit, g.name AS provider_name "
            "FROM service_offer f JOIN organisation g ON g.id = f.provider_organisation_id WHERE f.id = $1",
            offer_id,
        )
        person = await connection.fetchrow(
            "SELECT given_names, family_name FROM person WHERE id = $1", person_id
        )
    if offer is None:
        raise NotFound("offre introuvable dans ce territoire")
    summary = OfferSummary(
        offer["id"],
        offer["title"],
        offer["provider_name"],
        offer["status"],
        offer["capacity_per_week"],
        offer["price_unit"],
    )
    label = f"{person['given_names']} {person['family_name']}" if person else ""
    return OrderForm(summary, label, [o for o in orders if o.offer_id == offer_id])
