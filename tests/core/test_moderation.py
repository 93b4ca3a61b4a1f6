"""The territory's moderation of marketplace offers through the real database: a suspended offer leaves
the search, its public page, the exports and orders; its provider cannot republish it until the
territory reinstates it; concurrent suspensions; who may moderate; the audit trail and notifications."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import psycopg
import pytest

from core.access.policy import Actor
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.identity.directory import create_organisation
from core.identity.roles import Role
from core.marketplace import datainclusion, hsds
from core.marketplace.exchange import import_offers, importer_for
from core.marketplace.moderation import (
    PAGE_SIZE,
    moderated_offer,
    moderation_queue,
    reinstate_offer,
    suspend_offer,
)
from core.marketplace.offers import OfferInput, create_offer, get_offer, list_offers, set_status, update_offer
from core.marketplace.public import public_offer
from core.marketplace.search import search_offers
from tests.core.test_escalation import member
from tests.core.test_marketplace_orders import Market

ROUNDS = 5
COMMUNE = "40192"


def _input(title: str) -> OfferInput:
    return OfferInput(
        service_type="housekeeping",
        title=title,
        description="Ménage, repassage et courses, deux heures par passage.",
        price_cents=2400,
        price_unit="hour",
        capacity_per_week=10,
        coverage=(COMMUNE,),
    )


class Moderated(Market):
    """The orders' territory (Jeanne, her GP, a home-help provider) plus the territory's moderators."""

    def __init__(self, aio: Any, runtime: Any, tenant: Any) -> None:
        super().__init__(aio, runtime, tenant)
        self.coordinator = self.actor(Role.COORDINATOR, self.dac)
        self.admin = self.actor(Role.TERRITORY_ADMIN, None)

    def published(self, title: str | None = None) -> uuid.UUID:
        """A new offer of the provider, created and published through its console."""
        title = title or f"Aide ménagère {uuid.uuid4().hex[:6]}"
        offer_id = self.aio.run(create_offer(self.runtime, self.staff, _input(title)))
        self.aio.run(set_status(self.runtime, self.staff, offer_id, "published"))
        return offer_id

    def status(self, offer_id: uuid.UUID) -> str:
        async def read() -> str:
            async with tenant_scope(self.tenant.id):
                return str(
                    await scoped_connection().fetchval(
                        "SELECT status FROM service_offer WHERE id = $1", offer_id
                    )
                )

        return self.aio.run(read())

    def found(self, offer_id: uuid.UUID) -> bool:
        """Does the public search (commune and text) list the offer?"""
        results = self.aio.run(search_offers(self.tenant.id, commune=COMMUNE))
        return offer_id in {hit.id for hit in results.hits}

    def exported(self, offer_id: uuid.UUID) -> tuple[bool, bool]:
        """Is the offer in the HSDS export, in the data·inclusion export?"""
        package = self.aio.run(hsds.export_hsds(self.tenant, "https://parcours.example"))
        document = self.aio.run(datainclusion.export_datainclusion(self.tenant, "https://parcours.example"))
        return str(offer_id) in json.dumps(package), str(offer_id) in json.dumps(document)


@pytest.fixture
def market(aio, runtime, make_tenant) -> Moderated:
    return Moderated(aio, runtime, make_tenant(("routing.discharge",)))


def audit_trail(sql_owner: Any, tenant_id: uuid.UUID, offer_id: uuid.UUID) -> list[tuple[str, str, dict]]:
    return [
        (action, acting_for, detail)
        for action, acting_for, detail in sql_owner.execute(
            "SELECT action, acting_for, detail FROM audit_entry WHERE tenant_id = %s AND target_id = %s "
            "ORDER BY seq",
            (tenant_id, str(offer_id)),
        )
    ]


def notifications(sql_owner: Any, user_id: uuid.UUID) -> list[tuple[str, str, str, str]]:
    return sql_owner.execute(
        "SELECT kind, title, body, link FROM notification WHERE recipient_user_id = %s "
        "ORDER BY created_at, id",
        (user_id,),
    ).fetchall()


def test_suspension_hides_the_offer_and_blocks_its_provider_until_reinstated(aio, runtime, market, sql_owner):
    provider_user, _ = member(aio, market.tenant, "provider_staff", market.provider, "Agent du SAAD")
    title = f"Aide ménagère {uuid.uuid4().hex[:6]}"
    offer_id = market.published(title)
    assert market.found(offer_id)
    assert aio.run(public_offer(market.tenant.id, offer_id)) is not None
    assert market.exported(offer_id) == (True, True)

    note = "Le tarif affiché ne correspond pas au devis remis aux familles."
    suspended = aio.run(suspend_offer(runtime, market.coordinator, offer_id, "misleading", note))
    assert (suspended.status, suspended.status_label) == ("suspended", "Suspendue par le territoire")
    assert suspended.reason_label == "Informations trompeuses ou inexactes"

    # Out of everything public: search, its page (as an unpublished one), exports; and no orders.
    assert not market.found(offer_id)
    assert aio.run(public_offer(market.tenant.id, offer_id)) is None
    assert market.exported(offer_id) == (False, False)
    with pytest.raises(Conflict, match="n'est pas publiée"):
        market.order(market.gp, offer_id)

    # The provider sees why, may correct it, but neither publishes nor pauses it.
    seen = aio.run(get_offer(market.staff, offer_id))
    assert (seen.status, seen.moderation_reason_label, seen.moderation_note) == (
        "suspended",
        "Informations trompeuses ou inexactes",
        note,
    )
    assert seen.moderated_at is not None and seen.next_statuses == []
    for wanted in ("published", "paused"):
        with pytest.raises(Conflict) as refused:
            aio.run(set_status(runtime, market.staff, offer_id, wanted))
        assert "suspendue par le territoire" in refused.value.detail
        assert "informations trompeuses ou inexactes" in refused.value.detail
    aio.run(update_offer(runtime, market.staff, offer_id, _input(title + " corrigée")))
    assert market.status(offer_id) == "suspended" and not market.found(offer_id)

    # Its staff are told, without the note.
    [(kind, heading, body, link)] = notifications(sql_owner, provider_user)
    assert kind == "offer.suspended" and title in heading
    assert "Informations trompeuses ou inexactes" in body and note not in body
    assert link == f"/t/{market.tenant.slug}/prestataire"

    reinstated = aio.run(reinstate_offer(runtime, market.admin, offer_id))
    assert reinstated.status == "paused" and reinstated.moderation_reason is None
    assert not market.found(offer_id)  # paused: the provider decides when it comes back
    assert aio.run(get_offer(market.staff, offer_id)).moderation_note == ""
    aio.run(set_status(runtime, market.staff, offer_id, "published"))
    assert market.found(offer_id)
    assert aio.run(public_offer(market.tenant.id, offer_id)) is not None
    market.order(market.gp, offer_id)

    assert [kind for kind, *_ in notifications(sql_owner, provider_user)] == [
        "offer.suspended",
        "offer.reinstated",
    ]
    trail = audit_trail(sql_owner, market.tenant.id, offer_id)
    assert [action for action, _, _ in trail] == [
        "offer.created",
        "offer.published",
        "offer.suspended",
        "offer.updated",
        "offer.reinstated",
        "offer.published",
    ]
    assert trail[2][1] == f"coordinator:{market.dac}"
    assert trail[2][2] == {"from": "published", "reason": "misleading"}
    assert trail[4][1] == "territory_admin:territory_admin"
    assert trail[4][2] == {"from": "suspended", "to": "paused", "reason": "misleading"}


def test_a_paused_offer_can_be_suspended_and_stays_out_of_the_search(aio, runtime, market):
    offer_id = market.published()
    aio.run(set_status(runtime, market.staff, offer_id, "paused"))
    aio.run(suspend_offer(runtime, market.coordinator, offer_id, "duplicate"))
    with pytest.raises(Conflict):
        aio.run(set_status(runtime, market.staff, offer_id, "published"))
    assert market.status(offer_id) == "suspended" and not market.found(offer_id)


def test_two_concurrent_suspensions_exactly_one_succeeds(aio, runtime, market, sql_owner):
    second = market.actor(Role.COORDINATOR, market.dac)
    for _ in range(ROUNDS):
        offer_id = market.published()

        async def race(offer_id: uuid.UUID = offer_id) -> list[Any]:
            results = await asyncio.gather(
                suspend_offer(runtime, market.coordinator, offer_id, "complaint"),
                suspend_offer(runtime, second, offer_id, "out_of_territory"),
                return_exceptions=True,
            )
            return list(results)

        results = aio.run(race())
        assert sorted(type(result).__name__ for result in results) == ["Conflict", "ModeratedOffer"]
        winner = next(result for result in results if not isinstance(result, Exception))
        refusal = next(result for result in results if isinstance(result, Conflict))
        assert "déjà suspendue" in refusal.detail and winner.reason_label.lower() in refusal.detail
        actions = [action for action, _, _ in audit_trail(sql_owner, market.tenant.id, offer_id)]
        assert actions.count("offer.suspended") == 1
        assert (
            aio.run(moderated_offer(market.coordinator, offer_id)).moderation_reason
            == winner.moderation_reason
        )


def test_only_the_territory_moderates(aio, runtime, market, make_tenant, sql_owner):
    offer_id = market.published()
    other_territory = make_tenant()
    strangers = [
        market.staff,  # even its own provider
        market.gp,
        market.actor(Role.SOCIAL_WORKER, None),
        market.actor(Role.FUNDER_AGENT, None),
        market.actor(Role.DPO, None),
        market.actor(Role.PERSON, None),
        Actor(market.coordinator.user_id, False, other_territory.id, None),  # no role there
    ]
    for actor in strangers:
        for attempt in (
            suspend_offer(runtime, actor, offer_id, "misleading"),
            reinstate_offer(runtime, actor, offer_id),
            moderation_queue(actor),
            moderated_offer(actor, offer_id),
        ):
            with pytest.raises(Forbidden):
                aio.run(attempt)
    assert market.status(offer_id) == "published"
    assert [a for a, _, _ in audit_trail(sql_owner, market.tenant.id, offer_id)] == [
        "offer.created",
        "offer.published",
    ]


def test_refusals_change_nothing(aio, runtime, market, make_tenant, sql_owner):
    offer_id = market.published()

    def fields(reason: str, note: str = "") -> set[str]:
        with pytest.raises(InvalidInput) as refused:
            aio.run(suspend_offer(runtime, market.coordinator, offer_id, reason, note))
        return {error.field for error in refused.value.errors}

    assert fields("") == {"reason"}
    assert fields("spam") == {"reason"}
    assert fields("other") == {"note"}  # « Autre motif » says which
    assert fields("misleading", "x" * 501) == {"note"}
    with pytest.raises(Conflict, match="pas suspendue"):
        aio.run(reinstate_offer(runtime, market.coordinator, offer_id))
    with pytest.raises(NotFound):
        aio.run(suspend_offer(runtime, market.coordinator, uuid.uuid4(), "misleading"))
    draft = aio.run(create_offer(runtime, market.staff, _input("Brouillon de ménage")))
    with pytest.raises(Conflict, match="brouillon"):
        aio.run(suspend_offer(runtime, market.coordinator, draft, "misleading"))
    # A coordinator of another territory does not even find it.
    elsewhere = Actor(market.coordinator.user_id, False, make_tenant().id, Role.COORDINATOR)
    for attempt in (
        suspend_offer(runtime, elsewhere, offer_id, "misleading"),
        moderated_offer(elsewhere, offer_id),
    ):
        with pytest.raises(NotFound):
            aio.run(attempt)
    assert offer_id not in {row.id for row in aio.run(moderation_queue(elsewhere)).rows}

    assert market.status(offer_id) == "published" and market.status(draft) == "draft"
    assert market.found(offer_id)
    assert [a for a, _, _ in audit_trail(sql_owner, market.tenant.id, offer_id)] == [
        "offer.created",
        "offer.published",
    ]
    # The database itself refuses a suspension without a reason, and a note too long.
    with pytest.raises(psycopg.errors.CheckViolation, match="service_offer_moderation_check"):
        sql_owner.execute("UPDATE service_offer SET status = 'suspended' WHERE id = %s", (offer_id,))
    aio.run(suspend_offer(runtime, market.coordinator, offer_id, "misleading"))
    with pytest.raises(psycopg.errors.CheckViolation, match="service_offer_moderation_check"):
        sql_owner.execute(
            "UPDATE service_offer SET moderation_note = repeat('x', 501) WHERE id = %s", (offer_id,)
        )
    # … and whatever writes the status alone cannot lift a suspension (only reinstating clears its reason).
    with pytest.raises(psycopg.errors.CheckViolation, match="service_offer_moderation_check"):
        sql_owner.execute("UPDATE service_offer SET status = 'published' WHERE id = %s", (offer_id,))


def test_an_import_cannot_lift_a_suspension(aio, runtime, market):
    """A provider's CSV asking « publiée » for its suspended offer is refused by name, nothing written."""
    title = f"Aide ménagère {uuid.uuid4().hex[:6]}"
    offer_id = market.published(title)
    aio.run(suspend_offer(runtime, market.coordinator, offer_id, "complaint"))
    data = (
        f"id;title;service_type;coverage;statut\n{offer_id};{title};housekeeping;{COMMUNE};publiée\n".encode()
    )
    report = aio.run(import_offers(runtime, importer_for(market.staff), data))
    assert not report.written
    assert [p.message for p in report.problems] == [
        "l'offre est « suspendue par le territoire » : seul le territoire peut lever la suspension"
    ]
    assert market.status(offer_id) == "suspended" and not market.found(offer_id)
    # Without a status, the import edits it like the console: still suspended.
    edit = f"id;title;service_type;coverage\n{offer_id};{title} (corrigée);housekeeping;{COMMUNE}\n".encode()
    report = aio.run(import_offers(runtime, importer_for(market.staff), edit))
    assert report.updated == 1, report.problems
    assert market.status(offer_id) == "suspended" and not market.found(offer_id)


def test_the_queue_lists_every_provider_with_filters_and_pages(aio, runtime, market):
    other_provider = aio.run(
        create_organisation(market.tenant.id, kind="home_help_provider", name="Présence Côte d'Argent")
    ).id
    other_staff = market.actor(Role.PROVIDER_STAFF, other_provider)
    mine = market.published("Portage de repas du Marsan")
    theirs = aio.run(create_offer(runtime, other_staff, _input("Téléassistance océane")))
    aio.run(set_status(runtime, other_staff, theirs, "published"))
    draft = aio.run(create_offer(runtime, other_staff, _input("Garde de nuit (brouillon)")))
    aio.run(suspend_offer(runtime, market.coordinator, theirs, "unauthorised", "Agrément SAAD expiré."))

    listed = aio.run(moderation_queue(market.coordinator))
    assert {row.id for row in listed.rows} == {mine, theirs}  # drafts are not public yet
    row = next(row for row in listed.rows if row.id == theirs)
    assert (row.provider_name, row.status_label, row.reason_label, row.moderation_note) == (
        "Présence Côte d'Argent",
        "Suspendue par le territoire",
        "Activité non autorisée (agrément ou autorisation manquant)",
        "Agrément SAAD expiré.",
    )
    assert row.moderated_at is not None and row.moderated_by_label and not row.can_suspend
    assert listed.rows[0].id == theirs  # most recently changed first

    assert [r.id for r in aio.run(moderation_queue(market.coordinator, "suspended")).rows] == [theirs]
    assert [r.id for r in aio.run(moderation_queue(market.coordinator, "draft")).rows] == [draft]
    assert [r.id for r in aio.run(moderation_queue(market.admin, query="cote d'argent")).rows] == [theirs]
    assert [r.id for r in aio.run(moderation_queue(market.admin, query="MARSAN")).rows] == [mine]
    assert aio.run(moderation_queue(market.admin, query="100%_")).total == 0
    with pytest.raises(InvalidInput):
        aio.run(moderation_queue(market.admin, "deleted"))

    async def many() -> None:
        async with tenant_scope(market.tenant.id):
            await scoped_connection().executemany(
                "INSERT INTO service_offer (id, tenant_id, provider_organisation_id, service_type, "
                "type_label, title, status) VALUES ($1, $2, $3, 'housekeeping', 'Ménage', $4, 'paused')",
                [
                    (uuid.uuid4(), market.tenant.id, market.provider, f"Offre {i:02d}")
                    for i in range(PAGE_SIZE)
                ],
            )

    aio.run(many())
    first = aio.run(moderation_queue(market.coordinator))
    second = aio.run(moderation_queue(market.coordinator, page=2))
    assert (first.total, first.pages, len(first.rows), len(second.rows)) == (PAGE_SIZE + 2, 2, PAGE_SIZE, 2)
    assert not {r.id for r in first.rows} & {r.id for r in second.rows}
    assert aio.run(list_offers(other_staff))[0].status == "suspended"
