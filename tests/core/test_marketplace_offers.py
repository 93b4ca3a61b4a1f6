"""The provider console's rules: input checks, status moves, one organisation's offers only."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from core.access.policy import Actor
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.identity.roles import Role
from core.marketplace.offers import (
    OfferInput,
    create_offer,
    get_offer,
    list_offers,
    set_status,
    split_codes,
    update_offer,
)
from core.marketplace.search import search_offers
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from tests.support.loop import LoopThread

GOOD = OfferInput(
    service_type="housekeeping",
    title="  Aide   ménagère ",
    price_cents=2500,
    price_unit="hour",
    languages=("FR", "oc"),
    coverage=("40192", "2a004", "40"),
)


def _fields(data: OfferInput) -> set[str]:
    with pytest.raises(InvalidInput) as refused:
        data.checked()
    return {error.field for error in refused.value.errors}


def test_checked_normalises():
    clean = GOOD.checked()
    assert clean.title == "Aide ménagère"
    assert clean.languages == ("fr", "oc")
    assert clean.communes == ("40192", "2A004") and clean.departements == ("40",)
    assert OfferInput("shopping", "Courses", price_unit="hour", coverage=("40",)).checked().price_unit is None
    assert split_codes(" 40192,40088 ;\n40 ") == ("40192", "40088", "40")


def test_checked_names_every_wrong_field():
    bad = OfferInput(
        service_type="unknown",
        title="ab",
        description="x" * 2001,
        price_cents=-1,
        price_unit=None,
        capacity_per_week=-2,
        lead_time_days=91,
        accepted_programmes=tuple(f"p{i}" for i in range(11)),
        languages=("xx",),
        coverage=(),
    )
    assert _fields(bad) == {
        "service_type",
        "title",
        "description",
        "price",
        "price_unit",
        "capacity_per_week",
        "lead_time_days",
        "accepted_programmes",
        "languages",
        "coverage",
    }
    for code in ("4O192", "20", "00", "977", "401920"):
        assert _fields(OfferInput("shopping", "Courses", coverage=(code,))) == {"coverage"}, code


async def _setup(tenant: TenantRecord) -> tuple[Actor, Actor]:
    actors = []
    async with tenant_scope(tenant.id):
        for name in ("SAAD A", "SAAD B"):
            organisation_id = uuid.uuid4()
            await scoped_connection().execute(
                "INSERT INTO organisation (id, tenant_id, kind, name, is_demo, created_at) "
                "VALUES ($1, $2, 'home_help_provider', $3, false, $4)",
                organisation_id,
                tenant.id,
                name,
                dt.datetime.now(dt.UTC),
            )
            actors.append(
                Actor(
                    user_id=uuid.uuid4(),
                    is_platform_admin=False,
                    tenant_id=tenant.id,
                    role=Role.PROVIDER_STAFF,
                    organisation_id=organisation_id,
                )
            )
    return actors[0], actors[1]


def test_moves_and_ownership(aio: LoopThread, runtime: Runtime, tenant: TenantRecord):
    mine, theirs = aio.run(_setup(tenant))
    offer_id = aio.run(create_offer(runtime, mine, GOOD))
    offer = aio.run(get_offer(mine, offer_id))
    assert offer.status == "draft" and offer.type_label == "Ménage et entretien du logement"
    assert offer.next_statuses == ["published"]

    with pytest.raises(Conflict):
        aio.run(set_status(runtime, mine, offer_id, "paused"))  # a draft is not paused
    with pytest.raises(InvalidInput):
        aio.run(set_status(runtime, mine, offer_id, "draft"))
    assert aio.run(search_offers(tenant.id, commune="40192")).total == 0

    assert aio.run(set_status(runtime, mine, offer_id, "published")) == "published"
    with pytest.raises(Conflict):
        aio.run(set_status(runtime, mine, offer_id, "published"))
    assert aio.run(search_offers(tenant.id, commune="40500")).total == 1  # the whole département 40
    aio.run(set_status(runtime, mine, offer_id, "paused"))
    assert aio.run(search_offers(tenant.id, commune="40192")).total == 0
    aio.run(set_status(runtime, mine, offer_id, "published"))

    aio.run(update_offer(runtime, mine, offer_id, OfferInput("shopping", "Courses", coverage=("64",))))
    offer = aio.run(get_offer(mine, offer_id))
    assert (offer.status, offer.type_label, offer.coverage) == ("published", "Courses", ("64",))

    for attempt in (
        get_offer(theirs, offer_id),
        set_status(runtime, theirs, offer_id, "paused"),
        update_offer(runtime, theirs, offer_id, GOOD),
    ):
        with pytest.raises(NotFound):
            aio.run(attempt)
    assert aio.run(list_offers(theirs)) == []
    assert [o.id for o in aio.run(list_offers(mine))] == [offer_id]

    professional = Actor(uuid.uuid4(), False, tenant.id, Role.PROFESSIONAL, organisation_id=uuid.uuid4())
    with pytest.raises(Forbidden):
        aio.run(list_offers(professional))
