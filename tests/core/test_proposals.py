"""The proposal lifecycle through the real database: moves, races, reassignment, links, care team."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.access.policy import Actor
from core.audit.trail import Actor as AuditActor
from core.consent.care_team import add_member
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Conflict, Forbidden, Gone, InvalidInput, NotFound
from core.events.intake import receive_event
from core.events.routing import route_event
from core.events.schemas import EventIn
from core.identity.accounts import upsert_account
from core.identity.directory import create_organisation
from core.identity.nir import Nir
from core.identity.people import PersonIdentity, upsert_person
from core.identity.roles import Role
from core.proposals import links
from core.proposals.lifecycle import CLOSED, MOVES, OPEN, Move, Status, allowed_moves, target_of
from core.proposals.service import Acting, move, reassign
from tests.factories import discharge, nir

# ---------------------------------------------------------------- pure rules


@given(st.lists(st.sampled_from(list(Move)), max_size=12))
def test_any_sequence_of_moves_follows_the_task_statuses(moves):
    """From « requested », a move applies only from its sources; closed statuses accept no move but none."""
    status = Status.REQUESTED
    for what in moves:
        target = target_of(what, status)
        if status in CLOSED:
            assert target is None
        if target is None:
            assert what not in allowed_moves(status)
            continue
        assert status in MOVES[what][0]
        status = target
    assert status in set(Status)


def test_closed_statuses_are_final_and_open_ones_can_be_cancelled():
    for status in CLOSED:
        assert allowed_moves(status) == []
    for status in OPEN:
        assert Move.CANCEL in allowed_moves(status)


# ---------------------------------------------------------------- through the database


def account(aio: Any, name: str) -> uuid.UUID:
    return aio.run(upsert_account("https://idp.test", f"{name}-{uuid.uuid4().hex[:8]}", None, name)).id


class Territory:
    """A tenant with a GP practice in the person's care team, a nursing practice and a DAC."""

    def __init__(self, aio: Any, runtime: Any, tenant: Any) -> None:
        self.aio, self.runtime, self.tenant = aio, runtime, tenant
        name = uuid.uuid4().hex[:6]
        self.gp_practice = aio.run(
            create_organisation(tenant.id, kind="gp_practice", name=f"Cabinet {name}")
        ).id
        self.nurses = aio.run(create_organisation(tenant.id, kind="nursing_practice", name=f"IDEL {name}")).id
        self.dac = aio.run(create_organisation(tenant.id, kind="coordination_service", name=f"DAC {name}")).id
        self.ins = nir(f"2420240192{uuid.uuid4().int % 900 + 100:03d}")
        identity = PersonIdentity(
            Nir.parse(self.ins), "Lafitte", "Jeanne", dt.date(1942, 2, 14), "40192", True
        )

        async def person() -> uuid.UUID:
            async with tenant_scope(tenant.id):
                person_id = await upsert_person(identity, runtime.keyring, runtime.vault)
                await add_member(
                    person_id,
                    role=Role.PROFESSIONAL,
                    function="médecin traitant",
                    by=AuditActor.system(),
                    organisation_id=self.gp_practice,
                )
                return person_id

        self.person_id = aio.run(person())

    def actor(self, role: Role, organisation: uuid.UUID | None) -> Actor:
        return Actor(account(self.aio, role.value), False, self.tenant.id, role, None, organisation)

    def discharge(self) -> dict[str, uuid.UUID]:
        """Declare and route a discharge; return action type → proposal id."""
        body = msgspec.convert(discharge(ins=self.ins), EventIn)

        async def run() -> dict[str, uuid.UUID]:
            received = await receive_event(
                self.tenant.id,
                body,
                uuid.uuid4().hex,
                "test",
                self.runtime.keyring,
                self.runtime.vault,
                self.runtime.clock(),
            )
            async with tenant_scope(self.tenant.id):
                await route_event(self.runtime, received.event_id)
                rows = await scoped_connection().fetch(
                    "SELECT id, action_type FROM action_proposal WHERE event_id = $1", received.event_id
                )
            return {row["action_type"]: row["id"] for row in rows}

        return self.aio.run(run())

    def row(self, proposal_id: uuid.UUID) -> dict[str, Any]:
        async def read() -> dict[str, Any]:
            async with tenant_scope(self.tenant.id):
                return dict(
                    await scoped_connection().fetchrow(
                        "SELECT * FROM action_proposal WHERE id = $1", proposal_id
                    )
                )

        return self.aio.run(read())

    def history(self, proposal_id: uuid.UUID) -> list[dict[str, Any]]:
        async def read() -> list[dict[str, Any]]:
            async with tenant_scope(self.tenant.id):
                rows = await scoped_connection().fetch(
                    "SELECT * FROM proposal_history WHERE proposal_id = $1 ORDER BY at, id", proposal_id
                )
                return [dict(row) for row in rows]

        return self.aio.run(read())


@pytest.fixture
def territory(aio, runtime, make_tenant) -> Territory:
    return Territory(aio, runtime, make_tenant(("routing.discharge",)))


def test_routing_assigns_to_the_care_team_and_the_only_provider_of_a_kind(territory):
    proposals = territory.discharge()
    gp_call = territory.row(proposals["gp_follow_up_call"])
    assert (gp_call["assignee_kind"], gp_call["assignee_organisation_id"]) == (
        "organisation",
        territory.gp_practice,
    )
    nurse = territory.row(proposals["nurse_visit"])
    assert nurse["assignee_organisation_id"] == territory.nurses
    created = territory.history(proposals["nurse_visit"])
    assert [line["kind"] for line in created] == ["created"]
    assert "seule structure" in created[0]["to_assignee"]


def test_two_nurses_accepting_at_once_one_wins_the_other_is_told_who(aio, runtime, territory):
    proposal = territory.discharge()["nurse_visit"]
    first = territory.actor(Role.PROFESSIONAL, territory.nurses)
    second = territory.actor(Role.PROFESSIONAL, territory.nurses)

    async def race() -> list[Any]:
        return await asyncio.gather(
            move(
                runtime, territory.tenant.id, proposal, Move.ACCEPT, Acting.user(first, "Inès L."), version=0
            ),
            move(
                runtime, territory.tenant.id, proposal, Move.ACCEPT, Acting.user(second, "Paul B."), version=0
            ),
            return_exceptions=True,
        )

    results = aio.run(race())
    assert sorted(type(result).__name__ for result in results) == ["Conflict", "Status"]
    refusal = next(result for result in results if isinstance(result, Conflict))
    assert "acceptée" in str(refusal) and ("Inès L." in str(refusal) or "Paul B." in str(refusal))
    row = territory.row(proposal)
    assert row["status"] == "accepted" and row["version"] == 1
    assert [line["to_status"] for line in territory.history(proposal)] == ["requested", "accepted"]


def test_a_stale_version_is_refused_rather_than_overwritten(aio, runtime, territory):
    proposal = territory.discharge()["nurse_visit"]
    nurse = Acting.user(territory.actor(Role.PROFESSIONAL, territory.nurses), "Inès L.")
    aio.run(move(runtime, territory.tenant.id, proposal, Move.ACKNOWLEDGE, nurse, version=0))
    with pytest.raises(Conflict, match="modifiée entre-temps"):
        aio.run(move(runtime, territory.tenant.id, proposal, Move.ACCEPT, nurse, version=0))


def test_only_holders_and_coordinators_act_and_a_refusal_needs_a_coded_reason(aio, runtime, territory):
    proposal = territory.discharge()["nurse_visit"]
    stranger = Acting.user(territory.actor(Role.PROFESSIONAL, territory.gp_practice), "Dr X")
    with pytest.raises(Forbidden):
        aio.run(move(runtime, territory.tenant.id, proposal, Move.ACCEPT, stranger))
    nurse = Acting.user(territory.actor(Role.PROFESSIONAL, territory.nurses), "Inès L.")
    with pytest.raises(InvalidInput):
        aio.run(move(runtime, territory.tenant.id, proposal, Move.REJECT, nurse))
    with pytest.raises(InvalidInput):
        aio.run(move(runtime, territory.tenant.id, proposal, Move.REJECT, nurse, reason_code="other"))
    aio.run(move(runtime, territory.tenant.id, proposal, Move.REJECT, nurse, reason_code="no_capacity"))
    assert territory.row(proposal)["status_reason"] == "no_capacity"


def test_accepting_puts_the_nurses_in_the_care_team_and_completion_is_dated(aio, runtime, territory):
    proposal = territory.discharge()["nurse_visit"]
    nurse = Acting.user(territory.actor(Role.PROFESSIONAL, territory.nurses), "Inès L.")
    aio.run(move(runtime, territory.tenant.id, proposal, Move.ACCEPT, nurse))
    aio.run(move(runtime, territory.tenant.id, proposal, Move.COMPLETE, nurse))
    row = territory.row(proposal)
    assert row["status"] == "completed" and row["completed_at"] is not None
    assert row["carrier_organisation_id"] == territory.nurses

    async def team() -> list[uuid.UUID]:
        async with tenant_scope(territory.tenant.id):
            rows = await scoped_connection().fetch(
                "SELECT member_organisation_id FROM care_team_member WHERE person_id = $1 AND until IS NULL",
                territory.person_id,
            )
        return [row["member_organisation_id"] for row in rows]

    assert territory.nurses in aio.run(team())


def test_reassignment_keeps_who_held_it_and_why(aio, runtime, territory):
    proposal = territory.discharge()["nurse_visit"]
    coordinator = Acting.user(territory.actor(Role.COORDINATOR, territory.dac), "Claire D.")
    with pytest.raises(InvalidInput):
        aio.run(reassign(runtime, territory.tenant.id, proposal, coordinator, organisation_id=territory.dac))
    aio.run(
        reassign(
            runtime,
            territory.tenant.id,
            proposal,
            coordinator,
            organisation_id=territory.dac,
            note="Cabinet infirmier en congés",
        )
    )
    row = territory.row(proposal)
    assert row["assignee_organisation_id"] == territory.dac and row["status"] == "requested"
    last = territory.history(proposal)[-1]
    assert last["kind"] == "reassigned" and last["from_assignee"].startswith("IDEL")
    assert last["to_assignee"].startswith("DAC") and last["note_ciphertext"] is not None


def test_a_link_acts_once_for_its_proposal_until_it_expires(aio, runtime, territory, sql_owner):
    proposal = territory.discharge()["nurse_visit"]
    coordinator = territory.actor(Role.COORDINATOR, territory.dac)
    new = aio.run(links.create_link(runtime, coordinator, proposal, recipient_label="Pharmacie du Marsan"))
    stored = sql_owner.execute("SELECT token_digest FROM action_link WHERE id = %s", (new.id,)).fetchone()[0]
    assert new.token not in stored
    assert (
        aio.run(links.act_through_link(runtime, territory.tenant.id, new.token, Move.ACCEPT))
        is Status.ACCEPTED
    )
    with pytest.raises(Conflict):
        aio.run(links.act_through_link(runtime, territory.tenant.id, new.token, Move.ACCEPT))
    history = territory.history(proposal)[-1]
    assert history["via"] == "link" and "Pharmacie du Marsan" in history["actor_label"]
    assert territory.row(proposal)["carrier_label"] == "Pharmacie du Marsan (par lien)"
    with pytest.raises(NotFound):
        aio.run(links.open_link(runtime, territory.tenant.id, "not-a-token"))
    sql_owner.execute(
        "UPDATE action_link SET expires_at = now() - interval '1 minute' WHERE id = %s", (new.id,)
    )
    with pytest.raises(Gone):
        aio.run(links.open_link(runtime, territory.tenant.id, new.token))


def test_a_link_of_one_territory_opens_nothing_in_another(aio, runtime, territory, make_tenant):
    proposal = territory.discharge()["nurse_visit"]
    coordinator = territory.actor(Role.COORDINATOR, territory.dac)
    new = aio.run(links.create_link(runtime, coordinator, proposal, recipient_label="Pharmacie du Marsan"))
    other = make_tenant(())
    with pytest.raises(NotFound):
        aio.run(links.open_link(runtime, other.id, new.token))
