"""« Quelles aides pour moi ? » (``/t/landes/services/aides``) through HTTP, anonymous: the
questionnaire, each programme's verdict with its explanation, the offers of the commune an eligible
programme pays for with the estimated remaining share, bad answers inline (422), the htmx fragment
and the page without JavaScript."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.web.conftest import DEMO_SLUG

PAGE = f"/t/{DEMO_SLUG}/services/aides"
ARDH = "Aide au retour à domicile après hospitalisation (ARDH)"
JEANNE = {
    "age": "84",
    "commune": "40192",
    "sortie": "3",
    "retraite": "general",
    "revenus": "1000-1500",
    "foyer": "seul",
    "mutuelle": "oui",
    "contrat": "non",
}


def test_the_empty_questionnaire_is_public_and_says_what_is_missing(browser, landes):
    page = browser.get(PAGE)
    assert page.status_code == 200, page.text
    assert "<h1>Quelles aides pour moi ?</h1>" in page.text
    assert 'method="get"' in page.text and 'id="aides-age"' in page.text
    assert ARDH in page.text and "Information manquante" in page.text
    assert "Pour conclure, il manque" in page.text
    assert "Indiquez votre commune" in page.text
    assert "Se connecter" in page.text  # nobody is signed in


def test_a_discharged_retiree_sees_her_aids_and_the_offers_they_pay_for(browser, landes):
    page = browser.get(f"{PAGE}?{urlencode(JEANNE)}")
    assert page.status_code == 200, page.text
    ardh = page.text.index(ARDH)
    assert "Éligible" in page.text[ardh : ardh + 600]
    assert "Estimation" in page.text
    assert "Services financés pour vous" in page.text
    assert "Aide à domicile après une hospitalisation" in page.text  # accepts the ARDH, covers 40192
    assert "Reste à charge estimé" in page.text and "10 heures" in page.text
    assert f"/t/{DEMO_SLUG}/services/offres/" in page.text
    # the answers stay in the form (shareable URL, nothing stored)
    assert 'value="84"' in page.text and 'value="40192"' in page.text
    assert 'value="1000-1500" selected' in page.text


def test_bad_answers_come_back_inline_with_a_422(browser, landes):
    page = browser.get(f"{PAGE}?{urlencode({**JEANNE, 'commune': '4019', 'age': 'vieux', 'gir': '9'})}")
    assert page.status_code == 422
    assert "commune introuvable" in page.text
    assert "âge en années" in page.text and "le GIR va de 1 à 6" in page.text
    assert 'id="aides-commune"' in page.text and 'aria-invalid="true"' in page.text
    assert "Services financés pour vous" not in page.text


def test_htmx_gets_the_results_alone_with_the_fields_messages_out_of_band(browser, landes):
    headers = {"HX-Request": "true", "HX-Target": "aides-resultats"}
    answer = browser.get(f"{PAGE}?{urlencode(JEANNE)}", headers=headers)
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith("<section") and "<html" not in answer.text
    assert ARDH in answer.text
    assert 'id="aides-commune-message" hx-swap-oob="true"' in answer.text
    wrong = browser.get(f"{PAGE}?{urlencode({**JEANNE, 'commune': 'abc'})}", headers=headers)
    assert wrong.status_code == 422
    assert "commune introuvable" in wrong.text and 'hx-swap-oob="true"' in wrong.text


def test_the_page_works_without_javascript_and_links_from_the_search(browser, landes):
    search = browser.get(f"/t/{DEMO_SLUG}/services")
    assert f'href="{PAGE}"' in search.text
    page = browser.get(f"{PAGE}?{urlencode(JEANNE)}")  # what the plain form submits
    assert "<html" in page.text and 'action="/t/landes/services/aides"' in page.text
    assert '<button type="submit" class="button">Voir mes aides</button>' in page.text
