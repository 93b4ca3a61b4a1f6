"""The acceptance story of consent, through HTTP only: the CCAS social worker of the demo territory
cannot read Jeanne Lafitte's medical notes until Jeanne grants it in her portal, can right after,
and cannot again once Jeanne revokes it; Jeanne's access log tells her each of these reads."""

from __future__ import annotations

import re

from tests.web.conftest import sign_in

SLUG = "landes"
MEDICAL_NOTE = "Insuffisance cardiaque stable sous traitement"
HTMX = {"HX-Request": "true"}


def medical_section(browser, person_id: str) -> str:
    page = browser.get(f"/t/{SLUG}/personnes/{person_id}?finalite=care_coordination")
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    found = re.search(r'<section id="section-medical".*?</section>', page.text, re.S)
    assert found, page.text
    return found.group(0)


def switch_medical_for_the_ccas(browser, csrf: str, jeanne: str, ccas: str, on: bool) -> None:
    answer = browser.post(
        f"/t/{SLUG}/mon-dossier/consentements",
        data={
            "_csrf": csrf,
            "personne": jeanne,
            "organisation_id": ccas,
            "category": "medical",
            "purpose": "care_coordination",
            "allowed": "1" if on else "0",
        },
        headers=HTMX,
    )
    assert answer.status_code == 200, answer.text


def test_the_ccas_reads_medical_notes_exactly_while_jeanne_consents(browser, landes, sql_owner):
    jeanne = str(
        sql_owner.execute(
            "SELECT person_id FROM membership WHERE tenant_id = %s AND invited_email = %s",
            (landes.id, "jeanne.lafitte@demo.parcours.test"),
        ).fetchone()[0]
    )
    ccas = str(
        sql_owner.execute(
            "SELECT id FROM organisation WHERE tenant_id = %s AND kind = 'ccas'", (landes.id,)
        ).fetchone()[0]
    )
    emergency = sql_owner.execute(
        "SELECT count(*) FROM break_glass b JOIN user_account u ON u.id = b.user_account_id "
        "WHERE b.person_id = %s AND u.email = 'assistante-sociale.landes@demo.parcours.test' "
        "AND b.declared_at > now() - interval '1 hour'",
        (jeanne,),
    ).fetchone()[0]
    assert emergency == 0, "an emergency access of the social worker to Jeanne's file is still running"

    # 1. Before any consent: refused, with the reason, and the note is not in the page.
    sign_in(browser, "assistante-sociale.landes")
    refused = medical_section(browser, jeanne)
    assert MEDICAL_NOTE not in refused
    assert "Accès refusé" in refused and "ne couvre : lecture des données médicales" in refused

    # 2. Jeanne grants it in her portal.
    csrf = sign_in(browser, "jeanne.lafitte")
    switch_medical_for_the_ccas(browser, csrf, jeanne, ccas, on=True)

    # 3. Right after: the social worker reads the note.
    sign_in(browser, "assistante-sociale.landes")
    assert MEDICAL_NOTE in medical_section(browser, jeanne)

    # 4. Jeanne revokes it; the very next request is refused.
    csrf = sign_in(browser, "jeanne.lafitte")
    switch_medical_for_the_ccas(browser, csrf, jeanne, ccas, on=False)
    sign_in(browser, "assistante-sociale.landes")
    again = medical_section(browser, jeanne)
    assert MEDICAL_NOTE not in again and "Accès refusé" in again

    # 5. Jeanne's log tells her the three attempts, in order, newest first.
    sign_in(browser, "jeanne.lafitte")
    journal = browser.get(f"/t/{SLUG}/mon-dossier/journal").text
    lines = [
        line
        for line in re.findall(r"<li[^>]*>(.*?)</li>", journal, re.S)
        if "Sandrine Castaing" in line and "données médicales" in line
    ]
    assert len(lines) >= 3, journal
    assert "refusé" in lines[0] and "refusé" not in lines[1] and "refusé" in lines[2]
    assert "CCAS de Mont-de-Marsan" in lines[1] and "coordination des soins" in lines[1]
