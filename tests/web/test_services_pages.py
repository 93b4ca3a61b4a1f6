"""The public search page and API of the demo territory's marketplace, anonymous."""

from __future__ import annotations

from tests.web.conftest import DEMO_SLUG

PAGE = f"/t/{DEMO_SLUG}/services"
API = f"/t/{DEMO_SLUG}/api/v1/services"


def test_anonymous_search_lists_the_demo_offer(landes, browser):
    response = browser.get(PAGE, params={"q": "aide menagere", "commune": "40192"})
    assert response.status_code == 200, response.text
    html = response.text
    assert "<h1>Trouver un service à domicile</h1>" in html
    assert "Aide ménagère" in html
    assert "Aide et présence Landes (démo)" in html
    assert "25,00\u00a0€ / heure" in html
    assert "Sous 2 jours" in html
    assert "Garde de nuit</h3>" not in html  # a draft (the type select has that label too)
    assert 'value="aide menagere"' in html  # the form keeps the search (shareable URL)
    assert f'href="/t/{DEMO_SLUG}/services" aria-current="page"' in html  # « Services » in the menu


def test_typo_and_commune_filter(landes, browser):
    html = browser.get(PAGE, params={"q": "portage de repa", "commune": "40192"}).text
    assert "Portage de repas" in html
    html = browser.get(PAGE, params={"q": "portage de repas", "commune": "40088"}).text
    assert "Aucun service ne correspond" in html  # covered in Mont-de-Marsan only


def test_htmx_request_gets_only_the_results(landes, browser):
    response = browser.get(
        PAGE,
        params={"q": "aide menagere", "commune": "40192"},
        headers={"HX-Request": "true", "HX-Target": "service-results"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="service-results"')
    assert "<h1>" not in response.text and "Aide ménagère" in response.text


def test_bad_commune_is_a_422_with_an_inline_message(landes, browser):
    response = browser.get(PAGE, params={"commune": "4O192"})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    assert "code INSEE de commune" in response.text
    fragment = browser.get(
        PAGE, params={"commune": "abc"}, headers={"HX-Request": "true", "HX-Target": "service-results"}
    )
    assert fragment.status_code == 422 and 'role="alert"' in fragment.text


def test_page_without_filters_and_menu_on_home(landes, browser):
    assert browser.get(PAGE).status_code == 200
    assert f'href="/t/{DEMO_SLUG}/services"' in browser.get(f"/t/{DEMO_SLUG}/").text


def test_json_api(landes, browser):
    response = browser.get(API, params={"q": "aide menagere", "commune": "40192"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["results"][0]["title"] == "Aide ménagère"
    assert body["results"][0]["price_label"] == "25,00\u00a0€ / heure"
    assert body["results"][0]["provider"] == "Aide et présence Landes (démo)"
    assert all(r["title"] != "Garde de nuit" for r in browser.get(API).json()["results"])
    refused = browser.get(API, params={"commune": "x"})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_api_is_documented_in_french(browser):
    schema = browser.get("/schema/openapi.json").json()
    operation = schema["paths"]["/t/{slug}/api/v1/services"]["get"]
    assert operation["summary"] == "Rechercher des services à domicile"
    assert "security" not in operation or operation["security"] in ([], [{}])
