"""« Modération des offres » on the demo territory: a coordinator suspends a provider's offer with a
reason, it leaves the public pages, its provider sees why and cannot republish it; a missing reason is
refused inline; other roles are refused."""

from __future__ import annotations

import re
import uuid
from html import unescape
from urllib.parse import quote

from tests.web.conftest import DEMO_SLUG, sign_in

MODERATION = f"/t/{DEMO_SLUG}/admin/offres"
CONSOLE = f"/t/{DEMO_SLUG}/prestataire"
SEARCH = f"/t/{DEMO_SLUG}/services"
MISLEADING = "Informations trompeuses ou inexactes"


def _published_offer(browser, sql_owner, publish: bool = True) -> tuple[uuid.UUID, str]:
    """A new offer of the demo provider, created and published (or left a draft) through « Mes offres »."""
    title = f"Courses accompagnées {uuid.uuid4().hex[:6]}"
    csrf = sign_in(browser, "prestataire.landes")
    form = {
        "_csrf": csrf,
        "service_type": "shopping",
        "title": title,
        "description": "Courses hebdomadaires accompagnées.",
        "price": "22,00",
        "price_unit": "hour",
        "capacity_per_week": "8",
        "lead_time_days": "2",
        "opening_hours": "",
        "accepted_programmes": "",
        "languages": "fr",
        "accessibility": "",
        "coverage": "40192",
    }
    assert browser.post(f"{CONSOLE}/offres/nouvelle", data=form, follow_redirects=False).status_code == 303
    offer_id = sql_owner.execute("SELECT id FROM service_offer WHERE title = %s", (title,)).fetchone()[0]
    if not publish:
        return offer_id, title
    published = browser.post(
        f"{CONSOLE}/offres/{offer_id}/statut",
        data={"_csrf": csrf, "status": "published"},
        follow_redirects=False,
    )
    assert published.status_code == 303
    return offer_id, title


def _status(sql_owner, offer_id: uuid.UUID) -> str:
    return sql_owner.execute("SELECT status FROM service_offer WHERE id = %s", (offer_id,)).fetchone()[0]


def _actions(sql_owner, offer_id: uuid.UUID) -> list[str]:
    rows = sql_owner.execute(
        "SELECT action FROM audit_entry WHERE target_id = %s ORDER BY seq", (str(offer_id),)
    ).fetchall()
    return [row[0] for row in rows]


def _in_search(browser, title: str) -> bool:
    browser.cookies.clear()
    html = browser.get(SEARCH, params={"q": title, "commune": "40192"}).text
    return f">{title}</a></h3>" in html


def _menu_current(html: str) -> list[str]:
    return re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)', html)


def test_a_coordinator_suspends_an_offer_with_a_reason_and_its_provider_sees_why(landes, browser, sql_owner):
    offer_id, title = _published_offer(browser, sql_owner)
    public_page = f"{SEARCH}/offres/{offer_id}"
    assert browser.get(public_page).status_code == 200 and _in_search(browser, title)

    csrf = sign_in(browser, "coordinatrice.landes")
    listing = browser.get(MODERATION, params={"q": title})
    assert listing.status_code == 200, listing.text
    html = unescape(listing.text)
    assert "<h1>Modération des offres</h1>" in html and "Aide et présence Landes (démo)" in html
    assert "<caption>Offres du territoire (publiées, en pause ou suspendues, « " in html
    assert f'href="{public_page}"' in html  # published: a link to its public page
    assert _menu_current(listing.text) == ["Modération des offres"]  # not « Administration » too
    assert listing.headers["cache-control"] == "no-store"

    back = f"{MODERATION}?q={quote(title)}"
    note = "Le prix affiché ne correspond pas au devis."
    done = browser.post(
        f"{MODERATION}/{offer_id}/suspendre",
        data={"_csrf": csrf, "reason": "misleading", "note": note, "retour": back},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"{back.replace('%20', '+')}&fait=suspendue"
    assert _status(sql_owner, offer_id) == "suspended"
    after = unescape(browser.get(done.headers["location"]).text)
    assert "L'offre est suspendue : elle n'apparaît plus dans la recherche." in after
    assert "Suspendue par le territoire" in after and f"Motif : {MISLEADING}" in after and note in after
    assert "Rétablir (en pause)" in after and f'href="{public_page}"' not in after

    # Out of the public pages: the offer's page is a 404 like an unpublished one's.
    browser.cookies.clear()
    assert browser.get(public_page).status_code == 404
    assert not _in_search(browser, title)

    # The provider sees the status, the reason, the date and the note; it cannot republish.
    csrf = sign_in(browser, "prestataire.landes")
    console = unescape(browser.get(CONSOLE).text)
    card = console[console.index(f'id="offer-{offer_id}"') :]
    card = card[: card.index("</li>")]
    assert "Suspendue par le territoire" in card and f"Motif : <strong>{MISLEADING}</strong>" in card
    assert note in card
    assert "(depuis le " in card
    assert "Publier" not in card and "Mettre en pause" not in card and "Modifier" in card
    refused = browser.post(
        f"{CONSOLE}/offres/{offer_id}/statut",
        data={"_csrf": csrf, "status": "published"},
        follow_redirects=False,
    )
    assert refused.status_code == 409
    assert "suspendue par le territoire (motif : informations trompeuses ou inexactes)" in unescape(
        refused.text
    )
    assert _status(sql_owner, offer_id) == "suspended"
    notice = unescape(browser.get(f"/t/{DEMO_SLUG}/notifications").text)
    assert f"Offre suspendue par le territoire : {title}" in notice

    # Reinstated with htmx: the row alone comes back, paused, announced in the live region.
    csrf = sign_in(browser, "coordinatrice.landes")
    row = browser.post(
        f"{MODERATION}/{offer_id}/retablir",
        data={"_csrf": csrf, "retour": back},
        headers={"HX-Request": "true", "HX-Target": f"offer-{offer_id}"},
    )
    assert row.status_code == 200, row.text
    text = unescape(row.text)
    assert text.lstrip().startswith(f'<tr id="offer-{offer_id}">') and "<h1>" not in text
    assert "En pause" in text and "Suspendre…" in text and "Rétablie le " in text
    assert '<div id="moderation-live" hx-swap-oob="innerHTML">' in text and "est rétablie, en pause" in text
    assert _status(sql_owner, offer_id) == "paused" and not _in_search(browser, title)
    assert _actions(sql_owner, offer_id)[-2:] == ["offer.suspended", "offer.reinstated"]


def test_a_missing_reason_is_refused_inline_and_changes_nothing(landes, browser, sql_owner):
    offer_id, title = _published_offer(browser, sql_owner)
    csrf = sign_in(browser, "coordinatrice.landes")
    url = f"{MODERATION}/{offer_id}/suspendre"
    back = f"{MODERATION}?q={quote(title)}"

    page = browser.post(url, data={"_csrf": csrf, "reason": "", "note": "", "retour": back})
    assert page.status_code == 422
    html = unescape(page.text)
    assert "<h1>Modération des offres</h1>" in html  # no JavaScript: the whole page, the row's form open
    assert "choisissez le motif de la suspension" in html
    assert f'id="suspend-{offer_id}-reason" name="reason" required' in html
    assert html.count('aria-invalid="true"') == 1 and "<details open>" in html

    fragment = browser.post(
        url,
        data={"_csrf": csrf, "reason": "other", "note": "  ", "retour": back},
        headers={"HX-Request": "true", "HX-Target": f"offer-{offer_id}"},
    )
    assert fragment.status_code == 422
    text = unescape(fragment.text)
    assert text.lstrip().startswith(f'<tr id="offer-{offer_id}">')
    assert "précisez le motif de la suspension" in text and '<option value="other" selected>' in text
    assert "moderation-live" not in text  # nothing to announce: nothing happened

    assert _status(sql_owner, offer_id) == "published" and _in_search(browser, title)
    assert "offer.suspended" not in _actions(sql_owner, offer_id)

    # Suspended twice (a second tab): the second is told, as a conflict.
    csrf = sign_in(browser, "admin.landes")
    first = browser.post(
        url, data={"_csrf": csrf, "reason": "duplicate", "retour": back}, follow_redirects=False
    )
    assert first.status_code == 303
    again = browser.post(url, data={"_csrf": csrf, "reason": "complaint", "retour": back})
    assert again.status_code == 409
    assert "Impossible : l'offre est déjà suspendue depuis le " in unescape(again.text)
    assert _actions(sql_owner, offer_id).count("offer.suspended") == 1


def test_the_list_filters_and_swaps_with_htmx(landes, browser, sql_owner):
    _, title = _published_offer(browser, sql_owner)
    sign_in(browser, "coordinatrice.landes")
    fragment = browser.get(
        MODERATION,
        params={"statut": "suspended", "q": title},
        headers={"HX-Request": "true", "HX-Target": "moderation-list"},
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="moderation-list">') and "<h1>" not in fragment.text
    assert "Aucune offre ne correspond (suspendues par le territoire" in unescape(fragment.text)
    published = unescape(browser.get(MODERATION, params={"statut": "published", "q": title}).text)
    assert title in published and "1 offre</caption>" in published
    # Drafts only with their filter.
    _, draft = _published_offer(browser, sql_owner, publish=False)
    sign_in(browser, "coordinatrice.landes")
    assert "Aucune offre ne correspond" in browser.get(MODERATION, params={"q": draft}).text
    drafts = unescape(browser.get(MODERATION, params={"statut": "draft", "q": draft}).text)
    assert draft in drafts and "Brouillon, pas encore public" in drafts and "Suspendre…" not in drafts


def test_other_roles_are_refused(landes, browser, sql_owner):
    offer_id, _ = _published_offer(browser, sql_owner)
    for username in ("medecin.landes", "prestataire.landes"):
        csrf = sign_in(browser, username)
        home = browser.get(f"/t/{DEMO_SLUG}/moi").text
        assert "Modération des offres" not in home
        assert browser.get(MODERATION).status_code == 403
        refused = browser.post(
            f"{MODERATION}/{offer_id}/suspendre",
            data={"_csrf": csrf, "reason": "misleading"},
            follow_redirects=False,
        )
        assert refused.status_code == 403
    assert _status(sql_owner, offer_id) == "published"
    browser.cookies.clear()
    assert browser.get(MODERATION, follow_redirects=False).status_code == 303  # to the login page
