"""The person's file, section by section, each opened only when its category is allowed.

``read_file`` asks the decision point once per category (five audit entries), then loads the
allowed sections in one transaction. A refused section carries its decision, so pages can say
why and offer to request the person's consent.

Categories: identity, contact details and care team are ``administrative``; living situation,
carers, life events with their action proposals and social notes are ``social``; health notes
are ``medical``; funding requests are ``funding``; attached files are ``documents``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from core.access.policy import Actor as SessionActor
from core.consent.access import AccessRequest, check_all
from core.consent.model import Action, DataCategory, Decision, Purpose
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.identity.roles import ROLE_LABELS, Role
from core.runtime import Runtime
from core.vault.service import PersonCipher

INS_FIELD = "person.ins"
NOTE_FIELD = "person_note.body"
DOCUMENT_TITLE_FIELD = "person_document.title"
DOCUMENT_CONTENT_FIELD = "person_document.content"

EVENT_LABELS = {
    "hospital_discharge": "Sortie d'hospitalisation",
    "hospital_admission": "Hospitalisation",
}
PROPOSAL_STATUS_LABELS = {
    "requested": "demandée",
    "received": "reçue",
    "accepted": "acceptée",
    "rejected": "refusée",
    "in-progress": "en cours",
    "completed": "terminée",
    "cancelled": "annulée",
    "failed": "échouée",
}


@dataclass(frozen=True)
class Identity:
    family_name: str
    given_names: str
    birth_date: dt.date
    commune_insee: str
    ins: str
    ins_status: str
    phone: str | None
    email: str | None
    address: str | None


@dataclass(frozen=True)
class CareTeamEntry:
    name: str
    function: str
    role: str
    since: dt.datetime


@dataclass(frozen=True)
class CarerEntry:
    name: str
    relationship: str
    since: dt.datetime


@dataclass(frozen=True)
class ProposalEntry:
    title: str
    assignee: str
    due_at: dt.datetime
    status: str


@dataclass(frozen=True)
class EventEntry:
    id: uuid.UUID
    label: str
    occurred_at: dt.datetime
    proposals: list[ProposalEntry]


@dataclass(frozen=True)
class ReadmissionEntry:
    """One check of the readmission watch of a discharge (medical data: it says the person went back)."""

    discharged_at: dt.datetime
    horizon_days: int
    due_at: dt.datetime
    checked: bool
    result: str
    readmission_label: str | None
    readmitted_at: dt.datetime | None


@dataclass(frozen=True)
class NoteEntry:
    id: uuid.UUID
    category: DataCategory
    body: str
    author: str
    organisation: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class DocumentEntry:
    id: uuid.UUID
    title: str
    media_type: str
    size_bytes: int
    uploaded_by: str
    created_at: dt.datetime


@dataclass
class PersonFile:
    """What ``actor`` may see of one person's file for ``purpose``; None where refused."""

    person_id: uuid.UUID
    purpose: Purpose
    decisions: dict[DataCategory, Decision]
    identity: Identity | None = None
    care_team: list[CareTeamEntry] | None = None
    lives_alone: bool | None = None
    carers: list[CarerEntry] | None = None
    events: list[EventEntry] | None = None
    social_notes: list[NoteEntry] | None = None
    medical_notes: list[NoteEntry] | None = None
    readmissions: list[ReadmissionEntry] | None = None
    """The D+7 / D+30 readmission watch of the person's discharges (medical section)."""
    funding_requests: list[dict[str, str]] | None = None
    """Funding requests arrive with the single window for funding; the section exists already."""
    documents: list[DocumentEntry] | None = None
    refused: list[DataCategory] = field(default_factory=list)

    def allowed(self, category: DataCategory | str) -> bool:
        return self.decisions[DataCategory(category)].allowed


async def read_file(
    runtime: Runtime, actor: SessionActor, person_id: uuid.UUID, purpose: Purpose, *, access: str = "file"
) -> PersonFile:
    requests = [AccessRequest(category, Action.READ) for category in DataCategory]
    decided = await check_all(runtime, actor, person_id, requests, purpose, access=access)
    decisions = {request.category: decision for request, decision in decided.items()}
    file = PersonFile(person_id, purpose, decisions)
    file.refused = [category for category, decision in decisions.items() if not decision.allowed]
    assert actor.tenant_id is not None
    async with tenant_scope(actor.tenant_id):
        await load_sections(runtime, file)
    return file


async def load_sections(runtime: Runtime, file: PersonFile) -> None:
    """Fill the sections of ``file`` whose category its decisions allow, in the caller's tenant scope.

    Callers decide first (``read_file`` through the decision point); nothing here checks consent."""
    person_id = file.person_id
    cipher = await runtime.vault.person_cipher(person_id)
    connection = scoped_connection()
    if file.allowed(DataCategory.ADMINISTRATIVE):
        row = await connection.fetchrow("SELECT * FROM person WHERE id = $1", person_id)
        file.identity = Identity(
            family_name=row["family_name"],
            given_names=row["given_names"],
            birth_date=row["birth_date"],
            commune_insee=row["commune_insee"],
            ins=cipher.decrypt_text(INS_FIELD, bytes(row["ins_ciphertext"])),
            ins_status=row["ins_status"],
            phone=row["phone"],
            email=row["email"],
            address=row["address"],
        )
        file.care_team = await _care_team(person_id)
    if file.allowed(DataCategory.SOCIAL):
        file.lives_alone = await connection.fetchval(
            "SELECT lives_alone FROM person WHERE id = $1", person_id
        )
        file.carers = [
            CarerEntry(f"{row['given_names']} {row['family_name']}", row["relationship"], row["granted_at"])
            for row in await connection.fetch(
                "SELECT c.given_names, c.family_name, l.relationship, l.granted_at FROM carer_link l "
                "JOIN person c ON c.id = l.carer_id WHERE l.person_id = $1 AND l.revoked_at IS NULL "
                "ORDER BY l.granted_at",
                person_id,
            )
        ]
        file.events = await _events(person_id)
    if file.allowed(DataCategory.SOCIAL):
        file.social_notes = await _notes(person_id, DataCategory.SOCIAL, cipher)
    if file.allowed(DataCategory.MEDICAL):
        file.medical_notes = await _notes(person_id, DataCategory.MEDICAL, cipher)
        file.readmissions = await _readmissions(person_id)
    if file.allowed(DataCategory.FUNDING):
        file.funding_requests = []
    if file.allowed(DataCategory.DOCUMENTS):
        file.documents = await _documents(person_id, cipher)


async def _care_team(person_id: uuid.UUID) -> list[CareTeamEntry]:
    rows = await scoped_connection().fetch(
        "SELECT coalesce(u.display_name, o.name) AS name, m.function, m.role, m.since "
        "FROM care_team_member m LEFT JOIN user_account u ON u.id = m.member_user_id "
        "LEFT JOIN organisation o ON o.id = m.member_organisation_id "
        "WHERE m.person_id = $1 AND (m.until IS NULL OR m.until > now()) ORDER BY m.since",
        person_id,
    )
    return [
        CareTeamEntry(row["name"], row["function"], ROLE_LABELS[Role(row["role"])], row["since"])
        for row in rows
    ]


async def _events(person_id: uuid.UUID) -> list[EventEntry]:
    connection = scoped_connection()
    events = await connection.fetch(
        "SELECT id, type, occurred_at FROM event WHERE person_id = $1 ORDER BY occurred_at DESC", person_id
    )
    proposals = await connection.fetch(
        "SELECT p.event_id, p.title, p.assignee, p.due_at, p.status FROM action_proposal p "
        "JOIN event e ON e.id = p.event_id WHERE e.person_id = $1 ORDER BY p.due_at",
        person_id,
    )
    by_event: dict[uuid.UUID, list[ProposalEntry]] = {}
    for row in proposals:
        by_event.setdefault(row["event_id"], []).append(
            ProposalEntry(
                row["title"],
                row["assignee"],
                row["due_at"],
                PROPOSAL_STATUS_LABELS.get(row["status"], row["status"]),
            )
        )
    return [
        EventEntry(
            row["id"],
            EVENT_LABELS.get(row["type"], row["type"]),
            row["occurred_at"],
            by_event.get(row["id"], []),
        )
        for row in events
    ]


async def _readmissions(person_id: uuid.UUID) -> list[ReadmissionEntry]:
    from core.events.catalogue import CORE_EVENT_TYPES
    from core.followup.readmission import readmission_status

    labels = {spec.code: spec.label for spec in CORE_EVENT_TYPES}
    results = {None: "à vérifier", True: "retour à l'hôpital", False: "pas de retour à l'hôpital"}
    return [
        ReadmissionEntry(
            discharged_at=check.discharged_at,
            horizon_days=check.horizon_days,
            due_at=check.due_at,
            checked=check.checked_at is not None,
            result=results[check.readmitted if check.checked_at is not None else None],
            readmission_label=labels.get(check.readmission_type or "", check.readmission_type),
            readmitted_at=check.readmitted_at,
        )
        for check in await readmission_status(person_id)
    ]


async def _notes(person_id: uuid.UUID, category: DataCategory, cipher: PersonCipher) -> list[NoteEntry]:
    rows = await scoped_connection().fetch(
        "SELECT n.id, n.category, n.body_ciphertext, n.author_label AS author, o.name AS organisation, "
        "n.created_at FROM person_note n "
        "LEFT JOIN organisation o ON o.id = n.organisation_id WHERE n.person_id = $1 AND n.category = $2 "
        "ORDER BY n.created_at DESC",
        person_id,
        category.value,
    )
    return [
        NoteEntry(
            row["id"],
            DataCategory(row["category"]),
            cipher.decrypt_text(NOTE_FIELD, bytes(row["body_ciphertext"])),
            row["author"],
            row["organisation"],
            row["created_at"],
        )
        for row in rows
    ]


async def _documents(person_id: uuid.UUID, cipher: PersonCipher) -> list[DocumentEntry]:
    rows = await scoped_connection().fetch(
        "SELECT d.id, d.title_ciphertext, d.media_type, d.size_bytes, u.display_name AS uploaded_by, "
        "d.created_at FROM person_document d JOIN user_account u ON u.id = d.uploaded_by_user_id "
        "WHERE d.person_id = $1 AND d.content_ciphertext IS NOT NULL ORDER BY d.created_at DESC",
        person_id,
    )
    return [
        DocumentEntry(
            row["id"],
            cipher.decrypt_text(DOCUMENT_TITLE_FIELD, bytes(row["title_ciphertext"])),
            row["media_type"],
            row["size_bytes"],
            row["uploaded_by"],
            row["created_at"],
        )
        for row in rows
    ]
