"""The DPO's review of emergency accesses and the audit chain, and the notifications page, over HTTP."""

from __future__ import annotations

import re
import uuid

import pytest

from core.access.policy import Actor
from core.errors import Forbidden
from core.identity.roles import Role
from core.records.break_glass_review import break_glass_declarations
from tests.web.test_people_pages import HTMX, PEOPLE, SLUG, file_url, find, sign_in

DPO = f"/t/{SLUG}/dpo"
LABAT = ("Labat", "1950-11-20")


@pytest.fixture(scope="module")
def landes(aio, runtime, client):
    from tenants.demo import seed_all

    reports = aio.run(seed_all(runtime))
    return next(r for r in reports if r.tenant.slug == SLUG)


@pytest.fixture
def browser(client):
    client.cookies.clear()
    yield client
    client.cookies.clear()


def declare(browser, csrf: str, person_id: str, justification: str) -> None:
    done = browser.post(
        f"{PEOPLE}/{person_id}/bris-de-glace",
        data={
            "_csrf": csrf,
            "finalite": "care_coordination",
            "section": "medical",
            "justification": justification,
        },
        headers=HTMX,
    )
    assert done.status_code == 200, done.text
    assert done.headers["hx-redirect"] == file_url(person_id)  # htmx: the client reloads the file


def declaration_of(html: str, token: str) -> str:
    items = re.findall(r'<li class="declaration.*?</li>', html, re.S)
    found = [item for item in items if token in item]
    assert len(found) == 1, html
    return found[0]


def test_the_dpo_reviews_a_break_glass_without_learning_who_the_person_is(browser, landes):
    sign_in(browser, "dpo.landes")  # activates the DPO's role, so the declaration notifies her
    csrf = sign_in(browser, "assistante-sociale.landes")
    labat = find(browser, csrf, *LABAT)
    first = f"Malaise au domicile, appel du SAMU en cours ({uuid.uuid4().hex[:8]})."
    declare(browser, csrf, labat, first)
    assert browser.get(file_url(labat)).status_code == 200  # five categories read under the declaration
    second = f"Nouvelle chute, infirmière sur place sans consignes ({uuid.uuid4().hex[:8]})."
    declare(browser, csrf, labat, second)

    assert browser.get(DPO, follow_redirects=False).status_code == 403  # not for a social worker

    sign_in(browser, "dpo.landes")
    page = browser.get(DPO)
    assert page.status_code == 200
    assert "no-store" in page.headers["cache-control"]
    menu = page.text.split("</nav>")[0]
    assert "Protection des données" in menu and f'href="{PEOPLE}"' not in menu
    assert re.search(r"Chaîne intègre \(\d+ entrées\)", page.text)
    older = declaration_of(page.text, first)
    newer = declaration_of(page.text, second)
    assert page.text.index(newer) < page.text.index(older)  # newest first
    for item in (older, newer):
        assert (
            "Sandrine Castaing" in item and "Travailleur social" in item and "CCAS de Mont-de-Marsan" in item
        )
        assert f"<code>{labat[:8]}</code>" in item
    assert re.search(r"Accès effectués sous ce bris de glace</dt><dd>5</dd>", older)
    assert re.search(r"Accès effectués sous ce bris de glace</dt><dd>0</dd>", newer)
    assert "Labat" not in page.text and "Michel" not in page.text


def test_only_the_dpo_may_list_declarations(aio, runtime, landes):
    social_worker = Actor(uuid.uuid4(), False, landes.tenant.id, Role.SOCIAL_WORKER)
    with pytest.raises(Forbidden):
        aio.run(break_glass_declarations(runtime, social_worker))


def test_notifications_are_marked_read_once_seen(browser, landes, sql_owner):
    sign_in(browser, "jeanne.lafitte")
    user = sql_owner.execute(
        "SELECT id FROM user_account WHERE email = 'jeanne.lafitte@demo.parcours.test'"
    ).fetchone()[0]
    title = f"Test {uuid.uuid4().hex[:8]}"
    sql_owner.execute(
        "INSERT INTO notification (id, tenant_id, recipient_user_id, kind, title, body, link, created_at) "
        "VALUES (%s, %s, %s, 'test', %s, 'Un message.', 'mon-dossier', now())",
        (uuid.uuid4(), landes.tenant.id, user, title),
    )
    profile = browser.get(f"/t/{SLUG}/moi")
    assert re.search(r'class="badge">\d+<span class="visually-hidden"> \d+ non lue', profile.text)
    first = browser.get(f"/t/{SLUG}/notifications")
    assert first.status_code == 200
    item = re.search(rf'<li class="notification is-unread">(?:(?!</li>).)*{title}.*?</li>', first.text, re.S)
    assert item and f'href="/t/{SLUG}/mon-dossier"' in item.group(0)
    unread = "SELECT count(*) FROM notification WHERE recipient_user_id = %s AND read_at IS NULL"
    assert sql_owner.execute(unread, (user,)).fetchone()[0] == 0
    again = browser.get(f"/t/{SLUG}/notifications")
    assert title in again.text and "is-unread" not in again.text
    assert 'class="badge"' not in again.text
