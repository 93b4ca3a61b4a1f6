"""« Mes actions » through HTTP: the inbox's tabs and filters, one-click moves swapping their row, the
409 of someone faster, reasons, reassignment, links shown once, funding, thread and attachments.
Real app, real database, real logins; proposals come from discharges declared through the API and
routed by the in-process worker. The demo territory is shared by the session: each test declares
its own discharge of Jeanne Lafitte and looks at its own proposals' rows."""

from __future__ import annotations

import random
import re
import uuid

import pytest

from core.access.service import create_client
from core.proposals.queries import MASKED
from tests.conftest import wait_for
from tests.factories import discharge, nir
from tests.web.conftest import sign_in
from tests.web.test_login import form_fields
from web.pages.actions import parse_euros

SLUG = "landes"
ACTIONS = f"/t/{SLUG}/actions"
HTMX = {"HX-Request": "true"}
LIST = {**HTMX, "HX-Target": "inbox-list"}
JEANNE_INS = "242024019212329"
"""Jeanne Lafitte of landes.toml: her care team holds the GP practice of Dax (medecin.landes)."""
GP = "Marc Darrieutort"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(scope="module")
def api(aio, client, landes):
    """Bearer headers of a hospital's API client of the demo territory."""
    new = aio.run(create_client(landes.id, "Hôpital de test (actions)", ["events:write", "events:read"]))
    answer = client.post(
        f"/t/{SLUG}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(new.client_id, new.client_secret),
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def declare_discharge(client, api, ins: str = JEANNE_INS, **person) -> dict[str, dict]:
    """A fresh discharge (of Jeanne by default) through the API; its proposals by action type, once routed."""
    body = discharge(ins=ins, **person)
    answer = client.post(
        f"/t/{SLUG}/api/v1/events", json=body, headers={**api, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert answer.status_code == 201, answer.text
    event_id = answer.json()["id"]

    def routed():
        event = client.get(f"/t/{SLUG}/api/v1/events/{event_id}", headers=api).json()
        return event if event["status"] == "routed" else None

    return {p["action_type"]: p for p in wait_for(routed, timeout=20)["proposals"]}


def row_of(html: str, proposal_id: str) -> str:
    """The inbox row of one proposal ('' when absent)."""
    found = re.search(rf'<tr id="action-{proposal_id}".*?</tr>', html, re.S)
    return found.group(0) if found else ""


def find_row(browser, proposal_id: str, query: str = "") -> str:
    """The proposal's row in the signed-in user's inbox (``query``: tab and filters), page after page:
    the session's shared territory accumulates proposals."""
    separator = "&" if query else ""
    for page in range(1, 40):
        answer = browser.get(f"{ACTIONS}?{query}{separator}page={page}")
        assert answer.status_code == 200, answer.text
        row = row_of(answer.text, proposal_id)
        if row or "Page suivante" not in answer.text:
            return row
    return ""


def counters_of(html: str) -> dict[str, int]:
    found = re.findall(r'<span class="count">(\d+)</span>\s*([^<]+?)\s*</li>', html)
    return {label: int(count) for count, label in found}


def version_in(html: str) -> str:
    return form_fields(html)["version"]


def post_move(
    browser, csrf: str, proposal_id: str, move: str, version: str, *, row=True, htmx=True, **fields
):
    data = {"_csrf": csrf, "version": version, **fields}
    if row:
        data.update(vue="ligne", retour=f"{ACTIONS}?statut=toutes")
    return browser.post(
        f"{ACTIONS}/{proposal_id}/{move}", data=data, headers=HTMX if htmx else {}, follow_redirects=False
    )


def detail(browser, proposal_id: str):
    page = browser.get(f"{ACTIONS}/{proposal_id}")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    return page.text


def section(html: str, section_id: str) -> str:
    found = re.search(rf'<section id="{section_id}".*?</section>', html, re.S)
    assert found, f"no section {section_id}"
    return found.group(0)


# ---------------------------------------------------------------- the inbox


def test_the_coordinator_sees_the_demo_discharges_in_the_territory_tab(browser, landes):
    sign_in(browser, "coordinatrice.landes")

    def territory():
        page = browser.get(f"{ACTIONS}?onglet=territoire&statut=toutes&type=gp_follow_up_call")
        assert page.status_code == 200, page.text
        return page if "Sortie d&#39;hospitalisation" in page.text else None

    page = wait_for(territory, timeout=20)
    assert page.headers["cache-control"] == "no-store"
    assert 'aria-current="page">Territoire' in page.text
    assert "Appel de suivi du médecin traitant" in page.text
    assert "Darrigrand" in page.text or "Lafitte" in page.text  # the demo discharges' people
    assert "<caption>" in page.text and 'hx-trigger="load, every 30s"' in page.text
    assert 'aria-live="polite"' in page.text
    # The menu's « Actions » is the current page.
    assert f'href="{ACTIONS}" aria-current="page"' in page.text.split("</nav>")[0]


def test_the_territory_tab_is_the_coordination_s_only(browser, landes):
    sign_in(browser, "medecin.landes")
    page = browser.get(ACTIONS)
    assert page.status_code == 200
    assert "Territoire</a>" not in page.text and "À faire" in page.text
    refused = browser.get(f"{ACTIONS}?onglet=territoire", headers={"Accept": "text/html"})
    assert refused.status_code == 403
    assert "réservée à la coordination" in refused.text and "Accès refusé" in refused.text


def test_filters_are_a_shareable_get_form_and_htmx_swaps_only_the_list(browser, landes):
    sign_in(browser, "coordinatrice.landes")
    page = browser.get(f"{ACTIONS}?onglet=territoire&statut=terminees&echeance=en-retard&type=nurse_visit")
    assert page.status_code == 200
    assert '<option value="terminees" selected>' in page.text
    assert '<option value="en-retard" selected>' in page.text
    assert '<option value="nurse_visit" selected>' in page.text
    assert 'hx-push-url="true"' in page.text and 'method="get"' in page.text
    fragment = browser.get(f"{ACTIONS}?onglet=territoire&statut=toutes", headers=LIST)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="inbox-list">')
    assert "<html" not in fragment.text
    # Nonsense in a link falls back to the defaults rather than failing.
    odd = browser.get(f"{ACTIONS}?statut=n-importe&echeance=demain&type=inconnu&personne=x&page=-3")
    assert odd.status_code == 200
    assert '<option value="ouvertes" selected>' in odd.text


# ---------------------------------------------------------------- one click, conflicts, history


def test_the_gp_accepts_in_one_click_a_second_accept_is_a_conflict_then_completes(
    browser, landes, client, api
):
    proposals = declare_discharge(client, api)
    gp_call = proposals["gp_follow_up_call"]
    assert gp_call["assignee_kind"] == "organisation"  # Jeanne's care team has the Dax practice
    csrf = sign_in(browser, "medecin.landes")

    row = find_row(browser, gp_call["id"])
    assert row, "the GP call is in the GP's « À faire »"
    assert "Jeanne Lafitte" in row and "Sortie d&#39;hospitalisation" in row
    assert "À traiter" in row and 'name="version"' in row
    assert "Accepter" in row and "Prendre en compte" in row
    assert f"{ACTIONS}/{gp_call['id']}#decision" in row  # refusing needs a reason: on the detail page
    before = counters_of(browser.get(f"{ACTIONS}/compteurs").text)

    accepted = post_move(browser, csrf, gp_call["id"], "accept", version_in(row))
    assert accepted.status_code == 200, accepted.text
    assert accepted.text.lstrip().startswith(f'<tr id="action-{gp_call["id"]}"')
    assert "Acceptée" in accepted.text and "<html" not in accepted.text
    assert "Démarrer" in accepted.text and "Marquer réalisée" in accepted.text
    assert 'hx-swap-oob="true"' in accepted.text  # the counters follow at once

    after = counters_of(browser.get(f"{ACTIONS}/compteurs").text)
    assert after["à traiter"] == before["à traiter"] - 1
    assert after["en cours"] == before["en cours"] + 1

    again = post_move(browser, csrf, gp_call["id"], "accept", version_in(row))
    assert again.status_code == 409
    assert again.text.lstrip().startswith(f'<tr id="action-{gp_call["id"]}"')
    message = re.search(r'<p class="field-error" role="alert"[^>]*>(.*?)</p>', again.text, re.S)
    assert message, again.text
    assert message.group(1).startswith("Impossible : l&#39;action est déjà « acceptée » par " + GP)

    assert find_row(browser, gp_call["id"], "onglet=pris"), "what I accepted is in « Pris par moi »"

    completed = post_move(browser, csrf, gp_call["id"], "complete", version_in(accepted.text))
    assert completed.status_code == 200, completed.text
    assert "Réalisée" in completed.text

    history = section(detail(browser, gp_call["id"]), "historique")
    assert "Acceptée</strong>" in history and "Réalisée</strong>" in history
    assert history.count(GP) >= 2
    assert find_row(browser, gp_call["id"], "statut=terminees")
    assert not find_row(browser, gp_call["id"])  # no longer to do


def test_without_javascript_a_row_button_posts_and_comes_back_to_the_inbox(browser, landes, client, api):
    proposals = declare_discharge(client, api)
    gp_call = proposals["gp_follow_up_call"]
    csrf = sign_in(browser, "medecin.landes")
    row = find_row(browser, gp_call["id"])
    answer = post_move(browser, csrf, gp_call["id"], "acknowledge", version_in(row), htmx=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{ACTIONS}?statut=toutes"
    assert "Prise en compte" in find_row(browser, gp_call["id"], "statut=received")


def test_refusing_without_a_reason_is_refused_inline_and_with_one_it_is_refused(browser, landes, client, api):
    proposals = declare_discharge(client, api)
    nurse = proposals["nurse_visit"]  # the coordination may act on any proposal of its territory
    csrf = sign_in(browser, "coordinatrice.landes")
    page = detail(browser, nurse["id"])
    assert 'id="move-reject"' in page and "Hors de notre zone d&#39;intervention" in page
    version = re.search(r'id="move-reject".*?name="version" value="(\d+)"', page, re.S).group(1)

    missing = post_move(browser, csrf, nurse["id"], "reject", version, row=False)
    assert missing.status_code == 422
    assert '<div id="action-detail"' in missing.text and "<html" not in missing.text
    assert 'id="move-reject-reason-error"' in missing.text
    assert "choisissez un motif" in missing.text

    other = post_move(browser, csrf, nurse["id"], "reject", version, row=False, reason="other")
    assert other.status_code == 422
    assert 'id="move-reject-note-error"' in other.text

    refused = post_move(
        browser,
        csrf,
        nurse["id"],
        "reject",
        version,
        row=False,
        reason="no_capacity",
        note="Tournées pleines",
    )
    assert refused.status_code == 200, refused.text
    assert "Refusée" in section(refused.text, "etat")
    history = section(refused.text, "historique")
    assert "Plus de disponibilité dans le délai" in history and "Tournées pleines" in history


def test_only_the_coordination_may_cancel(browser, landes, client, api):
    proposals = declare_discharge(client, api)
    gp_call = proposals["gp_follow_up_call"]
    csrf = sign_in(browser, "medecin.landes")
    page = detail(browser, gp_call["id"])
    assert 'id="move-cancel"' not in page
    answer = post_move(browser, csrf, gp_call["id"], "cancel", "1", row=False, htmx=False, reason="duplicate")
    assert answer.status_code == 403
    assert "seule la coordination peut annuler" in answer.text

    csrf = sign_in(browser, "coordinatrice.landes")
    page = detail(browser, gp_call["id"])
    assert 'id="move-cancel"' in page and "Doublon" in page


def test_a_provider_without_consent_sees_the_action_but_not_the_person(browser, landes, client, api):
    proposals = declare_discharge(client, api)
    home_help = proposals["home_help_assessment"]
    assert home_help["assignee_kind"] == "organisation"  # the home-help provider of the directory
    sign_in(browser, "prestataire.landes")
    row = find_row(browser, home_help["id"])
    assert row, "the assessment is in the provider's « À faire »"
    assert MASKED in row and "Lafitte" not in row
    assert "Évaluation des besoins d&#39;aide à domicile" in row and "Accepter" in row

    page = detail(browser, home_help["id"])
    assert MASKED in section(page, "personne") and "Lafitte" not in page
    assert f"/t/{SLUG}/personnes/" not in section(page, "personne")

    # An action that is not theirs: a clear refusal.
    other = browser.get(f"{ACTIONS}/{proposals['gp_follow_up_call']['id']}", headers={"Accept": "text/html"})
    assert other.status_code == 403
    assert "ne vous concerne pas" in other.text


def test_the_coordinator_reassigns_to_the_ccas_which_then_has_it_to_do(
    browser, landes, client, api, sql_owner
):
    proposals = declare_discharge(client, api)
    pharmacy = proposals["pharmacy_delivery"]
    ccas = str(
        sql_owner.execute(
            "SELECT id FROM organisation WHERE tenant_id = %s AND kind = 'ccas'", (landes.id,)
        ).fetchone()[0]
    )
    csrf = sign_in(browser, "coordinatrice.landes")
    page = detail(browser, pharmacy["id"])
    assert f'value="organisation:{ccas}"' in section(page, "reattribuer")
    version = version_in(section(page, "reattribuer"))

    url = f"{ACTIONS}/{pharmacy['id']}/reattribuer"
    missing = browser.post(
        url, data={"_csrf": csrf, "version": version, "assignee": f"organisation:{ccas}"}, headers=HTMX
    )
    assert missing.status_code == 422
    assert 'id="reassign-note-error"' in missing.text

    moved = browser.post(
        url,
        data={
            "_csrf": csrf,
            "version": version,
            "assignee": f"organisation:{ccas}",
            "note": "Le CCAS organise le portage",
        },
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == f"{ACTIONS}/{pharmacy['id']}?fait=reattribuee"
    page = browser.get(moved.headers["location"]).text
    assert "L&#39;action a été réattribuée" in page
    history = section(page, "historique")
    assert "Réattribuée" in history and "CCAS de Mont-de-Marsan (démo)</strong>" in history
    assert "Le CCAS organise le portage" in history
    stale = browser.post(
        url,
        data={"_csrf": csrf, "version": version, "assignee": "role:coordinator", "note": "Retour"},
        headers=HTMX,
    )
    assert stale.status_code == 409  # the page shown was outdated: said above the action as it is now
    refusal = re.search(r'<div id="action-refused"[^>]*autofocus>\s*<p>(.*?)</p>', stale.text, re.S)
    assert refusal and "modifiée entre-temps" in refusal.group(1)

    sign_in(browser, "assistante-sociale.landes")
    row = find_row(browser, pharmacy["id"])
    assert row and "À traiter" in row and "CCAS de Mont-de-Marsan" in row


def test_a_link_for_a_recipient_without_an_account_is_shown_once_then_revoked(browser, landes, client, api):
    proposals = declare_discharge(client, api)
    pharmacy = proposals["pharmacy_delivery"]
    csrf = sign_in(browser, "coordinatrice.landes")
    url = f"{ACTIONS}/{pharmacy['id']}/liens"
    bad = browser.post(url, data={"_csrf": csrf, "days": "90"}, headers=HTMX)
    assert bad.status_code == 422
    assert 'id="link-days-error"' in bad.text and 'id="link-recipient-error"' in bad.text

    created = browser.post(
        url, data={"_csrf": csrf, "recipient_label": "Pharmacie des Arènes", "days": "3"}, headers=HTMX
    )
    assert created.status_code == 200, created.text
    shown = re.search(rf"http://localhost/t/{SLUG}/lien/([A-Za-z0-9_-]{{30,}})", created.text)
    assert shown, created.text
    token = shown.group(1)

    page = detail(browser, pharmacy["id"])
    assert token not in page
    links = section(page, "liens")
    assert "Pharmacie des Arènes" in links and "actif" in links
    link_id = re.search(rf"{ACTIONS}/{pharmacy['id']}/liens/([0-9a-f-]{{36}})/retrait", links).group(1)
    revoked = browser.post(
        f"{ACTIONS}/{pharmacy['id']}/liens/{link_id}/retrait", data={"_csrf": csrf}, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert "retiré le" in section(detail(browser, pharmacy["id"]), "liens")
    assert "Lien : lien envoyé à Pharmacie des Arènes" in section(
        detail(browser, pharmacy["id"]), "historique"
    )


def test_funding_amounts_are_typed_the_french_way(browser, landes, client, api):
    proposals = declare_discharge(client, api)
    ardh = proposals["funding_request"]
    csrf = sign_in(browser, "coordinatrice.landes")
    page = detail(browser, ardh["id"])
    assert 'value="ardh"' in section(page, "financement")  # the suggested programme, prefilled
    url = f"{ACTIONS}/{ardh['id']}/financement"
    fields = {"_csrf": csrf, "programme": "ardh", "funder_label": "CARSAT Aquitaine"}

    bad = browser.post(url, data={**fields, "funding_status": "approved", "amount": "12,345"}, headers=HTMX)
    assert bad.status_code == 422
    assert 'id="funding-amount-error"' in bad.text and "1 234,50" in bad.text
    assert 'value="12,345"' in bad.text  # what was typed is kept

    ok = browser.post(url, data={**fields, "funding_status": "approved", "amount": "1 234,50"}, headers=HTMX)
    assert ok.status_code == 200, ok.text
    funding = section(ok.text, "financement")
    assert "1\u202f234,50\xa0€" in funding and "Accordé" in funding and "CARSAT Aquitaine" in funding


def test_the_carrier_is_chosen_from_the_directory_or_named(browser, landes, client, api):
    proposals = declare_discharge(client, api)
    home_help = proposals["home_help_assessment"]
    csrf = sign_in(browser, "coordinatrice.landes")
    url = f"{ACTIONS}/{home_help['id']}/prestataire"
    nobody = browser.post(url, data={"_csrf": csrf, "carrier": "", "carrier_label": " "}, headers=HTMX)
    assert nobody.status_code == 422 and 'id="carrier-carrier-error"' in nobody.text
    named = browser.post(
        url, data={"_csrf": csrf, "carrier": "", "carrier_label": "Association Landes Services"}, headers=HTMX
    )
    assert named.status_code == 200, named.text
    assert "Association Landes Services</strong>" in section(named.text, "prestataire")
    assert "Prestataire : <strong>Association Landes Services" in section(named.text, "historique")


def test_the_counters_poll_while_the_page_is_used_then_pause(browser, landes, runtime):
    sign_in(browser, "medecin.landes")
    first = browser.get(f"{ACTIONS}/compteurs")
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    assert 'hx-get="/t/landes/actions/compteurs?tour=2"' in first.text
    assert 'hx-trigger="every 30s"' in first.text and set(counters_of(first.text)) == {
        "à traiter",
        "en retard",
        "en cours",
    }
    # Polling keeps the session alive: it stops after half the idle timeout, so an unattended
    # tablet is still signed out.
    late = browser.get(f"{ACTIONS}/compteurs?tour={runtime.settings.session_idle_minutes * 2}")
    assert "hx-get" not in late.text and "suspendue" in late.text


def test_parse_euros():
    assert parse_euros("") is None
    assert parse_euros("1 234,50") == 123450
    assert parse_euros("1\u00a0234,5 €") == 123450
    assert parse_euros("80") == 8000
    assert parse_euros("80.25") == 8025
    for bad in ("12,345", "-5", "1e5", "NaN", "1 2 3,4", "abc", "1,2,3"):
        with pytest.raises(Exception, match="montant invalide"):
            parse_euros(bad)


def test_the_thread_and_attachments_follow_the_person_s_consent(browser, landes, client, api, sql_owner):
    """A person outside any care team: the coordination sees neither the thread nor the attachments
    until a consent is recorded for its organisation; then it writes, attaches and downloads."""
    proposals = declare_discharge(
        client,
        api,
        ins=nir(f"1420340192{random.randrange(1000):03d}"),
        family_name="Testaction",
        given_names="Paul",
    )
    ardh = proposals["funding_request"]
    person, dac = sql_owner.execute(
        "SELECT p.person_id, o.id FROM action_proposal p JOIN organisation o ON o.tenant_id = p.tenant_id "
        "AND o.kind = 'coordination_service' WHERE p.id = %s",
        (ardh["id"],),
    ).fetchone()
    csrf = sign_in(browser, "coordinatrice.landes")
    url = f"{ACTIONS}/{ardh['id']}"
    page = detail(browser, ardh["id"])
    assert MASKED in section(page, "personne")
    assert "consentement requis" in section(page, "echanges") and 'id="comment"' not in page
    assert "consentement requis" in section(page, "pieces") and 'id="attachment"' not in page

    recorded = browser.post(
        f"/t/{SLUG}/personnes/{person}/consentements",
        data={
            "_csrf": csrf,
            "finalite": "care_coordination",
            "mode": "paper",
            "recipient": str(dac),
            "categories": ["social", "documents"],
            "purposes": ["care_coordination"],
            "actions": ["read", "write"],
            "valid_until": "",
            "proof_reference": "formulaire signé, dossier papier",
        },
        follow_redirects=False,
    )
    assert recorded.status_code == 303, recorded.text

    empty = browser.post(f"{url}/commentaires", data={"_csrf": csrf, "body": " "}, headers=HTMX)
    assert empty.status_code == 422 and 'id="comment-body-error"' in empty.text
    said = browser.post(
        f"{url}/commentaires", data={"_csrf": csrf, "body": "Avis d'imposition à joindre"}, headers=HTMX
    )
    assert said.status_code == 200, said.text
    assert "Avis d&#39;imposition à joindre" in section(said.text, "echanges")

    wrong = browser.post(
        f"{url}/pieces",
        data={"_csrf": csrf, "title": "x"},
        files={"file": ("x.pdf", b"hello", "application/pdf")},
        headers=HTMX,
    )
    assert wrong.status_code == 422
    assert 'id="attachment-file-error"' in wrong.text and "seuls les PDF, PNG et JPEG" in wrong.text
    added = browser.post(
        f"{url}/pieces",
        data={"_csrf": csrf, "title": "Avis d'imposition"},
        files={"file": ("avis.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    assert added.headers["location"] == f"{url}?fait=piece"
    pieces = section(detail(browser, ardh["id"]), "pieces")
    href = re.search(
        rf'href="(/t/{SLUG}/personnes/{person}/documents/[0-9a-f-]{{36}})\?finalite=care_coordination"',
        pieces,
    )
    assert href, pieces
    download = browser.get(href.group(1), params={"finalite": "care_coordination"})
    assert download.status_code == 200 and download.content == PDF
