"""« Ma structure »: a provider records its SIRET, agreements and sites; each site covers its own area,
which the search and the public offer page follow."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.conftest import DEMO_SLUG, sign_in

PROFILE = f"/t/{DEMO_SLUG}/prestataire/structure"
CONSOLE = f"/t/{DEMO_SLUG}/prestataire"
SEARCH = f"/t/{DEMO_SLUG}/services"
VALID_SIRET = "73282932000074"  # a real, Luhn-valid SIRET


@pytest.fixture
def provider(landes, browser, sql_owner) -> Iterator[tuple[Any, str]]:
    """The demo provider signed in; its SIRET, agreements and sites are put back afterwards."""
    organisation_id, siret = sql_owner.execute(
        "SELECT o.id, o.siret FROM organisation o WHERE o.tenant_id = %s AND o.name = %s",
        (landes.id, "Aide et présence Landes (démo)"),
    ).fetchone()
    started = sql_owner.execute("SELECT clock_timestamp()").fetchone()[0]
    csrf = sign_in(browser, "prestataire.landes")
    yield browser, csrf
    mine = "organisation_id = %s AND created_at >= %s"  # the demo's own rows stay
    sql_owner.execute(
        f"DELETE FROM offer_coverage WHERE site_id IN (SELECT id FROM provider_site WHERE {mine})",
        (organisation_id, started),
    )
    sql_owner.execute(f"DELETE FROM provider_site WHERE {mine}", (organisation_id, started))
    sql_owner.execute(f"DELETE FROM provider_agreement WHERE {mine}", (organisation_id, started))
    sql_owner.execute("UPDATE organisation SET siret = %s WHERE id = %s", (siret, organisation_id))
    sql_owner.commit()


def test_siret_is_checked_then_recorded(provider, sql_owner):
    browser, csrf = provider
    page = browser.get(PROFILE)
    assert page.status_code == 200 and "<h1>Ma structure : Aide et présence Landes (démo)</h1>" in page.text
    wrong = browser.post(f"{PROFILE}/siret", data={"_csrf": csrf, "siret": "732 829 320 00075"})
    assert wrong.status_code == 422
    assert "clé de contrôle du SIRET incorrecte" in wrong.text and 'value="732 829 320 00075"' in wrong.text
    saved = browser.post(
        f"{PROFILE}/siret", data={"_csrf": csrf, "siret": "732 829 320 00074"}, follow_redirects=False
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"{PROFILE}?fait=siret"
    assert f'value="{VALID_SIRET}"' in browser.get(PROFILE).text


def test_a_sap_number_must_carry_the_siren_and_agreements_show_on_the_offer_page(landes, provider, sql_owner):
    browser, csrf = provider
    browser.post(f"{PROFILE}/siret", data={"_csrf": csrf, "siret": VALID_SIRET})
    other_siren = browser.post(
        f"{PROFILE}/agrements",
        data={"_csrf": csrf, "kind": "sap_declaration", "reference": "SAP123456782"},
    )
    assert other_siren.status_code == 422
    assert "ne porte pas le SIREN de votre SIRET" in other_siren.text
    dates = browser.post(
        f"{PROFILE}/agrements",
        data={
            "_csrf": csrf,
            "kind": "saad_authorisation",
            "reference": "2017-SAAD-040",
            "valid_from": "2017-01-03",
            "valid_until": "2016-01-01",
        },
    )
    assert dates.status_code == 422 and "la fin de validité précède son début" in dates.text
    for data in (
        {"kind": "other", "reference": "AGR-EXPIRE-2019", "valid_until": "2020-12-31"},
        {"kind": "sap_declaration", "reference": "sap 732829320"},
        {
            "kind": "saad_authorisation",
            "reference": "2017-SAAD-040",
            "issuer": "Département des Landes",
            "valid_from": "2017-01-03",
            "valid_until": "2032-01-02",
        },
    ):
        added = browser.post(f"{PROFILE}/agrements", data={"_csrf": csrf, **data}, follow_redirects=False)
        assert added.status_code == 303, added.text
    page = browser.get(PROFILE).text
    assert "SAP732829320" in page and "jusqu'au 2 janvier 2032" in page
    twice = browser.post(
        f"{PROFILE}/agrements", data={"_csrf": csrf, "kind": "sap_declaration", "reference": "SAP732829320"}
    )
    assert twice.status_code == 409 and "déjà enregistré" in twice.text

    offer_id = sql_owner.execute(
        "SELECT id FROM service_offer WHERE tenant_id = %s AND title = 'Aide ménagère'", (landes.id,)
    ).fetchone()[0]
    browser.cookies.clear()
    public = browser.get(f"{SEARCH}/offres/{offer_id}").text
    assert "SIRET 732 829 320 00074" in public
    assert "Autorisation SAAD" in public and "2017-SAAD-040, délivré par Département des Landes" in public
    assert "Déclaration de services à la personne (SAP)" in public
    assert "AGR-EXPIRE-2019" not in public  # expired: on the provider's page only
    assert "(expiré)" in sign_in_and_get(browser, PROFILE)


def test_each_site_covers_its_own_area_in_the_search(provider, sql_owner):
    browser, csrf = provider
    bad = browser.post(f"{PROFILE}/sites", data={"_csrf": csrf, "name": "Agence", "commune": "Daxx"})
    assert bad.status_code == 422 and "commune introuvable" in bad.text
    for name, commune in (
        ("Antenne de Saint-Paul", "Saint-Paul-lès-Dax"),
        ("Antenne de Mimizan", "Mimizan (40)"),
    ):
        added = browser.post(
            f"{PROFILE}/sites",
            data={"_csrf": csrf, "name": name, "commune": commune, "address": "1 rue du Marché"},
            follow_redirects=False,
        )
        assert added.status_code == 303, added.text
    same_name = browser.post(
        f"{PROFILE}/sites", data={"_csrf": csrf, "name": "antenne de saint-paul", "commune": "Dax"}
    )
    assert same_name.status_code == 422 and "porte déjà ce nom" in same_name.text
    site_page = f"{PROFILE}/sites"
    renamed = browser.post(
        f"{site_page}/{_site_id(sql_owner, 'Antenne de Mimizan')}",
        data={"_csrf": csrf, "name": "Antenne de Mimizan", "commune": "Mimizan", "phone": "05 58 09 00 00"},
        follow_redirects=False,
    )
    assert renamed.status_code == 303 and renamed.headers["location"].endswith("?fait=site-modifie")
    refused = browser.post(
        f"{site_page}/{_site_id(sql_owner, 'Antenne de Mimizan')}",
        data={"_csrf": csrf, "name": "Antenne de Mimizan", "commune": "Mimisan"},
    )
    assert refused.status_code == 422 and "commune introuvable" in refused.text
    assert "<details open>" in refused.text and 'value="Mimisan"' in refused.text
    assert "05 58 09 00 00" in browser.get(PROFILE).text  # the refused change stored nothing
    sites = dict(
        sql_owner.execute(
            "SELECT name, id FROM provider_site WHERE name IN ('Antenne de Saint-Paul', 'Antenne de Mimizan')"
        ).fetchall()
    )

    title = f"Aide aux courses {uuid.uuid4().hex[:6]}"
    form = browser.get(f"{CONSOLE}/offres/nouvelle").text
    assert "Desservi depuis « Antenne de Saint-Paul » (Saint-Paul-lès-Dax (40))" in form
    fields = {
        "_csrf": csrf,
        "service_type": "shopping",
        "title": title,
        "lead_time_days": "1",
        "languages": "fr",
        "coverage": "",
        f"coverage_site_{sites['Antenne de Saint-Paul']}": "40088 40279",
        f"coverage_site_{sites['Antenne de Mimizan']}": "40184",
    }
    nothing = browser.post(
        f"{CONSOLE}/offres/nouvelle",
        data={
            **fields,
            f"coverage_site_{sites['Antenne de Saint-Paul']}": "",
            f"coverage_site_{sites['Antenne de Mimizan']}": "",
        },
    )
    assert nothing.status_code == 422 and "au moins une commune" in nothing.text
    foreign = browser.post(
        f"{CONSOLE}/offres/nouvelle", data={**fields, f"coverage_site_{uuid.uuid4()}": "40192"}
    )
    assert foreign.status_code == 422 and "site inconnu de votre structure" in foreign.text
    created = browser.post(f"{CONSOLE}/offres/nouvelle", data=fields, follow_redirects=False)
    assert created.status_code == 303, created.text
    offer_id = sql_owner.execute("SELECT id FROM service_offer WHERE title = %s", (title,)).fetchone()[0]
    edit = browser.get(f"{CONSOLE}/offres/{offer_id}").text
    assert re.search(r"40088, 40279\s*</textarea>", edit)
    published = browser.post(
        f"{CONSOLE}/offres/{offer_id}/statut",
        data={"_csrf": csrf, "status": "published"},
        follow_redirects=False,
    )
    assert published.status_code in (200, 303), published.text

    browser.cookies.clear()
    for commune, found in (("Saint-Paul-lès-Dax", True), ("Mimizan", True), ("Mont-de-Marsan", False)):
        html = browser.get(SEARCH, params={"q": title, "commune": commune}).text
        assert (f">{title}</a></h3>" in html) is found, commune
    public = browser.get(f"{SEARCH}/offres/{offer_id}").text
    assert (
        "Antenne de Saint-Paul" in public
        and "1 rue du Marché" in public
        and "Saint-Paul-lès-Dax (40)" in public
    )

    browser.cookies.clear()
    csrf = sign_in(browser, "prestataire.landes")
    serving = browser.post(f"{PROFILE}/sites/{sites['Antenne de Mimizan']}/retirer", data={"_csrf": csrf})
    assert serving.status_code == 409 and "dessert encore 1 offre" in serving.text
    assert (
        sql_owner.execute(
            "SELECT count(*) FROM provider_site WHERE id = %s", (sites["Antenne de Mimizan"],)
        ).fetchone()[0]
        == 1
    )
    sql_owner.execute("UPDATE service_offer SET status = 'paused' WHERE id = %s", (offer_id,))
    sql_owner.commit()


def sign_in_and_get(browser: Any, path: str) -> str:
    sign_in(browser, "prestataire.landes")
    return browser.get(path).text


def _site_id(sql_owner: Any, name: str) -> uuid.UUID:
    return sql_owner.execute("SELECT id FROM provider_site WHERE name = %s", (name,)).fetchone()[0]


def test_other_roles_cannot_open_the_profile(landes, browser):
    sign_in(browser, "medecin.landes")
    assert browser.get(PROFILE).status_code == 403
