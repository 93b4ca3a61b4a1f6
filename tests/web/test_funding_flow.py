"""The single window, end to end on the demo territory: a discharge of an 80-year-old retiree living
alone is routed into an ARDH request; the CCAS's social worker completes and sends it, adds the CCAS
and the mutuelle in one click; each funder decides; the request shows three answers and the
remaining share, and the routed action's follow-up record shows each funding."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

import pytest

from core.consent.model import Consent, DataCategory, Purpose, Recipient, RecordedBy
from core.consent.store import insert_consent
from core.db.scope import tenant_scope
from core.errors import Conflict, NotFound
from core.financing.disclosure import FIELD_CATEGORIES
from core.financing.lines import LineMove, LineStatus
from core.financing.registry import territory_funders
from core.financing.requests import add_programmes, complete_draft, move_line, submit
from core.financing.situation import Household, PensionScheme, Situation
from core.financing.views import funder_line, funder_queue, request_view
from tenants.demo_story import sign_in_demo_account
from tests.conftest import wait_for
from tests.factories import discharge, nir

SLUG = "landes"
QUOTE = 270_000  # 100 hours of home help at 27 €


def _consent(person_id: uuid.UUID, organisation_id: uuid.UUID, categories: set[str], write: bool) -> Consent:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    return Consent(
        id=uuid.uuid4(),
        person_id=person_id,
        recipient=Recipient.organisation(organisation_id),
        actions=frozenset({"read", "write"} if write else {"read"}),
        categories=frozenset(categories),
        purposes=frozenset({Purpose.FUNDING_INSTRUCTION}),
        valid_from=now,
        recorded_by=RecordedBy.PERSON,
        recorded_at=now,
    )


@pytest.fixture
def routed(client, landes, token_for, sql_owner, aio, runtime):
    """A discharge tomorrow of a new 80-year-old person living alone, routed; her consents to the
    CCAS (requester), the CARSAT and the mutuelle (funders; no social data for the mutuelle)."""
    born = dt.date.today() - dt.timedelta(days=80 * 366)
    ins = nir(f"2{born.year % 100:02d}{born.month:02d}40192{secrets.randbelow(900) + 100}")  # a new person
    occurred = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    response = client.post(
        f"/t/{SLUG}/api/v1/events",
        json=discharge(
            birth_date=born.isoformat(),
            occurred_at=occurred,
            ins=ins,
            family_name="Testut",
            given_names="Odette",
        ),
        headers={**token_for(landes), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 201, response.text
    event_id = response.json()["id"]
    found = wait_for(
        lambda: sql_owner.execute(
            "SELECT r.id, r.person_id, p.id FROM funding_request r "
            "JOIN action_proposal p ON p.id = r.proposal_id "
            "WHERE p.event_id = %s AND p.action_type = 'funding_request'",
            (event_id,),
        ).fetchone()
    )
    request_id, person_id, proposal_id = found
    funders = aio.run(territory_funders(runtime.plugins, landes.id, landes.enabled_plugins))
    orgs = funders.organisations

    async def consents() -> None:
        async with tenant_scope(landes.id):
            everything = {"administrative", "social", "funding", "documents"}
            await insert_consent(_consent(person_id, orgs["ccas"], everything, write=True), None)
            await insert_consent(_consent(person_id, orgs["carsat_ardh"], everything, write=False), None)
            await insert_consent(
                _consent(person_id, orgs["mutuelle_generic"], {"administrative", "funding", "social"}, False),
                None,
            )

    aio.run(consents())
    return {"request_id": request_id, "person_id": person_id, "proposal_id": proposal_id, "funders": funders}


def _actor(aio, runtime, landes, username):
    actor = aio.run(sign_in_demo_account(runtime, landes, username))
    assert actor is not None, username
    return actor


def test_one_request_three_funders_three_answers_and_the_remaining_share(
    routed, aio, runtime, landes, sql_owner
):
    funders = routed["funders"]
    request_id = routed["request_id"]
    # Routing prepared the ARDH draft, holding nothing personal yet.
    draft = sql_owner.execute(
        "SELECT l.programme, l.status, r.situation_ciphertext IS NULL FROM funding_line l "
        "JOIN funding_request r ON r.id = l.request_id WHERE r.id = %s",
        (request_id,),
    ).fetchall()
    assert draft == [("ardh", "draft", True)]
    worker = _actor(aio, runtime, landes, "assistante-sociale.landes")
    situation = Situation(
        age=80,
        commune_insee="40192",
        household=Household.SINGLE,
        lives_alone=True,
        pension_scheme=PensionScheme.GENERAL,
        income_min_cents=95_000,
        income_max_cents=95_000,
        days_since_discharge=0,
        has_mutuelle=True,
    )
    aio.run(complete_draft(runtime, worker, request_id, situation, "Aide au lever et aux repas.", QUOTE))
    assert aio.run(submit(runtime, worker, request_id, funders)) == 1
    added = aio.run(
        add_programmes(runtime, worker, request_id, ("ccas_aide_facultative", "mutuelle_assistance"), funders)
    )
    assert len(added) == 2  # one click, both sent at once
    sent = dict(
        sql_owner.execute(
            "SELECT programme, status FROM funding_line WHERE request_id = %s", (request_id,)
        ).fetchall()
    )
    assert sent == {
        "ardh": "submitted",
        "ccas_aide_facultative": "submitted",
        "mutuelle_assistance": "submitted",
    }

    carsat = _actor(aio, runtime, landes, "financeur.landes")
    ccas = _actor(aio, runtime, landes, "agent-ccas.landes")
    mutuelle = _actor(aio, runtime, landes, "mutuelle.landes")
    line_of = {
        programme: line_id
        for line_id, programme in sql_owner.execute(
            "SELECT id, programme FROM funding_line WHERE request_id = %s", (request_id,)
        ).fetchall()
    }
    # Each funder's queue holds its own line only; another funder's line is unknown to it.
    mine = {item.line.id for item in aio.run(funder_queue(runtime, mutuelle, funders))}
    assert line_of["mutuelle_assistance"] in mine and line_of["ardh"] not in mine
    with pytest.raises(NotFound):
        aio.run(funder_line(runtime, mutuelle, line_of["ardh"], funders))
    seen = aio.run(funder_line(runtime, mutuelle, line_of["mutuelle_assistance"], funders))
    assert DataCategory.SOCIAL not in seen.allowed and DataCategory.MEDICAL not in seen.allowed
    assert "Vit seul(e)" not in seen.situation and seen.needs is None  # social data: not for the mutuelle
    assert seen.other_funders == 2

    today = dt.date.today()
    grant = LineMove(
        LineStatus.APPROVED,
        amount_cents=150_000,
        period_start=today,
        period_end=today + dt.timedelta(days=90),
    )
    aio.run(move_line(runtime, carsat, "CARSAT", line_of["ardh"], grant, funders))
    partial = LineMove(
        LineStatus.PARTIALLY_APPROVED,
        amount_cents=30_000,
        period_start=today,
        period_end=today + dt.timedelta(days=30),
    )
    aio.run(move_line(runtime, ccas, "CCAS", line_of["ccas_aide_facultative"], partial, funders))
    refusal = LineMove(
        LineStatus.REFUSED, reason_code="already_funded", note="Aide déjà couverte par la CARSAT."
    )
    aio.run(move_line(runtime, mutuelle, "Mutuelle", line_of["mutuelle_assistance"], refusal, funders))
    # A second decision on a decided line is a conflict that says who decided, not a silent overwrite.
    with pytest.raises(Conflict, match="Refusée"):
        aio.run(move_line(runtime, mutuelle, "Mutuelle", line_of["mutuelle_assistance"], refusal, funders))

    view = aio.run(request_view(runtime, worker, request_id, funders))
    assert view.answered == 3
    assert view.granted_cents == 180_000
    assert view.remaining_cents == QUOTE - 180_000
    by_programme = {line.programme: line for line in view.lines}
    assert by_programme["mutuelle_assistance"].reason == "Besoin déjà financé"
    assert by_programme["mutuelle_assistance"].note == "Aide déjà couverte par la CARSAT."
    funding = dict(
        (programme, (status, amount))
        for programme, status, amount in sql_owner.execute(
            "SELECT programme, status, amount_cents FROM proposal_funding WHERE proposal_id = %s",
            (routed["proposal_id"],),
        ).fetchall()
    )
    assert funding == {
        "ardh": ("approved", 150_000),
        "ccas_aide_facultative": ("partially_approved", 30_000),
        "mutuelle_assistance": ("refused", None),
    }
    # The note is stored encrypted; the audit trail names the decisions without personal data.
    notes = sql_owner.execute(
        "SELECT note_ciphertext FROM funding_line WHERE request_id = %s AND note_ciphertext IS NOT NULL",
        (request_id,),
    ).fetchall()
    assert notes and not any(b"CARSAT" in bytes(note) for (note,) in notes)
    actions = {
        action
        for (action,) in sql_owner.execute(
            "SELECT action FROM audit_entry WHERE tenant_id = %s AND target_id = ANY(%s)",
            (landes.id, [str(line_id) for line_id in line_of.values()]),
        ).fetchall()
    }
    assert {"funding.line.submitted", "funding.line.approved", "funding.line.refused"} <= actions


def test_every_situation_field_has_a_data_category():
    assert set(FIELD_CATEGORIES) == set(Situation.__struct_fields__)
    assert DataCategory.MEDICAL not in FIELD_CATEGORIES.values()
