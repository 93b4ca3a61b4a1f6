"""A copy of a person's file for the person (RGPD art. 15, right of access; art. 20, portability).

``export_file`` serves the portal: the person themselves, or one of their carers. It goes through
``core.records.file.read_file`` with ``access="export"``, so every category is decided by the
decision point and audited like any reading, and a carer gets exactly what the decision point
allows her: a refused category is absent from the copy, listed under ``refused`` with its reason.
The copy also holds every consent (who recorded it, when, its revocation) and the person's access
log; the export itself is then appended to the audit trail as one ``person.exported`` entry.

``export_file_for_operator`` serves ``parcours person export``: the data controller answering a
request made outside the portal (a letter to the DPO). It reads the whole file and records one
``person.exported`` entry naming the operator.

The document is plain JSON values (ISO 8601 dates, UUIDs as strings), versioned by
``EXPORT_VERSION``; ``core.records.export_pdf`` renders the same document as a PDF summary.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from core.access.policy import Actor as SessionActor
from core.audit.trail import Actor as AuditActor
from core.audit.trail import Outcome, Record, append
from core.consent.access import audit_actor, ensure_person
from core.consent.model import (
    CATEGORY_LABELS,
    Basis,
    ConsentKind,
    DataCategory,
    Decision,
    Purpose,
    RecordedBy,
)
from core.consent.service import ConsentView, list_consents, manager_basis
from core.db.scope import tenant_scope
from core.errors import Forbidden
from core.identity.roles import Role
from core.records.access_log import LogLine, access_log
from core.records.file import (
    CarerEntry,
    CareTeamEntry,
    DocumentEntry,
    EventEntry,
    Identity,
    NoteEntry,
    PersonFile,
    load_sections,
    read_file,
)
from core.runtime import Runtime

EXPORT_FORMAT = "parcours.dossier"
EXPORT_VERSION = 1
"""Raised when a field changes meaning or disappears; new fields keep the version."""
EXPORT_PURPOSE = Purpose.CARE_COORDINATION
"""The purpose the export's reads are decided (and logged) for."""
ACCESS_LOG_LIMIT = 100_000
"""The whole log, in practice: a person's file is read a few hundred times a year at most."""
FORMATS = ("json", "pdf")

SECTIONS: dict[DataCategory, tuple[str, ...]] = {
    DataCategory.ADMINISTRATIVE: ("identity", "care_team"),
    DataCategory.SOCIAL: ("situation", "carers", "events", "social_notes"),
    DataCategory.MEDICAL: ("medical_notes",),
    DataCategory.FUNDING: ("funding_requests",),
    DataCategory.DOCUMENTS: ("documents",),
}
"""Which sections of the copy each category opens (as in ``core.records.file``)."""

RECORDED_BY_LABELS: dict[RecordedBy, str] = {
    RecordedBy.PERSON: "la personne",
    RecordedBy.CARER_WITH_DELEGATION: "un aidant reconnu par la personne",
    RecordedBy.PROFESSIONAL_WITH_PROOF: "un professionnel, sur preuve écrite ou orale",
}
KIND_LABELS: dict[ConsentKind, str] = {
    ConsentKind.GRANT: "consentement",
    ConsentKind.OPPOSITION: "opposition au partage avec l'équipe de soins",
}
OPERATOR_REASON = "demande d'accès de la personne traitée par le responsable du traitement (RGPD art. 15)"


# ---------------------------------------------------------------- the portal's export


async def export_file(
    runtime: Runtime, actor: SessionActor, person_id: uuid.UUID, *, fmt: str = "json"
) -> dict[str, Any]:
    """The copy of ``person_id``'s file for the person or one of their carers.

    Raises ``NotFound`` (unknown person), ``Gone`` (erased file) or ``Forbidden`` (anyone but the
    person and their carers). ``fmt`` is only recorded in the audit entry.
    """
    if actor.tenant_id is None or actor.role is None:
        raise Forbidden("aucun rôle dans ce territoire")
    tenant_id = actor.tenant_id
    async with tenant_scope(tenant_id):
        await ensure_person(person_id)
        recorded_as = await manager_basis(actor, person_id, runtime.clock())
    file = await read_file(runtime, actor, person_id, EXPORT_PURPOSE, access="export")
    consents = await list_consents(runtime, actor, person_id)
    log = await access_log(runtime, actor, person_id, limit=ACCESS_LOG_LIMIT)
    document = build_document(
        file, consents, log, generated_at=runtime.clock(), requested_by=recorded_as.value
    )
    async with tenant_scope(tenant_id):
        await append(_exported(audit_actor(actor), person_id, document, fmt, "portal"))
    return document


# ---------------------------------------------------------------- the operator's export (CLI)


async def export_file_for_operator(
    runtime: Runtime, tenant_id: uuid.UUID, person_id: uuid.UUID, *, by: AuditActor, fmt: str = "json"
) -> dict[str, Any]:
    """The whole file, for the data controller answering a request made outside the portal.

    Raises ``NotFound`` or ``Gone``. One ``person.exported`` entry names ``by``.
    """
    at = runtime.clock()
    async with tenant_scope(tenant_id):
        await ensure_person(person_id)
        file = await _whole_file(runtime, person_id)
    # The portal's views of consents and of the log, as the person sees them (nothing is audited:
    # listing consents and reading the log are not reads of the file).
    as_person = SessionActor(
        user_id=uuid.UUID(int=0),
        is_platform_admin=False,
        tenant_id=tenant_id,
        role=Role.PERSON,
        person_id=person_id,
    )
    consents = await list_consents(runtime, as_person, person_id)
    log = await access_log(runtime, as_person, person_id, limit=ACCESS_LOG_LIMIT)
    document = build_document(file, consents, log, generated_at=at, requested_by="operator")
    async with tenant_scope(tenant_id):
        await append(_exported(by, person_id, document, fmt, "operator"))
    return document


async def _whole_file(runtime: Runtime, person_id: uuid.UUID) -> PersonFile:
    """Every section of the file, in the caller's tenant scope (the operator's path only)."""
    decision = Decision(True, OPERATOR_REASON, Basis.OWN_FILE)
    file = PersonFile(person_id, EXPORT_PURPOSE, dict.fromkeys(DataCategory, decision))
    await load_sections(runtime, file)
    return file


def _exported(
    by: AuditActor, person_id: uuid.UUID, document: dict[str, Any], fmt: str, channel: str
) -> Record:
    """The audit entry of one export: which categories left, in which format (no personal data)."""
    return Record(
        by,
        "person.exported",
        Outcome.SUCCESS,
        "person",
        str(person_id),
        {
            "format": fmt,
            "channel": channel,
            "version": str(EXPORT_VERSION),
            "categories": sorted(c for c, d in document["decisions"].items() if d["allowed"]),
            "refused": sorted(item["category"] for item in document["refused"]),
        },
    )


# ---------------------------------------------------------------- the document


def build_document(
    file: PersonFile,
    consents: list[ConsentView],
    log: list[LogLine],
    *,
    generated_at: dt.datetime,
    requested_by: str,
) -> dict[str, Any]:
    """The copy as JSON values. A section the decision point refused is absent; ``refused`` says
    which categories were refused and why."""
    document: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "generated_at": _iso(generated_at),
        "person_id": str(file.person_id),
        "requested_by": requested_by,
        "purpose": file.purpose.value,
        "decisions": {
            category.value: {
                "label": CATEGORY_LABELS[category],
                "allowed": decision.allowed,
                "basis": decision.basis.value,
                "reason": decision.reason,
            }
            for category, decision in file.decisions.items()
        },
        "refused": [
            {
                "category": category.value,
                "label": CATEGORY_LABELS[category],
                "reason": file.decisions[category].reason,
                "sections": list(SECTIONS[category]),
            }
            for category in file.refused
        ],
    }
    if file.identity is not None:
        document["identity"] = _identity(file.identity)
    if file.care_team is not None:
        document["care_team"] = [_care_team_entry(entry) for entry in file.care_team]
    if file.allowed(DataCategory.SOCIAL):
        document["situation"] = {"lives_alone": file.lives_alone}
    if file.carers is not None:
        document["carers"] = [_carer(entry) for entry in file.carers]
    if file.events is not None:
        document["events"] = [_event(entry) for entry in file.events]
    if file.social_notes is not None:
        document["social_notes"] = [_note(entry) for entry in file.social_notes]
    if file.medical_notes is not None:
        document["medical_notes"] = [_note(entry) for entry in file.medical_notes]
    if file.funding_requests is not None:
        document["funding_requests"] = list(file.funding_requests)
    if file.documents is not None:
        document["documents"] = [_document(entry) for entry in file.documents]
    document["consents"] = [_consent(view) for view in consents]
    document["access_log"] = [_log_line(line) for line in log]
    return document


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _identity(identity: Identity) -> dict[str, Any]:
    return {
        "family_name": identity.family_name,
        "given_names": identity.given_names,
        "birth_date": _iso(identity.birth_date),
        "commune_insee": identity.commune_insee,
        "ins": identity.ins,
        "ins_status": identity.ins_status,
        "phone": identity.phone,
        "email": identity.email,
        "address": identity.address,
    }


def _care_team_entry(entry: CareTeamEntry) -> dict[str, Any]:
    return {"name": entry.name, "function": entry.function, "role": entry.role, "since": _iso(entry.since)}


def _carer(entry: CarerEntry) -> dict[str, Any]:
    return {"name": entry.name, "relationship": entry.relationship, "since": _iso(entry.since)}


def _event(entry: EventEntry) -> dict[str, Any]:
    return {
        "id": str(entry.id),
        "label": entry.label,
        "occurred_at": _iso(entry.occurred_at),
        "proposals": [
            {
                "title": proposal.title,
                "assignee": proposal.assignee,
                "due_at": _iso(proposal.due_at),
                "status": proposal.status,
            }
            for proposal in entry.proposals
        ],
    }


def _note(entry: NoteEntry) -> dict[str, Any]:
    return {
        "id": str(entry.id),
        "category": entry.category.value,
        "body": entry.body,
        "author": entry.author,
        "organisation": entry.organisation,
        "created_at": _iso(entry.created_at),
    }


def _document(entry: DocumentEntry) -> dict[str, Any]:
    """Metadata only: the content stays in the file (downloadable one by one from the portal)."""
    return {
        "id": str(entry.id),
        "title": entry.title,
        "media_type": entry.media_type,
        "size_bytes": entry.size_bytes,
        "uploaded_by": entry.uploaded_by,
        "created_at": _iso(entry.created_at),
    }


def _consent(view: ConsentView) -> dict[str, Any]:
    consent = view.consent
    return {
        "id": str(consent.id),
        "kind": consent.kind.value,
        "kind_label": KIND_LABELS[consent.kind],
        "recipient": view.recipient_label,
        "scope": view.scope_label,
        "actions": sorted(a.value for a in consent.actions),
        "categories": sorted(c.value for c in consent.categories),
        "purposes": sorted(p.value for p in consent.purposes),
        "valid_from": _iso(consent.valid_from),
        "valid_until": _iso(consent.valid_until),
        "recorded_by": consent.recorded_by.value,
        "recorded_by_label": RECORDED_BY_LABELS[consent.recorded_by],
        "recorded_by_name": view.recorded_by_name,
        "recorded_at": _iso(consent.recorded_at),
        "proof_reference": consent.proof_reference,
        "revoked_at": _iso(consent.revoked_at),
        "in_force": view.in_force,
    }


def _log_line(line: LogLine) -> dict[str, Any]:
    return {
        "at": _iso(line.at),
        "who": line.who,
        "acting_for": line.acting_for,
        "what": line.sentence,
        "allowed": line.allowed,
        "break_glass": line.break_glass,
        "justification": line.justification,
    }
