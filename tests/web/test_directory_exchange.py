"""Directory exchange over HTTP on the demo territory: public exports, imports in the consoles."""

from __future__ import annotations

import json
import uuid

from core.marketplace import datainclusion, hsds
from tests.web.conftest import DEMO_SLUG, sign_in

EXPORT = f"/t/{DEMO_SLUG}/api/v1/services/export"
IMPORT = f"/t/{DEMO_SLUG}/prestataire/import"
ADMIN_IMPORT = f"/t/{DEMO_SLUG}/admin/offres/import"


def test_hsds_export_of_the_demo_territory_is_public_and_valid(landes, browser):
    response = browser.get(f"{EXPORT}/hsds")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="parcours-{DEMO_SLUG}-hsds-3.0-')
    document = response.json()
    assert hsds.validate_package(document) == []
    services = {s["name"]: s for o in document for s in o["services"]}
    assert "Aide ménagère" in services and "Portage de repas" in services
    assert "Garde de nuit" not in services  # a draft
    assert {s["status"] for s in services.values()} == {"active"}
    saad = next(o for o in document if o["name"] == "Aide et présence Landes (démo)")
    assert saad["organization_identifiers"][0]["identifier"] == "99900003700013"
    assert "@" not in response.text  # no e-mail address of anyone
    assert "employer" not in response.text and "Conserverie" not in response.text  # providers only


def test_datainclusion_export_is_public_and_uses_the_vocabularies(landes, browser):
    response = browser.get(f"{EXPORT}/data-inclusion")
    assert response.status_code == 200, response.text
    assert f"parcours-{DEMO_SLUG}-data-inclusion-" in response.headers["content-disposition"]
    document = response.json()
    assert datainclusion.validate_export(document) == []
    assert "Garde de nuit" not in {s["nom"] for s in document["services"]}
    for service in document["services"]:
        assert set(service["thematiques"]) <= set(datainclusion.vocabulary("thematiques"))
        assert service["type"] in datainclusion.vocabulary("types-de-services")
    assert browser.get(f"/t/inconnu-{uuid.uuid4().hex[:6]}/api/v1/services/export/hsds").status_code == 404


def test_exports_are_documented_in_french(browser):
    paths = browser.get("/schema/openapi.json").json()["paths"]
    assert paths["/t/{slug}/api/v1/services/export/hsds"]["get"]["summary"] == (
        "Exporter les services au format HSDS 3.0"
    )
    assert "data-inclusion" in "".join(paths)


def _csv(title: str, price: str = "25,50") -> bytes:
    return (
        "\ufeffservice_type;intitulé;prix;unité;zone\n" + f"shopping;{title};{price};heure;40192 40088\n"
    ).encode()


def test_provider_imports_a_csv_over_http(landes, browser, sql_owner):
    title = f"Courses importées {uuid.uuid4().hex[:6]}"
    csrf = sign_in(browser, "prestataire.landes")
    listing = browser.get(f"/t/{DEMO_SLUG}/prestataire")
    assert f'href="{IMPORT}"' in listing.text
    page = browser.get(IMPORT)
    assert page.status_code == 200, page.text
    assert "<h1>Importer des offres</h1>" in page.text and 'type="file"' in page.text

    files = {"fichier": ("offres.csv", _csv(title), "text/csv")}
    created = browser.post(IMPORT, data={"_csrf": csrf}, files=files)
    assert created.status_code == 200, created.text
    assert "1 créée" in created.text and "0 mise à jour" in created.text
    row = sql_owner.execute(
        "SELECT status, price_cents FROM service_offer WHERE title = %s", (title,)
    ).fetchone()
    assert row == ("draft", 2550)

    again = browser.post(
        IMPORT,
        data={"_csrf": csrf},
        files=files,
        headers={"HX-Request": "true", "HX-Target": "offer-import"},
    )
    assert again.status_code == 200
    assert again.text.lstrip().startswith('<section id="offer-import"')
    assert "0 créée" in again.text and "1 inchangée" in again.text

    bad = browser.post(IMPORT, data={"_csrf": csrf}, files={"fichier": ("offres.csv", _csv(title, "25,555"))})
    assert bad.status_code == 422
    assert "Rien n&#39;a été importé" in bad.text or "Rien n'a été importé" in bad.text
    assert "ligne 2" in bad.text and "Prix en euros, par exemple 25,50" in bad.text
    assert sql_owner.execute(
        "SELECT price_cents FROM service_offer WHERE title = %s", (title,)
    ).fetchone() == (2550,)

    nothing = browser.post(IMPORT, data={"_csrf": csrf})
    assert nothing.status_code == 422 and "Choisissez un fichier" in nothing.text
    forged = browser.post(IMPORT, data={"_csrf": "forged"}, files=files)
    assert forged.status_code == 403
    assert browser.get(ADMIN_IMPORT).status_code == 403  # a provider is no territory admin


def test_territory_admin_reimports_the_export(landes, browser, sql_owner):
    package = browser.get(f"{EXPORT}/hsds").content
    count = sql_owner.execute(
        "SELECT count(*) FROM service_offer WHERE tenant_id = %s", (landes.id,)
    ).fetchone()
    csrf = sign_in(browser, "admin.landes")
    assert browser.get(ADMIN_IMPORT).status_code == 200
    response = browser.post(
        ADMIN_IMPORT, data={"_csrf": csrf}, files={"fichier": ("landes.json", package, "application/json")}
    )
    assert response.status_code == 200, response.text
    services = sum(len(o["services"]) for o in json.loads(package))
    assert f"{services} offres lues" in response.text and "0 créée" in response.text
    assert "0 mise à jour" in response.text
    again = sql_owner.execute(
        "SELECT count(*) FROM service_offer WHERE tenant_id = %s", (landes.id,)
    ).fetchone()
    assert again == count
    # the demo offer delivered from two agencies keeps its area per agency
    per_site = sql_owner.execute(
        "SELECT s.name, c.commune_insee FROM offer_coverage c JOIN provider_site s ON s.id = c.site_id "
        "JOIN service_offer o ON o.id = c.offer_id WHERE o.tenant_id = %s "
        "AND o.title = 'Aide à domicile après une hospitalisation' ORDER BY s.name",
        (landes.id,),
    ).fetchall()
    assert per_site == [("Agence de Dax", "40088"), ("Agence de Mont-de-Marsan", "40192")]
    own = sql_owner.execute(
        "SELECT count(*) FROM offer_coverage c JOIN service_offer o ON o.id = c.offer_id "
        "WHERE o.tenant_id = %s AND o.title = 'Aide à domicile après une hospitalisation' "
        "AND c.site_id IS NULL",
        (landes.id,),
    ).fetchone()
    assert own == (0,)

    refused = browser.post(
        ADMIN_IMPORT, data={"_csrf": csrf}, files={"fichier": ("offres.csv", _csv("Courses"), "text/csv")}
    )
    assert refused.status_code == 422 and "seuls les paquets HSDS 3.0" in refused.text
