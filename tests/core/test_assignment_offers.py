"""Routing picks a provider among the marketplace's offers, through the real database.

A marketplace target (a service type) goes to the provider of a published offer of that type covering
the person's commune (listed or its whole département) with capacity left, a suggested funding
programme first, then the shortest lead time and the lowest price; a provider of the person's care
team that publishes such an offer keeps it; with no such offer, the directory kind, then the
coordinators, as before.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import locale
from core.access.policy import Actor
from core.audit.trail import Actor as AuditActor
from core.consent.care_team import add_member
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.events.model import Target
from core.identity.directory import create_organisation
from core.identity.roles import Role
from core.marketplace.moderation import suspend_offer
from core.marketplace.offers import OfferInput, create_offer, set_status
from core.marketplace.orders import HOLDING, place_order
from core.proposals.assignment import Assignee, AssigneeKind, resolve
from tests.core.test_proposals import Territory

COMMUNE = "40192"
"""The person's commune (Mont-de-Marsan); 40088 is Dax, in the same département."""


class Market(Territory):
    """Jeanne (in 40192, her GP practice in her care team), a nursing practice, a DAC, and the
    providers each test creates with their offers (through the provider console's services)."""

    def provider(self, name: str, kind: str = "home_help_provider") -> tuple[uuid.UUID, Actor]:
        organisation = self.aio.run(
            create_organisation(self.tenant.id, kind=kind, name=f"{name} {uuid.uuid4().hex[:4]}")
        ).id
        return organisation, self.actor(Role.PROVIDER_STAFF, organisation)

    def offer(self, staff: Actor, title: str, status: str = "published", **fields: Any) -> uuid.UUID:
        if fields.get("price_cents") is not None:
            fields.setdefault("price_unit", "hour")
        data = OfferInput(
            service_type=fields.pop("service_type", "home_help"),
            title=title,
            coverage=fields.pop("coverage", (COMMUNE,)),
            **fields,
        )
        offer_id = self.aio.run(create_offer(self.runtime, staff, data))
        if status in ("published", "paused", "suspended"):
            self.aio.run(set_status(self.runtime, staff, offer_id, "published"))
        if status == "paused":
            self.aio.run(set_status(self.runtime, staff, offer_id, "paused"))
        if status == "suspended":
            coordinator = self.actor(Role.COORDINATOR, self.dac)
            self.aio.run(suspend_offer(self.runtime, coordinator, offer_id, "complaint"))
        return offer_id

    def join_care_team(self, organisation: uuid.UUID) -> None:
        async def add() -> None:
            async with tenant_scope(self.tenant.id):
                await add_member(
                    self.person_id,
                    role=Role.PROVIDER_STAFF,
                    function="aide à domicile",
                    by=AuditActor.system(),
                    organisation_id=organisation,
                )

        self.aio.run(add())

    def book(self, offer_id: uuid.UUID, quantity: int, *, in_days: int = 0) -> uuid.UUID:
        """An order of ``quantity`` per week for four weeks from today (+ ``in_days``), by the GP."""
        start = locale.paris_day(self.runtime.clock()) + dt.timedelta(days=in_days)
        gp = self.actor(Role.PROFESSIONAL, self.gp_practice)
        return self.aio.run(
            place_order(
                self.runtime, gp, offer_id, self.person_id, start, start + dt.timedelta(days=27), quantity
            )
        )

    def resolve(self, service_type: str = "home_help", programmes: tuple[str, ...] = ()) -> Assignee:
        async def run() -> Assignee:
            async with tenant_scope(self.tenant.id):
                return await resolve(
                    Target.marketplace(service_type),
                    self.person_id,
                    commune=COMMUNE,
                    programmes=programmes,
                    today=locale.paris_day(self.runtime.clock()),
                )

        return self.aio.run(run())

    def routed(self, action_type: str = "home_help_assessment") -> tuple[dict[str, Any], str]:
        """Route a discharge; the proposal of ``action_type`` and its first history line's holder."""
        proposal = self.discharge()[action_type]
        return self.row(proposal), self.history(proposal)[0]["to_assignee"]


@pytest.fixture
def market(aio, runtime, make_tenant) -> Market:
    return Market(aio, runtime, make_tenant(("routing.discharge",)))


def test_the_offer_covering_the_commune_wins_over_a_faster_cheaper_one_elsewhere(market):
    dax, dax_staff = market.provider("SAAD de Dax")
    mdm, mdm_staff = market.provider("SAAD du Marsan")
    market.offer(dax_staff, "Aide à domicile — Dax", coverage=("40088",), lead_time_days=0, price_cents=100)
    chosen = market.offer(mdm_staff, "Aide à domicile — Marsan", lead_time_days=2, price_cents=2700)
    proposal, holder = market.routed()
    assert (proposal["assignee_kind"], proposal["assignee_organisation_id"]) == ("organisation", mdm)
    assert holder.endswith(" — offre « Aide à domicile — Marsan » : couvre la commune, délai 2 jours")
    assert market.resolve().offer_id == chosen
    # Two home-help providers: without the offers the coordinators would have had to choose.
    assert dax != mdm


def test_an_offer_covering_the_whole_departement_counts_another_departement_does_not(market):
    _, gironde_staff = market.provider("SAAD girondin")
    landes, landes_staff = market.provider("SAAD landais")
    market.offer(gironde_staff, "Aide à domicile — Gironde", coverage=("33",), lead_time_days=0)
    market.offer(landes_staff, "Aide à domicile — Landes", coverage=("40",), lead_time_days=4)
    chosen = market.resolve()
    assert chosen.organisation_id == landes
    assert chosen.note == "offre « Aide à domicile — Landes » : couvre le département 40, délai 4 jours"


def test_draft_paused_and_suspended_offers_are_never_chosen(market):
    market.provider("SAAD brouillon")  # a second home-help provider: the directory cannot decide
    for status in ("draft", "paused", "suspended"):
        _, staff = market.provider(f"SAAD {status}")
        market.offer(staff, f"Aide à domicile {status}", status=status, lead_time_days=0, price_cents=1)
    fallback = market.resolve()
    assert (fallback.kind, fallback.value, fallback.offer_id) == ("role", "coordinator", None)
    assert fallback.note == (
        "aucune offre publiée ne couvre la commune : plusieurs structures possibles (home_help) : "
        "à attribuer par la coordination"
    )
    published, staff = market.provider("SAAD publié")
    market.offer(staff, "Aide à domicile publiée", lead_time_days=10, price_cents=9000)
    assert market.resolve().organisation_id == published


def test_an_offer_accepting_a_suggested_programme_wins_over_a_faster_one(market):
    fast, fast_staff = market.provider("SAAD rapide")
    funded, funded_staff = market.provider("SAAD ARDH")
    market.offer(fast_staff, "Aide à domicile express", lead_time_days=0, accepted_programmes=("apa",))
    market.offer(funded_staff, "Aide à domicile ARDH", lead_time_days=2, accepted_programmes=("apa", "ardh"))
    chosen = market.resolve(programmes=("ardh",))
    assert chosen.organisation_id == funded
    assert chosen.note == "offre « Aide à domicile ARDH » : couvre la commune, accepte ARDH, délai 2 jours"
    # Without a programme (or one both accept) the faster one wins; lead time before price.
    assert market.resolve().organisation_id == fast
    assert market.resolve(programmes=("apa",)).organisation_id == fast


def test_the_lowest_price_breaks_a_tie_on_lead_time_then_the_title(market):
    dear, dear_staff = market.provider("SAAD cher")
    cheap, cheap_staff = market.provider("SAAD économique")
    on_request, request_staff = market.provider("SAAD sur devis")
    market.offer(request_staff, "A — sur demande", lead_time_days=1)
    market.offer(dear_staff, "B — 30 €", lead_time_days=1, price_cents=3000, price_unit="hour")
    market.offer(cheap_staff, "C — 20 €", lead_time_days=1, price_cents=2000, price_unit="hour")
    assert market.resolve().organisation_id == cheap
    assert dear != on_request


def test_an_offer_without_capacity_left_this_week_is_skipped(market):
    full, full_staff = market.provider("SAAD complet")
    free, free_staff = market.provider("SAAD disponible")
    booked = market.offer(full_staff, "Aide à domicile complète", lead_time_days=0, capacity_per_week=3)
    market.book(booked, 2)
    assert market.resolve().organisation_id == full  # 1 unit left this week
    market.book(booked, 1)
    market.offer(free_staff, "Aide à domicile disponible", lead_time_days=5, capacity_per_week=None)
    assert market.resolve().organisation_id == free
    # Orders that do not overlap today do not hold this week's capacity.
    later, later_staff = market.provider("SAAD plus tard")
    next_month = market.offer(later_staff, "Aide à domicile — réservée plus tard", capacity_per_week=1)
    market.book(next_month, 1, in_days=30)
    chosen = market.resolve()
    assert chosen.organisation_id == later
    assert chosen.note == "offre « Aide à domicile — réservée plus tard » : couvre la commune, sans délai"


def test_when_every_covering_offer_is_full_the_fallback_says_so(market):
    only, staff = market.provider("SAAD unique")
    booked = market.offer(staff, "Aide à domicile", capacity_per_week=1)
    market.book(booked, 1)
    proposal, holder = market.routed()
    assert proposal["assignee_organisation_id"] == only  # the only one of the kind, as before
    assert holder.endswith(
        " — les offres publiées couvrant la commune sont complètes cette semaine : "
        "seule structure de ce type sur le territoire"
    )


def test_a_provider_of_the_care_team_keeps_the_action(market):
    usual, usual_staff = market.provider("SAAD habituel")
    _, better_staff = market.provider("SAAD concurrent")
    booked = market.offer(
        usual_staff, "Aide à domicile habituelle", lead_time_days=7, price_cents=4000, capacity_per_week=1
    )
    market.book(booked, 1)  # full: continuity of care comes first
    market.offer(better_staff, "Aide à domicile rapide", lead_time_days=0, price_cents=1000)
    market.join_care_team(usual)
    proposal, holder = market.routed()
    assert proposal["assignee_organisation_id"] == usual
    assert holder.endswith(" — déjà intervenant auprès de la personne, offre « Aide à domicile habituelle »")


def test_a_care_team_provider_without_a_covering_offer_does_not_keep_it(market):
    usual, usual_staff = market.provider("SAAD habituel")
    other, other_staff = market.provider("SAAD voisin")
    market.offer(usual_staff, "Aide à domicile — Dax", coverage=("40088",))
    market.offer(usual_staff, "Aide ménagère", service_type="housekeeping")  # another type
    market.offer(other_staff, "Aide à domicile — Marsan", lead_time_days=3)
    market.join_care_team(usual)
    assert market.resolve().organisation_id == other


def test_without_offers_routing_falls_back_to_the_directory_and_the_coordinators(market):
    nurse, holder = market.routed("nurse_visit")
    assert nurse["assignee_organisation_id"] == market.nurses
    assert holder.endswith(
        " — aucune offre publiée ne couvre la commune : seule structure de ce type sur le territoire"
    )
    help_row = market.row(market.discharge()["home_help_assessment"])
    assert (help_row["assignee_kind"], help_row["assignee"]) == ("role", "coordinator")
    assert market.resolve().note == (
        "aucune offre publiée ne couvre la commune : aucune structure de ce type dans l'annuaire "
        "(home_help) : à attribuer par la coordination"
    )
    assert market.resolve("meals").note == (
        "aucune offre publiée ne couvre la commune : prestataire à choisir (meals), "
        "à attribuer par la coordination"
    )


def test_an_offer_of_the_nurses_sends_the_visit_to_them_and_the_history_names_it(market):
    other, other_staff = market.provider("IDEL des Arènes", kind="nursing_practice")
    market.offer(other_staff, "Soins infirmiers à domicile", service_type="home_nursing")
    nurse, holder = market.routed("nurse_visit")
    assert nurse["assignee_organisation_id"] == other  # not the directory's first nursing practice
    assert holder.endswith(" — offre « Soins infirmiers à domicile » : couvre la commune, sans délai")


def test_without_a_commune_no_offer_is_considered(aio, market):
    _, staff = market.provider("SAAD")
    market.offer(staff, "Aide à domicile")

    async def run() -> Assignee:
        async with tenant_scope(market.tenant.id):
            return await resolve(Target.marketplace("home_help"), market.person_id)

    found = aio.run(run())
    assert found.offer_id is None and found.note is not None
    assert found.note.startswith("commune de la personne inconnue : ")


# ---------------------------------------------------------------- property


class Rollback(Exception):
    """Raised to undo one example's offers, orders and care team (the scope rolls back)."""


@dataclass(frozen=True)
class Drawn:
    provider: int
    service_type: str
    status: str
    coverage: str
    lead_time_days: int
    price_cents: int | None
    capacity: int | None
    programmes: tuple[str, ...]
    booked: int
    booked_status: str
    booked_now: bool


OFFERS = st.builds(
    Drawn,
    provider=st.integers(0, 3),
    service_type=st.sampled_from(["home_help", "home_help", "home_help", "housekeeping"]),
    status=st.sampled_from(["published", "published", "published", "draft", "paused", "suspended"]),
    coverage=st.sampled_from([COMMUNE, COMMUNE, "40", "40088", "33"]),
    lead_time_days=st.integers(0, 2),
    price_cents=st.one_of(st.none(), st.integers(1000, 1002)),
    capacity=st.one_of(st.none(), st.integers(0, 2)),
    programmes=st.lists(st.sampled_from(["ardh", "apa"]), unique=True, max_size=2).map(tuple),
    booked=st.integers(0, 2),
    booked_status=st.sampled_from(["requested", "accepted", "declined", "cancelled"]),
    booked_now=st.booleans(),
)


@pytest.fixture
def providers(market) -> list[uuid.UUID]:
    """Four home-help providers, created once for all the examples of a property."""
    return [market.provider(f"SAAD {n}")[0] for n in range(4)]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    drawn=st.lists(OFFERS, max_size=8),
    team=st.sets(st.integers(0, 3), max_size=2),
    programmes=st.sampled_from([(), ("ardh",), ("apa", "ardh")]),
)
def test_the_chosen_provider_publishes_a_fitting_offer_else_the_fallback_is_used(
    aio, market, providers, drawn, team, programmes
):
    """Whatever the offers: the holder is the provider of the best published home-help offer covering
    the commune (care team first, then with room, programme, lead time, price, title), else the
    directory's fallback, never an offer's provider."""
    today = locale.paris_day(market.runtime.clock())
    offers = [(uuid.uuid4(), f"Offre {n:02d}", item) for n, item in enumerate(drawn)]

    def fits(item: Drawn) -> bool:
        return (
            item.status == "published"
            and item.service_type == "home_help"
            and item.coverage in (COMMUNE, "40")
        )

    def has_room(item: Drawn) -> bool:
        taken = item.booked if item.booked_now and item.booked_status in HOLDING else 0
        return item.capacity is None or taken < item.capacity

    def rank(offer: tuple[uuid.UUID, str, Drawn]) -> tuple[Any, ...]:
        _, title, item = offer
        return (
            item.provider not in team,
            not set(item.programmes) & set(programmes),
            item.lead_time_days,
            item.price_cents is None,
            item.price_cents or 0,
            title,
        )

    eligible = [
        offer for offer in offers if fits(offer[2]) and (offer[2].provider in team or has_room(offer[2]))
    ]

    async def run() -> Assignee:
        assignee: Assignee | None = None
        try:
            async with tenant_scope(market.tenant.id):
                connection = scoped_connection()
                for offer_id, title, item in offers:
                    await connection.execute(
                        "INSERT INTO service_offer (id, tenant_id, provider_organisation_id, service_type, "
                        "type_label, title, price_cents, price_unit, capacity_per_week, lead_time_days, "
                        "accepted_programmes, status, moderation_reason, moderated_at) VALUES ($1, $2, $3, "
                        "$4, '', $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                        offer_id,
                        market.tenant.id,
                        providers[item.provider],
                        item.service_type,
                        title,
                        item.price_cents,
                        "hour" if item.price_cents is not None else None,
                        item.capacity,
                        item.lead_time_days,
                        list(item.programmes),
                        item.status,
                        "complaint" if item.status == "suspended" else None,
                        market.runtime.clock() if item.status == "suspended" else None,
                    )
                    listed = item.coverage if len(item.coverage) == 5 else None
                    await connection.execute(
                        "INSERT INTO offer_coverage (id, tenant_id, offer_id, commune_insee, departement) "
                        "VALUES ($1, $2, $3, $4, $5)",
                        uuid.uuid4(),
                        market.tenant.id,
                        offer_id,
                        listed,
                        None if listed else item.coverage,
                    )
                    if item.booked:
                        start = today if item.booked_now else today + dt.timedelta(days=8)
                        await connection.execute(
                            "INSERT INTO service_order (id, tenant_id, offer_id, person_id, "
                            "ordered_by_label, start_date, end_date, quantity, status, status_reason, "
                            "decided_at) VALUES ($1, $2, $3, $4, 'test', $5, $6, $7, $8, $9, $10)",
                            uuid.uuid4(),
                            market.tenant.id,
                            offer_id,
                            market.person_id,
                            start,
                            start + dt.timedelta(days=6),
                            item.booked,
                            item.booked_status,
                            "no_capacity" if item.booked_status == "declined" else None,
                            None if item.booked_status == "requested" else market.runtime.clock(),
                        )
                for member in team:
                    await connection.execute(
                        "INSERT INTO care_team_member (id, tenant_id, person_id, member_organisation_id, "
                        "role, function, since) "
                        "VALUES ($1, $2, $3, $4, 'provider_staff', 'aide à domicile', now())",
                        uuid.uuid4(),
                        market.tenant.id,
                        market.person_id,
                        providers[member],
                    )
                assignee = await resolve(
                    Target.marketplace("home_help"),
                    market.person_id,
                    commune=COMMUNE,
                    programmes=programmes,
                    today=today,
                )
                raise Rollback
        except Rollback:
            pass
        assert assignee is not None
        return assignee

    assignee = aio.run(run())
    if eligible:
        best_id, best_title, best = min(eligible, key=rank)
        assert assignee.offer_id == best_id, (assignee, best_title)
        assert assignee.organisation_id == providers[best.provider]
        assert assignee.kind == AssigneeKind.ORGANISATION
        assert any(
            fits(item) and providers[item.provider] == assignee.organisation_id for _, _, item in offers
        )
        assert assignee.note is not None and best_title in assignee.note
    else:
        assert assignee.offer_id is None
        assert assignee.note is not None
        covering = any(fits(item) for _, _, item in offers)
        expected = (
            "les offres publiées couvrant la commune sont complètes cette semaine : "
            if covering
            else "aucune offre publiée ne couvre la commune : "
        )
        assert assignee.note.startswith(expected), assignee.note
        # Four home-help providers, none in the team: the fallback is the coordinators'; a team member
        # of the kind is kept by the directory's rule.
        if team:
            assert assignee.organisation_id in {providers[m] for m in team}
        else:
            assert (assignee.kind, assignee.value) == (AssigneeKind.ROLE, Role.COORDINATOR.value)
