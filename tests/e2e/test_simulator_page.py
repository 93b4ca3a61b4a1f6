"""« Quelles aides pour moi ? » (``/t/landes/services/aides``) in a real browser, anonymous: the
questionnaire filled with the keyboard only, the results updated in place (htmx, the URL pushed),
and axe-core without serious or critical violation (results, and an inline error)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, Response, expect

from tests.e2e.test_key_pages import axe_violations, describe

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGE = "/t/landes/services/aides"
ARDH = "Aide au retour à domicile après hospitalisation (ARDH)"


def is_htmx_answer(fragment: str = "") -> Any:
    def match(response: Response) -> bool:
        return (
            "/services/aides" in response.url
            and response.request.headers.get("hx-request") == "true"
            and fragment in response.url
        )

    return match


def test_the_questionnaire_with_the_keyboard_updates_the_results(audit_page: Page) -> None:
    page = audit_page
    page.goto(PAGE)
    expect(page.get_by_role("heading", level=1, name="Quelles aides pour moi ?")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    found: dict[str, list[dict[str, Any]]] = {"empty": axe_violations(page)}

    page.get_by_label("Âge (en années)", exact=True).focus()
    with page.expect_response(is_htmx_answer("age=84")):
        page.keyboard.type("84")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Commune", exact=True)).to_be_focused()
    with page.expect_response(is_htmx_answer("commune=40192")):
        page.keyboard.type("40192")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Situation de famille", exact=True)).to_be_focused()
    with page.expect_response(is_htmx_answer("foyer=seul")):
        page.keyboard.press("P")  # « Personne seule, vit seule »
    page.keyboard.press("Tab")
    expect(page.get_by_label("Sortie d'hôpital : il y a combien de jours ?", exact=True)).to_be_focused()
    with page.expect_response(is_htmx_answer("sortie=3")):
        page.keyboard.type("3")
    page.keyboard.press("Tab")  # the GIR: not known
    page.keyboard.press("Tab")
    expect(page.get_by_label("Retraite (régime principal)", exact=True)).to_be_focused()
    with page.expect_response(is_htmx_answer("retraite=general")):
        page.keyboard.press("r")  # « régime général (CARSAT, Assurance retraite) »
    page.keyboard.press("Tab")  # Agirc-Arrco: not known
    page.keyboard.press("Tab")
    expect(page.get_by_label("Revenus mensuels du foyer", exact=True)).to_be_focused()
    with page.expect_response(is_htmx_answer("revenus=1000-1500")):
        page.keyboard.press("d")  # « de 1 000 € à 1 500 € par mois »

    results = page.locator("#aides-resultats")
    ardh = results.locator("li.programme").filter(has_text=ARDH)
    expect(ardh).to_contain_text("Éligible")
    expect(ardh).to_contain_text("Estimation")
    offer = results.locator("li.offer").filter(has_text="Aide à domicile après une hospitalisation")
    expect(offer).to_contain_text("Reste à charge estimé")
    expect(offer).to_contain_text("Pour 10 heures")
    expect(page).to_have_url(re.compile(r"[?&]age=84(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]retraite=general(&|$)"))
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    assert page.locator("header.site-header").count() == 1, "a page inside the page"
    found["results (htmx)"] = axe_violations(page)

    # a wrong commune: said beside the field and in the results, without leaving the page
    commune = page.get_by_label("Commune", exact=True)
    commune.focus()
    with page.expect_response(lambda r: is_htmx_answer("commune=4019x")(r) and r.status == 422):
        page.keyboard.press("End")
        page.keyboard.press("Backspace")
        page.keyboard.type("x")
    expect(page.locator("#aides-commune-message")).to_contain_text("commune introuvable")
    expect(results.get_by_role("alert")).to_contain_text("commune introuvable")
    found["invalid commune (htmx)"] = axe_violations(page)

    # the pushed URL, opened afresh: the same answers and results, without htmx
    page.goto(page.url)
    expect(page.get_by_label("Commune", exact=True)).to_have_value("4019x")
    expect(page.locator("#aides-commune-error")).to_contain_text("code INSEE")
    found["invalid commune (whole page)"] = axe_violations(page)

    assert not any(found.values()), describe([v for violations in found.values() for v in violations])
