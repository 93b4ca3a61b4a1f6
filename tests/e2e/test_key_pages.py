"""Key pages in a real browser: login, inline validation, keyboard, accessibility (axe-core)."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PASSWORD = "parcours-demo"
ADMIN_HEADING = "Administration du territoire"


def log_in(page: Page, username: str = "coordinatrice.landes") -> None:
    """From a page that needs a login to that page, through the built-in provider, as a person would."""
    expect(page).to_have_url(re.compile(r"/t/landes/login\?next="))
    expect(page.get_by_role("heading", level=1, name="Connexion")).to_be_visible()
    page.get_by_role("link", name="Se connecter avec un compte de démonstration").click()
    expect(page.get_by_label("Identifiant", exact=True)).to_be_visible()
    page.get_by_label("Identifiant", exact=True).fill(username)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter", exact=True).click()


def test_the_coordinator_logs_in_and_reaches_the_administration(page: Page, tmp_path: Path) -> None:
    page.goto("/t/landes/admin/")
    log_in(page)
    expect(page.get_by_role("heading", level=1, name=ADMIN_HEADING)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/t/landes/admin/?$"))
    expect(page.get_by_role("link", name="Organisations")).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    shot = tmp_path / "administration.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 1000


def open_organisations(page: Page) -> None:
    page.goto("/t/landes/admin/organisations")
    log_in(page, "admin.landes")
    expect(page.get_by_role("heading", level=1, name="Organisations")).to_be_visible()


def test_a_bad_siret_is_named_next_to_its_field_without_reloading_the_page(page: Page) -> None:
    open_organisations(page)
    table = page.locator("table.data")
    rows = table.locator("tbody tr").count()
    name = f"Pharmacie du test {uuid.uuid4().hex[:6]}"

    page.evaluate("window.__sameDocument = true")
    form = page.locator("#organisation-form")
    form.get_by_label("Nom", exact=True).fill(name)
    form.get_by_label("SIRET", exact=True).fill("123")
    form.get_by_role("button", name="Ajouter l'organisation").click()

    error = page.locator("#org-siret-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("14 chiffres")
    siret = page.get_by_label("SIRET", exact=True)
    # next to the field: in the SIRET field's block, and announced with it
    expect(page.locator(".field", has=siret).locator("#org-siret-error")).to_be_visible()
    expect(siret).to_have_attribute("aria-invalid", "true")
    expect(siret).to_have_attribute("aria-describedby", "org-siret-error")
    expect(page.get_by_role("alert")).to_contain_text("Corrigez les champs signalés")
    # what was typed is kept
    expect(page.get_by_label("Nom", exact=True)).to_have_value(name)
    expect(siret).to_have_value("123")
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    expect(table).not_to_contain_text(name)
    expect(table.locator("tbody tr")).to_have_count(rows)

    siret.fill("")
    page.get_by_role("button", name="Ajouter l'organisation").click()
    expect(page.get_by_role("cell", name=name, exact=True)).to_be_visible()
    expect(page.locator("#org-siret-error")).to_have_count(0)


def test_after_adding_an_organisation_the_page_is_shown_once(page: Page) -> None:
    open_organisations(page)
    rows = page.locator("table.data tbody tr").count()
    name = f"Cabinet du test {uuid.uuid4().hex[:6]}"
    page.get_by_label("Nom", exact=True).fill(name)
    page.get_by_role("button", name="Ajouter l'organisation").click()
    expect(page.get_by_role("cell", name=name, exact=True)).to_be_visible()
    # the answer is in: what is on screen now, without waiting further
    assert page.locator("header.site-header").count() == 1, "a page inside the page"
    assert page.get_by_role("heading", level=1).count() == 1
    assert page.locator("table.data tbody tr").count() == rows + 1
    assert page.get_by_label("Nom", exact=True).input_value() == ""


def test_the_keyboard_reaches_the_skip_link_first_and_it_moves_focus_to_the_content(page: Page) -> None:
    page.goto("/t/landes/")
    expect(page.get_by_role("heading", level=1, name="Landes")).to_be_visible()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # shown once focused
    page.keyboard.press("Enter")
    expect(page.locator("main#contenu")).to_be_focused()
    expect(page).to_have_url(re.compile(r"#contenu$"))


def axe_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=AXE)
    result = page.evaluate("async () => await axe.run(document)")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps(
        [
            {
                "rule": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [{"target": n["target"], "summary": n.get("failureSummary")} for n in v["nodes"]],
            }
            for v in violations
        ],
        ensure_ascii=False,
        indent=2,
    )


def test_key_pages_have_no_serious_accessibility_violation(audit_page: Page) -> None:
    page = audit_page
    found: dict[str, list[dict[str, Any]]] = {}

    page.goto("/t/landes/")
    expect(page.get_by_role("heading", level=1, name="Landes")).to_be_visible()
    found["tenant home"] = axe_violations(page)

    page.goto("/t/landes/admin/organisations")
    expect(page.get_by_role("heading", level=1, name="Connexion")).to_be_visible()
    found["login page"] = axe_violations(page)

    page.get_by_role("link", name="Se connecter avec un compte de démonstration").click()
    expect(page.get_by_label("Identifiant", exact=True)).to_be_visible()
    found["provider's login form"] = axe_violations(page)

    page.get_by_label("Identifiant", exact=True).fill("admin.landes")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Organisations")).to_be_visible()
    found["admin organisations"] = axe_violations(page)

    page.get_by_label("SIRET", exact=True).fill("123")
    page.get_by_role("button", name="Ajouter l'organisation").click()
    expect(page.locator("#org-siret-error")).to_be_visible()
    found["admin organisations, inline error"] = axe_violations(page)

    found = {where: violations for where, violations in found.items() if violations}
    assert not found, "\n".join(f"{where}:\n{describe(v)}" for where, v in found.items())
