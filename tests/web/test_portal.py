"""The portal of the person and her carers, through HTTP with the real app and database.

Jeanne Lafitte (role ``person``) and her daughter Sophie (role ``carer``) of the demo territory
``landes`` log in through the built-in provider. The last part checks the semantics of a consent
switch (``core.consent.toggles.set_access``) against the pure rules, for any sequence of switches.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.access.policy import Actor
from core.consent.access import AccessRequest, check_all
from core.consent.model import Action, DataCategory, Purpose, Recipient
from core.consent.model import Actor as RulesActor
from core.consent.rules import decide
from core.consent.service import ConsentInput, declare_break_glass, record_consent, request_consent
from core.consent.store import load_context
from core.consent.toggles import TOGGLE_PURPOSES, access_matrix, set_access
from core.db.scope import tenant_scope
from core.errors import InvalidInput, NotFound
from core.identity.accounts import upsert_account
from core.identity.directory import create_organisation
from core.identity.nir import Nir
from core.identity.people import PersonIdentity, grant_carer, upsert_person
from core.identity.roles import Role
from core.records.portal import choose_person, people_i_manage
from tenants.demo import seed_all
from tests.factories import nir
from tests.web.test_login import form_fields, login

DOMAIN = "demo.parcours.test"


@pytest.fixture(scope="module")
def landes(aio, runtime, client):
    """The demo territory with its people, carers, care teams, notes and accounts."""
    reports = aio.run(seed_all(runtime))
    return next(r for r in reports if r.tenant.slug == "landes").tenant


@pytest.fixture
def browser(client):
    """A fresh browser: the session's client with an empty cookie jar."""
    client.cookies.clear()
    yield client
    client.cookies.clear()


@dataclass(frozen=True)
class Demo:
    tenant: Any
    jeanne: uuid.UUID
    sophie: uuid.UUID
    pierre: uuid.UUID
    ccas: uuid.UUID
    gp_practice: uuid.UUID
    employer: uuid.UUID


def _one(sql_owner, query: str, *params: Any) -> Any:
    row = sql_owner.execute(query, params).fetchone()
    assert row is not None, (query, params)
    return row[0]


@pytest.fixture
def demo(landes, sql_owner) -> Demo:
    def person_of(username: str) -> uuid.UUID:
        return _one(
            sql_owner,
            "SELECT person_id FROM membership WHERE tenant_id = %s AND invited_email = %s",
            landes.id,
            f"{username}@{DOMAIN}",
        )

    def organisation(name: str) -> uuid.UUID:
        return _one(
            sql_owner, "SELECT id FROM organisation WHERE tenant_id = %s AND name = %s", landes.id, name
        )

    return Demo(
        landes,
        jeanne=person_of("jeanne.lafitte"),
        sophie=person_of("sophie.lafitte"),
        pierre=_one(
            sql_owner,
            "SELECT id FROM person WHERE tenant_id = %s AND given_names = 'Pierre' AND is_demo",
            landes.id,
        ),
        ccas=organisation("CCAS de Mont-de-Marsan (démo)"),
        gp_practice=organisation("Cabinet médical du Sablar, Dax (démo)"),
        employer=organisation("Conserverie des Landes (démo)"),
    )


def portal(path: str = "") -> str:
    return f"/t/landes/mon-dossier{path}"


def csrf_of(browser) -> str:
    return form_fields(browser.get(portal("/consentements")).text)["_csrf"]


def in_force_grants(sql_owner, demo: Demo, organisation: uuid.UUID, category: str, purpose: str) -> int:
    return _one(
        sql_owner,
        "SELECT count(*) FROM consent WHERE person_id = %s AND kind = 'grant' "
        "AND recipient_organisation_id = %s AND revoked_at IS NULL AND 'read' = ANY(actions) "
        "AND %s = ANY(categories) AND %s = ANY(purposes)",
        demo.jeanne,
        organisation,
        category,
        purpose,
    )


def cell_html(html: str, organisation: uuid.UUID, category: str) -> str:
    """The markup of one switch of the grid."""
    found = re.search(rf'<div class="cell-body" id="cell-{organisation}-{category}">(.*?)</div>', html, re.S)
    assert found, f"no cell {organisation}/{category}"
    return found.group(1)


def toggle(browser, demo: Demo, csrf: str, organisation: uuid.UUID, category: str, allowed: bool, **kw):
    data = {
        "_csrf": csrf,
        "personne": str(demo.jeanne),
        "organisation_id": str(organisation),
        "category": category,
        "purpose": "care_coordination",
        "allowed": "1" if allowed else "0",
    }
    return browser.post(portal("/consentements"), data=data, follow_redirects=False, **kw)


def account_actor(aio, tenant_id, name: str, role: Role, organisation: uuid.UUID | None) -> Actor:
    """A signed-in professional as the services see them (a real account, for the audit and the log)."""
    account = aio.run(upsert_account("https://idp.test", f"{name}-{uuid.uuid4().hex[:8]}", None, name))
    return Actor(account.id, False, tenant_id, role, None, organisation, None)


# ---------------------------------------------------------------- my file


def test_jeanne_sees_her_whole_file_with_her_medical_note(browser, demo):
    login(browser, "landes", "jeanne.lafitte")
    page = browser.get(portal())
    assert page.status_code == 200, page.text
    assert "<h1>Mon dossier</h1>" in page.text
    assert "14 février 1942" in page.text
    assert "Insuffisance cardiaque stable" in page.text  # medical note
    assert "escalier sans rampe" in page.text  # social note
    assert "médecin traitant" in page.text  # care team
    assert "Sophie Lafitte (fille)" in page.text  # carers
    assert "Sortie d&#39;hospitalisation" in page.text or "Sortie d'hospitalisation" in page.text
    assert "Aucune demande de financement pour l'instant" in page.text
    assert "ne vous est pas accessible" not in page.text
    assert f'href="/t/landes/mon-dossier/export.json?personne={demo.jeanne}"' in page.text
    assert f'href="/t/landes/mon-dossier/export.pdf?personne={demo.jeanne}"' in page.text


def test_sophie_sees_the_social_note_but_the_medical_section_says_why_not(browser, demo):
    login(browser, "landes", "sophie.lafitte")
    page = browser.get(portal())
    assert page.status_code == 200, page.text
    assert "Jeanne Lafitte" in page.text and "aidant (fille)" in page.text
    assert "escalier sans rampe" in page.text
    assert "Insuffisance cardiaque" not in page.text
    medical = page.text.split('id="s-medical"')[1].split("</section>")[0]
    assert "ne vous est pas accessible" in medical
    assert "aucun consentement exprès de la personne ne couvre : lecture des données médicales" in medical


# ---------------------------------------------------------------- who can see what


def test_jeanne_opens_and_closes_medical_read_for_the_ccas(browser, demo, sql_owner):
    login(browser, "landes", "jeanne.lafitte")
    page = browser.get(portal("/consentements"))
    assert page.status_code == 200, page.text
    assert "partage présumé" in cell_html(page.text, demo.gp_practice, "medical")  # care team
    assert "Jamais" in cell_html(page.text, demo.employer, "medical")
    csrf = form_fields(page.text)["_csrf"]

    opened = toggle(browser, demo, csrf, demo.ccas, "medical", True)
    assert opened.status_code == 303, opened.text
    assert opened.headers["location"] == (
        f"/t/landes/mon-dossier/consentements?personne={demo.jeanne}&finalite=care_coordination"
    )
    assert in_force_grants(sql_owner, demo, demo.ccas, "medical", "care_coordination") == 1
    page = browser.get(opened.headers["location"])
    assert "is-on" in cell_html(page.text, demo.ccas, "medical")
    consents = page.text.split('id="consent-list"')[1]
    first = consents.split("</li>")[0]
    assert "CCAS de Mont-de-Marsan (démo)" in first
    assert "lecture des données médicales, pour coordination des soins" in first
    assert "en vigueur" in first and "Retirer" in first
    # Switching on again changes nothing.
    toggle(browser, demo, csrf, demo.ccas, "medical", True)
    assert in_force_grants(sql_owner, demo, demo.ccas, "medical", "care_coordination") == 1

    closed = toggle(browser, demo, csrf, demo.ccas, "medical", False, headers={"HX-Request": "true"})
    assert closed.status_code == 200, closed.text
    assert "<html" not in closed.text  # the cell alone, and the list out of band
    assert f'id="cell-{demo.ccas}-medical"' in closed.text
    assert "is-on" not in cell_html(closed.text, demo.ccas, "medical")
    assert 'id="consent-list" aria-labelledby="s-consents" hx-swap-oob="true"' in closed.text
    assert "retiré" in closed.text
    assert in_force_grants(sql_owner, demo, demo.ccas, "medical", "care_coordination") == 0


def test_withdrawing_a_consent_from_the_list(browser, demo, sql_owner):
    login(browser, "landes", "jeanne.lafitte")
    csrf = csrf_of(browser)
    toggle(browser, demo, csrf, demo.ccas, "documents", True)
    consent_id = _one(
        sql_owner,
        "SELECT id FROM consent WHERE person_id = %s AND recipient_organisation_id = %s "
        "AND categories = '{documents}' AND purposes = '{care_coordination}' AND revoked_at IS NULL",
        demo.jeanne,
        demo.ccas,
    )
    form = {"_csrf": csrf, "personne": str(demo.jeanne)}
    done = browser.post(portal(f"/consentements/{consent_id}/retrait"), data=form, follow_redirects=False)
    assert done.status_code == 303
    assert in_force_grants(sql_owner, demo, demo.ccas, "documents", "care_coordination") == 0
    again = browser.post(portal(f"/consentements/{consent_id}/retrait"), data=form)
    assert again.status_code == 422  # shown inline, not a 500
    assert "déjà retiré" in again.text and 'class="error-box"' in again.text


def test_a_switch_no_consent_can_open_is_refused_inline(browser, demo, sql_owner):
    login(browser, "landes", "jeanne.lafitte")
    csrf = csrf_of(browser)
    page = toggle(browser, demo, csrf, demo.employer, "medical", True)
    assert page.status_code == 422
    assert "un employeur n&#39;a jamais accès" in page.text and "<html" in page.text
    fragment = toggle(browser, demo, csrf, demo.employer, "medical", True, headers={"HX-Request": "true"})
    assert fragment.status_code == 422
    assert "<html" not in fragment.text and "jamais accès" in fragment.text
    unknown = toggle(browser, demo, csrf, uuid.uuid4(), "medical", True)
    assert unknown.status_code == 422 and "organisation inconnue" in unknown.text
    assert in_force_grants(sql_owner, demo, demo.employer, "medical", "care_coordination") == 0


def test_the_opposition_ends_the_presumed_sharing_until_lifted(browser, demo, aio, runtime):
    login(browser, "landes", "jeanne.lafitte")
    csrf = csrf_of(browser)
    form = {"_csrf": csrf, "personne": str(demo.jeanne), "opposed": "1"}
    try:
        assert browser.post(portal("/opposition"), data=form, follow_redirects=False).status_code == 303
        page = browser.get(portal("/consentements"))
        assert "Opposition en vigueur" in page.text
        assert "partage présumé" not in cell_html(page.text, demo.gp_practice, "medical")
        assert "partage présumé" in cell_html(page.text, demo.gp_practice, "social")
        gp = account_actor(aio, demo.tenant.id, "Dr Opposé", Role.PROFESSIONAL, demo.gp_practice)
        decided = aio.run(
            check_all(runtime, gp, demo.jeanne, [_read(DataCategory.MEDICAL)], Purpose.CARE_COORDINATION)
        )
        assert not next(iter(decided.values())).allowed
    finally:
        form["opposed"] = "0"
        assert browser.post(portal("/opposition"), data=form, follow_redirects=False).status_code == 303
    page = browser.get(portal("/consentements"))
    assert "Opposition en vigueur" not in page.text
    assert "partage présumé" in cell_html(page.text, demo.gp_practice, "medical")


def _read(category: DataCategory) -> AccessRequest:
    return AccessRequest(category, Action.READ)


def test_sophie_manages_her_mother_s_consents(browser, demo, sql_owner):
    login(browser, "landes", "sophie.lafitte")
    page = browser.get(portal("/consentements"))
    assert page.status_code == 200
    assert "Jeanne Lafitte" in page.text
    csrf = form_fields(page.text)["_csrf"]
    assert toggle(browser, demo, csrf, demo.ccas, "funding", True).status_code == 303
    assert in_force_grants(sql_owner, demo, demo.ccas, "funding", "care_coordination") == 1
    recorded_by = _one(
        sql_owner,
        "SELECT recorded_by FROM consent WHERE person_id = %s AND 'funding' = ANY(categories) "
        "AND 'care_coordination' = ANY(purposes) AND revoked_at IS NULL AND recipient_organisation_id = %s",
        demo.jeanne,
        demo.ccas,
    )
    assert recorded_by == "carer_with_delegation"
    assert toggle(browser, demo, csrf, demo.ccas, "funding", False).status_code == 303
    assert in_force_grants(sql_owner, demo, demo.ccas, "funding", "care_coordination") == 0


# ---------------------------------------------------------------- consent requests


def social_worker(browser, aio, demo: Demo, sql_owner) -> Actor:
    """The CCAS social worker of the demo (her account exists once she has logged in)."""
    login(browser, "landes", "assistante-sociale.landes")
    browser.cookies.clear()
    row = sql_owner.execute(
        "SELECT user_account_id, organisation_id FROM membership WHERE tenant_id = %s AND invited_email = %s",
        (demo.tenant.id, f"assistante-sociale.landes@{DOMAIN}"),
    ).fetchone()
    return Actor(row[0], False, demo.tenant.id, Role.SOCIAL_WORKER, None, row[1], None)


def test_accepting_a_pending_request_records_a_consent(browser, aio, runtime, demo, sql_owner):
    sandrine = social_worker(browser, aio, demo, sql_owner)
    message = f"Pour monter le dossier d'APA, j'ai besoin de vos justificatifs ({uuid.uuid4().hex[:6]})."
    request_id = aio.run(
        request_consent(
            runtime,
            sandrine,
            demo.jeanne,
            actions=["read"],
            categories=["documents"],
            purposes=["funding_instruction"],
            message=message,
        )
    )
    login(browser, "landes", "jeanne.lafitte")
    page = browser.get(portal("/consentements"))
    assert "Demandes en attente" in page.text
    assert "Sandrine Castaing" in page.text and "CCAS de Mont-de-Marsan (démo)" in page.text
    assert "lecture des documents, pour instruction d&#39;un financement" in page.text
    assert uuid_tail(message) in page.text
    csrf = form_fields(page.text)["_csrf"]
    answer = {"_csrf": csrf, "personne": str(demo.jeanne), "answer": "accept"}
    done = browser.post(portal(f"/demandes/{request_id}"), data=answer, follow_redirects=False)
    assert done.status_code == 303, done.text
    status, consent_id = sql_owner.execute(
        "SELECT status, consent_id FROM consent_request WHERE id = %s", (request_id,)
    ).fetchone()
    assert status == "granted" and consent_id is not None
    organisation, revoked = sql_owner.execute(
        "SELECT recipient_organisation_id, revoked_at FROM consent WHERE id = %s", (consent_id,)
    ).fetchone()
    assert organisation == demo.ccas and revoked is None
    page = browser.get(portal("/consentements"))
    assert uuid_tail(message) not in page.text  # no longer pending
    assert "lecture des documents, pour instruction d&#39;un financement" in page.text  # in the list
    again = browser.post(portal(f"/demandes/{request_id}"), data={**answer, "answer": "decline"})
    assert again.status_code == 422 and "déjà reçu une réponse" in again.text


def uuid_tail(message: str) -> str:
    return message.rsplit("(", 1)[1].rstrip(").")


# ---------------------------------------------------------------- who looked at my file


def test_the_access_log_shows_reads_by_others_and_flags_break_glass(browser, aio, runtime, demo):
    gp = account_actor(aio, demo.tenant.id, "Dr Lectrice Journal", Role.PROFESSIONAL, demo.gp_practice)
    aio.run(check_all(runtime, gp, demo.jeanne, [_read(DataCategory.MEDICAL)], Purpose.CARE_COORDINATION))
    urgent = account_actor(aio, demo.tenant.id, "Urgentiste Journal", Role.SOCIAL_WORKER, demo.ccas)
    justification = "Personne retrouvée inconsciente à domicile, appel du SAMU"
    aio.run(declare_break_glass(runtime, urgent, demo.jeanne, justification))
    aio.run(check_all(runtime, urgent, demo.jeanne, [_read(DataCategory.MEDICAL)], Purpose.CARE_COORDINATION))

    login(browser, "landes", "jeanne.lafitte")
    page = browser.get(portal("/journal"))
    assert page.status_code == 200, page.text
    lines = re.findall(r'<li class="log-line[^"]*">.*?</li>', page.text, re.S)
    gp_line = next(line for line in lines if "Dr Lectrice Journal" in line)
    assert "a consulté vos données médicales" in gp_line
    assert "Cabinet médical du Sablar" in gp_line
    flagged = [line for line in lines if "Urgentiste Journal" in line and "log-break-glass" in line]
    assert flagged and all("Bris de glace" in line for line in flagged)
    assert any(justification in line for line in flagged)
    assert not any("log-break-glass" in line for line in lines if "Dr Lectrice Journal" in line)


# ---------------------------------------------------------------- refusals


def test_a_post_without_the_csrf_token_is_refused(browser, demo, sql_owner):
    login(browser, "landes", "jeanne.lafitte")
    before = in_force_grants(sql_owner, demo, demo.ccas, "social", "service_delivery")
    data = {
        "personne": str(demo.jeanne),
        "organisation_id": str(demo.ccas),
        "category": "social",
        "purpose": "service_delivery",
        "allowed": "1",
    }
    refused = browser.post(portal("/consentements"), data=data, follow_redirects=False)
    assert refused.status_code == 403
    forged = browser.post(portal("/consentements"), data={**data, "_csrf": "forged"}, follow_redirects=False)
    assert forged.status_code == 403
    assert in_force_grants(sql_owner, demo, demo.ccas, "social", "service_delivery") == before


def test_a_carer_cannot_reach_a_person_she_is_not_linked_to(browser, demo, sql_owner):
    login(browser, "landes", "sophie.lafitte")
    before = _one(sql_owner, "SELECT count(*) FROM consent WHERE person_id = %s", demo.pierre)
    for other in (str(demo.pierre), str(uuid.uuid4()), "pas-un-identifiant", str(demo.sophie)):
        for path in ("", "/consentements", "/journal"):
            response = browser.get(portal(path), params={"personne": other})
            assert response.status_code == 404, (path, other, response.status_code)
            assert "Darrigrand" not in response.text
    csrf = csrf_of(browser)
    data = {
        "_csrf": csrf,
        "personne": str(demo.pierre),
        "organisation_id": str(demo.ccas),
        "category": "social",
        "purpose": "care_coordination",
        "allowed": "1",
    }
    assert browser.post(portal("/consentements"), data=data).status_code == 404
    after = _one(sql_owner, "SELECT count(*) FROM consent WHERE person_id = %s", demo.pierre)
    assert after == before


def test_a_professional_has_no_portal(browser, demo):
    login(browser, "landes", "medecin.landes")
    assert browser.get(portal(), follow_redirects=False).status_code == 403


# ---------------------------------------------------------------- the switches against the rules


_serial = iter(range(1, 1_000_000))


@dataclass
class World:
    tenant: Any
    person: uuid.UUID
    manager: Actor
    target: uuid.UUID
    """The organisation whose cells are switched."""
    bystander: uuid.UUID
    """Another organisation with the same initial grants: nothing may change for it."""


def _new_person(aio, runtime, tenant, given_name: str) -> uuid.UUID:
    number = f"2{next(_serial) % 100:02d}0240192{uuid.uuid4().int % 999 + 1:03d}"
    identity = PersonIdentity(Nir.parse(nir(number)), "Lafitte", given_name, dt.date(1942, 2, 14), "40192")

    async def create() -> uuid.UUID:
        async with tenant_scope(tenant.id):
            return await upsert_person(identity, runtime.keyring, runtime.vault)

    return aio.run(create())


def new_world(aio, runtime, tenant, manager_account: uuid.UUID) -> World:
    person = _new_person(aio, runtime, tenant, "Jeanne")
    target = aio.run(create_organisation(tenant.id, kind="ccas", name=f"CCAS {uuid.uuid4().hex[:8]}"))
    bystander = aio.run(
        create_organisation(tenant.id, kind="pharmacy", name=f"Pharmacie {uuid.uuid4().hex[:8]}")
    )
    manager = Actor(manager_account, False, tenant.id, Role.PERSON, None, None, person)
    return World(tenant, person, manager, target.id, bystander.id)


CELLS = [(action, category, purpose) for action in Action for category in DataCategory for purpose in Purpose]
scopes = st.tuples(
    st.sets(st.sampled_from(list(Action)), min_size=1),
    st.sets(st.sampled_from(list(DataCategory)), min_size=1),
    st.sets(st.sampled_from(list(Purpose)), min_size=1),
)
switches = st.tuples(st.sampled_from(list(DataCategory)), st.sampled_from(TOGGLE_PURPOSES), st.booleans())


def decisions(
    aio, runtime, world: World, organisation: uuid.UUID
) -> dict[tuple[Action, DataCategory, Purpose], bool]:
    """What the pure rules decide, cell by cell, for a social worker of ``organisation``."""
    worker = RulesActor(uuid.uuid4(), Role.SOCIAL_WORKER, organisation)

    async def load():
        async with tenant_scope(world.tenant.id):
            return await load_context(world.person)

    context = aio.run(load())
    at = runtime.clock()
    return {
        cell: decide(
            worker,
            world.person,
            cell[1],
            cell[0],
            cell[2],
            consents=context.consents,
            care_team=context.care_team,
            carer_links=context.carer_links,
            at=at,
        ).allowed
        for cell in CELLS
    }


@pytest.fixture
def manager_account(aio) -> uuid.UUID:
    return aio.run(upsert_account("https://idp.test", f"jeanne-{uuid.uuid4().hex[:8]}", None, "Jeanne")).id


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(initial=st.lists(scopes, max_size=2), sequence=st.lists(switches, min_size=1, max_size=8))
def test_after_any_switches_the_rules_agree_with_the_last_switch_of_each_cell(
    aio, runtime, tenant, manager_account, initial, sequence
):
    """Broad grants first (to both organisations), then switches of the target's cells: each read
    cell is what its last switch said, every other cell (writes, untouched cells, the other
    organisation) is what it was before, and the grid shows the same."""
    world = new_world(aio, runtime, tenant, manager_account)
    for actions, categories, purposes in initial:
        for organisation in (world.target, world.bystander):
            given_input = ConsentInput(
                Recipient.organisation(organisation),
                tuple(a.value for a in actions),
                tuple(c.value for c in categories),
                tuple(p.value for p in purposes),
            )
            aio.run(record_consent(runtime, world.manager, world.person, given_input))
    expected = decisions(aio, runtime, world, world.target)
    bystander_before = decisions(aio, runtime, world, world.bystander)
    for category, purpose, allowed in sequence:
        aio.run(set_access(runtime, world.manager, world.person, world.target, category, purpose, allowed))
        expected[(Action.READ, category, purpose)] = allowed
    assert decisions(aio, runtime, world, world.target) == expected
    assert decisions(aio, runtime, world, world.bystander) == bystander_before
    for purpose in TOGGLE_PURPOSES:
        matrix = aio.run(access_matrix(runtime, world.manager, world.person, purpose))
        for category in DataCategory:
            cell = matrix.cell(world.target, category)
            assert cell is not None and cell.granted == expected[(Action.READ, category, purpose)]


def test_statistics_and_unknown_organisations_cannot_be_switched(aio, runtime, tenant, manager_account):
    world = new_world(aio, runtime, tenant, manager_account)
    with pytest.raises(InvalidInput):
        aio.run(set_access(runtime, world.manager, world.person, world.target, "medical", "statistics", True))
    with pytest.raises(InvalidInput):
        aio.run(
            set_access(
                runtime, world.manager, world.person, uuid.uuid4(), "medical", "care_coordination", True
            )
        )


def test_a_carer_manages_each_person_who_recognised_her(aio, runtime, tenant, manager_account):
    carer = _new_person(aio, runtime, tenant, "Sophie")
    mother = _new_person(aio, runtime, tenant, "Jeanne")
    uncle = _new_person(aio, runtime, tenant, "Louis")
    stranger = _new_person(aio, runtime, tenant, "Paul")
    aio.run(grant_carer(tenant.id, mother, carer, "fille", "person"))
    aio.run(grant_carer(tenant.id, uncle, carer, "nièce", "person"))
    sophie = Actor(manager_account, False, tenant.id, Role.CARER, None, None, carer)
    managed = aio.run(people_i_manage(sophie))
    assert [(p.id, p.relation) for p in managed] == [(mother, "fille"), (uncle, "nièce")]
    chosen, _ = aio.run(choose_person(sophie, str(uncle)))
    assert chosen.id == uncle
    with pytest.raises(NotFound):
        aio.run(choose_person(sophie, str(stranger)))
    person = Actor(manager_account, False, tenant.id, Role.PERSON, None, None, stranger)
    assert [p.relation for p in aio.run(people_i_manage(person))] == ["vous-même"]
