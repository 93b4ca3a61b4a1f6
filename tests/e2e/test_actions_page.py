"""« Mes actions » on a tablet in a real browser: one-click accept swapping its row (htmx), axe-core."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.test_key_pages import axe_violations, describe, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TABLET = {"width": 1024, "height": 768}
GP_CALL = "Appel de suivi du médecin traitant"
ACCEPT = re.compile(r"^Accepter")


def open_rows(page: Page, has_text: str, button: re.Pattern[str], timeout: float = 30) -> Locator:
    """The inbox rows showing ``has_text`` and a ``button``; the demo's events are routed by the
    server's worker after it starts, so the page is reloaded until they are there."""
    rows = page.locator("tr.inbox-row", has_text=has_text).filter(has=page.get_by_role("button", name=button))
    deadline = time.monotonic() + timeout
    while rows.count() == 0:
        assert time.monotonic() < deadline, f"no row « {has_text} » with a button {button.pattern}"
        page.wait_for_timeout(500)
        page.reload()
    return rows


def test_the_gp_accepts_a_proposal_in_one_click_on_a_tablet(page: Page) -> None:
    page.set_viewport_size(TABLET)
    page.goto("/t/landes/actions")
    log_in(page, "medecin.landes")
    expect(page.get_by_role("heading", level=1, name="Mes actions")).to_be_visible()
    row = open_rows(page, GP_CALL, ACCEPT).first
    row_id = row.get_attribute("id")
    assert row_id and row_id.startswith("action-")
    expect(row).to_contain_text("Lafitte")  # Jeanne's care team has the GP's practice
    expect(row).to_contain_text("À traiter")
    accept = row.get_by_role("button", name=ACCEPT)
    box = accept.bounding_box()
    assert box is not None and box["height"] >= 44, box  # a finger-sized target
    url_before = page.url
    page.evaluate("window.__sameDocument = true")

    accept.click()

    same = page.locator(f"#{row_id}")
    expect(same).to_contain_text("Acceptée")
    expect(same.get_by_role("button", name=re.compile(r"^Démarrer"))).to_be_visible()
    expect(same.get_by_role("button", name=ACCEPT)).to_have_count(0)
    expect(same.locator(".status")).to_be_focused()  # the keyboard is not sent back to the top
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    assert page.url == url_before
    assert page.locator("header.site-header").count() == 1, "a page inside the page"
    expect(page.locator("#inbox-counters")).to_contain_text("en cours")


def test_the_inbox_and_a_proposal_have_no_serious_accessibility_violation(audit_page: Page) -> None:
    page = audit_page
    page.set_viewport_size(TABLET)
    page.goto("/t/landes/actions")
    log_in(page, "coordinatrice.landes")
    expect(page.get_by_role("heading", level=1, name="Mes actions")).to_be_visible()
    page.get_by_role("link", name="Territoire", exact=True).click()
    expect(page.get_by_role("link", name="Territoire", exact=True)).to_have_attribute("aria-current", "page")
    rows = open_rows(page, "Passage infirmier", re.compile(r"^(Prendre en compte|Accepter|Démarrer|Marquer)"))
    found = {"inbox, territory (tablet)": axe_violations(page)}

    page.get_by_label("Statut", exact=True).select_option("toutes")
    expect(page).to_have_url(re.compile(r"statut=toutes"))  # the filter's URL is pushed, shareable
    expect(page.locator("#inbox-list table caption")).to_contain_text("toutes")
    found["inbox, filtered (tablet)"] = axe_violations(page)
    cached = page.evaluate(
        "(sessionStorage.getItem('htmx-history-cache') || '')"
        " + (localStorage.getItem('htmx-history-cache') || '')"
    )
    assert "Lafitte" not in cached, "htmx kept a copy of the inbox in the browser's storage"

    rows.first.get_by_role("link", name="Passage infirmier", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Passage infirmier")
    expect(page.get_by_role("heading", level=2, name="Historique")).to_be_visible()
    found["proposal (tablet)"] = axe_violations(page)

    page.get_by_text("Refuser…", exact=True).click()
    page.locator("#move-reject").get_by_role("button", name="Refuser").click()
    expect(page.locator("#move-reject-reason-error")).to_contain_text("motif")
    expect(page.locator("#move-reject-reason")).to_have_attribute("aria-invalid", "true")
    found["proposal, inline error (tablet)"] = axe_violations(page)

    found = {where: violations for where, violations in found.items() if violations}
    assert not found, "\n".join(f"{where}:\n{describe(v)}" for where, v in found.items())
