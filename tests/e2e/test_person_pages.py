"""The person's portal on a phone and the professional's file, in a real browser (htmx, axe-core)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.test_key_pages import axe_violations, describe, log_in

PHONE = {"width": 390, "height": 844}
CCAS = "CCAS de Mont-de-Marsan (démo)"


def switch(page: Page, state: str) -> None:
    """Click the CCAS's medical switch; wait until htmx swapped the cell to ``state``."""
    button = page.get_by_role(
        "button", name=re.compile(rf"données médicales pour {re.escape(CCAS)} : (autoriser|retirer)")
    )
    button.click()
    expect(
        page.get_by_role("button", name=re.compile(rf"données médicales pour {re.escape(CCAS)}"))
    ).to_contain_text(state)


def test_jeanne_switches_medical_access_for_the_ccas_on_her_phone(audit_page: Page) -> None:
    page = audit_page
    page.set_viewport_size(PHONE)
    page.goto("/t/landes/mon-dossier/consentements")
    log_in(page, "jeanne.lafitte")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Qui peut voir quoi")
    url_before = page.url
    switch(page, "Autorisé")
    assert page.url == url_before  # swapped in place, no reload
    expect(page.locator("#consent-list")).to_contain_text(CCAS)
    violations = {"consents (phone)": axe_violations(page)}
    switch(page, "Non")

    page.goto("/t/landes/mon-dossier")
    expect(page.get_by_text("Insuffisance cardiaque stable")).to_be_visible()
    violations["my file (phone)"] = axe_violations(page)
    page.goto("/t/landes/mon-dossier/journal")
    violations["access log (phone)"] = axe_violations(page)
    found = {where: v for where, v in violations.items() if v}
    assert not found, "\n".join(f"{where}:\n{describe(v)}" for where, v in found.items())


def test_the_social_worker_sees_why_the_medical_section_is_closed(audit_page: Page) -> None:
    page = audit_page
    page.goto("/t/landes/personnes")
    log_in(page, "assistante-sociale.landes")
    page.get_by_label(re.compile("Nom de naissance")).fill("Lafitte")
    page.get_by_label(re.compile("Date de naissance")).fill("1942-02-14")
    page.get_by_role("button", name=re.compile("Rechercher")).click()
    page.get_by_role("link", name=re.compile("Jeanne")).first.click()
    medical = page.locator("#section-medical")
    expect(medical).to_contain_text("Accès refusé")
    expect(medical).to_contain_text("lecture des données médicales")  # what is missing, in words
    expect(page.get_by_text("Insuffisance cardiaque stable")).to_have_count(0)
    violations = axe_violations(page)
    assert not violations, describe(violations)
