"""The marketplace's consoles in a real browser, checked by axe-core: « Ma structure » (with an inline
error), the territory's « Modération des offres », and the person's « Mes commandes »."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_key_pages import axe_violations, describe, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _log_out(page: Page) -> None:
    page.context.clear_cookies()


def test_marketplace_consoles_have_no_serious_accessibility_violation(audit_page: Page) -> None:
    page = audit_page
    found: dict[str, list[dict[str, Any]]] = {}

    page.goto("/t/landes/prestataire/structure")
    log_in(page, "prestataire.landes")
    expect(
        page.get_by_role("heading", level=1, name="Ma structure : Aide et présence Landes (démo)")
    ).to_be_visible()
    expect(page.get_by_text("Agence de Dax", exact=True)).to_be_visible()
    found["provider profile"] = axe_violations(page)

    page.locator("#site-form-name").fill("Antenne test")
    page.locator("#site-form-commune").fill("Daxx")
    page.get_by_role("button", name="Ajouter le site").click()
    expect(page.locator("#site-form-commune-error")).to_contain_text("commune introuvable")
    expect(page.locator("#site-form-commune")).to_have_attribute("aria-invalid", "true")
    found["provider profile, inline error"] = axe_violations(page)

    page.goto("/t/landes/prestataire/offres/nouvelle")
    expect(page.get_by_label("Desservi depuis « Agence de Dax » (Dax (40))")).to_be_visible()
    found["offer form with sites"] = axe_violations(page)

    _log_out(page)
    page.goto("/t/landes/admin/offres")
    log_in(page, "coordinatrice.landes")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Modération")
    found["moderation"] = axe_violations(page)

    _log_out(page)
    page.goto("/t/landes/mon-dossier/commandes")
    log_in(page, "jeanne.lafitte")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    found["portal orders"] = axe_violations(page)

    found = {where: violations for where, violations in found.items() if violations}
    assert not found, "\n".join(f"{where}:\n{describe(v)}" for where, v in found.items())
