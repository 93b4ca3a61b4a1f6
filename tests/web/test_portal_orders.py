"""Ordering from the portal through HTTP on the demo territory: Jeanne Lafitte (``jeanne.lafitte``)
orders a demo offer covering her commune, follows it in « Mes commandes » and cancels it; her
daughter Sophie (``sophie.lafitte``, carer) orders for her; the provider (``prestataire.landes``)
sees the orders, never Jeanne's name. Tests that fill or free capacity use offers of their own
(of the demo provider, deleted afterwards), since every test shares the demo database."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterator
from html import unescape
from typing import Any

import pytest

from core import locale
from core.marketplace.orders import NO_CAPACITY
from tests.web.conftest import DEMO_SLUG, sign_in

PORTAL = f"/t/{DEMO_SLUG}/mon-dossier"
SERVICES = f"/t/{DEMO_SLUG}/services"
PROVIDER_ORDERS = f"/t/{DEMO_SLUG}/prestataire/commandes"
DOMAIN = "demo.parcours.test"
DEMO_OFFER = "Aide à domicile après une hospitalisation"  # published, covers 40192, 30 hours a week


def _one(sql_owner: Any, query: str, *params: Any) -> Any:
    row = sql_owner.execute(query, params).fetchone()
    assert row is not None, (query, params)
    return row[0]


@pytest.fixture
def demo(landes, sql_owner) -> dict[str, Any]:
    """Ids of Jeanne, of another demo person (Pierre), of the demo provider and its offer."""

    def person_of(username: str) -> uuid.UUID:
        return _one(
            sql_owner,
            "SELECT person_id FROM membership WHERE tenant_id = %s AND invited_email = %s",
            landes.id,
            f"{username}@{DOMAIN}",
        )

    offer = _one(
        sql_owner, "SELECT id FROM service_offer WHERE tenant_id = %s AND title = %s", landes.id, DEMO_OFFER
    )
    return {
        "tenant": landes,
        "jeanne": person_of("jeanne.lafitte"),
        "pierre": _one(
            sql_owner,
            "SELECT id FROM person WHERE tenant_id = %s AND given_names = 'Pierre' AND is_demo",
            landes.id,
        ),
        "offer": offer,
        "provider": _one(
            sql_owner, "SELECT provider_organisation_id FROM service_offer WHERE id = %s", offer
        ),
        "provider_name": _one(
            sql_owner,
            "SELECT g.name FROM service_offer f JOIN organisation g ON g.id = f.provider_organisation_id "
            "WHERE f.id = %s",
            offer,
        ),
    }


@pytest.fixture
def new_offer(demo, sql_owner) -> Iterator[Callable[..., uuid.UUID]]:
    """A published offer of the demo provider covering Mont-de-Marsan, with its own capacity."""
    made: list[uuid.UUID] = []

    def make(capacity: int | None) -> uuid.UUID:
        offer_id = uuid.uuid4()
        sql_owner.execute(
            "INSERT INTO service_offer (id, tenant_id, provider_organisation_id, service_type, type_label, "
            "title, capacity_per_week, status, price_cents, price_unit, created_at, updated_at) VALUES "
            "(%s, %s, %s, 'shopping', 'Courses', %s, %s, 'published', 1800, 'visit', now(), now())",
            (offer_id, demo["tenant"].id, demo["provider"], f"Courses {offer_id.hex[:8]}", capacity),
        )
        sql_owner.execute(
            "INSERT INTO offer_coverage (id, tenant_id, offer_id, commune_insee) "
            "VALUES (%s, %s, %s, '40192')",
            (uuid.uuid4(), demo["tenant"].id, offer_id),
        )
        made.append(offer_id)
        return offer_id

    yield make
    for offer_id in made:
        sql_owner.execute("DELETE FROM service_order WHERE offer_id = %s", (offer_id,))
        sql_owner.execute("DELETE FROM offer_coverage WHERE offer_id = %s", (offer_id,))
        sql_owner.execute("DELETE FROM service_offer WHERE id = %s", (offer_id,))


def today() -> dt.date:
    return locale.paris_day(dt.datetime.now(dt.UTC))


def order_form(csrf: str, person: uuid.UUID, start: dt.date, days: int = 13, quantity: str = "1") -> dict:
    return {
        "_csrf": csrf,
        "personne": str(person),
        "start": start.isoformat(),
        "end": (start + dt.timedelta(days=days)).isoformat(),
        "quantity": quantity,
    }


def orders_of(sql_owner: Any, offer: uuid.UUID) -> list[tuple[Any, ...]]:
    return sql_owner.execute(
        "SELECT id, person_id, status, quantity, ordered_by_label FROM service_order WHERE offer_id = %s "
        "ORDER BY created_at",
        (offer,),
    ).fetchall()


def block(html: str, order_id: uuid.UUID) -> str:
    """The markup of one order in « Mes commandes » (a ``<li>``) or the provider's list (a ``<tr>``)."""
    found = re.search(rf'<(li|tr) id="commande-{order_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert found, f"no order {order_id} on the page"
    return found.group(2)


def cancel(browser: Any, csrf: str, person: uuid.UUID, order_id: uuid.UUID) -> Any:
    return browser.post(
        f"{PORTAL}/commandes/{order_id}/annuler",
        data={"_csrf": csrf, "personne": str(person)},
        follow_redirects=False,
    )


def test_jeanne_orders_from_her_portal_and_the_provider_sees_it(browser, demo, sql_owner):
    jeanne, offer = demo["jeanne"], demo["offer"]
    csrf = sign_in(browser, "jeanne.lafitte")
    home = browser.get(PORTAL).text
    assert f'href="{PORTAL}/commandes?personne={jeanne}">Mes commandes</a>' in home

    public = browser.get(f"{SERVICES}/offres/{offer}").text
    button = re.search(r'<a class="button" href="([^"]+)">Commander ce service</a>', public)
    assert button is not None, public
    page = browser.get(unescape(button[1]))
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    assert DEMO_OFFER in page.text and "Envoyer la commande" in page.text
    assert "Quantité par semaine (heure)" in page.text and "<legend>Période</legend>" in page.text

    start = today() + dt.timedelta(days=300)
    sent = browser.post(
        unescape(button[1]), data=order_form(csrf, jeanne, start, quantity="2"), follow_redirects=False
    )
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == f"{PORTAL}/commandes?personne={jeanne}&fait=commande"
    placed = [row for row in orders_of(sql_owner, offer) if row[1] == jeanne and row[2] == "requested"]
    order_id = placed[-1][0]

    mine = browser.get(sent.headers["location"])
    assert mine.status_code == 200 and mine.headers["cache-control"] == "no-store"
    assert "Commande envoyée au prestataire." in mine.text
    first = re.search(r'<li id="commande-([0-9a-f-]{36})"', mine.text)
    assert first is not None and first[1] == str(order_id)  # newest first
    mine_row = block(mine.text, order_id)
    assert f'href="{SERVICES}/offres/{offer}">{DEMO_OFFER}</a>' in mine_row
    assert demo["provider_name"] in mine_row
    assert locale.day(start) in mine_row and "2 (heure) par semaine" in mine_row
    assert "Demandée" in mine_row and "Annuler cette commande" in mine_row

    sign_in(browser, "prestataire.landes")
    listing = browser.get(PROVIDER_ORDERS)
    assert listing.status_code == 200
    row = block(listing.text, order_id)
    assert DEMO_OFFER in row and "Demandée" in row and "Accepter" in row
    assert "la personne elle-même" in row
    assert "Jeanne" not in listing.text and "Lafitte" not in listing.text  # no identity of the person

    csrf = sign_in(browser, "jeanne.lafitte")  # leave the demo provider nothing requested by this test
    assert cancel(browser, csrf, jeanne, order_id).status_code == 303


def test_bad_dates_come_back_inline_and_nothing_is_stored(browser, demo, sql_owner, new_offer):
    offer = new_offer(capacity=None)
    csrf = sign_in(browser, "jeanne.lafitte")
    form = {
        "_csrf": csrf,
        "personne": str(demo["jeanne"]),
        "start": (today() - dt.timedelta(days=3)).isoformat(),
        "end": "2027-02-31",
        "quantity": "deux",
    }
    answer = browser.post(f"{PORTAL}/commander/{offer}", data=form, follow_redirects=False)
    assert answer.status_code == 422, answer.text
    assert "la date de début est passée" in answer.text
    assert "date invalide" in answer.text and "un nombre entier" in answer.text
    for field in ("start", "end", "quantity"):  # the summary links to each field, which says what is wrong
        assert f'href="#order-form-{field}"' in answer.text
        assert f'aria-describedby="order-form-{field}-error"' in answer.text
    assert 'value="deux"' in answer.text  # typed values kept
    assert orders_of(sql_owner, offer) == []

    form |= {
        "start": (today() + dt.timedelta(days=10)).isoformat(),
        "end": today().isoformat(),
        "quantity": "1",
    }
    answer = browser.post(f"{PORTAL}/commander/{offer}", data=form, follow_redirects=False)
    assert answer.status_code == 422 and "la date de fin précède la date de début" in answer.text
    assert orders_of(sql_owner, offer) == []


def test_the_last_slot_taken_answers_409(browser, demo, sql_owner, new_offer):
    offer = new_offer(capacity=2)
    csrf = sign_in(browser, "jeanne.lafitte")
    start = today() + dt.timedelta(days=20)
    url = f"{PORTAL}/commander/{offer}"
    assert (
        browser.post(url, data=order_form(csrf, demo["jeanne"], start), follow_redirects=False).status_code
        == 303
    )
    full = browser.post(
        url, data=order_form(csrf, demo["jeanne"], start + dt.timedelta(days=7), quantity="2")
    )
    assert full.status_code == 409, full.text
    assert NO_CAPACITY in full.text and "reste 1 par semaine sur 2" in full.text
    assert 'value="2"' in full.text  # the form as typed, to try another period or quantity
    assert len(orders_of(sql_owner, offer)) == 1


def test_her_carer_orders_for_her(browser, demo, sql_owner, new_offer):
    offer = new_offer(capacity=None)
    jeanne = demo["jeanne"]
    csrf = sign_in(browser, "sophie.lafitte")
    public = browser.get(f"{SERVICES}/offres/{offer}").text
    assert f'href="{PORTAL}/commander/{offer}">Commander ce service</a>' in public
    page = browser.get(f"{PORTAL}/commander/{offer}")
    assert page.status_code == 200, page.text
    assert "Jeanne Lafitte" in page.text and "aidant (fille)" in page.text
    assert f'name="personne" value="{jeanne}"' in page.text

    start = today() + dt.timedelta(days=5)
    sent = browser.post(
        f"{PORTAL}/commander/{offer}", data=order_form(csrf, jeanne, start), follow_redirects=False
    )
    assert sent.status_code == 303, sent.text
    [(order_id, person, status, quantity, label)] = orders_of(sql_owner, offer)
    assert (person, status, quantity, label) == (jeanne, "requested", 1, "un aidant de la personne")
    listing = browser.get(sent.headers["location"]).text
    assert "<h1>Commandes <span" in listing and "Demandée" in block(listing, order_id)
    assert "par un aidant de la personne" in block(listing, order_id)

    # Someone she does not help: unknown, and nothing ordered.
    stranger = order_form(csrf, demo["pierre"], start)
    assert browser.post(f"{PORTAL}/commander/{offer}", data=stranger).status_code == 404
    assert browser.get(f"{PORTAL}/commandes", params={"personne": str(demo["pierre"])}).status_code == 404
    assert len(orders_of(sql_owner, offer)) == 1


def test_another_persons_order_is_not_found(browser, demo, sql_owner, new_offer):
    offer = new_offer(capacity=None)
    start = today() + dt.timedelta(days=9)
    theirs = uuid.uuid4()
    sql_owner.execute(
        "INSERT INTO service_order (id, tenant_id, offer_id, person_id, ordered_by_label, start_date, "
        "end_date, quantity, status, created_at) "
        "VALUES (%s, %s, %s, %s, 'un aidant de la personne', %s, %s, 1, 'requested', now())",
        (theirs, demo["tenant"].id, offer, demo["pierre"], start, start + dt.timedelta(days=6)),
    )
    for username in ("jeanne.lafitte", "sophie.lafitte"):
        csrf = sign_in(browser, username)
        assert f"commande-{theirs}" not in browser.get(f"{PORTAL}/commandes").text
        answer = cancel(browser, csrf, demo["jeanne"], theirs)
        assert answer.status_code == 404, (username, answer.status_code)
    assert [row[2] for row in orders_of(sql_owner, offer)] == ["requested"]


def test_she_cancels_a_requested_order_and_capacity_is_released(browser, demo, sql_owner, new_offer):
    offer = new_offer(capacity=1)
    jeanne = demo["jeanne"]
    csrf = sign_in(browser, "jeanne.lafitte")
    start = today() + dt.timedelta(days=14)
    url = f"{PORTAL}/commander/{offer}"
    assert browser.post(url, data=order_form(csrf, jeanne, start), follow_redirects=False).status_code == 303
    assert browser.post(url, data=order_form(csrf, jeanne, start)).status_code == 409  # the one slot is hers
    [(order_id, *_)] = orders_of(sql_owner, offer)

    cancelled = cancel(browser, csrf, jeanne, order_id)
    assert cancelled.status_code == 303, cancelled.text
    assert cancelled.headers["location"] == f"{PORTAL}/commandes?personne={jeanne}&fait=annulation"
    mine = browser.get(cancelled.headers["location"]).text
    assert "Commande annulée. Le prestataire en est prévenu." in mine
    row = block(mine, order_id)
    assert "Annulée" in row and "Annuler cette commande" not in row
    again = cancel(browser, csrf, jeanne, order_id)
    assert again.status_code == 409 and "déjà annulée" in again.text

    # The capacity is free again: the same period can be ordered.
    assert browser.post(url, data=order_form(csrf, jeanne, start), follow_redirects=False).status_code == 303

    sign_in(browser, "prestataire.landes")
    provider_row = block(browser.get(PROVIDER_ORDERS).text, order_id)
    assert "Annulée" in provider_row and "par la personne elle-même" in provider_row
    assert "Accepter" not in provider_row
    notification = sql_owner.execute(
        "SELECT n.title, n.body, n.link FROM notification n "
        "JOIN user_account u ON u.id = n.recipient_user_id "
        "WHERE n.kind = 'order.cancelled' AND n.link LIKE %s AND u.display_name = 'Paul Bordes'",
        (f"%{order_id}",),
    ).fetchone()
    assert notification is not None
    assert notification[0].startswith("Commande annulée : Courses")
    assert "Jeanne" not in notification[1] and "Lafitte" not in notification[1]
    inbox = browser.get(f"/t/{DEMO_SLUG}/notifications").text
    assert notification[0] in inbox
    audited = _one(
        sql_owner,
        "SELECT count(*) FROM audit_entry WHERE action = 'order.cancelled' AND target_id = %s",
        str(order_id),
    )
    assert audited == 1


def test_an_accepted_order_may_be_cancelled_only_before_it_starts(browser, demo, sql_owner, new_offer):
    offer = new_offer(capacity=None)
    jeanne = demo["jeanne"]
    csrf = sign_in(browser, "jeanne.lafitte")
    url = f"{PORTAL}/commander/{offer}"
    for start in (today(), today() + dt.timedelta(days=30)):
        assert (
            browser.post(url, data=order_form(csrf, jeanne, start), follow_redirects=False).status_code == 303
        )
    started, later = (row[0] for row in orders_of(sql_owner, offer))
    staff = sign_in(browser, "prestataire.landes")
    for order_id in (started, later):
        decided = browser.post(
            f"{PROVIDER_ORDERS}/{order_id}/decision",
            data={"_csrf": staff, "decision": "accepter"},
            follow_redirects=False,
        )
        assert decided.status_code == 303, decided.text

    csrf = sign_in(browser, "jeanne.lafitte")
    mine = browser.get(f"{PORTAL}/commandes").text
    assert "Acceptée" in block(mine, started) and "Annuler cette commande" not in block(mine, started)
    assert "Annuler cette commande" in block(mine, later)
    refused = cancel(browser, csrf, jeanne, started)
    assert refused.status_code == 409, refused.text
    assert "la prestation a commencé" in refused.text and "contactez" in refused.text
    assert cancel(browser, csrf, jeanne, later).status_code == 303
    assert [row[2] for row in orders_of(sql_owner, offer)] == ["accepted", "cancelled"]


def test_a_gp_gets_403_on_the_portal_order_pages_and_keeps_his_own_path(browser, demo):
    offer = demo["offer"]
    sign_in(browser, "medecin.landes")
    for path in (f"{PORTAL}/commander/{offer}", f"{PORTAL}/commandes"):
        assert browser.get(path, follow_redirects=False).status_code == 403, path
    public = browser.get(f"{SERVICES}/offres/{offer}", params={"personne": str(demo["jeanne"])}).text
    assert "Commander ce service</a>" not in public
    assert f'href="{SERVICES}/offres/{offer}/commander?personne={demo["jeanne"]}">Commander</a>' in public
