"""Orders of marketplace offers through the real database: capacity under concurrency, who may order
and decide, the routed action's carrier."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import replace
from typing import Any

import pytest

from core.consent.access import AccessDenied
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Conflict, Forbidden, InvalidInput
from core.identity.directory import create_organisation
from core.identity.roles import Role
from core.marketplace.orders import (
    NO_CAPACITY,
    decide_order,
    orders_for_person,
    orders_for_provider,
    place_order,
)
from tests.core.test_proposals import Territory

ROUNDS = 5


class Market(Territory):
    """The proposals' territory (Jeanne, her GP practice) plus a home-help provider."""

    def __init__(self, aio: Any, runtime: Any, tenant: Any) -> None:
        super().__init__(aio, runtime, tenant)
        self.provider = aio.run(
            create_organisation(tenant.id, kind="home_help_provider", name=f"SAAD {uuid.uuid4().hex[:6]}")
        ).id
        self.gp = self.actor(Role.PROFESSIONAL, self.gp_practice)
        self.staff = self.actor(Role.PROVIDER_STAFF, self.provider)

    def offer(self, capacity: int | None, status: str = "published") -> uuid.UUID:
        async def create() -> uuid.UUID:
            offer_id = uuid.uuid4()
            async with tenant_scope(self.tenant.id):
                await scoped_connection().execute(
                    "INSERT INTO service_offer (id, tenant_id, provider_organisation_id, service_type, "
                    "type_label, title, capacity_per_week, status, price_cents, price_unit) "
                    "VALUES ($1, $2, $3, 'housekeeping', 'Aide ménagère', 'Aide ménagère', $4, $5, "
                    "2500, 'hour')",
                    offer_id,
                    self.tenant.id,
                    self.provider,
                    capacity,
                    status,
                )
            return offer_id

        return self.aio.run(create())

    def order(self, actor: Any, offer_id: uuid.UUID, quantity: int = 1, **extra: Any) -> uuid.UUID:
        start = self.runtime.clock().date() + dt.timedelta(days=7)
        return self.aio.run(
            place_order(
                self.runtime,
                actor,
                offer_id,
                self.person_id,
                start,
                start + dt.timedelta(days=27),
                quantity,
                **extra,
            )
        )

    def count(self, offer_id: uuid.UUID) -> int:
        async def read() -> int:
            async with tenant_scope(self.tenant.id):
                return int(
                    await scoped_connection().fetchval(
                        "SELECT count(*) FROM service_order WHERE offer_id = $1", offer_id
                    )
                )

        return self.aio.run(read())


@pytest.fixture
def market(aio, runtime, make_tenant) -> Market:
    return Market(aio, runtime, make_tenant(("routing.discharge",)))


def test_two_concurrent_bookings_of_the_last_slot_exactly_one_succeeds(aio, runtime, market):
    second_gp = market.actor(Role.PROFESSIONAL, market.gp_practice)
    start = runtime.clock().date() + dt.timedelta(days=7)
    end = start + dt.timedelta(days=13)
    for _ in range(ROUNDS):
        offer = market.offer(capacity=3)
        market.order(market.gp, offer, quantity=2)

        async def race(offer_id: uuid.UUID = offer) -> list[Any]:
            return await asyncio.gather(
                place_order(runtime, market.gp, offer_id, market.person_id, start, end, 1),
                place_order(runtime, second_gp, offer_id, market.person_id, start, end, 1),
                return_exceptions=True,
            )

        results = aio.run(race())
        assert sorted(type(result).__name__ for result in results) == ["Conflict", "UUID"]
        refusal = next(result for result in results if isinstance(result, Conflict))
        assert NO_CAPACITY in str(refusal)
        assert market.count(offer) == 2


def test_capacity_counts_only_overlapping_holding_orders_and_null_is_unlimited(aio, runtime, market):
    offer = market.offer(capacity=2)
    first = market.order(market.gp, offer, quantity=2)
    later = runtime.clock().date() + dt.timedelta(days=60)
    aio.run(place_order(runtime, market.gp, offer, market.person_id, later, later, 2))
    with pytest.raises(Conflict, match="reste 0 par semaine sur 2"):
        market.order(market.gp, offer)
    aio.run(decide_order(runtime, market.staff, first, accept=False, reason="no_capacity"))
    market.order(market.gp, offer)
    unlimited = market.offer(capacity=None)
    market.order(market.gp, unlimited, quantity=500)


def test_an_unpublished_offer_cannot_be_ordered_and_inputs_are_checked(runtime, market):
    with pytest.raises(Conflict, match="pas publiée"):
        market.order(market.gp, market.offer(capacity=None, status="draft"))
    with pytest.raises(InvalidInput) as refused:
        market.order(market.gp, market.offer(capacity=None), quantity=0)
    assert [error.field for error in refused.value.errors] == ["quantity"]


def test_a_professional_without_grounds_is_refused_and_the_refusal_is_audited(aio, market, sql_owner):
    stranger_practice = aio.run(
        create_organisation(market.tenant.id, kind="gp_practice", name=f"Autre {uuid.uuid4().hex[:6]}")
    ).id
    stranger = market.actor(Role.PROFESSIONAL, stranger_practice)
    offer = market.offer(capacity=None)
    with pytest.raises(AccessDenied):
        market.order(stranger, offer)
    assert market.count(offer) == 0
    denied = sql_owner.execute(
        "SELECT count(*) FROM audit_entry WHERE tenant_id = %s AND actor_id = %s AND outcome = 'denied'",
        (market.tenant.id, str(stranger.user_id)),
    ).fetchone()
    assert denied is not None and denied[0] == 1


def test_the_person_orders_for_herself_and_the_provider_decides_once(aio, runtime, market):
    person = replace(market.actor(Role.PERSON, None), person_id=market.person_id)
    offer = market.offer(capacity=None)
    order_id = market.order(person, offer)
    other_provider = aio.run(
        create_organisation(market.tenant.id, kind="home_help_provider", name=f"Autre {uuid.uuid4().hex[:6]}")
    ).id
    with pytest.raises(Forbidden, match="autre structure"):
        aio.run(decide_order(runtime, market.actor(Role.PROVIDER_STAFF, other_provider), order_id, True))
    with pytest.raises(InvalidInput):
        aio.run(decide_order(runtime, market.staff, order_id, accept=False, reason="because"))
    accepted = aio.run(decide_order(runtime, market.staff, order_id, accept=True))
    assert accepted.status == "accepted" and accepted.decided_by_label
    with pytest.raises(Conflict, match="déjà acceptée"):
        aio.run(decide_order(runtime, market.staff, order_id, accept=False, reason="other"))
    assert [o.id for o in aio.run(orders_for_provider(market.staff))] == [order_id]
    assert [o.id for o in aio.run(orders_for_person(runtime, market.gp, market.person_id))] == [order_id]


def test_an_order_for_a_routed_action_records_the_provider_as_its_carrier(market):
    proposal = market.discharge()["gp_follow_up_call"]
    offer = market.offer(capacity=None)
    market.order(market.gp, offer, proposal_id=proposal)
    row = market.row(proposal)
    assert row["carrier_organisation_id"] == market.provider
    assert [line["kind"] for line in market.history(proposal)][-1] == "carrier"
