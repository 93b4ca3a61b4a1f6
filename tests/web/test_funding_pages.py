"""The funding single window through HTTP on the demo territory: the CCAS's social worker prepares
Jeanne Lafitte's request (live eligibility of every programme), sends it to the CARSAT's ARDH, adds
the CCAS and the mutuelle in one click; each funder decides (through the core, as its console does);
Jeanne sees the three answers and what remains to pay. Bad input comes back inline (422), another
person's request is unknown to her (404), a routed proposal's draft is opened instead of a new one."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import psycopg
import pytest

from core.access.policy import Actor
from core.financing.lines import LineMove, LineStatus
from core.financing.registry import territory_funders
from core.financing.requests import move_line
from core.identity.roles import Role
from tests.web.conftest import DEMO_SLUG, sign_in

BASE = f"/t/{DEMO_SLUG}/financements"
HTMX = {"HX-Request": "true"}
SOCIAL_WORKER = "assistante-sociale.landes"
ARDH = "Aide au retour à domicile après hospitalisation (ARDH)"
SITUATION = {
    "age": "84",
    "commune": "40192",
    "sortie": "3",
    "retraite": "general",
    "agirc": "",
    "gir": "",
    "revenus": "1000-1500",
    "foyer": "seul",
    "mutuelle": "oui",
    "contrat": "non",
}


@pytest.fixture(scope="module")
def sql(database: Any) -> Any:
    with psycopg.connect(database.owner, autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def jeanne(landes: Any, sql: Any) -> uuid.UUID:
    row = sql.execute(
        "SELECT id FROM person WHERE tenant_id = %s AND given_names = 'Jeanne' AND family_name = 'Lafitte' "
        "ORDER BY created_at LIMIT 1",
        (landes.id,),
    ).fetchone()
    return row[0]


def agent(browser: Any, sql: Any, landes: Any, username: str) -> Actor:
    """A funder's agent as the core sees them (signed in once, so the demo invitation is claimed)."""
    sign_in(browser, username)
    row = sql.execute(
        "SELECT id, user_account_id, organisation_id FROM membership WHERE tenant_id = %s "
        "AND invited_email LIKE %s AND status = 'active' AND role = 'funder_agent'",
        (landes.id, f"{username}@%"),
    ).fetchone()
    assert row is not None, username
    return Actor(row[1], False, landes.id, Role.FUNDER_AGENT, row[0], row[2])


def request_form(csrf: str, person: uuid.UUID, **extra: Any) -> dict[str, Any]:
    return {
        "_csrf": csrf,
        "personne": str(person),
        "proposition": "",
        **SITUATION,
        "besoins": "Aide au lever et au ménage pendant six semaines.",
        "devis": "1 800",
        "offre": "",
        **extra,
    }


def line_ids(page: str) -> dict[str, str]:
    """Line id by programme label, read from the request page."""
    found = {}
    for match in re.finditer(r'id="ligne-([0-9a-f-]{36})">\s*<h3>(.*?) <span', page):
        found[match[2].replace("&#39;", "'")] = match[1]
    return found


def test_the_form_is_prefilled_and_the_eligibility_follows_the_answers(browser, landes, jeanne):
    csrf = sign_in(browser, SOCIAL_WORKER)
    page = browser.get(f"{BASE}/nouvelle?personne={jeanne}")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    assert "Jeanne Lafitte" in page.text
    assert 'id="demande-commune" name="commune" value="Mont-de-Marsan (40)"' in page.text  # from her file
    assert 'value="seul" selected' in page.text  # she lives alone
    assert ARDH in page.text and 'hx-post="/t/landes/financements/eligibilite"' in page.text
    assert "Aide ménagère" in page.text  # an offer covering her commune, for the quote

    live = browser.post(f"{BASE}/eligibilite", data=request_form(csrf, jeanne), headers=HTMX)
    assert live.status_code == 200, live.text
    assert live.text.lstrip().startswith("<section") and "<html" not in live.text
    ardh = live.text.index(ARDH)
    assert "Éligible" in live.text[ardh : ardh + 400]
    assert re.search(r'name="programmes" value="ardh" checked', live.text)
    assert "Estimation" in live.text

    # a young salaried person: the ARDH is refused, in plain French, and not ticked
    young = request_form(csrf, jeanne, age="40", retraite="none")
    live = browser.post(f"{BASE}/eligibilite", data=young, headers=HTMX)
    assert re.search(r'name="programmes" value="ardh"\s', live.text)
    assert not re.search(r'name="programmes" value="ardh" checked', live.text)
    assert "Non éligible" in live.text

    wrong = browser.post(f"{BASE}/eligibilite", data=request_form(csrf, jeanne, commune="abc"), headers=HTMX)
    assert wrong.status_code == 422
    assert "commune introuvable" in wrong.text and 'hx-swap-oob="true"' in wrong.text


def test_bad_input_comes_back_inline_never_a_500(browser, landes, jeanne):
    csrf = sign_in(browser, SOCIAL_WORKER)
    form = request_form(csrf, jeanne, programmes=["inconnu"], devis="-5", action="envoyer")
    answer = browser.post(f"{BASE}/nouvelle", data=form, follow_redirects=False)
    assert answer.status_code == 422, answer.text
    assert "programme non proposé ici : inconnu" in answer.text
    assert "montant en euros, par exemple 1 234,50" in answer.text
    assert 'id="demande-devis"' in answer.text and 'aria-invalid="true"' in answer.text
    assert 'value="-5"' in answer.text  # given back as typed

    form = request_form(csrf, jeanne, programmes=["ardh"], devis="12,345", action="envoyer")
    answer = browser.post(f"{BASE}/nouvelle", data=form, follow_redirects=False)
    assert answer.status_code == 422
    assert "deux décimales au plus" in answer.text

    form = request_form(csrf, jeanne, action="envoyer", age="200", gir="9")
    answer = browser.post(f"{BASE}/nouvelle", data=form, follow_redirects=False)
    assert answer.status_code == 422
    assert "choisissez au moins un financeur" in answer.text and "âge en années" in answer.text

    unknown = browser.get(f"{BASE}/nouvelle?personne=pas-un-identifiant")
    assert unknown.status_code == 404


def test_one_request_three_funders_three_answers_and_the_remaining_share(
    browser, landes, jeanne, sql, aio, runtime
):
    csrf = sign_in(browser, SOCIAL_WORKER)
    form = request_form(csrf, jeanne, programmes=["ardh"], action="envoyer")
    sent = browser.post(f"{BASE}/nouvelle", data=form, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    url = sent.headers["location"].split("?")[0]
    request_id = url.rsplit("/", 1)[1]
    page = browser.get(sent.headers["location"])
    assert page.status_code == 200, page.text
    assert "La demande a été envoyée" in page.text and "Envoyée" in page.text
    assert "Jeanne Lafitte, 84 ans" in page.text  # consent for funding instruction shows who
    assert "Reste à charge" in page.text and "1\u202f800,00\xa0€" in page.text

    # « Ajouter des financeurs »: the CCAS and the mutuelle in one click, sent at once
    assert "Ajouter des financeurs" in page.text and "Aide sociale facultative du CCAS" in page.text
    added = browser.post(
        f"{url}/financeurs",
        data={"_csrf": csrf, "programmes": ["ccas_aide_facultative", "mutuelle_assistance"]},
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    page = browser.get(added.headers["location"])
    lines = line_ids(page.text)
    assert len(lines) == 3, lines
    assert page.text.count("<dd><strong>Envoyée</strong>") == 3
    assert "Les financeurs ajoutés ont reçu la demande." in page.text

    # each funder decides in its console (through the core here); the mutuelle first asks a question
    funders = aio.run(territory_funders(runtime.plugins, landes.id, landes.enabled_plugins))
    today = dt.date.today()
    carsat = agent(browser, sql, landes, "financeur.landes")
    ccas = agent(browser, sql, landes, "agent-ccas.landes")
    mutuelle = agent(browser, sql, landes, "mutuelle.landes")
    by_code = {label: line for label, line in lines.items()}
    ardh_line = uuid.UUID(next(v for k, v in by_code.items() if "ARDH" in k))
    ccas_line = uuid.UUID(next(v for k, v in by_code.items() if "CCAS" in k))
    mutuelle_line = uuid.UUID(next(v for k, v in by_code.items() if "complémentaire santé" in k))
    period = {"period_start": today, "period_end": today + dt.timedelta(days=90)}
    aio.run(
        move_line(
            runtime,
            carsat,
            "Fanny Dufau, CARSAT",
            ardh_line,
            LineMove(LineStatus.APPROVED, amount_cents=100_000, hours=40, **period),
            funders,
        )
    )
    aio.run(
        move_line(
            runtime,
            ccas,
            "Corinne Lartigau, CCAS",
            ccas_line,
            LineMove(
                LineStatus.REFUSED, reason_code="income_above_ceiling", note="Ressources au-dessus du barème."
            ),
            funders,
        )
    )
    aio.run(
        move_line(
            runtime,
            mutuelle,
            "Mathieu Dubroca, mutuelle",
            mutuelle_line,
            LineMove(LineStatus.INFORMATION_REQUESTED, note="Quel est le numéro d'adhérente ?"),
            funders,
        )
    )

    # the social worker answers the question on the request page
    csrf = sign_in(browser, SOCIAL_WORKER)
    page = browser.get(url)
    assert (
        "Quel est le numéro d&#39;adhérente ?" in page.text or "Quel est le numéro d'adhérente ?" in page.text
    )
    assert "Ressources au-dessus du plafond" in page.text  # the refusal, in plain French
    version = re.search(
        rf'action="{re.escape(url)}/lignes/{mutuelle_line}/reponse".*?name="version" value="(\d+)"',
        page.text,
        re.S,
    )
    assert version is not None
    empty = browser.post(
        f"{url}/lignes/{mutuelle_line}/reponse",
        data={"_csrf": csrf, "version": version[1], "note": " "},
        follow_redirects=False,
    )
    assert empty.status_code == 422 and "écrivez votre réponse" in empty.text
    answered = browser.post(
        f"{url}/lignes/{mutuelle_line}/reponse",
        data={"_csrf": csrf, "version": version[1], "note": "Adhérente n° 123456."},
        follow_redirects=False,
    )
    assert answered.status_code == 303, answered.text
    again = browser.post(
        f"{url}/lignes/{mutuelle_line}/reponse",
        data={"_csrf": csrf, "version": version[1], "note": "Encore."},
        follow_redirects=False,
    )
    assert again.status_code == 409  # the line moved since the page was shown
    aio.run(
        move_line(
            runtime,
            mutuelle,
            "Mathieu Dubroca, mutuelle",
            mutuelle_line,
            LineMove(LineStatus.PARTIALLY_APPROVED, amount_cents=30_000, **period),
            funders,
        )
    )
    page = browser.get(url)
    assert "Réponse du demandeur" in page.text and "Adhérente n° 123456." in page.text
    assert "Sandrine Castaing" in page.text  # the history names who
    assert "500,00\xa0€" in page.text  # 1 800 − 1 000 − 300

    # Jeanne's own view: three answers and the remaining share
    sign_in(browser, "jeanne.lafitte")
    mine = browser.get(f"/t/{DEMO_SLUG}/mon-dossier/financements")
    assert mine.status_code == 200, mine.text
    card = mine.text[mine.text.index(f'aria-labelledby="demande-{request_id}"') :]
    card = card[: card.index("</article>")]
    assert "3 réponses" in card
    assert "Accordée" in card and "Refusée" in card and "Accordée en partie" in card
    assert "1\u202f000,00\xa0€" in card and "300,00\xa0€" in card
    assert "Reste à votre charge" in card and "500,00\xa0€" in card
    assert "Ressources au-dessus du plafond" in card
    one = browser.get(f"/t/{DEMO_SLUG}/mon-dossier/financements/{request_id}")
    assert one.status_code == 200 and "Reste à votre charge" in one.text
    portal = browser.get(f"/t/{DEMO_SLUG}/mon-dossier")
    assert f"/t/{DEMO_SLUG}/mon-dossier/financements?" in portal.text

    # the social worker's list
    sign_in(browser, SOCIAL_WORKER)
    listing = browser.get(BASE)
    assert listing.status_code == 200 and request_id in listing.text
    assert "Jeanne Lafitte" in listing.text


def test_another_persons_request_is_unknown_to_the_person(browser, landes, jeanne, sql):
    other = sql.execute(
        "SELECT id FROM person WHERE tenant_id = %s AND family_name = 'Darrigrand' LIMIT 1", (landes.id,)
    ).fetchone()[0]
    request_id = uuid.uuid4()
    sql.execute(
        "INSERT INTO funding_request (id, tenant_id, person_id, document_ids, status, created_by_label, "
        "created_at, version) VALUES (%s, %s, %s, '{}', 'draft', 'test', now(), 1)",
        (request_id, landes.id, other),
    )
    sign_in(browser, "jeanne.lafitte")
    assert browser.get(f"/t/{DEMO_SLUG}/mon-dossier/financements/{request_id}").status_code == 404
    assert browser.get(f"/t/{DEMO_SLUG}/mon-dossier/financements/{uuid.uuid4()}").status_code == 404
    assert browser.get(f"{BASE}/{request_id}", follow_redirects=False).status_code == 403  # not her page


def test_a_routed_proposal_opens_its_draft_which_is_completed_and_sent(browser, landes, jeanne, sql):
    row = sql.execute(
        "SELECT r.id, r.proposal_id FROM funding_request r JOIN action_proposal p ON p.id = r.proposal_id "
        "WHERE r.tenant_id = %s AND r.person_id = %s AND r.status = 'draft' ORDER BY r.created_at LIMIT 1",
        (landes.id, jeanne),
    ).fetchone()
    if row is None:
        pytest.skip("the demo's routing prepared no draft request")
    request_id, proposal_id = row
    csrf = sign_in(browser, SOCIAL_WORKER)
    opened = browser.get(
        f"{BASE}/nouvelle?personne={jeanne}&proposition={proposal_id}", follow_redirects=False
    )
    assert opened.status_code == 303 and opened.headers["location"] == f"{BASE}/{request_id}"
    page = browser.get(f"{BASE}/{request_id}")
    assert page.status_code == 200, page.text
    assert "Compléter et envoyer" in page.text and "Brouillon" in page.text
    form = {"_csrf": csrf, **SITUATION, "besoins": "Retour à domicile.", "devis": "abc", "action": "envoyer"}
    wrong = browser.post(f"{BASE}/{request_id}/envoi", data=form, follow_redirects=False)
    assert wrong.status_code == 422 and "montant en euros" in wrong.text
    form["devis"] = "1 500"
    sent = browser.post(f"{BASE}/{request_id}/envoi", data=form, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    page = browser.get(sent.headers["location"])
    assert "La demande a été envoyée" in page.text and "<strong>Envoyée</strong>" in page.text

    # « Retirer »: the request withdrawn from one funder
    line = re.search(rf'action="{BASE}/{request_id}/lignes/([0-9a-f-]{{36}})/retrait"', page.text)
    assert line is not None
    withdrawn = browser.post(
        f"{BASE}/{request_id}/lignes/{line[1]}/retrait", data={"_csrf": csrf}, follow_redirects=False
    )
    assert withdrawn.status_code == 303, withdrawn.text
    page = browser.get(withdrawn.headers["location"])
    assert "La demande a été retirée" in page.text and "<dd><strong>Retirée</strong>" in page.text


def test_links_from_the_file_and_the_proposal(browser, landes, jeanne, sql):
    sign_in(browser, "coordinatrice.landes")
    file = browser.get(f"/t/{DEMO_SLUG}/personnes/{jeanne}")
    assert f"{BASE}/nouvelle?personne={jeanne}" in file.text
    proposal = sql.execute(
        "SELECT id FROM action_proposal WHERE tenant_id = %s AND person_id = %s "
        "AND action_type = 'funding_request' LIMIT 1",
        (landes.id, jeanne),
    ).fetchone()
    assert proposal is not None
    page = browser.get(f"/t/{DEMO_SLUG}/actions/{proposal[0]}")
    if page.status_code == 200:
        assert "Préparer la demande de financement" in page.text
        assert f"proposition={proposal[0]}" in page.text
