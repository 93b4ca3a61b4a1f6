"""Offers of providers and where they are delivered (tenant tables).

The full-text ``search_vector`` column (generated, ``french`` configuration over the unaccented
title, service type label and description) is added by a raw migration: Piccolo has no tsvector.
"""

from __future__ import annotations

from piccolo.columns import UUID, Array, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db.engine import DB
from core.events.tables import ActionProposal
from core.identity.accounts_tables import UserAccount
from core.identity.directory_tables import Organisation
from core.identity.tables import Person


class ServiceOffer(Table, db=DB, tablename="service_offer"):
    """A service a provider organisation offers: type, price, capacity, who may fund it."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    provider = ForeignKey(
        Organisation, null=False, on_delete=OnDelete.restrict, db_column_name="provider_organisation_id"
    )
    service_type = Varchar(length=40, null=False)
    """A code of :mod:`core.marketplace.taxonomy`."""
    type_label = Varchar(length=200, null=False, default="")
    """The type's French label when saved (searched with the title)."""
    title = Varchar(length=200, null=False)
    description = Text(null=False, default="")
    price_cents = Integer(null=True, default=None)
    currency = Varchar(length=3, null=False, default="EUR")
    price_unit = Varchar(length=10, null=True, default=None)
    """``hour``, ``meal``, ``month``, ``visit`` or ``flat``."""
    capacity_per_week = Integer(null=True, default=None)
    lead_time_days = Integer(null=False, default=0)
    opening_hours = Text(null=True, default=None)
    accepted_programmes = Array(Varchar(length=60), null=False, default=list)
    languages = Array(Varchar(length=10), null=False, default=list)
    accessibility = Text(null=True, default=None)
    status = Varchar(length=10, null=False, default="draft")
    """``draft``, ``published``, ``paused`` or ``suspended`` (by the territory, see moderation)."""
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class OfferCoverage(Table, db=DB, tablename="offer_coverage"):
    """Where an offer is delivered: one commune (INSEE code) or one whole département."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    offer = ForeignKey(ServiceOffer, null=False, on_delete=OnDelete.cascade, db_column_name="offer_id")
    commune_insee = Varchar(length=5, null=True, default=None)
    departement = Varchar(length=3, null=True, default=None)


class ServiceOrder(Table, db=DB, tablename="service_order"):
    """An order (booking) of an offer for a person: units per week over a period, decided by the provider.

    Status: ``requested`` → ``accepted`` / ``declined`` (coded reason) → ``cancelled`` / ``completed``.
    ``requested`` and ``accepted`` orders hold capacity.
    """

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    offer = ForeignKey(ServiceOffer, null=False, on_delete=OnDelete.restrict, db_column_name="offer_id")
    person = ForeignKey(Person, null=False, on_delete=OnDelete.restrict, db_column_name="person_id")
    ordered_by_user = ForeignKey(
        UserAccount, null=True, on_delete=OnDelete.restrict, db_column_name="ordered_by_user_id"
    )
    ordered_by_label = Varchar(length=200, null=False)
    proposal = ForeignKey(
        ActionProposal, null=True, on_delete=OnDelete.restrict, db_column_name="proposal_id"
    )
    """The routed action this order carries out, if any."""
    start_date = Date(null=False)
    end_date = Date(null=False)
    """Inclusive."""
    quantity = Integer(null=False)
    """Units per week (hours, meals, visits…), counted against the offer's weekly capacity."""
    status = Varchar(length=12, null=False, default="requested")
    status_reason = Varchar(length=40, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)
    decided_by_label = Varchar(length=200, null=True, default=None)
