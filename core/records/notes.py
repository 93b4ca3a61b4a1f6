"""Writing a social or medical note in a person's file (encrypted with the person's data key)."""

from __future__ import annotations

import uuid

from core.access.policy import Actor as SessionActor
from core.audit.trail import Actor as AuditActor
from core.audit.trail import Outcome, Record, append
from core.consent.access import audit_actor, require
from core.consent.model import Action, DataCategory, Purpose
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import FieldError, InvalidInput
from core.records.file import NOTE_FIELD
from core.runtime import Runtime

NOTE_CATEGORIES = (DataCategory.SOCIAL, DataCategory.MEDICAL)
MAX_NOTE_LENGTH = 5000


async def add_note(
    runtime: Runtime,
    actor: SessionActor,
    person_id: uuid.UUID,
    category: str,
    body: str,
    purpose: Purpose,
) -> uuid.UUID:
    """Add a note if the decision point allows writing ``category``; never stored in clear."""
    errors = []
    try:
        parsed = DataCategory(category)
    except ValueError:
        parsed = None
    if parsed not in NOTE_CATEGORIES:
        errors.append(FieldError("category", "une note est sociale ou médicale"))
    text = body.strip()
    if not text or len(text) > MAX_NOTE_LENGTH:
        errors.append(FieldError("body", f"texte de la note requis ({MAX_NOTE_LENGTH} caractères au plus)"))
    if errors or parsed is None:
        raise InvalidInput("note invalide", errors)
    await require(runtime, actor, person_id, parsed, Action.WRITE, purpose, access="note")
    assert actor.tenant_id is not None
    note_id = uuid.uuid4()
    async with tenant_scope(actor.tenant_id):
        cipher = await runtime.vault.person_cipher(person_id)
        await scoped_connection().execute(
            "INSERT INTO person_note (id, tenant_id, person_id, category, body_ciphertext, author_user_id, "
            "organisation_id, created_at, author_label) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
            "(SELECT display_name FROM user_account WHERE id = $6) "
            "|| coalesce(', ' || (SELECT name FROM organisation WHERE id = $7), ''))",
            note_id,
            actor.tenant_id,
            person_id,
            parsed.value,
            cipher.encrypt(NOTE_FIELD, text),
            actor.user_id,
            actor.organisation_id,
            runtime.clock(),
        )
        await append(
            Record(
                audit_actor(actor),
                "note.added",
                Outcome.SUCCESS,
                "person",
                str(person_id),
                {"note_id": str(note_id), "category": parsed.value},
            )
        )
    return note_id


async def import_note(
    runtime: Runtime,
    person_id: uuid.UUID,
    category: DataCategory,
    body: str,
    *,
    author_label: str,
    organisation_id: uuid.UUID | None,
    by: AuditActor,
) -> uuid.UUID:
    """A note received from a partner's system (or seeded), in the caller's tenant scope; audited."""
    note_id = uuid.uuid4()
    cipher = await runtime.vault.person_cipher(person_id)
    await scoped_connection().execute(
        "INSERT INTO person_note (id, tenant_id, person_id, category, body_ciphertext, author_label, "
        "organisation_id, created_at) "
        "VALUES ($1, current_setting('app.tenant_id')::uuid, $2, $3, $4, $5, $6, $7)",
        note_id,
        person_id,
        DataCategory(category).value,
        cipher.encrypt(NOTE_FIELD, body.strip()),
        author_label,
        organisation_id,
        runtime.clock(),
    )
    await append(
        Record(by, "note.imported", Outcome.SUCCESS, "person", str(person_id), {"note_id": str(note_id)})
    )
    return note_id
