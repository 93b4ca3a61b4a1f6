"""Declaring life events from pages, through HTTP with the real app, database and job system.

The GP of the demo territory declares a fall for Jeanne Lafitte from her file; the CCAS social
worker, outside any care team and without consent, is refused (and nothing is stored); Jeanne and
her daughter Sophie declare from the portal, within the types a person may declare.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from tests.conftest import wait_for
from tests.factories import discharge, nir
from tests.web.conftest import sign_in
from tests.web.test_login import form_fields

SLUG = "landes"
PEOPLE = f"/t/{SLUG}/personnes"
PORTAL = f"/t/{SLUG}/mon-dossier/signaler"
HTMX = {"HX-Request": "true"}
DOMAIN = "demo.parcours.test"
PARIS = ZoneInfo("Europe/Paris")
SAVED = "Événement enregistré : les actions proposées apparaîtront dans les boîtes des intervenants"


def one(sql_owner, query: str, *params: Any) -> Any:
    row = sql_owner.execute(query, params).fetchone()
    assert row is not None, (query, params)
    return row[0]


def membership_column(sql_owner, tenant, username: str, column: str) -> uuid.UUID:
    """One column of the demo user's membership in ``tenant``."""
    return one(
        sql_owner,
        f"SELECT {column} FROM membership WHERE tenant_id = %s AND invited_email = %s",
        tenant.id,
        f"{username}@{DOMAIN}",
    )


def person_of(sql_owner, tenant, username: str) -> uuid.UUID:
    return membership_column(sql_owner, tenant, username, "person_id")


def account_of(sql_owner, tenant, username: str) -> uuid.UUID:
    return membership_column(sql_owner, tenant, username, "user_account_id")


def local(delta: dt.timedelta = dt.timedelta(hours=-2)) -> str:
    """A ``datetime-local`` value, Paris time, as the browser sends it."""
    return (dt.datetime.now(PARIS) + delta).strftime("%Y-%m-%dT%H:%M")


def new_url(person_id: uuid.UUID | str) -> str:
    return f"{PEOPLE}/{person_id}/evenements/nouveau"


def events_of(sql_owner, person_id: uuid.UUID, type_code: str) -> list[tuple[Any, ...]]:
    return sql_owner.execute(
        "SELECT id, source, details, occurred_at, declared_by_user_id, declared_by FROM event "
        "WHERE person_id = %s AND type = %s ORDER BY created_at",
        (person_id, type_code),
    ).fetchall()


def details_of(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


def routed(sql_owner, event_id: uuid.UUID) -> list[str]:
    """The action types proposed for the event, once routing is done."""
    wait_for(lambda: one(sql_owner, "SELECT status FROM event WHERE id = %s", event_id) == "routed")
    rows = sql_owner.execute(
        "SELECT action_type FROM action_proposal WHERE event_id = %s", (event_id,)
    ).fetchall()
    return [row[0] for row in rows]


def fresh_person(client, sql_owner, token_for, tenant) -> uuid.UUID:
    """A person nobody outside the hospital knows yet (a discharge declared through the API)."""
    ins = nir(f"2420240{random.randint(100, 989)}{random.randint(1, 999):03d}")
    body = discharge(ins=ins, family_name=f"Inconnue{uuid.uuid4().hex[:6]}", given_names="Test")
    answer = client.post(
        f"/t/{tenant.slug}/api/v1/events",
        json=body,
        headers={**token_for(tenant), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert answer.status_code == 201, answer.text
    return one(sql_owner, "SELECT person_id FROM event WHERE id = %s", answer.json()["id"])


# ---------------------------------------------------------------- professionals


def test_the_gp_declares_a_fall_for_jeanne_and_actions_are_proposed(browser, landes, sql_owner):
    jeanne = person_of(sql_owner, landes, "jeanne.lafitte")
    csrf = sign_in(browser, "medecin.landes")
    file = browser.get(f"{PEOPLE}/{jeanne}")
    assert f'href="{new_url(jeanne)}"' in file.text  # « Signaler un événement » on the file

    page = browser.get(new_url(jeanne))
    assert page.status_code == 200
    assert "no-store" in page.headers["cache-control"]
    assert "Signaler un événement" in page.text and "Jeanne Lafitte" in page.text
    assert 'value="fall_at_home"' in page.text and 'value="hospital_discharge"' in page.text
    assert 'type="datetime-local"' in page.text
    assert f'hx-get="{PEOPLE}/{jeanne}/evenements/champs"' in page.text

    fields = browser.get(
        f"{PEOPLE}/{jeanne}/evenements/champs", params={"type": "fall_at_home"}, headers=HTMX
    )
    assert fields.status_code == 200 and "<html" not in fields.text
    assert 'name="detail_injured"' in fields.text and 'name="detail_long_lie"' in fields.text
    assert "Je ne sais pas" in fields.text
    other = browser.get(f"{PEOPLE}/{jeanne}/evenements/champs", params={"type": "carer_unavailable"})
    assert '<select id="declare-detail_reason" name="detail_reason"' in other.text
    assert 'type="date"' in other.text

    before = len(events_of(sql_owner, jeanne, "fall_at_home"))
    when = local()
    answer = browser.post(
        new_url(jeanne),
        data={
            "_csrf": csrf,
            "type": "fall_at_home",
            "occurred_at": when,
            "detail_injured": "oui",
            "detail_long_lie": "non",
            "detail_remote_alarm": "",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == new_url(jeanne) + "?enregistre=1"
    confirmation = browser.get(answer.headers["location"])
    assert SAVED in confirmation.text
    assert f'href="/t/{SLUG}/actions?personne={jeanne}"' in confirmation.text

    events = events_of(sql_owner, jeanne, "fall_at_home")
    assert len(events) == before + 1
    event_id, source, details, occurred_at, by_user, declared_by = events[-1]
    assert source == "page"
    assert details_of(details) == {"injured": True, "long_lie": False}
    assert occurred_at == dt.datetime.fromisoformat(when).replace(tzinfo=PARIS)
    assert by_user == account_of(sql_owner, landes, "medecin.landes")
    assert declared_by == f"user:{by_user}"
    proposed = routed(sql_owner, event_id)
    assert {"gp_visit", "fall_prevention_assessment"} <= set(proposed)


def test_the_ccas_social_worker_without_consent_is_refused_and_nothing_is_stored(
    browser, landes, client, sql_owner, token_for
):
    person = fresh_person(client, sql_owner, token_for, landes)
    csrf = sign_in(browser, "assistante-sociale.landes")
    page = browser.get(new_url(person))
    assert page.status_code == 200
    assert "Pour la personne du dossier" in page.text  # not allowed to read the name: not shown

    refused = browser.post(
        new_url(person),
        data={"_csrf": csrf, "type": "fall_at_home", "occurred_at": local(), "detail_injured": "non"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert 'id="declare-refusal"' in refused.text and "Déclaration refusée." in refused.text
    assert "écriture des données médicales" in refused.text  # the decision's reason, said
    assert "no-store" in refused.headers["cache-control"]
    assert events_of(sql_owner, person, "fall_at_home") == []
    denied = one(
        sql_owner,
        "SELECT count(*) FROM audit_entry WHERE tenant_id = %s AND target_id = %s AND outcome <> 'success' "
        "AND detail->>'category' = 'medical'",
        landes.id,
        str(person),
    )
    assert denied >= 1  # the refusal is in the audit trail

    fragment = browser.post(
        new_url(person),
        data={"_csrf": csrf, "type": "fall_at_home", "occurred_at": local()},
        headers=HTMX,
    )
    assert fragment.status_code == 422  # htmx swaps 422, not 403
    assert "<html" not in fragment.text and "Déclaration refusée." in fragment.text
    assert events_of(sql_owner, person, "fall_at_home") == []


def test_invalid_details_or_date_come_back_inline(browser, landes, sql_owner):
    jeanne = person_of(sql_owner, landes, "jeanne.lafitte")
    csrf = sign_in(browser, "medecin.landes")
    before = len(events_of(sql_owner, jeanne, "fall_at_home"))

    def post(headers=None, **data):
        return browser.post(
            new_url(jeanne), data={"_csrf": csrf, **data}, headers=headers or {}, follow_redirects=False
        )

    bad_choice = post(type="fall_at_home", occurred_at=local(), detail_injured="peut-être")
    assert bad_choice.status_code == 422
    assert 'id="declare-detail_injured-error"' in bad_choice.text
    assert "<html" in bad_choice.text  # a plain browser gets the whole page

    no_date = post(type="fall_at_home", occurred_at="")
    assert no_date.status_code == 422
    assert 'id="declare-occurred_at-error"' in no_date.text

    garbled = post(type="fall_at_home", occurred_at="hier soir")
    assert garbled.status_code == 422 and "date et heure invalides" in garbled.text

    far = post(type="fall_at_home", occurred_at=local(dt.timedelta(days=400)))
    assert far.status_code == 422 and "plus de 60 jours" in far.text

    no_type = post(type="", occurred_at=local())
    assert no_type.status_code == 422 and 'id="declare-type-error"' in no_type.text

    bad_date = post(
        headers=HTMX, type="carer_unavailable", occurred_at=local(), detail_expected_until="31/12/2026"
    )
    assert bad_date.status_code == 422
    assert "<html" not in bad_date.text and 'id="declare-detail_expected_until-error"' in bad_date.text
    assert 'value="31/12/2026"' in bad_date.text  # what was typed comes back

    bad_finess = post(type="emergency_visit", occurred_at=local(), detail_establishment_finess="12ab")
    assert bad_finess.status_code == 422 and "9 chiffres" in bad_finess.text

    assert len(events_of(sql_owner, jeanne, "fall_at_home")) == before

    # Without JavaScript, « Continuer » shows the chosen type's fields and stores nothing.
    step = post(type="autonomy_loss", occurred_at=local(), _step="continuer")
    assert step.status_code == 200
    assert 'name="detail_domains"' in step.text and 'type="checkbox"' in step.text
    assert 'id="declare-errors"' not in step.text


# ---------------------------------------------------------------- the portal


def test_jeanne_declares_her_carer_unavailable_from_her_portal(browser, landes, sql_owner):
    jeanne = person_of(sql_owner, landes, "jeanne.lafitte")
    csrf = sign_in(browser, "jeanne.lafitte")
    home = browser.get(f"/t/{SLUG}/mon-dossier")
    assert f'href="/t/{SLUG}/mon-dossier/signaler?personne={jeanne}"' in home.text

    page = browser.get(PORTAL)
    assert page.status_code == 200
    assert "no-store" in page.headers["cache-control"]
    for code in (
        "fall_at_home",
        "carer_unavailable",
        "autonomy_loss",
        "hospital_admission",
        "emergency_visit",
        "teleconsultation_request",
    ):
        assert f'value="{code}"' in page.text, code
    assert 'value="hospital_discharge"' not in page.text
    assert 'value="gp_alert_to_social"' not in page.text
    assert form_fields(page.text)["personne"] == str(jeanne)
    fields = browser.get(f"{PORTAL}/champs", params={"type": "carer_unavailable"}, headers=HTMX)
    assert 'name="detail_reason"' in fields.text
    assert 'name="detail_injured"' not in browser.get(f"{PORTAL}/champs", params={"type": "death"}).text

    until = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    answer = browser.post(
        PORTAL,
        data={
            "_csrf": csrf,
            "personne": str(jeanne),
            "type": "carer_unavailable",
            "occurred_at": local(dt.timedelta(minutes=-30)),
            "detail_reason": "illness",
            "detail_expected_until": until,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"{PORTAL}?personne={jeanne}&enregistre=1"
    assert SAVED in browser.get(answer.headers["location"]).text
    event_id, source, details, _, by_user, _ = events_of(sql_owner, jeanne, "carer_unavailable")[-1]
    assert source == "page"
    assert details_of(details) == {"reason": "illness", "expected_until": until}
    assert by_user == account_of(sql_owner, landes, "jeanne.lafitte")
    routed(sql_owner, event_id)


def test_sophie_declares_for_her_mother_and_for_nobody_else(browser, landes, sql_owner):
    jeanne = person_of(sql_owner, landes, "jeanne.lafitte")
    pierre = one(
        sql_owner,
        "SELECT id FROM person WHERE tenant_id = %s AND given_names = 'Pierre' AND is_demo",
        landes.id,
    )
    csrf = sign_in(browser, "sophie.lafitte")
    page = browser.get(PORTAL, params={"personne": str(jeanne)})
    assert page.status_code == 200 and "Jeanne Lafitte" in page.text
    answer = browser.post(
        PORTAL,
        data={
            "_csrf": csrf,
            "personne": str(jeanne),
            "type": "fall_at_home",
            "occurred_at": local(),
            "detail_injured": "non",
            "detail_remote_alarm": "oui",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    event_id, source, details, _, by_user, _ = events_of(sql_owner, jeanne, "fall_at_home")[-1]
    assert (source, details_of(details)) == ("page", {"injured": False, "remote_alarm": True})
    assert by_user == account_of(sql_owner, landes, "sophie.lafitte")
    routed(sql_owner, event_id)

    before = len(events_of(sql_owner, pierre, "fall_at_home"))
    assert browser.get(PORTAL, params={"personne": str(pierre)}).status_code == 404
    other = browser.post(
        PORTAL,
        data={"_csrf": csrf, "personne": str(pierre), "type": "fall_at_home", "occurred_at": local()},
        follow_redirects=False,
    )
    assert other.status_code in (403, 404)
    assert len(events_of(sql_owner, pierre, "fall_at_home")) == before


def test_a_person_cannot_declare_a_hospital_discharge(browser, landes, sql_owner):
    jeanne = person_of(sql_owner, landes, "jeanne.lafitte")
    csrf = sign_in(browser, "jeanne.lafitte")
    before = len(events_of(sql_owner, jeanne, "hospital_discharge"))
    answer = browser.post(
        PORTAL,
        data={
            "_csrf": csrf,
            "personne": str(jeanne),
            "type": "hospital_discharge",
            "occurred_at": local(),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert "déclaré par les professionnels" in answer.text
    assert 'value="hospital_discharge"' not in answer.text
    assert len(events_of(sql_owner, jeanne, "hospital_discharge")) == before
    # And a professional page is not hers to use.
    assert browser.get(new_url(jeanne), follow_redirects=False).status_code == 403
