"""« Mes offres »: a provider's staff create, publish and pause an offer; the public search follows."""

from __future__ import annotations

import uuid

from tests.web.conftest import DEMO_SLUG, sign_in

CONSOLE = f"/t/{DEMO_SLUG}/prestataire"
NEW = f"{CONSOLE}/offres/nouvelle"
SEARCH = f"/t/{DEMO_SLUG}/services"


def _form(csrf: str, title: str, **changes: str) -> dict[str, str]:
    fields = {
        "_csrf": csrf,
        "service_type": "shopping",
        "title": title,
        "description": "Courses hebdomadaires accompagnées, livrées et rangées.",
        "price": "25,50",
        "price_unit": "hour",
        "capacity_per_week": "12",
        "lead_time_days": "3",
        "opening_hours": "Du lundi au vendredi",
        "accepted_programmes": "apa, carsat-oscar",
        "languages": "fr, oc",
        "accessibility": "Intervention à domicile",
        "coverage": "40046 40088",
    }
    fields.update(changes)
    return fields


def _offer_id(sql_owner, title: str) -> uuid.UUID:
    row = sql_owner.execute("SELECT id FROM service_offer WHERE title = %s", (title,)).fetchone()
    assert row is not None
    return row[0]


def _found(browser, title: str, commune: str) -> bool:
    browser.cookies.clear()
    response = browser.get(SEARCH, params={"q": title, "commune": commune})
    assert response.status_code == 200, response.text
    return f">{title}</a></h3>" in response.text  # the title links to the offer page


def test_create_publish_pause(landes, browser, sql_owner):
    title = f"Courses solidaires {uuid.uuid4().hex[:6]}"
    csrf = sign_in(browser, "prestataire.landes")
    page = browser.get(CONSOLE)
    assert page.status_code == 200, page.text
    assert "<h1>Mes offres</h1>" in page.text and "Aide ménagère" in page.text
    assert browser.get(NEW).status_code == 200

    created = browser.post(NEW, data=_form(csrf, title), follow_redirects=False)
    assert created.status_code == 303, created.text
    assert created.headers["location"] == f"{CONSOLE}?fait=creee"
    offer_id = _offer_id(sql_owner, title)
    row = sql_owner.execute(
        "SELECT status, type_label, price_cents, price_unit, lead_time_days, languages "
        "FROM service_offer WHERE id = %s",
        (offer_id,),
    ).fetchone()
    assert row == ("draft", "Courses", 2550, "hour", 3, ["fr", "oc"])
    listing = browser.get(f"{CONSOLE}?fait=creee").text
    assert title in listing and "Brouillon" in listing and "créée en brouillon" in listing
    assert not _found(browser, title, "40088")  # a draft is not public

    csrf = sign_in(browser, "prestataire.landes")
    status_url = f"{CONSOLE}/offres/{offer_id}/statut"
    published = browser.post(status_url, data={"_csrf": csrf, "status": "published"}, follow_redirects=False)
    assert published.status_code == 303, published.text
    assert _found(browser, title, "40088")
    assert not _found(browser, title, "40192")  # not delivered there

    csrf = sign_in(browser, "prestataire.landes")
    fragment = browser.post(
        status_url,
        data={"_csrf": csrf, "status": "paused"},
        headers={"HX-Request": "true", "HX-Target": "offer-list"},
    )
    assert fragment.status_code == 200, fragment.text
    assert fragment.text.lstrip().startswith('<section id="offer-list"')
    assert "En pause" in fragment.text and "<h1>" not in fragment.text
    again = browser.post(status_url, data={"_csrf": csrf, "status": "paused"}, follow_redirects=False)
    assert again.status_code == 409 and "Impossible : l&#39;offre est « en pause »" in again.text
    assert not _found(browser, title, "40088")

    actions = [
        r[0]
        for r in sql_owner.execute(
            "SELECT action FROM audit_entry WHERE tenant_id = %s AND target_id = %s ORDER BY seq",
            (landes.id, str(offer_id)),
        )
    ]
    assert actions == ["offer.created", "offer.published", "offer.paused"]


def test_edit_keeps_status_and_updates_search(landes, browser, sql_owner):
    title = f"Courses du marché {uuid.uuid4().hex[:6]}"
    csrf = sign_in(browser, "prestataire.landes")
    assert browser.post(NEW, data=_form(csrf, title), follow_redirects=False).status_code == 303
    offer_id = _offer_id(sql_owner, title)
    edit_url = f"{CONSOLE}/offres/{offer_id}"
    form = browser.get(edit_url)
    assert form.status_code == 200
    assert 'value="25,50"' in form.text and "40046, 40088" in form.text
    browser.post(f"{edit_url}/statut", data={"_csrf": csrf, "status": "published"}, follow_redirects=False)

    changed = _form(csrf, title, coverage="40192", price="")
    saved = browser.post(edit_url, data=changed, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    row = sql_owner.execute(
        "SELECT status, price_cents, price_unit FROM service_offer WHERE id = %s", (offer_id,)
    ).fetchone()
    assert row == ("published", None, None)  # no price: « Prix sur demande », unit dropped
    assert _found(browser, title, "40192") and not _found(browser, title, "40088")
    actions = [
        r[0]
        for r in sql_owner.execute(
            "SELECT action FROM audit_entry WHERE tenant_id = %s AND target_id = %s ORDER BY seq",
            (landes.id, str(offer_id)),
        )
    ]
    assert actions == ["offer.created", "offer.published", "offer.updated"]
    csrf = sign_in(browser, "prestataire.landes")
    browser.post(f"{edit_url}/statut", data={"_csrf": csrf, "status": "paused"}, follow_redirects=False)


def test_bad_input_is_a_422_with_inline_messages(landes, browser, sql_owner):
    title = f"Offre refusée {uuid.uuid4().hex[:6]}"
    csrf = sign_in(browser, "prestataire.landes")
    response = browser.post(NEW, data=_form(csrf, title, price="abc", coverage="4O192"))
    assert response.status_code == 422
    assert "prix en euros" in response.text
    assert "code inconnu : 4O192" in response.text
    assert response.text.count('aria-invalid="true"') == 2
    assert f'value="{title}"' in response.text  # what was typed is kept

    fragment = browser.post(
        NEW,
        data=_form(csrf, "ab", coverage="  "),
        headers={"HX-Request": "true", "HX-Target": "offer-form"},
    )
    assert fragment.status_code == 422
    assert fragment.text.lstrip().startswith('<form id="offer-form"')
    assert "indiquez au moins une commune ou un département" in fragment.text
    assert "intitulé de 3 à 120 caractères" in fragment.text and 'value="ab"' in fragment.text
    assert sql_owner.execute("SELECT count(*) FROM service_offer WHERE title = %s", (title,)).fetchone() == (
        0,
    )


def test_a_professional_is_refused(landes, browser):
    sign_in(browser, "medecin.landes")
    assert browser.get(CONSOLE).status_code == 403
    assert browser.get(NEW).status_code == 403


def test_another_organisations_offer_is_not_found(landes, browser, sql_owner):
    other = sql_owner.execute(
        "SELECT o.id FROM service_offer o JOIN organisation org ON org.id = o.provider_organisation_id "
        "WHERE o.tenant_id = %s AND o.title = 'Soins infirmiers à domicile'",
        (landes.id,),
    ).fetchone()[0]
    csrf = sign_in(browser, "prestataire.landes")
    assert browser.get(f"{CONSOLE}/offres/{other}").status_code == 404
    assert browser.get(f"{CONSOLE}/offres/{uuid.uuid4()}").status_code == 404
    edit = browser.post(f"{CONSOLE}/offres/{other}", data=_form(csrf, "Détournée"), follow_redirects=False)
    assert edit.status_code == 404
    moved = browser.post(
        f"{CONSOLE}/offres/{other}/statut", data={"_csrf": csrf, "status": "paused"}, follow_redirects=False
    )
    assert moved.status_code == 404
    status = sql_owner.execute("SELECT status FROM service_offer WHERE id = %s", (other,)).fetchone()[0]
    assert status == "published"
