"""The marketplace search on a real database: published offers covering the commune, French text
with accents and typos, validation of the filters."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import InvalidInput
from core.marketplace.search import departement_of, search_offers
from core.marketplace.taxonomy import label_of, load_taxonomy, taxonomy, types_for_action
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from tenants.onboarding import onboard_territory
from tests.support.loop import LoopThread

ROUTING_SERVICE_TYPES = {
    "home_help",
    "home_nursing",
    "pharmacy_delivery",
    "respite",
    "remote_alarm",
    "home_adaptation",
}


@dataclass(frozen=True)
class Market:
    tenant: TenantRecord
    offers: dict[str, uuid.UUID]
    """Title → id."""


async def _offer(
    tenant: TenantRecord,
    provider: uuid.UUID,
    service_type: str,
    title: str,
    *,
    price: int | None = None,
    unit: str | None = None,
    status: str = "published",
    communes: tuple[str, ...] = (),
    departements: tuple[str, ...] = (),
    programmes: tuple[str, ...] = (),
    description: str = "",
    lead: int = 2,
) -> uuid.UUID:
    connection = scoped_connection()
    offer_id = uuid.uuid4()
    await connection.execute(
        "INSERT INTO service_offer (id, tenant_id, provider_organisation_id, service_type, type_label, "
        "title, description, price_cents, price_unit, accepted_programmes, languages, status, "
        "lead_time_days, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '{fr}', $11, $12, now(), now())",
        offer_id,
        tenant.id,
        provider,
        service_type,
        label_of(service_type),
        title,
        description,
        price,
        unit,
        list(programmes),
        status,
        lead,
    )
    for commune in communes:
        await connection.execute(
            "INSERT INTO offer_coverage (id, tenant_id, offer_id, commune_insee) VALUES ($1, $2, $3, $4)",
            uuid.uuid4(),
            tenant.id,
            offer_id,
            commune,
        )
    for departement in departements:
        await connection.execute(
            "INSERT INTO offer_coverage (id, tenant_id, offer_id, departement) VALUES ($1, $2, $3, $4)",
            uuid.uuid4(),
            tenant.id,
            offer_id,
            departement,
        )
    return offer_id


async def _market(runtime: Runtime) -> Market:
    slug = "m-" + uuid.uuid4().hex[:10]
    tenant = await onboard_territory(runtime.plugins, slug, f"Marché {slug}", ["40"], [])
    offers = {}
    async with tenant_scope(tenant.id):
        provider = uuid.uuid4()
        await scoped_connection().execute(
            "INSERT INTO organisation (id, tenant_id, kind, name, is_demo, created_at) "
            "VALUES ($1, $2, 'home_help_provider', 'Aide Landes test', false, $3)",
            provider,
            tenant.id,
            dt.datetime.now(dt.UTC),
        )
        offers["Aide ménagère"] = await _offer(
            tenant, provider, "housekeeping", "Aide ménagère", price=2500, unit="hour", departements=("40",)
        )
        offers["Portage de repas"] = await _offer(
            tenant,
            provider,
            "meals_on_wheels",
            "Portage de repas",
            price=1050,
            unit="meal",
            communes=("40192",),
            programmes=("apa",),
        )
        offers["Portage de repas Dax"] = await _offer(
            tenant,
            provider,
            "meals_on_wheels",
            "Portage de repas Dax",
            price=900,
            unit="meal",
            communes=("40088",),
            lead=5,
        )
        offers["Garde de nuit"] = await _offer(
            tenant, provider, "night_care", "Garde de nuit", status="draft", departements=("40",)
        )
        offers["Téléassistance paused"] = await _offer(
            tenant, provider, "remote_alarm", "Téléassistance", status="paused", departements=("40",)
        )
        offers["Soins infirmiers Ajaccio"] = await _offer(
            tenant, provider, "home_nursing", "Soins infirmiers à domicile", departements=("2A",)
        )
    return Market(tenant, offers)


@pytest.fixture(scope="module")
def market(aio: LoopThread, runtime: Runtime) -> Market:
    return aio.run(_market(runtime))


def titles(aio: LoopThread, market: Market, **kwargs: Any) -> list[str]:
    return [hit.title for hit in aio.run(search_offers(market.tenant.id, **kwargs)).hits]


def test_taxonomy_covers_the_routing_service_types():
    codes = set(taxonomy())
    assert codes >= ROUTING_SERVICE_TYPES
    assert len(codes) >= 15
    for code in ROUTING_SERVICE_TYPES:
        assert types_for_action(code), code
    for item in load_taxonomy():
        assert item.label and item.description and item.thematiques
        assert set(item.action_service_types) <= ROUTING_SERVICE_TYPES, item.code


def test_departement_of_a_commune():
    assert departement_of("40192") == "40"
    assert departement_of("2A004") == "2A"
    assert departement_of("97411") == "974"


def test_accents_and_typos_still_find_the_offer(aio, market):
    assert titles(aio, market, query="aide menagere", commune="40192")[0] == "Aide ménagère"
    assert titles(aio, market, query="AIDE MÉNAGÈRE")[0] == "Aide ménagère"
    assert titles(aio, market, query="portage de repa", commune="40192") == ["Portage de repas"]
    assert titles(aio, market, query="repas", commune="40192") == ["Portage de repas"]


def test_only_published_offers_covering_the_commune(aio, market):
    found = titles(aio, market, commune="40192")
    assert sorted(found) == ["Aide ménagère", "Portage de repas"]  # no draft, no paused, no Dax-only
    assert sorted(titles(aio, market, commune="40088")) == ["Aide ménagère", "Portage de repas Dax"]
    assert titles(aio, market, commune="2A004") == ["Soins infirmiers à domicile"]
    assert titles(aio, market, query="garde de nuit") == []
    assert titles(aio, market, query="teleassistance") == []


def test_filters_and_price_order(aio, market):
    assert titles(aio, market, service_type="meals_on_wheels") == ["Portage de repas Dax", "Portage de repas"]
    assert titles(aio, market, programme="apa") == ["Portage de repas"]
    assert titles(aio, market, max_price_cents=1000) == ["Portage de repas Dax"]
    results = aio.run(search_offers(market.tenant.id, commune="40192"))
    assert results.total == 2 and results.pages == 1
    hit = next(h for h in results.hits if h.title == "Aide ménagère")
    assert hit.price_text == "25,00\u00a0€ / heure"
    assert hit.provider_name == "Aide Landes test"
    assert hit.type_label == "Ménage et entretien du logement"


def test_available_within_a_lead_time_and_a_price_range(aio, market):
    assert titles(aio, market, service_type="meals_on_wheels", within_days=2) == ["Portage de repas"]
    assert titles(aio, market, service_type="meals_on_wheels", within_days=5) == [
        "Portage de repas Dax",
        "Portage de repas",
    ]
    assert titles(aio, market, service_type="meals_on_wheels", within_days=0) == []
    assert titles(aio, market, min_price_cents=1000, max_price_cents=2000) == ["Portage de repas"]
    assert titles(aio, market, min_price_cents=2000) == ["Aide ménagère"]  # « prix sur demande » excluded


def test_sorted_by_relevance_price_or_lead_time(aio, market):
    meals = {"service_type": "meals_on_wheels"}
    assert titles(aio, market, query="repas dax", **meals)[0] == "Portage de repas Dax"  # best match first
    assert titles(aio, market, query="repas dax", sort="price", **meals) == [
        "Portage de repas Dax",  # 9,00 €
        "Portage de repas",  # 10,50 €
    ]
    assert titles(aio, market, query="repas dax", sort="lead_time", **meals) == [
        "Portage de repas",  # 2 days
        "Portage de repas Dax",  # 5 days
    ]
    everything = titles(aio, market, sort="price")
    assert everything[-1] == "Soins infirmiers à domicile"  # no price: last


def test_another_tenant_sees_none_of_these_offers(aio, runtime, market):
    other = aio.run(onboard_territory(runtime.plugins, "m-" + uuid.uuid4().hex[:10], "Autre", ["40"], []))
    assert aio.run(search_offers(other.id, query="aide menagere")).hits == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"commune": "4019"}, "commune"),
        ({"commune": "40192 OR 1=1"}, "commune"),
        ({"commune": "2C123"}, "commune"),
        ({"service_type": "nope"}, "type"),
        ({"programme": "Robert'); DROP"}, "programme"),
        ({"max_price_cents": -1}, "prix_max"),
        ({"page": 0}, "page"),
        ({"min_price_cents": 3000, "max_price_cents": 1000}, "prix_min"),
        ({"within_days": -1}, "delai"),
        ({"sort": "random()"}, "tri"),
    ],
)
def test_bad_input_is_refused_with_the_field(aio, market, kwargs, field):
    with pytest.raises(InvalidInput) as refused:
        aio.run(search_offers(market.tenant.id, **kwargs))
    assert [error.field for error in refused.value.errors] == [field]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300), commune=st.sampled_from(["40192", "40088", "2A004", "75056"]))
def test_any_text_never_raises_and_returns_only_published_covering_offers(aio, market, text, commune):
    published_covering = {
        "40192": {"Aide ménagère", "Portage de repas"},
        "40088": {"Aide ménagère", "Portage de repas Dax"},
        "2A004": {"Soins infirmiers à domicile"},
        "75056": set(),
    }[commune]
    assert set(titles(aio, market, query=text, commune=commune)) <= published_covering
