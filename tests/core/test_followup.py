"""The follow-up of an event, against the real database: a routed discharge, its actions moved, carried
out and funded, a readmission three days later → the record, the territory rows and the indicators."""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
import uuid

import msgspec
import pytest

from core.db.scope import tenant_scope
from core.events.catalogue import tenant_catalogue
from core.events.intake import receive_event
from core.events.routing import route_event
from core.events.schemas import EventIn
from core.followup.export import rows_csv
from core.followup.indicators import indicators
from core.followup.readmission import check_readmissions
from core.followup.record import day_bounds, event_record, on_time, pseudonym, territory_rows
from core.identity.directory import create_organisation
from core.proposals.lifecycle import Move
from core.proposals.service import Acting, move, record_funding, set_carrier
from tests.factories import discharge, nir

SYSTEM = Acting.system("test")


def at(runtime, instant: dt.datetime):
    """The runtime with its clock stopped at ``instant``."""
    return dataclasses.replace(runtime, clock=lambda: instant)


def declare(aio, runtime, tenant, body: dict) -> uuid.UUID:
    received = aio.run(
        receive_event(
            tenant.id,
            msgspec.convert(body, EventIn),
            uuid.uuid4().hex,
            "test",
            runtime.keyring,
            runtime.vault,
            runtime.clock(),
        )
    )

    async def route() -> None:
        async with tenant_scope(tenant.id):
            await route_event(runtime, received.event_id)

    aio.run(route())
    return received.event_id


@pytest.fixture
def story(aio, runtime, make_tenant, sql_owner):
    """A discharge in two days, its five proposals worked on, and an admission three days after it."""
    tenant = make_tenant(("routing.discharge",))
    now = runtime.clock()
    discharged = (now + dt.timedelta(days=2)).replace(microsecond=0)
    ins = nir("2420240192124")
    event_id = declare(aio, runtime, tenant, discharge(ins=ins, occurred_at=discharged.isoformat()))
    proposals = {
        row[0]: row[1]
        for row in sql_owner.execute(
            "SELECT action_type, id FROM action_proposal WHERE event_id = %s", (event_id,)
        ).fetchall()
    }
    assert set(proposals) == {
        "home_help_assessment",
        "nurse_visit",
        "pharmacy_delivery",
        "gp_follow_up_call",
        "funding_request",
    }
    provider = aio.run(
        create_organisation(tenant.id, kind="home_help_provider", name="Aide à domicile du Marsan")
    )
    hours = dt.timedelta(hours=1)

    def do(what: Move, action: str, when: dt.datetime, **extra) -> None:
        aio.run(move(at(runtime, when), tenant.id, proposals[action], what, SYSTEM, **extra))

    # Home help: accepted after 2 h, carried out by a provider of the directory, completed on time.
    do(Move.ACCEPT, "home_help_assessment", now + 2 * hours)
    aio.run(
        set_carrier(
            runtime, tenant.id, proposals["home_help_assessment"], SYSTEM, organisation_id=provider.id
        )
    )
    do(Move.COMPLETE, "home_help_assessment", now + 3 * hours)
    # Nurse visit: acknowledged after 10 h, completed three days after its 48 h deadline.
    do(Move.ACKNOWLEDGE, "nurse_visit", now + 10 * hours)
    do(Move.ACCEPT, "nurse_visit", now + 11 * hours)
    do(Move.COMPLETE, "nurse_visit", discharged + dt.timedelta(days=5))
    # GP call: refused after 1 h, no capacity.
    do(Move.REJECT, "gp_follow_up_call", now + hours, reason_code="no_capacity")
    # Funding request: accepted after 4 h, two programmes (one approved with its amount).
    do(Move.ACCEPT, "funding_request", now + 4 * hours)
    for programme, funder, status, cents in (
        ("carsat_ardh", "CARSAT Aquitaine", "approved", 45_000),
        ("ccas", "CCAS de Mont-de-Marsan", "requested", None),
    ):
        aio.run(
            record_funding(
                runtime,
                tenant.id,
                proposals["funding_request"],
                SYSTEM,
                programme=programme,
                funder_label=funder,
                status=status,
                amount_cents=cents,
            )
        )
    # Pharmacy: a carrier named in words, no answer yet, escalated to the coordination.
    aio.run(
        set_carrier(runtime, tenant.id, proposals["pharmacy_delivery"], SYSTEM, label="Pharmacie du Marché")
    )
    sql_owner.execute(
        "UPDATE action_proposal SET escalation_level = 1 WHERE id = %s", (proposals["pharmacy_delivery"],)
    )
    # Back to hospital three days after the discharge; the watch runs at D+8.
    admission = {
        "type": "hospital_admission",
        "occurred_at": (discharged + dt.timedelta(days=3)).isoformat(),
        "person": discharge(ins=ins)["person"],
        "details": {},
    }
    admission_id = declare(aio, runtime, tenant, admission)
    assert aio.run(check_readmissions(at(runtime, discharged + dt.timedelta(days=8)), tenant.id)) == 1
    person_id = sql_owner.execute("SELECT person_id FROM event WHERE id = %s", (event_id,)).fetchone()[0]
    catalogue = aio.run(tenant_catalogue(runtime.plugins, tenant.enabled_plugins))
    return {
        "tenant": tenant,
        "now": now,
        "discharged": discharged,
        "event_id": event_id,
        "admission_id": admission_id,
        "proposals": proposals,
        "provider": provider,
        "person_id": person_id,
        "catalogue": catalogue,
    }


def rows_of(aio, runtime, story, since=None, until=None):
    return aio.run(
        territory_rows(
            story["tenant"].id,
            story["catalogue"],
            since,
            until,
            keyring=runtime.keyring,
            now=story["now"] + dt.timedelta(hours=12),
        )
    )


def test_territory_rows_have_one_row_per_action_with_carrier_funding_and_readmission(
    aio, runtime, story, sql_owner
):
    rows = rows_of(aio, runtime, story)
    stored = sql_owner.execute(
        "SELECT count(*) FROM action_proposal WHERE tenant_id = %s", (story["tenant"].id,)
    ).fetchone()[0]
    assert len(rows) == stored == 5
    assert len({row.action_id for row in rows}) == 5
    by_type = {row.action_type: row for row in rows}

    home_help = by_type["home_help_assessment"]
    assert home_help.carrier == "Aide à domicile du Marsan"
    assert (home_help.status, home_help.on_time) == ("completed", True)
    assert home_help.action_label == "Évaluation des besoins d'aide à domicile"
    assert home_help.event_label == "Sortie d'hospitalisation"
    nurse = by_type["nurse_visit"]
    assert (nurse.status, nurse.on_time) == ("completed", False)
    assert by_type["gp_follow_up_call"].status == "rejected"
    pharmacy = by_type["pharmacy_delivery"]
    assert (pharmacy.carrier, pharmacy.escalation_level, pharmacy.on_time) == ("Pharmacie du Marché", 1, None)
    assert pharmacy.funding_programmes is None and pharmacy.funding_amount is None

    funding = by_type["funding_request"]
    assert funding.funding_programmes == "carsat_ardh; ccas"
    assert funding.funding_status == "approved; requested"
    assert funding.funding_amount == "450.00; "

    assert {row.readmitted_d7 for row in rows} == {True}
    assert {row.readmitted_d30 for row in rows} == {None}

    # The person is one stable pseudonym: a keyed digest, not their id.
    person_id = story["person_id"]
    assert {row.person_pseudonym for row in rows} == {
        pseudonym(runtime.keyring, story["tenant"].id, person_id)
    }
    alias = rows[0].person_pseudonym
    assert len(alias) == 16 and int(alias, 16) >= 0
    assert alias not in str(person_id).replace("-", "") and alias != str(person_id)
    assert [row.person_pseudonym for row in rows_of(aio, runtime, story)] == [alias] * 5

    # The CSV: a BOM, « ; », a French header, one line per action, no name.
    text = rows_csv(rows).decode("utf-8")
    assert text.startswith("\ufeffÉvénement (identifiant);")
    lines = text.strip("\r\n").split("\r\n")
    assert len(lines) == 6
    assert "Lafitte" not in text and "Jeanne" not in text and str(person_id) not in text
    assert "450,00; " in text


def test_period_selects_events_by_their_date(aio, runtime, story):
    discharged = story["discharged"]
    assert rows_of(aio, runtime, story, since=discharged + dt.timedelta(days=1)) == []
    assert len(rows_of(aio, runtime, story, until=discharged + dt.timedelta(seconds=1))) == 5
    assert rows_of(aio, runtime, story, until=discharged) == []
    start, end = day_bounds(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert start is not None and end is not None
    assert (start.isoformat(), end.isoformat()) == ("2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00")


def test_event_record_chains_actions_carrier_funding_outcome_and_readmissions(
    aio, runtime, story, make_tenant
):
    tenant, catalogue = story["tenant"], story["catalogue"]
    record = aio.run(
        event_record(tenant.id, story["event_id"], catalogue, keyring=runtime.keyring, now=story["now"])
    )
    assert record is not None
    assert (record.event_type, record.source, record.status) == ("hospital_discharge", "api", "routed")
    assert record.person_pseudonym == pseudonym(runtime.keyring, tenant.id, story["person_id"])
    steps = {step.action_type: step for step in record.actions}
    assert steps["home_help_assessment"].carrier_organisation_id == story["provider"].id
    assert steps["home_help_assessment"].first_response_at == story["now"] + dt.timedelta(hours=2)
    refused = steps["gp_follow_up_call"]
    assert (refused.outcome_reason, refused.outcome_reason_label) == (
        "no_capacity",
        "Plus de disponibilité dans le délai",
    )
    lines = steps["funding_request"].funding
    assert [(line.programme, line.status, line.amount_cents) for line in lines] == [
        ("carsat_ardh", "approved", 45_000),
        ("ccas", "requested", None),
    ]
    assert lines[0].amount_label == "450,00\xa0€" and lines[0].status_label == "Accordé"
    d7, d30 = record.readmissions
    assert (d7.horizon_days, d7.state, d7.readmitted, d7.readmission_type) == (
        7,
        "readmitted",
        True,
        "hospital_admission",
    )
    assert d7.readmitted_at == story["discharged"] + dt.timedelta(days=3)
    assert (d30.horizon_days, d30.state, d30.readmitted) == (30, "pending", None)

    admission = aio.run(event_record(tenant.id, story["admission_id"], catalogue, keyring=runtime.keyring))
    assert admission is not None and admission.actions == [] and admission.readmissions == []
    assert admission.person_pseudonym == record.person_pseudonym
    # Another territory does not see the event.
    other = make_tenant(())
    assert aio.run(event_record(other.id, story["event_id"], catalogue, keyring=runtime.keyring)) is None


def test_indicators_match_the_story(aio, runtime, story, sql_owner):
    found = aio.run(
        indicators(story["tenant"].id, story["catalogue"], now=story["now"] + dt.timedelta(hours=12))
    )
    assert found.events_total == 2
    assert {(c.code, c.count) for c in found.events_by_type} == {
        ("hospital_discharge", 1),
        ("hospital_admission", 1),
    }
    statuses = {c.code: c.count for c in found.actions_by_status}
    assert found.actions_total == 5
    assert statuses == {
        "requested": 1,
        "received": 0,
        "accepted": 1,
        "rejected": 1,
        "in-progress": 0,
        "completed": 2,
        "cancelled": 0,
        "failed": 0,
    }
    # First responses after 2, 10, 1 and 4 hours: median 3 h.
    delays = [
        (row[1] - row[0]).total_seconds() / 3600
        for row in sql_owner.execute(
            "SELECT created_at, first_response_at FROM action_proposal WHERE tenant_id = %s "
            "AND first_response_at IS NOT NULL",
            (story["tenant"].id,),
        ).fetchall()
    ]
    assert found.responded == len(delays) == 4
    assert found.median_first_response_hours == round(statistics.median(delays), 1) == 3.0
    assert (found.completed, found.completed_on_time, found.on_time_share) == (2, 1, 0.5)
    assert (found.escalated, found.escalated_to_fallback) == (1, 0)
    assert found.late == 0
    d7, d30 = found.readmission(7), found.readmission(30)
    assert (d7.checked, d7.readmitted, d7.pending, d7.rate) == (1, 1, 0, 1.0)
    assert (d30.checked, d30.readmitted, d30.pending, d30.rate) == (0, 0, 1, None)
    assert (found.funding_requested_cents, found.funding_approved_cents) == (45_000, 45_000)
    funding = {f.status: (f.lines, f.amount_cents) for f in found.funding_by_status}
    assert funding["approved"] == (1, 45_000) and funding["requested"] == (1, 0)

    # Late: still awaited past its due date, seen from after every deadline.
    later = aio.run(
        indicators(story["tenant"].id, story["catalogue"], now=story["discharged"] + dt.timedelta(days=30))
    )
    assert later.late == 3  # the pharmacy (requested), the funding request (accepted), the GP call (refused)
    empty = aio.run(
        indicators(story["tenant"].id, story["catalogue"], since=story["discharged"] + dt.timedelta(days=5))
    )
    assert (empty.events_total, empty.actions_total, empty.readmission(7).checked) == (0, 0, 0)


def test_on_time_rules():
    due = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    before, after = due - dt.timedelta(hours=1), due + dt.timedelta(hours=1)
    assert on_time("completed", due, before, after) is True
    assert on_time("completed", due, after, after) is False
    assert on_time("requested", due, None, before) is None
    assert on_time("in-progress", due, None, after) is False
    assert on_time("rejected", due, None, after) is False
    assert on_time("cancelled", due, None, after) is None
    assert on_time("failed", due, None, after) is None
