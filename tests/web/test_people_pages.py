"""The professional's side of a person's file, through HTTP: find, read by category, request consent,
break-glass, notes, documents, recorded consents. Real app, real database, real logins."""

from __future__ import annotations

import random
import re
import uuid

from core.access.policy import Actor
from core.audit.trail import Actor as AuditActor
from core.consent.service import pending_requests
from core.identity.roles import Role
from core.records.erasure import erase_person
from tests.factories import discharge, nir
from tests.web.conftest import sign_in

SLUG = "landes"
PEOPLE = f"/t/{SLUG}/personnes"
HTMX = {"HX-Request": "true"}
MEDICAL_NOTE = "Insuffisance cardiaque stable sous traitement"
SOCIAL_NOTE = "escalier sans rampe"
JEANNE = ("Lafitte", "1942-02-14")
PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def search(browser, csrf: str, family_name: str, birth_date: str):
    return browser.post(
        f"{PEOPLE}/recherche",
        data={"_csrf": csrf, "family_name": family_name, "birth_date": birth_date},
        headers=HTMX,
    )


def person_links(html: str) -> list[str]:
    return re.findall(rf'href="{PEOPLE}/([0-9a-f-]{{36}})"', html)


def find(browser, csrf: str, family_name: str, birth_date: str) -> str:
    found = search(browser, csrf, family_name, birth_date)
    assert found.status_code == 200, found.text
    ids = person_links(found.text)
    assert len(ids) == 1, found.text
    return ids[0]


def file_url(person_id: str, purpose: str = "care_coordination") -> str:
    return f"{PEOPLE}/{person_id}?finalite={purpose}"


def section(html: str, category: str) -> str:
    """The HTML of one section of the file page."""
    match = re.search(rf'<section id="section-{category}".*?</section>', html, re.S)
    assert match, f"no section {category}"
    return match.group(0)


def test_the_gp_finds_jeanne_among_his_people_and_reads_her_medical_note(browser, landes):
    csrf = sign_in(browser, "medecin.landes")
    page = browser.get(PEOPLE)
    assert page.status_code == 200
    assert "no-store" in page.headers["cache-control"]
    assert "Jeanne Lafitte" in page.text and "équipe de soins" in page.text
    menu = page.text.split("</nav>")[0]
    assert f'href="{PEOPLE}"' in menu and "Notifications" in menu
    assert "Protection des données" not in menu and f'href="/t/{SLUG}/admin/"' not in menu
    jeanne = person_links(page.text)[0]

    file = browser.get(file_url(jeanne))
    assert file.status_code == 200
    assert "no-store" in file.headers["cache-control"]
    medical = section(file.text, "medical")
    assert MEDICAL_NOTE in medical
    assert "membre de l&#39;équipe de soins" in medical  # the care-team presumption, said
    assert "Accès refusé" not in medical
    assert "Jeanne" in file.text.split('<section id="section-administrative"')[0]  # her name heads the page

    note = f"Contrôle tensionnel du {uuid.uuid4().hex[:6]} : 13/8."
    added = browser.post(
        f"{PEOPLE}/{jeanne}/notes",
        data={"_csrf": csrf, "finalite": "care_coordination", "category": "medical", "body": note},
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert added.headers["location"].startswith(f"{PEOPLE}/{jeanne}?finalite=care_coordination")
    assert note in section(browser.get(file_url(jeanne)).text, "medical")

    empty = browser.post(
        f"{PEOPLE}/{jeanne}/notes",
        data={"_csrf": csrf, "finalite": "care_coordination", "category": "medical", "body": "  "},
        headers=HTMX,
    )
    assert empty.status_code == 422
    assert 'id="note-medical-body-error"' in empty.text
    assert "<html" not in empty.text


def test_the_purpose_changes_what_opens(browser, landes):
    """The care-team presumption covers care coordination only: another purpose is refused, said why."""
    csrf = sign_in(browser, "medecin.landes")
    jeanne = find(browser, csrf, *JEANNE)
    page = browser.get(file_url(jeanne, "funding_instruction"))
    assert page.status_code == 200
    medical = section(page.text, "medical")
    assert "Accès refusé" in medical and MEDICAL_NOTE not in medical
    assert "instruction d&#39;un financement" in medical
    assert browser.get(file_url(jeanne, "statistics")).status_code == 422
    assert browser.get(file_url(jeanne, "n-importe-quoi")).status_code == 422


def test_the_ccas_social_worker_asks_consent_then_breaks_the_glass(browser, landes, aio, runtime, sql_owner):
    # The DPO and Jeanne have logged in once: their roles are active, so they can be notified.
    sign_in(browser, "dpo.landes")
    sign_in(browser, "jeanne.lafitte")

    # The demo lets the CCAS instruct Jeanne's funding requests; this story starts without any consent.
    sql_owner.execute(
        "UPDATE consent SET revoked_at = now() WHERE tenant_id = %s AND revoked_at IS NULL "
        "AND recipient_organisation_id IN (SELECT id FROM organisation WHERE name LIKE 'CCAS%%')",
        (landes.id,),
    )
    csrf = sign_in(browser, "assistante-sociale.landes")
    mine = browser.get(PEOPLE)
    assert "Jeanne Lafitte" not in mine.text  # the CCAS is not in her care team

    incomplete = search(browser, csrf, "Lafitte", "")
    assert incomplete.status_code == 422
    assert 'id="search-birth_date-error"' in incomplete.text
    assert "<html" not in incomplete.text
    jeanne = find(browser, csrf, "LAFITTE", "1942-02-14")  # case does not matter, the birth date does

    file = browser.get(file_url(jeanne))
    assert file.status_code == 200
    medical = section(file.text, "medical")
    assert "Accès refusé" in medical
    # « Aucun consentement exprès… » or, after an earlier consent was withdrawn, « … retiré … » : both
    # say what is missing.
    assert "ne couvre : lecture des données médicales" in medical
    assert MEDICAL_NOTE not in file.text and SOCIAL_NOTE not in file.text
    assert "Demander le consentement" in medical and "Accès en urgence (bris de glace)" in medical
    assert "emergency-banner" not in file.text

    request = {
        "_csrf": csrf,
        "finalite": "care_coordination",
        "section": "medical",
        "categories": ["medical"],
        "purposes": ["care_coordination"],
    }
    too_short = browser.post(f"{PEOPLE}/{jeanne}/demandes", data={**request, "message": "vite"}, headers=HTMX)
    assert too_short.status_code == 422
    assert 'id="request-medical-message-error"' in too_short.text
    message = "Évaluation du retour à domicile : j'ai besoin des consignes médicales."
    sent = browser.post(f"{PEOPLE}/{jeanne}/demandes", data={**request, "message": message}, headers=HTMX)
    assert sent.status_code == 200, sent.text
    assert "Demande envoyée" in sent.text
    jeanne_user = sql_owner.execute(
        "SELECT id FROM user_account WHERE email = 'jeanne.lafitte@demo.parcours.test'"
    ).fetchone()[0]
    as_jeanne = Actor(jeanne_user, False, landes.id, Role.PERSON, person_id=uuid.UUID(jeanne))
    waiting = aio.run(pending_requests(runtime, as_jeanne, uuid.UUID(jeanne)))
    assert [r.message for r in waiting if r.requester_name == "Sandrine Castaing"] == [message]

    glass = {"_csrf": csrf, "finalite": "care_coordination", "section": "medical"}
    refused = browser.post(
        f"{PEOPLE}/{jeanne}/bris-de-glace", data={**glass, "justification": "urgent"}, headers=HTMX
    )
    assert refused.status_code == 422
    assert 'id="break-glass-medical-justification-error"' in refused.text
    assert "décrivez l&#39;urgence" in refused.text
    declared_before = sql_owner.execute(
        "SELECT count(*) FROM break_glass WHERE person_id = %s", (jeanne,)
    ).fetchone()[0]
    assert declared_before == 0
    justification = "Chute à domicile signalée par sa fille, besoin des traitements en cours."
    done = browser.post(
        f"{PEOPLE}/{jeanne}/bris-de-glace",
        data={**glass, "justification": justification},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == file_url(jeanne)

    opened = browser.get(file_url(jeanne))
    assert MEDICAL_NOTE in section(opened.text, "medical")
    assert SOCIAL_NOTE in section(opened.text, "social")
    banner = re.search(r'<div class="emergency-banner" role="alert">(.*?)</div>', opened.text, re.S)
    assert banner and re.search(r"en cours jusqu'à \d\d:\d\d", banner.group(1))

    sign_in(browser, "dpo.landes")
    assert 'class="badge"' in browser.get(f"/t/{SLUG}/moi").text
    inbox = browser.get(f"/t/{SLUG}/notifications")
    assert inbox.status_code == 200
    assert "Bris de glace déclaré" in inbox.text
    assert 'class="badge"' not in browser.get(f"/t/{SLUG}/moi").text  # seen, so read

    sign_in(browser, "jeanne.lafitte")
    inbox = browser.get(f"/t/{SLUG}/notifications")
    assert "Accès en urgence à votre dossier" in inbox.text
    assert "Une demande de consentement vous attend" in inbox.text
    assert f'href="/t/{SLUG}/mon-dossier"' in inbox.text.split("</nav>")[0]  # her menu: « Mon dossier »


def test_documents_need_a_recorded_consent_and_are_type_checked(browser, landes, sql_owner):
    csrf = sign_in(browser, "medecin.landes")
    jeanne = find(browser, csrf, *JEANNE)
    page = browser.get(file_url(jeanne))
    cabinet = re.search(r'<option value="([0-9a-f-]{36})" selected>([^<]*)\(mon organisation\)', page.text)
    assert cabinet and "Cabinet médical du Sablar" in cabinet.group(2)  # my organisation by default

    consent = {
        "_csrf": csrf,
        "finalite": "care_coordination",
        "mode": "paper",
        "recipient": cabinet.group(1),
        "categories": ["documents"],
        "purposes": ["care_coordination"],
        "actions": ["read", "write"],
        "valid_until": "",
    }
    without_proof = browser.post(
        f"{PEOPLE}/{jeanne}/consentements", data={**consent, "proof_reference": " "}, headers=HTMX
    )
    assert without_proof.status_code == 422
    assert 'id="consent-proof_reference-error"' in without_proof.text and "preuve" in without_proof.text
    plain = browser.post(f"{PEOPLE}/{jeanne}/consentements", data=consent)  # no proof, no htmx
    assert plain.status_code == 422
    assert "<html" in plain.text and 'id="consent-proof_reference-error"' in plain.text
    assert "<details open>\n    <summary>Enregistrer un consentement recueilli" in plain.text
    count = "SELECT count(*) FROM consent WHERE person_id = %s AND 'documents' = ANY(categories)"
    assert sql_owner.execute(count, (jeanne,)).fetchone()[0] == 0
    recorded = browser.post(
        f"{PEOPLE}/{jeanne}/consentements",
        data={**consent, "proof_reference": "formulaire signé le 3 mars, dossier papier"},
        follow_redirects=False,
    )
    assert recorded.status_code == 303, recorded.text
    proof = sql_owner.execute(
        "SELECT recorded_by, proof_reference FROM consent "
        "WHERE person_id = %s AND 'documents' = ANY(categories)",
        (jeanne,),
    ).fetchone()
    assert proof == (
        "professional_with_proof",
        "recueilli par écrit : formulaire signé le 3 mars, dossier papier",
    )

    upload = f"{PEOPLE}/{jeanne}/documents"
    fields = {"_csrf": csrf, "finalite": "care_coordination", "title": "Compte rendu"}
    disguised = browser.post(
        upload, data=fields, files={"file": ("cr.pdf", b"just some text", "application/pdf")}, headers=HTMX
    )
    assert disguised.status_code == 422
    assert 'id="document-file-error"' in disguised.text and "seuls les PDF, PNG et JPEG" in disguised.text
    too_big = browser.post(
        upload, data=fields, files={"file": ("big.pdf", PDF + b"0" * (5 * 1024 * 1024), "application/pdf")}
    )
    assert too_big.status_code == 422 and "trop volumineux" in too_big.text
    way_too_big = browser.post(
        upload, data=fields, files={"file": ("huge.pdf", PDF + b"0" * (7 * 1024 * 1024), "application/pdf")}
    )
    assert way_too_big.status_code == 413  # refused before the body is read

    title = f"Ordonnance {uuid.uuid4().hex[:6]}"
    stored = browser.post(
        upload,
        data={**fields, "title": title},
        files={"file": ("ordonnance.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert stored.status_code == 303, stored.text
    documents = section(browser.get(file_url(jeanne)).text, "documents")
    link = re.search(
        rf'href="({PEOPLE}/{jeanne}/documents/[0-9a-f-]{{36}}\?finalite=care_coordination)"[^>]*>{title}<',
        documents,
    )
    assert link, documents
    download = browser.get(link.group(1))
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"].startswith("application/pdf")
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "no-store" in download.headers["cache-control"]


def test_a_social_worker_cannot_write_a_medical_note_without_a_ground(browser, landes):
    csrf = sign_in(browser, "assistante-sociale.landes")
    pierre = find(browser, csrf, "Darrigrand", "1938-06-02")
    refused = browser.post(
        f"{PEOPLE}/{pierre}/notes",
        data={"_csrf": csrf, "finalite": "care_coordination", "category": "medical", "body": "Tension 14/9."},
        headers=HTMX,
    )
    assert refused.status_code == 422
    assert (
        "Aucun consentement exprès de la personne ne couvre : écriture des données médicales" in refused.text
    )


def test_unknown_and_erased_files(browser, landes, aio, runtime, client, token_for):
    sign_in(browser, "medecin.landes")
    assert browser.get(file_url(str(uuid.uuid4())), headers={"Accept": "text/html"}).status_code == 404

    headers = {**token_for(landes), "Idempotency-Key": uuid.uuid4().hex}
    ins = nir(f"2420240192{random.randint(500, 999)}")
    declared = client.post(
        f"/t/{SLUG}/api/v1/events",
        json=discharge(ins=ins, family_name="Effacée", given_names="Test", birth_date="1942-02-01"),
        headers=headers,
    )
    assert declared.status_code == 201, declared.text
    csrf = sign_in(browser, "medecin.landes")
    person = find(browser, csrf, "Effacée", "1942-02-01")
    aio.run(erase_person(runtime, landes.id, uuid.UUID(person), reason="test", by=AuditActor.system()))
    gone = browser.get(file_url(person))
    assert gone.status_code == 410
    assert "Dossier effacé" in gone.text
    assert "no-store" in gone.headers["cache-control"]
