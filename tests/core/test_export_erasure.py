"""Exporting a person's file (RGPD art. 15 and 20) and erasing it by crypto-shredding (art. 17).

Everything runs against the real database: the export goes through the decision point (one audit
entry per category, plus ``person.exported``), and erasure is checked in SQL as the owner — no
identity left on the row, no data key, ciphertexts that no runtime can decrypt — then through every
reading path, which must answer ``Gone``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import subprocess
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from core.access.policy import Actor
from core.audit.trail import Actor as AuditActor
from core.audit.trail import verify
from core.consent.access import AccessRequest, check_all
from core.consent.care_team import add_member
from core.consent.model import DataCategory, Purpose, Recipient
from core.consent.service import ConsentInput, list_consents, record_consent, request_consent
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Forbidden, Gone, InvalidInput, NotFound
from core.identity.accounts import upsert_account
from core.identity.nir import Nir
from core.identity.people import PersonIdentity, grant_carer, upsert_person
from core.identity.roles import Role
from core.records.access_log import access_log
from core.records.documents import add_document
from core.records.erasure import MAX_REASON_LENGTH, erase_person
from core.records.export import EXPORT_VERSION, export_file, export_file_for_operator
from core.records.export_pdf import render_pdf
from core.records.file import NOTE_FIELD, read_file
from core.records.notes import add_note, import_note
from core.runtime import build_runtime
from core.vault.service import KeyErased
from tests.factories import nir
from tests.support.processes import PARCOURS, ROOT, command_env

MEDICAL_NOTE = "Insuffisance cardiaque stable ; œdème des chevilles surveillé, « peser » chaque lundi."
SOCIAL_NOTE = "Vit seule à l'étage ; aide ménagère 12 € de l'heure après l'APA."
FAMILY_NAME = "Darrigrand"
_serial = itertools.count(1)


@dataclass
class File:
    """A territory with one person's file: care team, carer, notes, a document, consents, a request."""

    tenant: Any
    person_id: uuid.UUID
    carer_id: uuid.UUID
    ins: str
    person: Actor
    carer: Actor
    gp: Actor


def _account(aio: Any, name: str) -> uuid.UUID:
    return aio.run(upsert_account("https://idp.test", f"{name}-{uuid.uuid4().hex[:8]}", None, name)).id


def new_person(aio: Any, runtime: Any, tenant: Any, given_names: str, family_name: str = FAMILY_NAME) -> Any:
    """A person of ``tenant``; returns (id, INS)."""
    number = nir(f"2{next(_serial) % 100:02d}0240192{uuid.uuid4().int % 999 + 1:03d}")
    identity = PersonIdentity(Nir.parse(number), family_name, given_names, dt.date(1942, 2, 14), "40192")

    async def create() -> uuid.UUID:
        async with tenant_scope(tenant.id):
            return await upsert_person(identity, runtime.keyring, runtime.vault)

    return aio.run(create()), number


def build_file(aio: Any, runtime: Any, tenant: Any) -> File:
    person_id, ins = new_person(aio, runtime, tenant, "Marthe")
    carer_id, _ = new_person(aio, runtime, tenant, "Odile")
    aio.run(grant_carer(tenant.id, person_id, carer_id, "fille", "person"))

    def actor(role: Role, person: uuid.UUID | None = None) -> Actor:
        return Actor(_account(aio, role.value), False, tenant.id, role, None, None, person)

    person, carer, gp = actor(Role.PERSON, person_id), actor(Role.CARER, carer_id), actor(Role.PROFESSIONAL)

    async def seed() -> None:
        async with tenant_scope(tenant.id):
            await add_member(
                person_id,
                role=Role.PROFESSIONAL,
                function="médecin traitant",
                by=AuditActor.system(),
                user_id=gp.user_id,
            )
            await import_note(
                runtime,
                person_id,
                DataCategory.SOCIAL,
                SOCIAL_NOTE,
                author_label="CCAS",
                organisation_id=None,
                by=AuditActor.system(),
            )
            await scoped_connection().execute(
                "INSERT INTO event (id, tenant_id, person_id, type, occurred_at, details, status, "
                "idempotency_key, request_digest, declared_by, created_at) VALUES ($1, $2, $3, "
                "'hospital_discharge', now(), $6, 'received', $4, $5, 'test', now())",
                uuid.uuid4(),
                tenant.id,
                person_id,
                uuid.uuid4().hex,
                "0" * 64,
                json.dumps({"ward": "Cardiologie"}),
            )

    aio.run(seed())
    aio.run(add_note(runtime, gp, person_id, "medical", MEDICAL_NOTE, Purpose.CARE_COORDINATION))
    aio.run(
        add_document(
            runtime,
            person,
            person_id,
            "Compte rendu d'hospitalisation",
            b"%PDF-1.4 secret",
            Purpose.CARE_COORDINATION,
        )
    )
    aio.run(
        record_consent(
            runtime,
            person,
            person_id,
            ConsentInput(Recipient.role(Role.SOCIAL_WORKER), ("read",), ("social",), ("care_coordination",)),
        )
    )
    aio.run(
        request_consent(
            runtime,
            gp,
            person_id,
            actions=["read"],
            categories=["documents"],
            purposes=["care_coordination"],
            message="Pour lire le compte rendu de l'hôpital.",
        )
    )
    return File(tenant, person_id, carer_id, ins, person, carer, gp)


@pytest.fixture
def file(aio: Any, runtime: Any, tenant: Any) -> File:
    return build_file(aio, runtime, tenant)


def audit_actions(
    sql_owner: Any, tenant_id: uuid.UUID, person_id: uuid.UUID, action: str
) -> list[dict[str, Any]]:
    rows = sql_owner.execute(
        "SELECT detail FROM audit_entry WHERE tenant_id = %s AND target_id = %s AND action = %s ORDER BY seq",
        (tenant_id, str(person_id), action),
    ).fetchall()
    return [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in rows]


def pdf_text(data: bytes) -> str:
    """The text an uncompressed reportlab PDF shows: its literal strings, decoded from WinAnsi."""
    escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

    def unescape(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        if code[:1].isdigit():
            return bytes([int(code, 8)])
        return escapes.get(code, code)

    strings = re.findall(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj", data)
    return "\n".join(re.sub(rb"\\([0-7]{1,3}|.)", unescape, s).decode("cp1252") for s in strings)


# ---------------------------------------------------------------- export


def test_the_person_exports_her_whole_file_once_audited(aio, runtime, file, sql_owner):
    before = len(audit_actions(sql_owner, file.tenant.id, file.person_id, "person.exported"))

    document = aio.run(export_file(runtime, file.person, file.person_id))

    assert document["version"] == EXPORT_VERSION and document["format"] == "parcours.dossier"
    assert dt.datetime.fromisoformat(document["generated_at"]).tzinfo is not None
    assert document["refused"] == []
    assert document["identity"]["family_name"] == FAMILY_NAME and document["identity"]["ins"] == file.ins
    assert document["identity"]["birth_date"] == "1942-02-14"
    assert [n["body"] for n in document["medical_notes"]] == [MEDICAL_NOTE]
    assert [n["body"] for n in document["social_notes"]] == [SOCIAL_NOTE]
    assert [m["function"] for m in document["care_team"]] == ["médecin traitant"]
    assert [c["relationship"] for c in document["carers"]] == ["fille"]
    assert document["events"][0]["label"] == "Sortie d'hospitalisation"
    assert document["situation"] == {"lives_alone": None}
    (attached,) = document["documents"]
    assert attached["title"] == "Compte rendu d'hospitalisation" and attached["size_bytes"] == 15
    assert "content" not in attached and "secret" not in json.dumps(document)
    (consent,) = document["consents"]
    assert consent["recorded_by"] == "person" and consent["in_force"] and consent["revoked_at"] is None
    assert consent["recorded_at"] and consent["categories"] == ["social"]
    assert any("a ajouté une note" in line["what"] for line in document["access_log"])
    json.dumps(document)  # plain JSON values only

    exported = audit_actions(sql_owner, file.tenant.id, file.person_id, "person.exported")
    assert len(exported) == before + 1
    assert exported[-1]["format"] == "json" and exported[-1]["channel"] == "portal"
    assert FAMILY_NAME not in json.dumps(exported[-1])
    reads = audit_actions(sql_owner, file.tenant.id, file.person_id, "person.read")
    assert sorted(r["category"] for r in reads if r["access"] == "export") == sorted(
        c.value for c in DataCategory
    )

    aio.run(export_file(runtime, file.person, file.person_id, fmt="pdf"))
    assert len(audit_actions(sql_owner, file.tenant.id, file.person_id, "person.exported")) == before + 2


def test_a_carer_gets_only_what_the_decision_point_allows(aio, runtime, file):
    document = aio.run(export_file(runtime, file.carer, file.person_id))

    assert document["requested_by"] == "carer_with_delegation"
    assert "medical_notes" not in document and "documents" not in document
    assert MEDICAL_NOTE not in json.dumps(document, ensure_ascii=False)
    refused = {item["category"]: item for item in document["refused"]}
    assert set(refused) == {"medical", "documents"}
    assert refused["medical"]["reason"] and refused["medical"]["sections"] == ["medical_notes"]
    assert not document["decisions"]["medical"]["allowed"]
    assert document["identity"]["family_name"] == FAMILY_NAME
    assert [n["body"] for n in document["social_notes"]] == [SOCIAL_NOTE]
    assert len(document["consents"]) == 1


def test_nobody_else_exports(aio, runtime, file):
    with pytest.raises(Forbidden):
        aio.run(export_file(runtime, file.gp, file.person_id))
    stranger = Actor(file.carer.user_id, False, file.tenant.id, Role.PERSON, None, None, file.carer_id)
    with pytest.raises(Forbidden):
        aio.run(export_file(runtime, stranger, file.person_id))
    with pytest.raises(NotFound):
        aio.run(export_file(runtime, file.person, uuid.uuid4()))


def test_the_pdf_summary_shows_the_file_with_french_characters(aio, runtime, file):
    document = aio.run(export_file(runtime, file.person, file.person_id))

    plain = render_pdf(document, compress=False)
    compressed = render_pdf(document)

    assert plain.startswith(b"%PDF-") and compressed.startswith(b"%PDF-")
    text = pdf_text(plain)
    assert "Mon dossier Parcours" in text
    assert f"Marthe {FAMILY_NAME}" in text
    assert "« peser »" in text and "œdème" in text and "12 €" in text
    assert "Consentements" in text and "Journal des accès" in text
    assert re.search(r"page 1 sur [1-9]", text)
    assert FAMILY_NAME.encode() not in compressed  # the default output is compressed


def test_the_operator_exports_the_whole_file(aio, runtime, file, sql_owner):
    operator = AuditActor("operator", "cli:test")
    document = aio.run(export_file_for_operator(runtime, file.tenant.id, file.person_id, by=operator))
    assert [n["body"] for n in document["medical_notes"]] == [MEDICAL_NOTE]
    assert document["requested_by"] == "operator" and document["refused"] == []
    assert len(document["consents"]) == 1
    (entry,) = audit_actions(sql_owner, file.tenant.id, file.person_id, "person.exported")
    assert entry["channel"] == "operator"


# ---------------------------------------------------------------- erasure


def test_erasure_shreds_the_file_and_keeps_a_verifiable_trail(aio, runtime, settings, file, sql_owner):
    ciphertext = sql_owner.execute(
        "SELECT body_ciphertext FROM person_note WHERE person_id = %s AND category = 'medical'",
        (file.person_id,),
    ).fetchone()[0]

    report = aio.run(
        erase_person(
            runtime,
            file.tenant.id,
            file.person_id,
            reason="demande écrite n° 2026-41",
            by=AuditActor.system(),
        )
    )

    assert report.key_destroyed and report.notes_shredded == 2 and report.documents_removed == 1
    assert report.consents_revoked == 1 and report.carer_links_ended == 1 and report.care_team_ended == 1
    assert report.requests_withdrawn == 1 and report.events_cleared == 1
    row = sql_owner.execute(
        "SELECT ins_digest, ins_ciphertext, birth_date, family_name, given_names, commune_insee, phone, "
        "email, address, erased_at FROM person WHERE id = %s",
        (file.person_id,),
    ).fetchone()
    assert row[:9] == (None, None, None, "", "", "", None, None, None) and row[9] is not None
    assert sql_owner.execute(
        "SELECT count(*) FROM person_key WHERE person_id = %s", (file.person_id,)
    ).fetchone() == (0,)
    # The notes' ciphertexts are still there, and no runtime can read them any more.
    stored = sql_owner.execute(
        "SELECT body_ciphertext FROM person_note WHERE person_id = %s AND category = 'medical'",
        (file.person_id,),
    ).fetchone()[0]
    assert bytes(stored) == bytes(ciphertext)
    fresh = build_runtime(settings)  # no key cached anywhere

    async def decrypt(which: Any) -> str:
        async with tenant_scope(file.tenant.id):
            cipher = await which.vault.person_cipher(file.person_id)
            return cipher.decrypt_text(NOTE_FIELD, bytes(stored))

    for which in (runtime, fresh):
        with pytest.raises(KeyErased):
            aio.run(decrypt(which))
    assert sql_owner.execute(
        "SELECT count(*) FROM person_document WHERE person_id = %s AND content_ciphertext IS NOT NULL",
        (file.person_id,),
    ).fetchone() == (0,)
    assert sql_owner.execute(
        "SELECT count(*) FROM consent WHERE person_id = %s AND revoked_at IS NULL", (file.person_id,)
    ).fetchone() == (0,)
    assert sql_owner.execute(
        "SELECT count(*) FROM carer_link WHERE person_id = %s AND revoked_at IS NULL", (file.person_id,)
    ).fetchone() == (0,)
    assert sql_owner.execute(
        "SELECT count(*) FROM care_team_member WHERE person_id = %s AND until IS NULL", (file.person_id,)
    ).fetchone() == (0,)
    assert sql_owner.execute(
        "SELECT array_agg(DISTINCT status) FROM consent_request WHERE person_id = %s", (file.person_id,)
    ).fetchone() == (["withdrawn"],)
    assert sql_owner.execute(
        "SELECT array_agg(DISTINCT details::text) FROM event WHERE person_id = %s", (file.person_id,)
    ).fetchone() == (["{}"],)

    # The trail: kept whole, verifiable, with a tombstone and no personal data.
    verification = aio.run(verify(file.tenant.id))
    assert verification.intact
    (tombstone,) = audit_actions(sql_owner, file.tenant.id, file.person_id, "person.erased")
    assert tombstone["reason"] == "demande écrite n° 2026-41"
    assert tombstone["counts"]["notes_shredded"] == 2
    trail = json.dumps(
        sql_owner.execute(
            "SELECT array_agg(detail::text) FROM audit_entry WHERE tenant_id = %s", (file.tenant.id,)
        ).fetchone()[0],
        ensure_ascii=False,
    )
    for personal in (FAMILY_NAME, "Marthe", file.ins, "1942-02-14", "Insuffisance", "Cardiologie"):
        assert personal not in trail


def test_after_erasure_every_reading_path_is_gone(aio, runtime, file):
    aio.run(erase_person(runtime, file.tenant.id, file.person_id, reason="art. 17", by=AuditActor.system()))

    attempts = [
        check_all(
            runtime, file.gp, file.person_id, [AccessRequest(DataCategory.MEDICAL)], Purpose.CARE_COORDINATION
        ),
        read_file(runtime, file.gp, file.person_id, Purpose.CARE_COORDINATION),
        read_file(runtime, file.person, file.person_id, Purpose.CARE_COORDINATION),
        export_file(runtime, file.person, file.person_id),
        export_file(runtime, file.carer, file.person_id),
        export_file_for_operator(runtime, file.tenant.id, file.person_id, by=AuditActor.system()),
        access_log(runtime, file.person, file.person_id),
        list_consents(runtime, file.person, file.person_id),
        add_note(runtime, file.gp, file.person_id, "medical", "encore une note", Purpose.CARE_COORDINATION),
    ]
    for attempt in attempts:
        with pytest.raises(Gone) as gone:
            aio.run(attempt)
        assert gone.value.status == 410

    with pytest.raises(Gone):
        aio.run(
            erase_person(runtime, file.tenant.id, file.person_id, reason="encore", by=AuditActor.system())
        )
    with pytest.raises(NotFound):
        aio.run(
            erase_person(runtime, file.tenant.id, uuid.uuid4(), reason="inconnue", by=AuditActor.system())
        )


def test_erasure_requires_a_reason_and_cuts_it(aio, runtime, tenant, sql_owner):
    person_id, _ = new_person(aio, runtime, tenant, "Paule")
    with pytest.raises(InvalidInput):
        aio.run(erase_person(runtime, tenant.id, person_id, reason="   ", by=AuditActor.system()))
    assert sql_owner.execute("SELECT erased_at FROM person WHERE id = %s", (person_id,)).fetchone() == (None,)
    aio.run(erase_person(runtime, tenant.id, person_id, reason="x" * 500, by=AuditActor.system()))
    (tombstone,) = audit_actions(sql_owner, tenant.id, person_id, "person.erased")
    assert tombstone["reason"] == "x" * MAX_REASON_LENGTH


def test_erasing_a_carer_ends_her_links_to_the_people_she_cares_for(aio, runtime, file, sql_owner):
    aio.run(erase_person(runtime, file.tenant.id, file.carer_id, reason="art. 17", by=AuditActor.system()))
    assert sql_owner.execute(
        "SELECT count(*) FROM carer_link WHERE carer_id = %s AND revoked_at IS NULL", (file.carer_id,)
    ).fetchone() == (0,)
    # The person she cared for keeps her file.
    assert aio.run(export_file(runtime, file.person, file.person_id))["carers"] == []


# ---------------------------------------------------------------- the command line


def run_cli(settings: Any, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PARCOURS, *args],
        env=command_env(settings, COLUMNS="160"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_cli_exports_then_erases_a_person(aio, runtime, settings, make_tenant, sql_owner, tmp_path):
    tenant = make_tenant()
    person_id, ins = new_person(aio, runtime, tenant, "Germaine", "Lesbats")
    target = tmp_path / "copie.json"

    exported = run_cli(
        settings,
        "person",
        "export",
        "--tenant",
        tenant.slug,
        "--person",
        str(person_id),
        "--output",
        str(target),
    )
    assert exported.returncode == 0, exported.stdout + exported.stderr
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["identity"]["family_name"] == "Lesbats" and document["identity"]["ins"] == ins
    assert target.stat().st_mode & 0o077 == 0
    pdf = tmp_path / "copie.pdf"
    as_pdf = run_cli(
        settings,
        "person",
        "export",
        "--tenant",
        tenant.slug,
        "--person",
        str(person_id),
        "--format",
        "pdf",
        "--output",
        str(pdf),
    )
    assert as_pdf.returncode == 0, as_pdf.stderr
    assert pdf.read_bytes().startswith(b"%PDF-")

    declined = run_cli(
        settings,
        "person",
        "erase",
        "--tenant",
        tenant.slug,
        "--person",
        str(person_id),
        "--reason",
        "ticket 42",
        input="n\n",
    )
    assert declined.returncode == 1
    assert "rien n'a été modifié" in declined.stderr
    assert sql_owner.execute("SELECT erased_at FROM person WHERE id = %s", (person_id,)).fetchone() == (None,)

    erased = run_cli(
        settings,
        "person",
        "erase",
        "--tenant",
        tenant.slug,
        "--person",
        str(person_id),
        "--reason",
        "ticket 42",
        "--yes",
    )
    assert erased.returncode == 0, erased.stdout + erased.stderr
    assert "Dossier effacé" in erased.stdout
    row = sql_owner.execute(
        "SELECT family_name, ins_digest, birth_date, erased_at FROM person WHERE id = %s", (person_id,)
    ).fetchone()
    assert row[:3] == ("", None, None) and row[3] is not None
    assert aio.run(verify(tenant.id)).intact
    (tombstone,) = audit_actions(sql_owner, tenant.id, person_id, "person.erased")
    assert tombstone["reason"] == "ticket 42"

    again = run_cli(
        settings,
        "person",
        "erase",
        "--tenant",
        tenant.slug,
        "--person",
        str(person_id),
        "--reason",
        "x",
        "--yes",
    )
    assert again.returncode == 1 and "a été effacé" in again.stderr
    gone = run_cli(settings, "person", "export", "--tenant", tenant.slug, "--person", str(person_id))
    assert gone.returncode == 1 and "effacé" in gone.stderr
    unknown = run_cli(
        settings,
        "person",
        "erase",
        "--tenant",
        tenant.slug,
        "--person",
        str(uuid.uuid4()),
        "--reason",
        "x",
        "--yes",
    )
    assert unknown.returncode == 1 and "personne inconnue" in unknown.stderr
    nowhere = run_cli(
        settings,
        "person",
        "erase",
        "--tenant",
        "nulle-part",
        "--person",
        str(person_id),
        "--reason",
        "x",
        "--yes",
    )
    assert nowhere.returncode == 1 and "aucun territoire 'nulle-part'" in nowhere.stderr
    malformed = run_cli(settings, "person", "export", "--tenant", tenant.slug, "--person", "pas-un-uuid")
    assert malformed.returncode == 1 and "UUID attendu" in malformed.stderr
