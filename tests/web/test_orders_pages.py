"""Ordering through HTTP on the demo territory: Jeanne Lafitte's GP orders a demo offer for her, the
provider sees it in « Commandes » and accepts it (one row swapped); bad input comes back inline (422),
a professional outside her care team gets the « not allowed » page, no capacity left answers 409."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest

from core.marketplace.orders import NO_CAPACITY
from tests.web.conftest import sign_in

SLUG = "landes"
HTMX = {"HX-Request": "true"}
GP = "Marc Darrieutort"


@pytest.fixture(scope="module")
def demo(landes, sql_owner_module):
    """Jeanne's id and the demo offers' ids by title."""
    person = sql_owner_module.execute(
        "SELECT id FROM person WHERE tenant_id = %s AND given_names = 'Jeanne' AND family_name = 'Lafitte' "
        "ORDER BY created_at LIMIT 1",
        (landes.id,),
    ).fetchone()
    offers = dict(
        sql_owner_module.execute(
            "SELECT title, id FROM service_offer WHERE tenant_id = %s", (landes.id,)
        ).fetchall()
    )
    return person[0], offers


@pytest.fixture(scope="module")
def sql_owner_module(database):
    import psycopg

    with psycopg.connect(database.owner, autocommit=True) as connection:
        yield connection


def order_url(offer_id: uuid.UUID) -> str:
    return f"/t/{SLUG}/services/offres/{offer_id}/commander"


def test_the_gp_orders_for_jeanne_and_the_provider_accepts(browser, demo):
    jeanne, offers = demo
    offer = offers["Portage de repas"]
    csrf = sign_in(browser, "medecin.landes")
    page = browser.get(f"{order_url(offer)}?personne={jeanne}")
    assert page.status_code == 200, page.text
    assert "Jeanne Lafitte" in page.text and "Envoyer la commande" in page.text
    assert page.headers["cache-control"] == "no-store"

    start = dt.date.today() + dt.timedelta(days=3)
    form = {"_csrf": csrf, "personne": str(jeanne), "start": start.isoformat(), "end": "", "quantity": "x"}
    refused = browser.post(order_url(offer), data=form, follow_redirects=False)
    assert refused.status_code == 422
    assert "indiquez la date de fin" in refused.text and "un nombre entier" in refused.text

    form |= {"end": (start + dt.timedelta(days=13)).isoformat(), "quantity": "5"}
    sent = browser.post(order_url(offer), data=form, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    after = browser.get(sent.headers["location"])
    assert "Commande envoyée au prestataire." in after.text and "Demandée" in after.text

    csrf = sign_in(browser, "prestataire.landes")
    listing = browser.get(f"/t/{SLUG}/prestataire/commandes")
    assert listing.status_code == 200
    assert "Portage de repas" in listing.text and GP in listing.text
    assert "Jeanne" not in listing.text  # no identity of the person without a consent ground of its own
    order_id = re.search(r'id="commande-([0-9a-f-]{36})"', listing.text)
    assert order_id is not None
    decide = f"/t/{SLUG}/prestataire/commandes/{order_id[1]}/decision"
    row = browser.post(decide, data={"_csrf": csrf, "decision": "accepter"}, headers=HTMX)
    assert row.status_code == 200, row.text
    assert row.text.lstrip().startswith("<tr") and "Acceptée" in row.text and "Paul Bordes" in row.text
    again = browser.post(decide, data={"_csrf": csrf, "decision": "refuser", "reason": "other"}, headers=HTMX)
    assert again.status_code == 409 and "déjà acceptée" in again.text


def test_no_capacity_left_answers_409_with_the_clear_message(browser, demo):
    jeanne, offers = demo
    offer = offers["Aide ménagère"]  # 40 hours a week
    csrf = sign_in(browser, "medecin.landes")
    start = dt.date.today() + dt.timedelta(days=200)
    form = {
        "_csrf": csrf,
        "personne": str(jeanne),
        "start": start.isoformat(),
        "end": (start + dt.timedelta(days=6)).isoformat(),
        "quantity": "41",
    }
    answer = browser.post(order_url(offer), data=form, follow_redirects=False)
    assert answer.status_code == 409
    assert NO_CAPACITY in answer.text


def test_the_provider_console_and_ordering_need_their_permissions(browser, demo):
    jeanne, offers = demo
    sign_in(browser, "medecin.landes")
    assert browser.get(f"/t/{SLUG}/prestataire/commandes", follow_redirects=False).status_code == 403
    sign_in(browser, "prestataire.landes")
    # The provider's staff may order (PROPOSALS) but has no ground on Jeanne's file.
    page = browser.get(f"{order_url(offers['Portage de repas'])}?personne={jeanne}")
    assert page.status_code == 403 and "Accès refusé" in page.text
