"""Documents of a person's file: PDF or images, size-limited, type-checked, stored encrypted.

The type is read from the file's first bytes, never trusted from the name or the browser.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from core.access.policy import Actor as SessionActor
from core.audit.trail import Outcome, Record, append
from core.consent.access import audit_actor, require
from core.consent.model import Action, DataCategory, Purpose
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import FieldError, InvalidInput, NotFound
from core.records.file import DOCUMENT_CONTENT_FIELD, DOCUMENT_TITLE_FIELD
from core.runtime import Runtime

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def sniff_media_type(content: bytes) -> str | None:
    """``application/pdf``, ``image/png`` or ``image/jpeg`` from the magic bytes; None otherwise."""
    for signature, media_type in SIGNATURES:
        if content.startswith(signature):
            return media_type
    return None


@dataclass(frozen=True)
class DocumentContent:
    title: str
    media_type: str
    content: bytes


async def add_document(
    runtime: Runtime,
    actor: SessionActor,
    person_id: uuid.UUID,
    title: str,
    content: bytes,
    purpose: Purpose,
    *,
    proposal_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Store an encrypted PDF or image in the person's file (attached to ``proposal_id`` if given)."""
    errors = []
    title = title.strip()
    if not title or len(title) > 200:
        errors.append(FieldError("title", "titre du document requis (200 caractères au plus)"))
    media_type = sniff_media_type(content)
    if not content:
        errors.append(FieldError("file", "fichier vide ou absent"))
    elif len(content) > MAX_DOCUMENT_BYTES:
        errors.append(FieldError("file", "fichier trop volumineux (5 Mo au plus)"))
    elif media_type is None:
        errors.append(FieldError("file", "seuls les PDF, PNG et JPEG sont acceptés"))
    if errors or media_type is None:
        raise InvalidInput("document refusé", errors)
    await require(runtime, actor, person_id, DataCategory.DOCUMENTS, Action.WRITE, purpose, access="document")
    assert actor.tenant_id is not None
    document_id = uuid.uuid4()
    async with tenant_scope(actor.tenant_id):
        cipher = await runtime.vault.person_cipher(person_id)
        await scoped_connection().execute(
            "INSERT INTO person_document (id, tenant_id, person_id, title_ciphertext, media_type, "
            "size_bytes, content_ciphertext, uploaded_by_user_id, organisation_id, created_at, proposal_id) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            document_id,
            actor.tenant_id,
            person_id,
            cipher.encrypt(DOCUMENT_TITLE_FIELD, title),
            media_type,
            len(content),
            cipher.encrypt(DOCUMENT_CONTENT_FIELD, content),
            actor.user_id,
            actor.organisation_id,
            runtime.clock(),
            proposal_id,
        )
        await append(
            Record(
                audit_actor(actor),
                "document.added",
                Outcome.SUCCESS,
                "person",
                str(person_id),
                {"document_id": str(document_id), "media_type": media_type, "size": str(len(content))},
            )
        )
    return document_id


async def read_document(
    runtime: Runtime, actor: SessionActor, person_id: uuid.UUID, document_id: uuid.UUID, purpose: Purpose
) -> DocumentContent:
    await require(runtime, actor, person_id, DataCategory.DOCUMENTS, Action.READ, purpose, access="document")
    assert actor.tenant_id is not None
    async with tenant_scope(actor.tenant_id):
        row = await scoped_connection().fetchrow(
            "SELECT title_ciphertext, media_type, content_ciphertext FROM person_document "
            "WHERE id = $1 AND person_id = $2 AND content_ciphertext IS NOT NULL",
            document_id,
            person_id,
        )
        if row is None:
            raise NotFound("document introuvable")
        cipher = await runtime.vault.person_cipher(person_id)
        return DocumentContent(
            cipher.decrypt_text(DOCUMENT_TITLE_FIELD, bytes(row["title_ciphertext"])),
            row["media_type"],
            cipher.decrypt(DOCUMENT_CONTENT_FIELD, bytes(row["content_ciphertext"])),
        )
