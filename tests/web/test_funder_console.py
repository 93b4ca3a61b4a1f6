"""The funder's console and API, through HTTP, on the demo territory: each agent sees its own
organisation's requests only, what consent allows of the person (never medical data), decides with
a version check, exports for its own system; funders' systems do the same through the API."""

from __future__ import annotations

import csv
import html
import io
import json
import random
import uuid
from typing import Any

import pytest

from core.access.policy import Actor
from core.access.service import create_client
from core.audit.trail import Actor as AuditActor
from core.consent.model import DataCategory, Recipient
from core.consent.service import ConsentInput, record_consent
from core.db.scope import tenant_scope
from core.financing.registry import territory_funders
from core.financing.reminders import remind_overdue
from core.financing.requests import RequestInput, create_request, submit
from core.financing.situation import Household, PensionScheme, Situation, exact_income
from core.identity.roles import Role
from core.proposals.queries import MASKED
from core.records.notes import import_note
from tests.conftest import wait_for
from tests.factories import discharge, nir
from tests.web.conftest import DEMO_SLUG, sign_in
from tests.web.test_login import login

BASE = f"/t/{DEMO_SLUG}/financeur"
DOMAIN = "demo.parcours.test"
CARSAT = "CARSAT Aquitaine — action sociale (démo)"
MUTUELLE = "Mutuelle des Landes (démo)"
CCAS = "CCAS de Mont-de-Marsan (démo)"
MEDICAL = "Fraction d'éjection abaissée, surveiller la kaliémie"
NEEDS = "Aide pour les courses et le ménage deux fois par semaine"
SITUATION = Situation(
    age=84,
    commune_insee="40192",
    household=Household.SINGLE,
    lives_alone=True,
    pension_scheme=PensionScheme.GENERAL,
    days_since_discharge=5,
    has_mutuelle=True,
    **exact_income(150_000),
)


def words(response: Any) -> str:
    """The page's text as read (entities decoded: « l'instruction », not « l&#39;instruction »)."""
    return html.unescape(response.text)


def one(sql_owner: Any, query: str, *params: Any) -> Any:
    row = sql_owner.execute(query, params).fetchone()
    assert row is not None, (query, params)
    return row[0]


def organisation(sql_owner: Any, landes: Any, name: str) -> uuid.UUID:
    return one(sql_owner, "SELECT id FROM organisation WHERE tenant_id = %s AND name = %s", landes.id, name)


@pytest.fixture
def social_worker(client: Any, landes: Any, sql_owner: Any) -> Actor:
    """The CCAS social worker who prepares requests (her account exists once she has logged in)."""
    client.cookies.clear()
    assert login(client, DEMO_SLUG, "assistante-sociale.landes").status_code == 303
    client.cookies.clear()
    row = sql_owner.execute(
        "SELECT user_account_id, id, organisation_id FROM membership "
        "WHERE tenant_id = %s AND invited_email = %s",
        (landes.id, f"assistante-sociale.landes@{DOMAIN}"),
    ).fetchone()
    return Actor(row[0], False, landes.id, Role.SOCIAL_WORKER, row[1], row[2], None)


@pytest.fixture
def jeanne(landes: Any, sql_owner: Any, aio: Any, runtime: Any) -> uuid.UUID:
    """The demo person who lets the CARSAT read her identity, situation and resources, and the
    mutuelle her identity and resources only; a medical note is in her file."""
    person = one(
        sql_owner,
        "SELECT id FROM person WHERE tenant_id = %s AND family_name = 'Lafitte' AND given_names = 'Jeanne'",
        landes.id,
    )

    async def note() -> None:
        async with tenant_scope(landes.id):
            await import_note(
                runtime,
                person,
                DataCategory.MEDICAL,
                MEDICAL,
                author_label="Dr Marc Darrieutort",
                organisation_id=None,
                by=AuditActor("system", "test"),
            )

    aio.run(note())
    return person


def new_request(
    aio: Any,
    runtime: Any,
    landes: Any,
    actor: Actor,
    person: uuid.UUID,
    programmes: tuple[str, ...],
    sql: Any,
) -> dict[str, uuid.UUID]:
    """A request sent to ``programmes``; its line ids by programme."""

    async def make() -> uuid.UUID:
        funders = await territory_funders(runtime.plugins, landes.id, landes.enabled_plugins)
        given = RequestInput(programmes=programmes, situation=SITUATION, needs=NEEDS, quote_cents=120_000)
        request_id = await create_request(runtime, actor, "Sandrine Castaing, CCAS", person, given, funders)
        await submit(runtime, actor, request_id, funders)
        return request_id

    request_id = aio.run(make())
    rows = sql.execute(
        "SELECT id, programme FROM funding_line WHERE request_id = %s", (request_id,)
    ).fetchall()
    return {programme: line_id for line_id, programme in rows}


def version(sql_owner: Any, line_id: uuid.UUID) -> int:
    return one(sql_owner, "SELECT version FROM funding_line WHERE id = %s", line_id)


def test_the_carsat_agent_sees_its_request_and_grants_it(
    browser, aio, runtime, landes, social_worker, jeanne, sql_owner
):
    lines = new_request(
        aio, runtime, landes, social_worker, jeanne, ("ardh", "mutuelle_assistance"), sql_owner
    )
    ardh = lines["ardh"]
    csrf = sign_in(browser, "financeur.landes")

    queue = browser.get(BASE)
    assert queue.status_code == 200, queue.text
    assert f"{BASE}/demandes/{ardh}" in words(queue)
    assert "Jeanne Lafitte" in words(queue)
    assert "À traiter" in words(queue) and "no-store" in queue.headers["cache-control"]
    assert str(lines["mutuelle_assistance"]) not in words(queue)

    page = browser.get(f"{BASE}/demandes/{ardh}")
    assert page.status_code == 200, page.text
    text = words(page)
    assert "Aide au retour à domicile après hospitalisation (ARDH)" in text
    assert "Jeanne Lafitte" in text and NEEDS in text  # social and administrative data: allowed
    assert "Éligibilité selon les règles du programme" in text
    assert "Âge : 84 ans (au moins 55 ans requis)." in text  # a rule's sentence
    assert "1 autre financeur a aussi été sollicité" in text
    assert MUTUELLE not in text and "mutuelle_assistance" not in text  # never which one
    assert MEDICAL not in text and "Insuffisance cardiaque" not in text  # never medical data
    for label in ("Commencer l'instruction", "Demander des informations", "Accorder", "Refuser"):
        assert label in text

    stale = version(sql_owner, ardh)
    started = browser.post(
        f"{BASE}/demandes/{ardh}/instruire",
        data={"_csrf": csrf, "version": str(stale)},
        headers={"HX-Request": "true", "HX-Target": "funder-line"},
    )
    assert started.status_code == 200, started.text
    assert 'id="funder-line"' in words(started) and "<html" not in words(started)
    assert "L'instruction a commencé." in words(started)
    assert one(sql_owner, "SELECT status FROM funding_line WHERE id = %s", ardh) == "under_review"

    granted = browser.post(
        f"{BASE}/demandes/{ardh}/accorder",
        data={
            "_csrf": csrf,
            "version": str(version(sql_owner, ardh)),
            "amount": "1 080,00",
            "hours": "24",
            "period_start": "2026-12-01",
            "period_end": "2027-02-28",
            "conditions": "Prestataire agréé",
        },
        follow_redirects=False,
    )
    assert granted.status_code == 303, granted.text
    assert granted.headers["location"].endswith(f"/demandes/{ardh}?fait=accorder")
    row = sql_owner.execute(
        "SELECT status, decided_cents, decided_hours, period_start::text, period_end::text, conditions "
        "FROM funding_line WHERE id = %s",
        (ardh,),
    ).fetchone()
    assert row == ("approved", 108_000, 24, "2026-12-01", "2027-02-28", "Prestataire agréé")
    shown = browser.get(granted.headers["location"])
    assert "L'aide est accordée" in words(shown) and "1\u202f080,00\u00a0€" in words(shown)

    # Someone was faster: the page shown before the grant is outdated (409, said on the line).
    conflict = browser.post(
        f"{BASE}/demandes/{ardh}/versee",
        data={"_csrf": csrf, "version": str(stale)},
        headers={"HX-Request": "true", "HX-Target": "funder-line"},
    )
    assert conflict.status_code == 409, conflict.text
    assert "Impossible : la demande est déjà « Accordée »" in words(conflict)
    assert 'id="funder-line"' in words(conflict)
    assert one(sql_owner, "SELECT status FROM funding_line WHERE id = %s", ardh) == "approved"

    decided = browser.get(f"{BASE}?vue=decidees")
    assert f"{BASE}/demandes/{ardh}" in words(decided)


def test_refusal_and_question_need_their_words(
    browser, aio, runtime, landes, social_worker, jeanne, sql_owner
):
    ardh = new_request(aio, runtime, landes, social_worker, jeanne, ("ardh",), sql_owner)["ardh"]
    csrf = sign_in(browser, "financeur.landes")
    current = str(version(sql_owner, ardh))

    refused = browser.post(
        f"{BASE}/demandes/{ardh}/refuser",
        data={"_csrf": csrf, "version": current, "reason_code": "", "note": ""},
    )
    assert refused.status_code == 422, refused.text
    assert "choisissez le motif du refus" in words(refused)
    other = browser.post(
        f"{BASE}/demandes/{ardh}/refuser",
        data={"_csrf": csrf, "version": current, "reason_code": "other", "note": ""},
    )
    assert other.status_code == 422 and "précisez le motif du refus" in words(other)
    wrong_amount = browser.post(
        f"{BASE}/demandes/{ardh}/accorder",
        data={"_csrf": csrf, "version": current, "amount": "12,345", "period_start": "", "period_end": ""},
    )
    assert wrong_amount.status_code == 422
    assert "montant en euros" in words(wrong_amount) and "indiquez le début de la période" in words(
        wrong_amount
    )
    assert one(sql_owner, "SELECT status FROM funding_line WHERE id = %s", ardh) == "submitted"

    asked = browser.post(
        f"{BASE}/demandes/{ardh}/question",
        data={"_csrf": csrf, "version": current, "note": "Merci de joindre le dernier avis d'imposition."},
        follow_redirects=False,
    )
    assert asked.status_code == 303
    waiting = browser.get(f"{BASE}?vue=en-attente")
    assert f"{BASE}/demandes/{ardh}" in words(waiting)
    page = browser.get(f"{BASE}/demandes/{ardh}")
    assert "Merci de joindre le dernier avis d'imposition." in words(page)

    done = browser.post(
        f"{BASE}/demandes/{ardh}/refuser",
        data={"_csrf": csrf, "version": str(version(sql_owner, ardh)), "reason_code": "income_above_ceiling"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "Ressources au-dessus du plafond" in words(browser.get(f"{BASE}/demandes/{ardh}"))


def test_another_funder_never_sees_the_request(
    browser, aio, runtime, landes, social_worker, jeanne, sql_owner
):
    lines = new_request(
        aio, runtime, landes, social_worker, jeanne, ("ardh", "mutuelle_assistance"), sql_owner
    )
    ardh, mine = lines["ardh"], lines["mutuelle_assistance"]
    csrf = sign_in(browser, "mutuelle.landes")

    assert browser.get(f"{BASE}/demandes/{ardh}").status_code == 404
    moved = browser.post(f"{BASE}/demandes/{ardh}/instruire", data={"_csrf": csrf})
    assert moved.status_code == 404
    assert one(sql_owner, "SELECT status FROM funding_line WHERE id = %s", ardh) == "submitted"
    queue = browser.get(BASE)
    assert str(ardh) not in words(queue) and str(mine) in words(queue)
    exported = browser.get(f"{BASE}/export.csv")
    assert exported.status_code == 200
    assert str(ardh) not in words(exported) and str(mine) in words(exported)
    assert str(ardh) not in words(browser.get(f"{BASE}/export.json"))

    # The mutuelle's programme needs identity and resources only: the social situation is not shown.
    page = browser.get(f"{BASE}/demandes/{mine}")
    assert page.status_code == 200
    assert "Jeanne Lafitte" in words(page)
    assert NEEDS not in words(page) and "Vit seul(e)" not in words(page)
    assert MEDICAL not in words(page) and "Données médicales" not in words(page)


@pytest.fixture
def unnamed(client, aio, runtime, landes, social_worker, sql_owner, token_for) -> uuid.UUID:
    """A new person who lets the CARSAT read her situation and resources but not her identity."""
    family = f"Anonyme{uuid.uuid4().hex[:6]}"
    answer = client.post(
        f"/t/{DEMO_SLUG}/api/v1/events",
        json=discharge(
            ins=nir(f"2420240{random.randint(100, 989)}{random.randint(1, 999):03d}"), family_name=family
        ),
        headers={**token_for(landes), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert answer.status_code == 201, answer.text
    event_id = answer.json()["id"]
    person = wait_for(lambda: one(sql_owner, "SELECT person_id FROM event WHERE id = %s", event_id))
    carsat = organisation(sql_owner, landes, CARSAT)
    ccas = organisation(sql_owner, landes, CCAS)
    grants = (
        (ccas, ("read", "write"), ("administrative", "social", "funding")),
        (carsat, ("read",), ("social", "funding")),
    )
    for recipient, actions, categories in grants:
        given = ConsentInput(
            recipient=Recipient.organisation(recipient),
            actions=actions,
            categories=categories,
            purposes=("funding_instruction",),
            proof_reference="Formulaire signé du 2 décembre",
        )
        aio.run(record_consent(runtime, social_worker, person, given))
    return person


def test_identity_is_masked_and_exports_are_pseudonymous_without_consent(
    browser, aio, runtime, landes, social_worker, jeanne, unnamed, sql_owner
):
    named = new_request(aio, runtime, landes, social_worker, jeanne, ("ardh",), sql_owner)["ardh"]
    hidden = new_request(aio, runtime, landes, social_worker, unnamed, ("ardh",), sql_owner)["ardh"]
    family = one(sql_owner, "SELECT family_name FROM person WHERE id = %s", unnamed)
    sign_in(browser, "financeur.landes")

    queue = browser.get(BASE)
    assert MASKED in words(queue) and family not in words(queue)
    page = browser.get(f"{BASE}/demandes/{hidden}")
    assert page.status_code == 200
    assert "Données administratives : non transmises (consentement requis)" in words(page)
    assert family not in words(page) and NEEDS in words(page)  # social data: allowed

    exported = browser.get(f"{BASE}/export.csv", params={"statut": "submitted"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    assert exported.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    by_line = {row["Demande (identifiant de la ligne)"]: row for row in rows}
    assert {row["Statut (code)"] for row in rows} == {"submitted"}
    assert by_line[str(named)]["Nom"] == "Lafitte" and by_line[str(named)]["Identité transmise"] == "oui"
    assert by_line[str(named)]["Montant demandé (€)"] == "1200,00"
    assert by_line[str(named)]["Programme (code)"] == "ardh"
    assert by_line[str(hidden)]["Nom"] == "" and by_line[str(hidden)]["Identité transmise"] == "non"
    assert len(by_line[str(hidden)]["Personne (pseudonyme)"]) == 16
    assert family not in words(exported) and MEDICAL not in words(exported) and NEEDS not in words(exported)

    document = browser.get(f"{BASE}/export.json").json()
    found = {row["line_id"]: row for row in document["rows"]}
    assert found[str(hidden)]["family_name"] is None and found[str(hidden)]["identity_shared"] is False
    assert found[str(named)]["given_names"] == "Jeanne" and found[str(named)]["requested_cents"] == 120_000
    assert document["count"] == len(document["rows"])
    audited = one(
        sql_owner,
        "SELECT count(*) FROM audit_entry WHERE tenant_id = %s AND action = 'funding.export'",
        landes.id,
    )
    assert audited >= 2

    assert browser.get(f"{BASE}/export.csv", params={"du": "hier"}).status_code == 422


def test_other_roles_have_no_funder_console(browser, landes):
    sign_in(browser, "coordinatrice.landes")
    assert browser.get(BASE).status_code == 403


def funder_token(client, aio, landes, sql_owner, name: str | None, scopes: tuple[str, ...]) -> dict[str, str]:
    organisation_id = organisation(sql_owner, landes, name) if name else None
    new = aio.run(create_client(landes.id, f"SI {name}", list(scopes), organisation_id))
    answer = client.post(
        f"/t/{DEMO_SLUG}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(new.client_id, new.client_secret),
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_funders_systems_read_and_decide_through_the_api(
    client, aio, runtime, landes, social_worker, jeanne, sql_owner
):
    lines = new_request(
        aio, runtime, landes, social_worker, jeanne, ("ardh", "mutuelle_assistance"), sql_owner
    )
    ardh = lines["ardh"]
    api = f"/t/{DEMO_SLUG}/api/v1/funding-requests"
    client.cookies.clear()
    reader = funder_token(client, aio, landes, sql_owner, CARSAT, ("funding:read",))
    decider = funder_token(client, aio, landes, sql_owner, CARSAT, ("funding:read", "funding:decide"))
    stranger = funder_token(client, aio, landes, sql_owner, MUTUELLE, ("funding:read", "funding:decide"))
    nobody = funder_token(client, aio, landes, sql_owner, None, ("funding:read",))

    assert client.get(api).status_code == 401
    assert client.get(api, headers=nobody).status_code == 403
    listed = client.get(api, headers=reader, params={"status": "submitted"})
    assert listed.status_code == 200, listed.text
    rows = {row["line_id"]: row for row in listed.json()["rows"]}
    assert rows[str(ardh)]["family_name"] == "Lafitte" and rows[str(ardh)]["programme"] == "ardh"
    assert str(lines["mutuelle_assistance"]) not in rows
    as_csv = client.get(api, headers=reader, params={"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.content.startswith("\ufeff".encode())
    assert str(lines["mutuelle_assistance"]) not in client.get(api, headers=reader).text

    decision = f"{api}/{ardh}/decision"
    body = {
        "status": "approved",
        "amount_cents": 100_000,
        "period_start": "2026-12-01",
        "period_end": "2027-02-28",
        "expected_version": version(sql_owner, ardh),
    }
    assert client.post(decision, json=body, headers=reader).status_code == 403  # no funding:decide
    assert client.post(decision, json=body, headers=stranger).status_code == 404
    incomplete = client.post(decision, json={"status": "refused"}, headers=decider)
    assert incomplete.status_code == 422
    assert "choisissez le motif du refus" in json.dumps(incomplete.json(), ensure_ascii=False)
    answered = client.post(decision, json=body, headers=decider)
    assert answered.status_code == 200, answered.text
    assert answered.json() == {"line_id": str(ardh), "status": "approved", "status_label": "Accordée"}
    assert one(sql_owner, "SELECT decided_cents FROM funding_line WHERE id = %s", ardh) == 100_000
    again = client.post(decision, json=body, headers=decider)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert "Impossible" in again.json()["detail"]
    history = one(
        sql_owner,
        "SELECT actor_label FROM funding_line_event WHERE line_id = %s AND to_status = 'approved'",
        ardh,
    )
    assert history == f"API : SI {CARSAT}"


def test_the_demo_carsat_system_has_its_own_api_client(client, landes):
    """The demo ships a funder's system client, bound to the CARSAT, with funding scopes only."""
    answer = client.post(
        f"/t/{DEMO_SLUG}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("demo-carsat-aquitaine", "demo-secret-carsat-not-for-production"),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == "funding:read funding:decide"
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    listed = client.get(f"/t/{DEMO_SLUG}/api/v1/funding-requests", headers=headers)
    assert listed.status_code == 200, listed.text
    funders = {row["funder"] for row in listed.json()["rows"]}
    assert funders == {"carsat_ardh"}  # the demo story's ARDH request, and nobody else's
    assert client.get(f"/t/{DEMO_SLUG}/api/v1/events", headers=headers).status_code in (403, 405)


def test_a_late_decision_is_reminded_once_to_the_funder_and_the_requester(
    aio, runtime, landes, social_worker, jeanne, sql_owner
):
    lines = new_request(
        aio, runtime, landes, social_worker, jeanne, ("ardh", "mutuelle_assistance"), sql_owner
    )
    late, on_time = lines["ardh"], lines["mutuelle_assistance"]
    sql_owner.execute("UPDATE funding_line SET due_at = now() - interval '2 days' WHERE id = %s", (late,))
    sql_owner.commit()

    assert aio.run(remind_overdue(runtime, landes.id)) >= 1
    assert aio.run(remind_overdue(runtime, landes.id)) == 0  # once per line
    assert one(sql_owner, "SELECT reminded_at IS NOT NULL FROM funding_line WHERE id = %s", late)
    assert not one(sql_owner, "SELECT reminded_at IS NOT NULL FROM funding_line WHERE id = %s", on_time)
    history = sql_owner.execute(
        "SELECT kind, actor_label FROM funding_line_event WHERE line_id = %s AND kind = 'reminder'", (late,)
    ).fetchall()
    assert history == [("reminder", "veille des échéances")]
    notes = sql_owner.execute(
        "SELECT n.title, n.body, n.link FROM notification n JOIN membership m "
        "ON m.user_account_id = n.recipient_user_id WHERE n.kind = 'funding.overdue' AND n.link LIKE %s "
        "AND m.organisation_id = %s",
        (f"%{late}", organisation(sql_owner, landes, CARSAT)),
    ).fetchall()
    assert notes and notes[0][0] == "Décision de financement en retard (ardh)"
    assert all("Lafitte" not in title + body for title, body, _link in notes)
    to_requester = one(
        sql_owner,
        "SELECT count(*) FROM notification WHERE kind = 'funding.overdue' AND recipient_user_id = %s "
        "AND link LIKE '%%/financements/%%'",
        social_worker.user_id,
    )
    assert to_requester >= 1
    audited = one(
        sql_owner,
        "SELECT count(*) FROM audit_entry WHERE action = 'funding.line.reminded' AND target_id = %s",
        str(late),
    )
    assert audited == 1
