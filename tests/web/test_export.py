"""Downloading my file from the portal (JSON and PDF), and a file erased meanwhile answering 410.

Real logins of the ``landes`` demo territory: Jeanne Lafitte (the person) and her daughter Sophie
(her carer), and the GP of Jeanne's care team.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest

from core.audit.trail import Actor as AuditActor
from core.consent.care_team import add_member
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.identity.directory import invite_member
from core.identity.idp.service import ensure_demo_account
from core.identity.nir import Nir
from core.identity.people import PersonIdentity, grant_carer, upsert_person
from core.identity.roles import Role
from core.records.erasure import erase_person
from tenants.demo import seed_all
from tests.factories import nir
from tests.web.test_login import PASSWORD, login

JEANNE_MEDICAL_NOTE = "Insuffisance cardiaque stable"
JEANNE_SOCIAL_NOTE = "Vit seule à l'étage"
EXPORT = "/t/landes/mon-dossier/export"


@pytest.fixture(scope="module")
def landes(aio, runtime, client):
    reports = aio.run(seed_all(runtime))
    return next(r for r in reports if r.tenant.slug == "landes")


@pytest.fixture
def browser(client):
    client.cookies.clear()
    yield client
    client.cookies.clear()


def exported_count(sql_owner: Any, tenant_id: uuid.UUID, person_id: str) -> int:
    row = sql_owner.execute(
        "SELECT count(*) FROM audit_entry WHERE tenant_id = %s AND target_id = %s "
        "AND action = 'person.exported'",
        (tenant_id, person_id),
    ).fetchone()
    return int(row[0])


def assert_attachment(response: Any, extension: str) -> None:
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    match = re.fullmatch(
        rf'attachment; filename="parcours-dossier-(\d{{4}}-\d{{2}}-\d{{2}})\.{extension}"', disposition
    )
    assert match, disposition
    assert abs(dt.date.fromisoformat(match.group(1)) - dt.date.today()) <= dt.timedelta(days=1)
    assert "no-store" in response.headers["cache-control"]


def test_jeanne_downloads_her_file_with_her_medical_notes(browser, landes, sql_owner):
    assert login(browser, "landes", "jeanne.lafitte").status_code == 303

    response = browser.get(f"{EXPORT}.json")

    assert_attachment(response, "json")
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    assert document["version"] == 1 and document["requested_by"] == "person"
    assert (
        document["identity"]["family_name"] == "Lafitte" and document["identity"]["given_names"] == "Jeanne"
    )
    assert any(JEANNE_MEDICAL_NOTE in note["body"] for note in document["medical_notes"])
    assert any(JEANNE_SOCIAL_NOTE in note["body"] for note in document["social_notes"])
    assert document["refused"] == []
    assert "médecin traitant" in [member["function"] for member in document["care_team"]]
    assert document["access_log"], "the reads of this very export are in the log"

    before = exported_count(sql_owner, landes.tenant.id, document["person_id"])
    pdf = browser.get(f"{EXPORT}.pdf")
    assert_attachment(pdf, "pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert b"Mon dossier Parcours" in pdf.content  # the document's title, in its metadata
    assert exported_count(sql_owner, landes.tenant.id, document["person_id"]) == before + 1


def test_sophie_downloads_her_mothers_file_without_the_medical_notes(browser, landes, sql_owner):
    login(browser, "landes", "sophie.lafitte")

    response = browser.get(f"{EXPORT}.json")

    assert_attachment(response, "json")
    document = response.json()
    assert document["requested_by"] == "carer_with_delegation"
    assert document["identity"]["given_names"] == "Jeanne"
    assert "medical_notes" not in document
    assert JEANNE_MEDICAL_NOTE not in response.text
    refused = {item["category"]: item["reason"] for item in document["refused"]}
    assert refused.get("medical")
    assert any(JEANNE_SOCIAL_NOTE in note["body"] for note in document["social_notes"])
    # Naming her mother explicitly gives the same file, and each download is audited.
    before = exported_count(sql_owner, landes.tenant.id, document["person_id"])
    named = browser.get(f"{EXPORT}.json", params={"personne": document["person_id"]})
    assert named.status_code == 200 and named.json()["person_id"] == document["person_id"]
    assert exported_count(sql_owner, landes.tenant.id, document["person_id"]) == before + 1
    assert browser.get(f"{EXPORT}.json", params={"personne": str(uuid.uuid4())}).status_code == 404


def test_only_the_person_and_her_carers_download(browser, landes):
    assert browser.get(f"{EXPORT}.json", follow_redirects=False).status_code == 303
    login(browser, "landes", "medecin.landes")
    assert browser.get(f"{EXPORT}.json").status_code == 403
    assert browser.get(f"{EXPORT}.pdf").status_code == 403


def _throwaway_person(aio: Any, runtime: Any, tenant_id: uuid.UUID, carer_id: uuid.UUID) -> uuid.UUID:
    """A person of the demo territory, cared for by Sophie, in the GP practice's care team."""
    number = nir(f"1{uuid.uuid4().int % 100:02d}0540192{uuid.uuid4().int % 999 + 1:03d}")
    identity = PersonIdentity(Nir.parse(number), "Tastet", "Pierre", dt.date(1938, 5, 2), "40192")

    async def create() -> uuid.UUID:
        async with tenant_scope(tenant_id):
            person_id = await upsert_person(identity, runtime.keyring, runtime.vault)
            practice = await scoped_connection().fetchval(
                "SELECT id FROM organisation WHERE name = 'Cabinet médical du Sablar, Dax (démo)'"
            )
            await add_member(
                person_id,
                role=Role.PROFESSIONAL,
                function="médecin traitant",
                by=AuditActor.system(),
                organisation_id=practice,
            )
        return person_id

    person_id = aio.run(create())
    aio.run(grant_carer(tenant_id, person_id, carer_id, "nièce", "person"))
    return person_id


def test_an_erased_file_answers_410(browser, landes, aio, runtime, sql_owner):
    """Pierre logs in and downloads his file; once erased, his downloads and the GP's page answer 410."""
    jeanne = sql_owner.execute(
        "SELECT person_id FROM membership WHERE tenant_id = %s AND role = 'person' "
        "AND invited_email LIKE 'jeanne.lafitte@%%'",
        (landes.tenant.id,),
    ).fetchone()[0]
    sophie = sql_owner.execute(
        "SELECT carer_id FROM carer_link WHERE person_id = %s AND revoked_at IS NULL", (jeanne,)
    ).fetchone()[0]
    person_id = _throwaway_person(aio, runtime, landes.tenant.id, sophie)
    username = f"pierre-{uuid.uuid4().hex[:8]}"
    email = f"{username}@example.org"
    aio.run(
        ensure_demo_account(
            username, PASSWORD, {"given_name": "Pierre", "family_name": "Tastet", "email": email}
        )
    )
    aio.run(invite_member(landes.tenant.id, email, "person", None, "test", person_id=person_id))

    assert login(browser, "landes", username).status_code == 303
    before = browser.get(f"{EXPORT}.json")
    assert before.status_code == 200 and before.json()["identity"]["family_name"] == "Tastet"
    assert browser.get(f"{EXPORT}.pdf").status_code == 200

    aio.run(erase_person(runtime, landes.tenant.id, person_id, reason="test 410", by=AuditActor.system()))

    for extension in ("json", "pdf"):
        gone = browser.get(f"{EXPORT}.{extension}")
        assert gone.status_code == 410, gone.text
        assert "Tastet" not in gone.text
        assert "content-disposition" not in gone.headers

    # His carer no longer sees him among her people (« not found », as for anyone she does not follow);
    # her mother's file is untouched.
    browser.cookies.clear()
    login(browser, "landes", "sophie.lafitte")
    assert browser.get(f"{EXPORT}.json", params={"personne": str(person_id)}).status_code == 404
    assert browser.get(f"{EXPORT}.json").json()["person_id"] == str(jeanne)

    # The GP of his care team gets 410 on his file.
    browser.cookies.clear()
    login(browser, "landes", "medecin.landes")
    page = browser.get(f"/t/landes/personnes/{person_id}", headers={"accept": "text/html"})
    assert page.status_code == 410, page.text
    assert "Tastet" not in page.text
