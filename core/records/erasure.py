"""Erasing a person's file (RGPD art. 17) by crypto-shredding, in one tenant-scope transaction.

What erasure does:

- destroys the person's data key (``vault.shred_person_key``): every ciphertext encrypted with it
  — the INS, notes, document titles and contents, break-glass justifications — becomes
  unreadable for good, wherever a copy of it lies (backups included);
- blanks the identity on the ``person`` row, which stays because the audit trail names it: INS
  digest and ciphertext, birth date, contact details and living situation NULL, names and commune
  empty, ``erased_at`` set in the same UPDATE (the ``person_identity_check`` constraint allows the
  NULLs only once erased);
- removes the documents' encrypted contents and the events' clear details;
- ends what still acts on the file: consents in force are revoked, carer links (both ways) and
  care-team memberships end, pending consent requests are withdrawn;
- appends one tombstone ``person.erased`` to the audit trail (the reason, cut to
  ``MAX_REASON_LENGTH``, and counts; no personal data). Audit entries are never deleted, so the
  chain still verifies.

Afterwards every access through ``core.consent.access`` raises ``Gone`` (410).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict, dataclass, replace

from core.audit.trail import Actor as AuditActor
from core.audit.trail import Outcome, Record, append
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import FieldError, Gone, InvalidInput, NotFound
from core.runtime import Runtime

MAX_REASON_LENGTH = 200
"""The tombstone keeps the reason short: a ticket number or « demande écrite du 3 décembre »."""


@dataclass(frozen=True)
class ErasureReport:
    """What one erasure did; the counts are also in the tombstone."""

    person_id: uuid.UUID
    erased_at: dt.datetime
    key_destroyed: bool
    """False when the person never had a data key (nothing was ever encrypted for them)."""
    notes_shredded: int
    """Notes whose ciphertext stays, unreadable without the key."""
    documents_removed: int
    consents_revoked: int
    carer_links_ended: int
    care_team_ended: int
    requests_withdrawn: int
    events_cleared: int
    audit_seq: int
    """Sequence number of the tombstone in the tenant's audit trail."""

    def counts(self) -> dict[str, int]:
        return {
            key: value
            for key, value in asdict(self).items()
            if isinstance(value, int) and not isinstance(value, bool) and key != "audit_seq"
        }


def _reason(reason: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise InvalidInput(
            "motif requis", [FieldError("reason", "indiquez le motif (référence de la demande)")]
        )
    return text[:MAX_REASON_LENGTH]


def _count(status: str) -> int:
    """Rows touched, from asyncpg's command tag (« UPDATE 3 »)."""
    return int(status.rsplit(" ", 1)[-1])


async def erase_person(
    runtime: Runtime, tenant_id: uuid.UUID, person_id: uuid.UUID, *, reason: str, by: AuditActor
) -> ErasureReport:
    """Erase ``person_id``'s file in ``tenant_id``; ``NotFound`` if unknown, ``Gone`` if already erased.

    ``reason`` must not carry personal data: it goes into the audit trail, which is never erased.
    """
    motive = _reason(reason)
    at = runtime.clock()
    by_user = _user_id(by)
    async with tenant_scope(tenant_id):
        connection = scoped_connection()
        row = await connection.fetchrow("SELECT erased_at FROM person WHERE id = $1 FOR UPDATE", person_id)
        if row is None:
            raise NotFound("personne inconnue dans ce territoire")
        if row["erased_at"] is not None:
            raise Gone("le dossier de cette personne a déjà été effacé")

        key_destroyed = await runtime.vault.shred_person_key(person_id)
        await connection.execute(
            "UPDATE person SET ins_digest = NULL, ins_ciphertext = NULL, birth_date = NULL, phone = NULL, "
            "email = NULL, address = NULL, lives_alone = NULL, family_name = '', given_names = '', "
            "commune_insee = '', erased_at = $2, updated_at = $2 WHERE id = $1",
            person_id,
            at,
        )
        notes = await connection.fetchval("SELECT count(*) FROM person_note WHERE person_id = $1", person_id)
        documents = await connection.execute(
            "UPDATE person_document SET content_ciphertext = NULL "
            "WHERE person_id = $1 AND content_ciphertext IS NOT NULL",
            person_id,
        )
        events = await connection.execute(
            "UPDATE event SET details = '{}'::jsonb WHERE person_id = $1 AND details <> '{}'::jsonb",
            person_id,
        )
        consents = await connection.execute(
            "UPDATE consent SET revoked_at = greatest($2, recorded_at), revoked_by_user_id = $3 "
            "WHERE person_id = $1 AND revoked_at IS NULL AND (valid_until IS NULL OR valid_until > $2)",
            person_id,
            at,
            by_user,
        )
        links = await connection.execute(
            "UPDATE carer_link SET revoked_at = greatest($2, granted_at) "
            "WHERE (person_id = $1 OR carer_id = $1) AND revoked_at IS NULL",
            person_id,
            at,
        )
        team = await connection.execute(
            "UPDATE care_team_member SET until = greatest($2, since + interval '1 microsecond') "
            "WHERE person_id = $1 AND (until IS NULL OR until > $2)",
            person_id,
            at,
        )
        requests = await connection.execute(
            "UPDATE consent_request SET status = 'withdrawn' WHERE person_id = $1 AND status = 'pending'",
            person_id,
        )
        report = ErasureReport(
            person_id=person_id,
            erased_at=at,
            key_destroyed=key_destroyed,
            notes_shredded=int(notes),
            documents_removed=_count(documents),
            consents_revoked=_count(consents),
            carer_links_ended=_count(links),
            care_team_ended=_count(team),
            requests_withdrawn=_count(requests),
            events_cleared=_count(events),
            audit_seq=0,
        )
        seq = await append(
            Record(
                by,
                "person.erased",
                Outcome.SUCCESS,
                "person",
                str(person_id),
                {"reason": motive, "key_destroyed": key_destroyed, "counts": report.counts()},
            )
        )
    return replace(report, audit_seq=seq)


def _user_id(by: AuditActor) -> uuid.UUID | None:
    """The account that revokes the consents, when a signed-in user erases (None for the CLI)."""
    if by.kind != "user":
        return None
    try:
        return uuid.UUID(by.id)
    except ValueError:
        return None
