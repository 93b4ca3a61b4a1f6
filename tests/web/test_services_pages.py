"""The public search page and API of the demo territory's marketplace, and the public page of an offer."""

from __future__ import annotations

import re
import uuid
from html import unescape
from urllib.parse import parse_qs

import pytest

from tests.web.conftest import DEMO_SLUG, sign_in

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
    assert "commune introuvable" in response.text
    postcode = browser.get(PAGE, params={"commune": "40000"})
    assert postcode.status_code == 422 and "codes postaux ne sont pas reconnus" in postcode.text
    fragment = browser.get(
        PAGE, params={"commune": "abc"}, headers={"HX-Request": "true", "HX-Target": "service-results"}
    )
    assert fragment.status_code == 422 and 'role="alert"' in fragment.text
    # the message beside the field comes too, out of band (the field itself is not sent again)
    assert '<div class="field-message" id="search-commune-message" hx-swap-oob="true">' in fragment.text
    assert '<p class="field-error" id="search-commune-error">' in fragment.text
    assert 'id="search-commune"' not in fragment.text
    fixed = browser.get(
        PAGE, params={"commune": "40192"}, headers={"HX-Request": "true", "HX-Target": "service-results"}
    )
    assert fixed.status_code == 200
    assert 'id="search-commune-hint"' in fixed.text and "search-commune-error" not in fixed.text


def test_the_commune_is_typed_by_its_name_with_suggestions(landes, browser):
    by_code = browser.get(PAGE, params={"q": "aide menagere", "commune": "40192"}).text
    for typed in ("Mont-de-Marsan", "mont de marsan", "Mont-de-Marsan (40)"):
        html = browser.get(PAGE, params={"q": "aide menagere", "commune": typed}).text
        assert "Aide ménagère" in html
        assert "intervenant à Mont-de-Marsan (40)" in html
        assert html.count('class="card offer"') == by_code.count('class="card offer"')
    form = browser.get(PAGE).text
    assert '<datalist id="search-communes">' in form and '<option value="Dax (40)">' in form
    assert form.count('<option value="') > 327  # every commune of the Landes, and the other selects
    body = browser.get(API, params={"commune": "Mont-de-Marsan"}).json()
    assert body["commune"] == "40192" and body["total"] >= 1


def test_lead_time_price_range_and_sort_filters_are_in_the_url(landes, browser):
    params = {"commune": "40192", "delai": "7", "prix_min": "5", "prix_max": "30", "tri": "price"}
    html = browser.get(PAGE, params=params).text
    assert '<option value="7" selected>Sous une semaine</option>' in html
    assert '<option value="price" selected>Prix croissant</option>' in html
    assert 'value="5"' in html
    prices = [r["price_cents"] for r in browser.get(API, params=params).json()["results"]]
    assert prices == sorted(prices) and all(500 <= p <= 3000 for p in prices) and prices
    within_a_week = {
        r["title"]: r["lead_time_days"] for r in browser.get(API, params=params).json()["results"]
    }
    assert within_a_week["Aide ménagère"] == 2
    today = browser.get(API, params={**params, "delai": "0"}).json()["results"]
    assert "Aide ménagère" not in {r["title"] for r in today}
    assert all(r["lead_time_days"] == 0 for r in today)
    refused = browser.get(PAGE, params={"prix_min": "40", "prix_max": "10"})
    assert refused.status_code == 422 and "le prix minimal dépasse le prix maximal" in refused.text
    assert browser.get(API, params={"tri": "random"}).status_code == 422


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


# ---------------------------------------------------------------- the public page of an offer


def offer_link(html: str, title: str) -> str:
    """The href of the result card whose title (a link) is ``title``."""
    found = re.search(r'<h3><a href="([^"]+)">' + re.escape(title) + "</a></h3>", html)
    assert found is not None, f"no link to « {title} » in the results"
    return unescape(found[1])


@pytest.fixture
def demo_offer_ids(landes, sql_owner) -> dict[str, uuid.UUID]:
    """Title → id of the demo territory's offers (any status)."""
    rows = sql_owner.execute(
        "SELECT title, id FROM service_offer WHERE tenant_id = %s", (landes.id,)
    ).fetchall()
    return dict(rows)


def test_result_cards_link_to_the_offer_page_which_links_back_to_the_results(landes, browser):
    search = {"q": "aide menagere", "commune": "40192", "prix_max": "30"}
    html = browser.get(PAGE, params=search).text
    href = offer_link(html, "Aide ménagère")
    path, _, query = href.partition("?")
    assert re.fullmatch(rf"{PAGE}/offres/[0-9a-f-]{{36}}", path), href
    assert parse_qs(query) == {"retour": ["q=aide+menagere&commune=40192&prix_max=30"]}

    page = browser.get(href)
    assert page.status_code == 200, page.text
    text = page.text
    assert '<h1 id="offer-title">Aide ménagère</h1>' in text
    assert "Aide et présence Landes (démo)" in text  # provider
    assert "Ménage et entretien du logement" in text  # type label
    assert "Entretien du logement et du linge" in text  # description
    assert "25,00\u00a0€ / heure" in text
    assert "Sous 2 jours" in text
    assert "Jusqu'à 40 heures par semaine" in unescape(text)  # declared capacity, nothing of the orders
    assert "Du lundi au samedi, 8 h – 19 h" in text
    assert "Français, occitan" in text
    assert "Intervention à domicile" in text
    assert "Département 40 : toutes ses communes" in text
    hit = browser.get(API, params={"q": "aide menagere", "commune": "40192"}).json()["results"][0]
    assert hit["accepted_programmes"]  # the demo offer names some
    for code in hit["accepted_programmes"]:  # funding programmes, as their codes
        assert f"<li>{code}</li>" in text
    assert '<script type="application/ld+json">' in text and '"@type": "Service"' in text
    back = re.search(r'<a href="([^"]+)">← Retour aux résultats</a>', text)
    assert back is not None
    assert unescape(back[1]) == f"{PAGE}?q=aide+menagere&commune=40192&prix_max=30"
    assert f'href="/t/{DEMO_SLUG}/login?next=' in text  # anonymous: sign in to order


def test_the_back_link_never_leaves_the_territorys_search(landes, browser, demo_offer_ids):
    offer = demo_offer_ids["Portage de repas"]
    for retour in ("https://evil.example/", "//evil.example/x", "q=x&next=https://evil.example", "%0d%0a"):
        html = browser.get(f"{PAGE}/offres/{offer}", params={"retour": retour}).text
        back = re.search(r'<a href="([^"]+)">← Retour aux résultats</a>', html)
        assert back is not None
        assert unescape(back[1]).startswith(f"{PAGE}") and "evil" not in back[1].split("?")[0], back[1]
        assert "next=" not in back[1]
    html = browser.get(f"{PAGE}/offres/{offer}").text
    assert f'<a href="{PAGE}">← Retour aux résultats</a>' in html  # no search: the empty search


def test_only_published_offers_have_a_page(landes, browser, sql_owner, demo_offer_ids):
    draft = demo_offer_ids["Garde de nuit"]
    provider = sql_owner.execute(
        "SELECT provider_organisation_id FROM service_offer WHERE id = %s", (draft,)
    ).fetchone()[0]
    paused = uuid.uuid4()
    sql_owner.execute(
        "INSERT INTO service_offer (id, tenant_id, provider_organisation_id, service_type, type_label, "
        "title, status, created_at, updated_at) VALUES (%s, %s, %s, 'shopping', 'Courses', "
        "'Courses en pause', 'paused', now(), now())",
        (paused, landes.id, provider),
    )
    html = {"Accept": "text/html"}
    try:
        for offer in (draft, paused, uuid.uuid4()):
            response = browser.get(f"{PAGE}/offres/{offer}", headers=html)
            assert response.status_code == 404, (offer, response.status_code)
            assert "Introuvable" in response.text and "offre introuvable" in response.text
            assert "Garde de nuit" not in response.text and "Courses en pause" not in response.text
        for bad in ("not-a-uuid", "1", "x" * 80, "00000000-0000-0000-0000-00000000000g"):
            response = browser.get(f"{PAGE}/offres/{bad}", headers=html)
            assert response.status_code == 404, (bad, response.status_code)
            assert "offre introuvable" in response.text
    finally:
        sql_owner.execute("DELETE FROM service_offer WHERE id = %s", (paused,))
    # another territory's path does not show this one's offer
    assert browser.get(f"/t/nulle-part/services/offres/{draft}", headers=html).status_code == 404


def test_signed_in_professionals_get_the_order_link(landes, browser, demo_offer_ids):
    offer = demo_offer_ids["Portage de repas"]
    person, proposal = uuid.uuid4(), uuid.uuid4()
    sign_in(browser, "medecin.landes")
    html = browser.get(
        f"{PAGE}/offres/{offer}", params={"personne": str(person), "action": str(proposal)}
    ).text
    link = re.search(r'<a class="button" href="([^"]+)">Commander</a>', html)
    assert link is not None, html
    assert unescape(link[1]) == f"{PAGE}/offres/{offer}/commander?personne={person}&action={proposal}"
    html = browser.get(f"{PAGE}/offres/{offer}", params={"personne": "not-a-uuid"}).text
    assert ">Commander</a>" not in html and "ouvrez cette offre depuis le dossier" in html
    assert f'href="/t/{DEMO_SLUG}/personnes"' in html
