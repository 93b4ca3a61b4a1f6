"""« Trouver un service » (``/t/landes/services``) and an offer's page in a real browser, anonymous.

Live results through htmx (no page reload, the URL pushed), typo tolerance, filters, opening an
offer and coming back to the same results, the keyboard, a 200 % zoom, and axe-core on the empty
search, with results, with an inline error (htmx and whole page) and on an offer's page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, Response, expect

from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.test_key_pages import axe_violations, describe

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SEARCH = "/t/landes/services"
HEADING = "Trouver un service à domicile"
COMMUNE = "40192"  # Mont-de-Marsan: the demo offers of landes.toml cover it


def open_search(page: Page, path: str = SEARCH) -> None:
    page.goto(path)
    expect(page.get_by_role("heading", level=1, name=HEADING)).to_be_visible()


def results(page: Page) -> Locator:
    return page.locator("#service-results")


def offer_titles(page: Page) -> Locator:
    return results(page).locator("li.offer h3")


def is_htmx_search(response: Response) -> bool:
    return "/services" in response.url and response.request.headers.get("hx-request") == "true"


def htmx_search_with(fragment: str) -> Callable[[Response], bool]:
    """The htmx answer to a search whose URL contains ``fragment`` (``type=housekeeping``…)."""
    return lambda response: is_htmx_search(response) and fragment in response.url


def search_by_typing(page: Page, q: str, commune: str = "") -> None:
    """Type as a person would (key by key), waiting for the htmx answer of the last keystroke."""
    field = page.get_by_label("Que cherchez-vous ?", exact=True)
    field.fill("")
    with page.expect_response(is_htmx_search):
        field.press_sequentially(q)
    if commune:
        commune_field = page.get_by_label("Commune", exact=True)
        with page.expect_response(
            lambda r: f"commune={commune}" in r.url and r.request.headers.get("hx-request") == "true"
        ):
            commune_field.press_sequentially(commune)


def test_typing_updates_the_results_in_place_and_the_url_is_shareable(page: Page) -> None:
    open_search(page)
    page.evaluate("window.__sameDocument = true")

    search_by_typing(page, "aide menagere", COMMUNE)  # no accent

    expect(offer_titles(page).filter(has_text=re.compile(r"^Aide ménagère$"))).to_have_count(1)
    first = results(page).locator("li.offer").first
    expect(first).to_contain_text("Aide ménagère")
    expect(first).to_contain_text("€ / heure")  # price
    expect(first).to_contain_text("Délai")  # lead time
    expect(page).to_have_url(re.compile(r"[?&]q=aide(\+|%20)menagere(&|$)"))
    expect(page).to_have_url(re.compile(rf"[?&]commune={COMMUNE}(&|$)"))
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    assert page.locator("header.site-header").count() == 1, "a page inside the page"
    assert page.locator("#service-results").count() == 1, "results inside the results"

    # a typo is forgiven (trigram similarity on the title)
    search_by_typing(page, "portage de repa")
    expect(offer_titles(page).filter(has_text=re.compile(r"^Portage de repas$"))).to_have_count(1)
    expect(page).to_have_url(re.compile(r"[?&]q=portage(\+|%20)de(\+|%20)repa(&|$)"))
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"

    # the pushed URL is shareable: opened afresh (no htmx), it shows the same results
    shared = page.url
    page.goto(shared)
    expect(page.get_by_label("Que cherchez-vous ?", exact=True)).to_have_value("portage de repa")
    expect(page.get_by_label("Commune", exact=True)).to_have_value(COMMUNE)
    expect(offer_titles(page).filter(has_text=re.compile(r"^Portage de repas$"))).to_have_count(1)


def test_the_search_works_without_javascript(browser: Browser, live_server: str) -> None:
    context = browser.new_context(base_url=live_server, locale="fr-FR", java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        open_search(page)
        page.get_by_label("Que cherchez-vous ?", exact=True).fill("aide menagere")
        page.get_by_label("Commune", exact=True).fill(COMMUNE)
        page.get_by_role("button", name="Rechercher", exact=True).click()
        expect(page).to_have_url(re.compile(rf"q=aide\+menagere.*commune={COMMUNE}"))
        expect(offer_titles(page).filter(has_text=re.compile(r"^Aide ménagère$"))).to_have_count(1)
    finally:
        context.close()


def focused_id(page: Page) -> str:
    return page.evaluate("(document.activeElement?.id || document.activeElement?.tagName) ?? ''")


def tab_until(page: Page, predicate: Callable[[], bool], limit: int = 60) -> list[str]:
    """Press Tab until ``predicate()`` holds; the ids (or tags) focused on the way."""
    order: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        order.append(focused_id(page))
        if predicate():
            return order
    raise AssertionError(f"Tab never got there: {order}")


def search_params(url: str) -> dict[str, list[str]]:
    """The search a URL names (htmx sends empty fields too; links leave them out)."""
    return parse_qs(urlsplit(url).query)


def focused_text(page: Page) -> str:
    return str(page.evaluate("document.activeElement?.textContent?.trim() ?? ''"))


def test_the_keyboard_reaches_the_search_field_the_type_then_opens_a_result(page: Page) -> None:
    """From the top of the page, Tab alone: the search field, the commune, then the type select, in
    that order; after « Rechercher » the next Tab is the first result's title, a link to the offer's
    page, which Enter opens; « Retour aux résultats » (Tab, Enter) brings back the same search."""
    open_search(page, f"{SEARCH}?commune={COMMUNE}")
    page.locator("body").focus()
    order = tab_until(page, lambda: focused_id(page) == "search-type")
    assert "search-q" in order, f"Tab never reached the search field: {order}"
    assert order.index("search-q") < order.index("search-commune") < order.index("search-type"), order
    expect(page.get_by_label("Type de service", exact=True)).to_be_focused()

    # choose a type with the keyboard only: the results follow (htmx on change)
    with page.expect_response(lambda r: "type=" in r.url and r.request.headers.get("hx-request") == "true"):
        page.keyboard.press("ArrowDown")
    for _ in range(6):  # programme, min price, max price, lead time, sort, « Rechercher »
        page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Rechercher", exact=True)).to_be_focused()
    with page.expect_response(is_htmx_search):
        page.keyboard.press("Enter")
    first_link = results(page).locator("li.offer h3 a").first
    expect(first_link).to_be_visible()
    title = first_link.inner_text()
    searched = page.url

    page.keyboard.press("Tab")  # the results follow the form: the first result's title is next
    expect(first_link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name=title, exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/t/landes/services/offres/[0-9a-f-]{36}\?retour="))

    page.locator("body").focus()
    tab_until(page, lambda: focused_text(page) == "← Retour aux résultats")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name=HEADING)).to_be_visible()
    assert search_params(page.url) == search_params(searched), (page.url, searched)
    expect(page.get_by_label("Commune", exact=True)).to_have_value(COMMUNE)
    expect(results(page).locator("li.offer h3 a").first).to_have_text(title)


def test_type_filter_see_the_results_change_and_open_an_offer(page: Page) -> None:
    open_search(page)
    page.evaluate("window.__sameDocument = true")
    search_by_typing(page, "aide", COMMUNE)
    expect(offer_titles(page).filter(has_text=re.compile(r"^Aide ménagère$"))).to_have_count(1)
    expect(offer_titles(page).filter(has_text="Aide à domicile après une hospitalisation")).to_have_count(1)

    # a type: only housekeeping is left
    with page.expect_response(htmx_search_with("type=housekeeping")):
        page.get_by_label("Type de service", exact=True).select_option(
            label="Ménage et entretien du logement"
        )
    expect(offer_titles(page)).to_have_text([re.compile(r"^Aide ménagère$")])
    expect(results(page).locator(".result-count")).to_have_text(re.compile(r"^1 service trouvé"))

    # a maximal price under its 25 € an hour: nothing left, then the price removed brings it back
    price = page.get_by_label("Prix maximal (€)", exact=True)
    with page.expect_response(htmx_search_with("prix_max=20")):
        price.press_sequentially("20")
    expect(results(page)).to_contain_text("Aucun service ne correspond")
    with page.expect_response(lambda r: is_htmx_search(r) and not re.search(r"prix_max=\d", r.url)):
        price.press("Backspace")
        price.press("Backspace")
    expect(offer_titles(page)).to_have_text([re.compile(r"^Aide ménagère$")])
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    searched = page.url
    assert "type=housekeeping" in searched and f"commune={COMMUNE}" in searched, searched

    # open the offer: its page says what a person needs to know
    results(page).get_by_role("link", name="Aide ménagère", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Aide ménagère", exact=True)).to_be_visible()
    facts = page.locator("dl.offer-facts")
    expect(facts).to_contain_text("25,00\u00a0€ / heure")
    expect(facts).to_contain_text("Sous 2 jours")
    expect(facts).to_contain_text("Français, occitan")
    expect(page.locator(".offer-coverage")).to_contain_text("Département 40")
    expect(page.locator(".offer-programmes")).to_contain_text("apa")
    expect(page.get_by_role("link", name="Se connecter pour commander", exact=True)).to_be_visible()

    page.get_by_role("link", name="← Retour aux résultats", exact=True).click()
    expect(page.get_by_role("heading", level=1, name=HEADING)).to_be_visible()
    assert search_params(page.url) == search_params(searched), (page.url, searched)
    expect(page.get_by_label("Type de service", exact=True)).to_have_value("housekeeping")
    expect(offer_titles(page)).to_have_text([re.compile(r"^Aide ménagère$")])


def test_an_unpublished_or_unknown_offer_is_a_french_404(page: Page) -> None:
    for path in (f"{SEARCH}/offres/00000000-0000-4000-8000-000000000000", f"{SEARCH}/offres/pas-un-uuid"):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
        expect(page.get_by_role("heading", level=1, name="Introuvable")).to_be_visible()
        expect(page.get_by_role("alert")).to_contain_text("offre introuvable")


@pytest.fixture
def zoomed_page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A 1280×800 screen at 200 % zoom, emulated as 640×400 CSS pixels at deviceScaleFactor 2.

    Browser zoom makes the CSS pixel bigger: at 200 % a 1280-pixel-wide window is 640 CSS pixels
    wide, media queries and ``window.innerWidth`` included, and text is rendered with twice the
    device pixels. A narrow viewport with ``deviceScaleFactor: 2`` is exactly that, where
    ``document.body.style.zoom`` is not (it scales the body inside an unchanged viewport, media
    queries do not see it, and ``scrollWidth`` is measured in unzoomed pixels).
    """
    context = browser.new_context(
        base_url=live_server, locale="fr-FR", viewport={"width": 640, "height": 400}, device_scale_factor=2
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def no_horizontal_scroll(page: Page) -> tuple[bool, dict[str, Any]]:
    sizes = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,"
        " wide: [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        " > window.innerWidth + 1).slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : '')"
        " + (e.className ? '.' + String(e.className).split(' ').join('.') : ''))})"
    )
    return sizes["scroll"] <= sizes["inner"] + 1, sizes


def test_at_200_percent_zoom_the_form_and_results_remain_usable(zoomed_page: Page) -> None:
    page = zoomed_page
    open_search(page)
    fits, sizes = no_horizontal_scroll(page)
    assert fits, f"horizontal scroll on the empty search: {sizes}"

    search_by_typing(page, "aide menagere", COMMUNE)
    first = results(page).locator("li.offer").first
    expect(first).to_contain_text("Aide ménagère")
    first.scroll_into_view_if_needed()
    expect(first.get_by_role("heading", level=3)).to_be_in_viewport()
    fits, sizes = no_horizontal_scroll(page)
    assert fits, f"horizontal scroll with results: {sizes}"
    for label in ("Que cherchez-vous ?", "Commune", "Type de service", "Prix maximal (€)"):
        field = page.get_by_label(label, exact=True)
        field.scroll_into_view_if_needed()
        box = field.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 641, (label, box)
    button = page.get_by_role("button", name="Rechercher", exact=True)
    button.scroll_into_view_if_needed()
    expect(button).to_be_in_viewport()


def open_first_offer(page: Page, q: str = "aide menagere") -> str:
    """Search, then follow the first result's link; its title."""
    open_search(page, f"{SEARCH}?q={q.replace(' ', '+')}&commune={COMMUNE}")
    link = results(page).locator("li.offer h3 a").first
    title = link.inner_text()
    link.click()
    expect(page.get_by_role("heading", level=1, name=title, exact=True)).to_be_visible()
    return title


def test_at_200_percent_zoom_the_offer_page_remains_usable(zoomed_page: Page) -> None:
    page = zoomed_page
    open_first_offer(page)
    fits, sizes = no_horizontal_scroll(page)
    assert fits, f"horizontal scroll on the offer page: {sizes}"
    for name in ("← Retour aux résultats", "Se connecter pour commander"):
        link = page.get_by_role("link", name=name, exact=True)
        link.scroll_into_view_if_needed()
        expect(link).to_be_in_viewport()
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 641, (name, box)
    facts = page.locator("dl.offer-facts")
    facts.scroll_into_view_if_needed()
    expect(facts).to_contain_text("Délai de mise en place")


def test_the_search_page_has_no_serious_accessibility_violation(audit_page: Page) -> None:
    page = audit_page
    found: dict[str, list[dict[str, Any]]] = {}

    open_search(page)
    found["search, empty"] = axe_violations(page)

    search_by_typing(page, "aide menagere", COMMUNE)
    expect(offer_titles(page).first).to_be_visible()
    found["search, with results (htmx)"] = axe_violations(page)

    # a bad commune, typed: the results region says why (htmx, 422)
    commune = page.get_by_label("Commune", exact=True)
    commune.fill("")
    with page.expect_response(lambda r: "commune=4019x" in r.url and r.status == 422):
        commune.press_sequentially("4019x")
    expect(results(page).get_by_role("alert")).to_contain_text("code INSEE")
    # …and so does the field itself: invalid, described by the message now shown beside it,
    # still focused with what was typed (the field is not replaced)
    expect(commune).to_have_attribute("aria-invalid", "true")
    expect(commune).to_have_attribute("aria-describedby", "search-commune-error")
    expect(page.locator("#search-commune-error")).to_contain_text("code INSEE")
    expect(commune).to_have_accessible_description(re.compile("commune introuvable"))
    expect(commune).to_be_focused()
    expect(commune).to_have_value("4019x")
    found["search, invalid commune (htmx)"] = axe_violations(page)

    # corrected: valid again, described by its hint
    with page.expect_response(lambda r: f"commune={COMMUNE}" in r.url and r.status == 200):
        commune.press("Backspace")
        commune.press_sequentially("2")
    expect(commune).not_to_have_attribute("aria-invalid", "true")
    expect(commune).to_have_attribute("aria-describedby", "search-commune-hint")
    expect(page.locator("#search-commune-error")).to_have_count(0)
    expect(offer_titles(page).first).to_be_visible()

    # the same submitted as a whole page: the message is next to the field
    open_search(page, f"{SEARCH}?commune=4019x")
    error = page.locator("#search-commune-error")
    expect(error).to_contain_text("code INSEE")
    expect(page.get_by_label("Commune", exact=True)).to_have_attribute("aria-invalid", "true")
    found["search, invalid commune (inline error)"] = axe_violations(page)

    open_first_offer(page)
    found["offer page"] = axe_violations(page)

    found = {where: violations for where, violations in found.items() if violations}
    assert not found, "\n".join(f"{where}:\n{describe(v)}" for where, v in found.items())
