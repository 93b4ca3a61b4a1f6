"""The deadline watch: overdue proposals alert the coordinators, then go to the coordination service."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import uuid
from typing import Any

import msgspec

from core.db.scope import tenant_scope
from core.events.intake import ROUTE_EVENT, receive_event
from core.events.routing import route_event
from core.events.schemas import EventIn
from core.identity.accounts import upsert_account
from core.identity.directory import create_organisation, invite_member, memberships_at_login
from core.jobs.watch import run_watch, run_watch_for
from core.outbox.service import process
from core.proposals.escalation import HANDOVER_NOTE, WATCH_LABEL, escalate_overdue
from core.proposals.lifecycle import Move
from core.proposals.service import Acting, move
from core.runtime import Runtime
from tests.conftest import wait_for
from tests.factories import discharge

PERSON_WORDS = ("Lafitte", "Jeanne", "gériatrique", "Médecine", "hospitalisation", "sortie")
"""The person's name and the event's details: never in a notification."""


class Clock:
    """A controlled clock for a runtime (``runtime.clock``)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def clocked(runtime: Runtime, start: dt.datetime) -> tuple[Runtime, Clock]:
    clock = Clock(start)
    return dataclasses.replace(runtime, clock=clock), clock


def start_time() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def member(
    aio: Any, tenant: Any, role: str, organisation_id: uuid.UUID | None = None, name: str = "Agent"
) -> tuple[uuid.UUID, str]:
    """An active account holding ``role`` in ``tenant``; returns its id and e-mail address."""
    email = f"{uuid.uuid4().hex[:12]}@example.org"
    account = aio.run(upsert_account("https://idp.test", uuid.uuid4().hex, email, name))
    aio.run(invite_member(tenant.id, email, role, organisation_id, "test"))
    aio.run(memberships_at_login(tenant.id, account))
    return account.id, email


def declare(aio: Any, runtime: Runtime, tenant: Any, body: dict[str, Any]) -> uuid.UUID:
    """Receive an event and route it in-process (with ``runtime``'s clock); its id."""
    event_in = msgspec.json.decode(json.dumps(body), type=EventIn)
    received = aio.run(
        receive_event(
            tenant.id, event_in, uuid.uuid4().hex, "test", runtime.keyring, runtime.vault, runtime.clock()
        )
    )

    async def route() -> None:
        async with tenant_scope(tenant.id):
            await route_event(runtime, received.event_id)

    aio.run(route())
    if received.dispatch is not None:  # leave nothing pending (a running app may have done it)

        async def handler(payload: dict) -> None:
            await route_event(runtime, uuid.UUID(payload["event_id"]))

        aio.run(process(received.dispatch, {ROUTE_EVENT: handler}, max_attempts=3))
    return received.event_id


def proposals(sql_owner: Any, event_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = sql_owner.execute(
        "SELECT id, action_type, status, due_at, escalation_level, escalated_at, assignee_kind, "
        "assignee_organisation_id, version FROM action_proposal WHERE event_id = %s ORDER BY due_at, id",
        (event_id,),
    ).fetchall()
    keys = (
        "id",
        "action_type",
        "status",
        "due_at",
        "level",
        "escalated_at",
        "assignee_kind",
        "organisation_id",
        "version",
    )
    return [dict(zip(keys, row, strict=True)) for row in rows]


def proposal(sql_owner: Any, proposal_id: uuid.UUID) -> dict[str, Any]:
    row = sql_owner.execute(
        "SELECT status, escalation_level, escalated_at, assignee_kind, assignee_organisation_id "
        "FROM action_proposal WHERE id = %s",
        (proposal_id,),
    ).fetchone()
    return dict(
        zip(("status", "level", "escalated_at", "assignee_kind", "organisation_id"), row, strict=True)
    )


def history(sql_owner: Any, proposal_id: uuid.UUID, kind: str = "escalated") -> list[tuple]:
    return sql_owner.execute(
        "SELECT actor_label, via, to_status, to_assignee, note_ciphertext IS NOT NULL, at "
        "FROM proposal_history WHERE proposal_id = %s AND kind = %s ORDER BY at, id",
        (proposal_id, kind),
    ).fetchall()


def audits(sql_owner: Any, tenant_id: uuid.UUID, proposal_id: uuid.UUID) -> list[tuple]:
    return sql_owner.execute(
        "SELECT actor_kind, actor_id, detail FROM audit_entry WHERE tenant_id = %s "
        "AND action = 'proposal.escalated' AND target_id = %s ORDER BY seq",
        (tenant_id, str(proposal_id)),
    ).fetchall()


def notifications(sql_owner: Any, user_id: uuid.UUID, kind: str) -> list[tuple]:
    return sql_owner.execute(
        "SELECT title, body, link FROM notification WHERE recipient_user_id = %s AND kind = %s "
        "ORDER BY created_at, id",
        (user_id, kind),
    ).fetchall()


def test_overdue_proposal_alerts_coordinators_then_goes_to_the_coordination_service(
    aio, runtime, make_tenant, sql_owner
):
    tenant = make_tenant(["routing.discharge"])
    coordinator, _ = member(aio, tenant, "coordinator", name="Claire Coordinatrice")
    dac = aio.run(create_organisation(tenant.id, kind="coordination_service", name="DAC des Landes"))
    aio.run(create_organisation(tenant.id, kind="coordination_service", name="Zeta, autre dispositif"))
    dac_agent, _ = member(aio, tenant, "professional", dac.id, name="Agent du DAC")
    t0 = start_time()
    watch, clock = clocked(runtime, t0)
    event_id = declare(aio, watch, tenant, discharge(occurred_at=(t0 + dt.timedelta(days=3)).isoformat()))
    routed = proposals(sql_owner, event_id)
    assert len(routed) >= 3
    late, *others = routed
    assert late["due_at"] < others[0]["due_at"], "one proposal is due before all the others"
    in_time = others[0]

    # One proposal is completed before its deadline: it never escalates.
    clock.now = t0 + dt.timedelta(hours=1)
    system = Acting.system("test")
    aio.run(move(watch, tenant.id, in_time["id"], Move.ACCEPT, system))
    aio.run(move(watch, tenant.id, in_time["id"], Move.COMPLETE, system))

    # Nothing is overdue yet.
    assert aio.run(escalate_overdue(watch, tenant.id)).alerted == 0

    # Past the first deadline: level 1, the coordinators are alerted.
    clock.now = late["due_at"] + dt.timedelta(hours=1)
    report = aio.run(escalate_overdue(watch, tenant.id))
    assert (report.alerted, report.handed_over, report.marked) == (1, 0, 0)
    after = proposal(sql_owner, late["id"])
    assert after["level"] == 1
    assert after["escalated_at"] == clock.now
    assert after["status"] == "requested"
    assert after["assignee_kind"] == late["assignee_kind"], "level 1 keeps the holder"
    lines = history(sql_owner, late["id"])
    assert len(lines) == 1
    assert lines[0][:2] == (WATCH_LABEL, "system")
    assert lines[0][5] == clock.now
    entries = audits(sql_owner, tenant.id, late["id"])
    assert len(entries) == 1
    assert entries[0][:2] == ("system", WATCH_LABEL)
    alerts = notifications(sql_owner, coordinator, "proposal.overdue")
    assert len(alerts) == 1
    title, body, link = alerts[0]
    assert title == "Action en retard"
    assert "Évaluation des besoins d'aide à domicile" in body
    assert "(en retard)" in body
    assert link == f"/t/{tenant.slug}/actions/{late['id']}"
    for word in PERSON_WORDS:
        assert word.lower() not in f"{title} {body}".lower(), word
    assert proposal(sql_owner, in_time["id"])["level"] == 0

    # Running again changes nothing.
    report = aio.run(escalate_overdue(watch, tenant.id))
    assert (report.alerted, report.handed_over, report.marked) == (0, 0, 0)
    assert len(history(sql_owner, late["id"])) == 1
    assert len(audits(sql_owner, tenant.id, late["id"])) == 1
    assert len(notifications(sql_owner, coordinator, "proposal.overdue")) == 1

    # Within the grace period: still level 1.
    clock.now = after["escalated_at"] + dt.timedelta(hours=23)
    assert aio.run(escalate_overdue(watch, tenant.id)).handed_over == 0
    assert proposal(sql_owner, late["id"])["level"] == 1

    # Past the grace period: handed to the coordination service (the first by name).
    clock.now = after["escalated_at"] + dt.timedelta(hours=24, minutes=1)
    assert clock.now < others[1]["due_at"], "no other proposal is overdue yet"
    report = aio.run(escalate_overdue(watch, tenant.id))
    assert (report.alerted, report.handed_over, report.marked) == (0, 1, 0)
    handed = proposal(sql_owner, late["id"])
    assert handed["level"] == 2
    assert handed["status"] == "requested"
    assert (handed["assignee_kind"], handed["organisation_id"]) == ("organisation", dac.id)
    lines = history(sql_owner, late["id"])
    assert len(lines) == 2
    actor, via, to_status, to_assignee, has_note, at = lines[1]
    assert (actor, via, to_status, to_assignee, has_note) == (
        WATCH_LABEL,
        "system",
        "requested",
        "DAC des Landes",
        True,
    )
    assert at == clock.now
    assert len(audits(sql_owner, tenant.id, late["id"])) == 2
    assigned = notifications(sql_owner, dac_agent, "proposal.assigned")
    assert [row[2] for row in assigned] == [f"/t/{tenant.slug}/actions/{late['id']}"]
    assert HANDOVER_NOTE.startswith("Échéance dépassée")

    assert aio.run(escalate_overdue(watch, tenant.id)).level_2 == 0
    assert len(history(sql_owner, late["id"])) == 2

    # Much later, every proposal still open escalates; the one completed in time never does.
    clock.now = t0 + dt.timedelta(days=60)
    still_open = [p for p in others if p["id"] != in_time["id"]]
    report = aio.run(escalate_overdue(watch, tenant.id))
    assert report.alerted == len(still_open)
    clock.now += dt.timedelta(days=2)
    report = aio.run(escalate_overdue(watch, tenant.id))
    assert report.level_2 == len(still_open)
    assert all(proposal(sql_owner, p["id"])["level"] == 2 for p in still_open)
    completed = proposal(sql_owner, in_time["id"])
    assert (completed["status"], completed["level"], completed["escalated_at"]) == ("completed", 0, None)
    assert history(sql_owner, in_time["id"]) == []


def test_two_concurrent_watches_escalate_each_proposal_once(aio, runtime, make_tenant, sql_owner):
    """Without a coordination service, level 2 only marks the proposals (they stay where they are)."""
    tenant = make_tenant(["routing.discharge"])
    coordinator, _ = member(aio, tenant, "coordinator")
    t0 = start_time()
    watch, clock = clocked(runtime, t0)
    event_id = declare(aio, watch, tenant, discharge(occurred_at=(t0 + dt.timedelta(days=1)).isoformat()))
    routed = proposals(sql_owner, event_id)
    assert routed

    async def twice() -> list[Any]:
        return list(
            await asyncio.gather(escalate_overdue(watch, tenant.id), escalate_overdue(watch, tenant.id))
        )

    clock.now = t0 + dt.timedelta(days=30)
    first, second = aio.run(twice())
    assert first.alerted + second.alerted == len(routed)
    for p in routed:
        assert proposal(sql_owner, p["id"])["level"] == 1
        assert len(history(sql_owner, p["id"])) == 1
        assert len(audits(sql_owner, tenant.id, p["id"])) == 1
    assert len(notifications(sql_owner, coordinator, "proposal.overdue")) == len(routed)

    clock.now += dt.timedelta(hours=25)
    first, second = aio.run(twice())
    assert first.handed_over + second.handed_over == 0
    assert first.marked + second.marked == len(routed)
    for p in routed:
        after = proposal(sql_owner, p["id"])
        assert after["level"] == 2
        assert (after["assignee_kind"], after["organisation_id"]) == (
            p["assignee_kind"],
            p["organisation_id"],
        )
        assert len(history(sql_owner, p["id"])) == 2
        assert len(audits(sql_owner, tenant.id, p["id"])) == 2
    version = sql_owner.execute(
        "SELECT version FROM action_proposal WHERE id = %s", (routed[0]["id"],)
    ).fetchone()[0]
    assert version == routed[0]["version"], "escalation without reassignment does not bump the version"


def test_watch_of_one_territory_and_of_all(aio, runtime, make_tenant):
    tenant = make_tenant(["routing.discharge"])
    done = aio.run(run_watch_for(runtime, tenant.id))
    assert done == {
        "alerted": 0,
        "handed_over": 0,
        "marked": 0,
        "readmission_checks": 0,
        "funding_reminders": 0,
    }
    totals = aio.run(run_watch(runtime))  # the real clock, as the running watch does
    assert totals["tenants"] + len(totals["failed"]) >= 1
    assert tenant.slug not in totals["failed"]


def test_watch_tick_runs_through_the_job_system(client, aio, runtime, make_tenant, sql_owner):
    """The app's job system sends a tick per territory; its worker escalates (real clock)."""
    tenant = make_tenant(["routing.discharge"])
    coordinator, _ = member(aio, tenant, "coordinator")
    event_id = declare(aio, runtime, tenant, discharge())
    first = proposals(sql_owner, event_id)[0]
    sql_owner.execute(
        "UPDATE action_proposal SET due_at = now() - interval '1 hour' WHERE id = %s", (first["id"],)
    )
    jobs = client.app.state.jobs
    assert client.blocking_portal.call(jobs.send_watch_ticks) >= 1
    wait_for(lambda: proposal(sql_owner, first["id"])["level"] == 1)
    assert len(notifications(sql_owner, coordinator, "proposal.overdue")) == 1
