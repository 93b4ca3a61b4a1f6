"""Managing consents: record, revoke, list, request, answer, and declare an emergency access.

Who may do what:

- the person (role ``person`` on their own record) and their carers with an active link manage the
  person's consents and answer requests (recorded as ``person`` or ``carer_with_delegation``);
- a professional (any role with access to person files) records a consent collected on paper or
  orally, always with the reference of its proof, asks the person for a consent, and may declare a
  break-glass access, which the person and the territory's DPO are told about at once.

Every change is audited; the person is notified of what others did to their consents.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg

from core.access.policy import Actor as SessionActor
from core.access.policy import Permission, role_has
from core.audit.trail import Outcome, Record, append
from core.consent.access import BREAK_GLASS_FIELD, audit_actor, ensure_person
from core.consent.model import (
    ACTION_LABELS,
    CATEGORY_LABELS,
    PURPOSE_LABELS,
    Action,
    Consent,
    ConsentKind,
    DataCategory,
    Purpose,
    Recipient,
    RecipientKind,
    RecordedBy,
)
from core.consent.rules import BREAK_GLASS_EXCLUDED_ROLES, MIN_JUSTIFICATION_LENGTH
from core.consent.store import consent_from_row, insert_consent, load_context, revoke, sorted_codes
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from core.identity.roles import ROLE_LABELS, Role
from core.notifications.service import notify, users_in_role, users_of_person
from core.runtime import Runtime

# ---------------------------------------------------------------- who manages a person's consents


async def manager_basis(actor: SessionActor, person_id: uuid.UUID, at: dt.datetime) -> RecordedBy:
    """How ``actor`` records consents for ``person_id`` (in scope), or Forbidden."""
    if actor.role is Role.PERSON and actor.person_id == person_id:
        return RecordedBy.PERSON
    if actor.role is Role.CARER and actor.person_id is not None:
        context = await load_context(person_id)
        if any(link.carer_id == actor.person_id and link.active(at) for link in context.carer_links):
            return RecordedBy.CARER_WITH_DELEGATION
    raise Forbidden("seuls la personne et ses aidants reconnus gèrent ses consentements")


def _tenant(actor: SessionActor) -> uuid.UUID:
    if actor.tenant_id is None or actor.role is None:
        raise Forbidden("aucun rôle dans ce territoire")
    return actor.tenant_id


def _parse_scope(
    actions: Iterable[str], categories: Iterable[str], purposes: Iterable[str]
) -> tuple[frozenset[Action], frozenset[DataCategory], frozenset[Purpose]]:
    errors: list[FieldError] = []
    parsed: list[frozenset] = []
    for field, enum, values, label in (
        ("actions", Action, actions, "action"),
        ("categories", DataCategory, categories, "catégorie"),
        ("purposes", Purpose, purposes, "finalité"),
    ):
        try:
            found = frozenset(enum(value) for value in values)
        except ValueError:
            errors.append(FieldError(field, f"{label} inconnue"))
            found = frozenset()
        if not found and not any(e.field == field for e in errors):
            errors.append(FieldError(field, f"choisissez au moins une {label}"))
        parsed.append(found)
    if errors:
        raise InvalidInput("consentement incomplet", errors)
    return parsed[0], parsed[1], parsed[2]


def describe_scope(
    actions: Iterable[Action], categories: Iterable[DataCategory], purposes: Iterable[Purpose]
) -> str:
    """« lecture des données médicales pour coordination des soins » — for people, not for logs."""
    what = " et ".join(ACTION_LABELS[a] for a in sorted(actions))
    which = ", ".join(CATEGORY_LABELS[c] for c in sorted(categories))
    why = ", ".join(PURPOSE_LABELS[p] for p in sorted(purposes))
    return f"{what} des {which}, pour {why}"


# ---------------------------------------------------------------- recording and revoking


@dataclass(frozen=True)
class ConsentInput:
    """A consent as typed in a form or an API call, before validation."""

    recipient: Recipient
    actions: tuple[str, ...]
    categories: tuple[str, ...]
    purposes: tuple[str, ...]
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    proof_reference: str | None = None
    kind: ConsentKind = ConsentKind.GRANT


async def record_consent(
    runtime: Runtime, actor: SessionActor, person_id: uuid.UUID, given: ConsentInput
) -> uuid.UUID:
    """Record a consent for ``person_id``: by the person, a carer, or a professional with a proof."""
    tenant_id = _tenant(actor)
    actions, categories, purposes = _parse_scope(given.actions, given.categories, given.purposes)
    at = runtime.clock()
    async with tenant_scope(tenant_id):
        await ensure_person(person_id)
        if actor.role in (Role.PERSON, Role.CARER):
            recorded_by = await manager_basis(actor, person_id, at)
        elif actor.role is not None and role_has(actor.role, Permission.PERSON_FILES):
            recorded_by = RecordedBy.PROFESSIONAL_WITH_PROOF
        else:
            raise Forbidden("votre rôle ne permet pas d'enregistrer un consentement")
        await _check_recipient(given.recipient)
        try:
            consent = Consent(
                id=uuid.uuid4(),
                person_id=person_id,
                recipient=given.recipient,
                actions=actions,
                categories=categories,
                purposes=purposes,
                valid_from=given.valid_from or at,
                valid_until=given.valid_until,
                recorded_by=recorded_by,
                recorded_at=at,
                proof_reference=given.proof_reference,
                kind=given.kind,
            )
        except ValueError as error:
            field = "proof_reference" if "preuve" in str(error) else "consent"
            raise InvalidInput("consentement invalide", [FieldError(field, str(error))]) from error
        await insert_consent(consent, actor.user_id)
        await append(
            Record(
                audit_actor(actor),
                "consent.recorded",
                Outcome.SUCCESS,
                "person",
                str(person_id),
                {
                    "consent_id": str(consent.id),
                    "kind": consent.kind.value,
                    "recorded_by": recorded_by.value,
                    "recipient": _recipient_code(consent.recipient),
                    "actions": sorted_codes(actions),
                    "categories": sorted_codes(categories),
                    "purposes": sorted_codes(purposes),
                },
            )
        )
        if recorded_by is not RecordedBy.PERSON:
            await notify(
                await users_of_person(person_id),
                "consent.recorded",
                "Un consentement a été enregistré pour vous",
                f"{ROLE_LABELS[actor.role]} a enregistré : "
                f"{describe_scope(actions, categories, purposes)}. Vous pouvez le retirer à tout moment.",
                "mon-dossier/consentements",
            )
    return consent.id


async def _check_recipient(recipient: Recipient) -> None:
    if recipient.kind is RecipientKind.ORGANISATION:
        found = await scoped_connection().fetchval(
            "SELECT 1 FROM organisation WHERE id = $1", recipient.organisation_id
        )
        if not found:
            raise InvalidInput("destinataire inconnu", [FieldError("recipient", "organisation inconnue")])


def _recipient_code(recipient: Recipient) -> str:
    value = recipient.organisation_id or recipient.named_role or recipient.user_id or ""
    return f"{recipient.kind.value}:{value}"


async def revoke_consent(
    runtime: Runtime, actor: SessionActor, person_id: uuid.UUID, consent_id: uuid.UUID
) -> None:
    """Revoke with immediate effect: the very next request is decided without it."""
    tenant_id = _tenant(actor)
    at = runtime.clock()
    async with tenant_scope(tenant_id):
        await ensure_person(person_id)
        await manager_basis(actor, person_id, at)
        if not await revoke(consent_id, person_id, actor.user_id, at):
            raise NotFound("consentement introuvable ou déjà retiré")
        await append(
            Record(
                audit_actor(actor),
                "consent.revoked",
                Outcome.SUCCESS,
                "person",
                str(person_id),
                {"consent_id": str(consent_id)},
            )
        )


# ---------------------------------------------------------------- listing


@dataclass(frozen=True)
class ConsentView:
    consent: Consent
    recipient_label: str
    recorded_by_name: str | None
    in_force: bool

    @property
    def scope_label(self) -> str:
        return describe_scope(self.consent.actions, self.consent.categories, self.consent.purposes)


async def list_consents(runtime: Runtime, actor: SessionActor, person_id: uuid.UUID) -> list[ConsentView]:
    """The person's consents, newest first, for the person or a carer (management view)."""
    tenant_id = _tenant(actor)
    at = runtime.clock()
    async with tenant_scope(tenant_id):
        await ensure_person(person_id)
        await manager_basis(actor, person_id, at)
        rows = await scoped_connection().fetch(
            "SELECT c.*, o.name AS organisation_name, u.display_name AS user_name, "
            "r.display_name AS recorded_by_name FROM consent c "
            "LEFT JOIN organisation o ON o.id = c.recipient_organisation_id "
            "LEFT JOIN user_account u ON u.id = c.recipient_user_id "
            "LEFT JOIN user_account r ON r.id = c.recorded_by_user_id "
            "WHERE c.person_id = $1 ORDER BY c.recorded_at DESC",
            person_id,
        )
    views = []
    for row in rows:
        consent = consent_from_row(row)
        views.append(
            ConsentView(consent, recipient_label(row), row["recorded_by_name"], consent.in_force(at))
        )
    return views


def recipient_label(row: asyncpg.Record | dict) -> str:
    kind = RecipientKind(row["recipient_kind"])
    if kind is RecipientKind.ORGANISATION:
        return str(row["organisation_name"])
    if kind is RecipientKind.ROLE:
        return f"tout {ROLE_LABELS[Role(row['recipient_role'])].lower()}"
    if kind is RecipientKind.USER:
        return str(row["user_name"])
    return "votre équipe de soins"


# ---------------------------------------------------------------- consent requests


@dataclass(frozen=True)
class ConsentRequestView:
    id: uuid.UUID
    person_id: uuid.UUID
    requester_name: str
    organisation_name: str | None
    requester_role: Role
    scope_label: str
    message: str
    status: str
    created_at: dt.datetime


async def request_consent(
    runtime: Runtime,
    actor: SessionActor,
    person_id: uuid.UUID,
    *,
    actions: Iterable[str],
    categories: Iterable[str],
    purposes: Iterable[str],
    message: str,
) -> uuid.UUID:
    """A professional asks; the request waits in the person's portal and the person is notified."""
    tenant_id = _tenant(actor)
    if actor.role is None or not role_has(actor.role, Permission.PERSON_FILES):
        raise Forbidden("votre rôle ne permet pas de demander un consentement")
    parsed = _parse_scope(actions, categories, purposes)
    message = message.strip()
    if not 10 <= len(message) <= 500:
        raise InvalidInput(
            "demande incomplète", [FieldError("message", "expliquez votre demande (10 à 500 caractères)")]
        )
    request_id = uuid.uuid4()
    async with tenant_scope(tenant_id):
        await ensure_person(person_id)
        pending = await scoped_connection().fetchval(
            "SELECT id FROM consent_request WHERE person_id = $1 AND requested_by_user_id = $2 "
            "AND status = 'pending' AND categories = $3 AND purposes = $4",
            person_id,
            actor.user_id,
            sorted_codes(parsed[1]),
            sorted_codes(parsed[2]),
        )
        if pending:
            raise Conflict("une demande identique attend déjà la réponse de la personne")
        await scoped_connection().execute(
            "INSERT INTO consent_request (id, tenant_id, person_id, requested_by_user_id, organisation_id, "
            "requester_role, actions, categories, purposes, message, status, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11)",
            request_id,
            tenant_id,
            person_id,
            actor.user_id,
            actor.organisation_id,
            actor.role.value,
            sorted_codes(parsed[0]),
            sorted_codes(parsed[1]),
            sorted_codes(parsed[2]),
            message,
            runtime.clock(),
        )
        await append(
            Record(
                audit_actor(actor),
                "consent.requested",
                Outcome.SUCCESS,
                "person",
                str(person_id),
                {"request_id": str(request_id), "categories": sorted_codes(parsed[1])},
            )
        )
        await notify(
            await users_of_person(person_id),
            "consent.requested",
            "Une demande de consentement vous attend",
            f"{ROLE_LABELS[actor.role]} demande : {describe_scope(*parsed)}.",
            "mon-dossier/consentements",
        )
    return request_id


async def pending_requests(
    runtime: Runtime, actor: SessionActor, person_id: uuid.UUID
) -> list[ConsentRequestView]:
    tenant_id = _tenant(actor)
    async with tenant_scope(tenant_id):
        await manager_basis(actor, person_id, runtime.clock())
        rows = await scoped_connection().fetch(
            "SELECT r.*, u.display_name AS requester_name, o.name AS organisation_name "
            "FROM consent_request r JOIN user_account u ON u.id = r.requested_by_user_id "
            "LEFT JOIN organisation o ON o.id = r.organisation_id "
            "WHERE r.person_id = $1 AND r.status = 'pending' ORDER BY r.created_at",
            person_id,
        )
    return [_request_view(row) for row in rows]


def _request_view(row: asyncpg.Record) -> ConsentRequestView:
    return ConsentRequestView(
        id=row["id"],
        person_id=row["person_id"],
        requester_name=row["requester_name"],
        organisation_name=row["organisation_name"],
        requester_role=Role(row["requester_role"]),
        scope_label=describe_scope(
            map(Action, row["actions"]), map(DataCategory, row["categories"]), map(Purpose, row["purposes"])
        ),
        message=row["message"],
        status=row["status"],
        created_at=row["created_at"],
    )


async def answer_request(
    runtime: Runtime, actor: SessionActor, person_id: uuid.UUID, request_id: uuid.UUID, *, accept: bool
) -> uuid.UUID | None:
    """Accept (a grant to the requester's organisation, or to them) or decline; returns the consent."""
    tenant_id = _tenant(actor)
    at = runtime.clock()
    async with tenant_scope(tenant_id):
        await ensure_person(person_id)
        recorded_by = await manager_basis(actor, person_id, at)
        connection = scoped_connection()
        row = await connection.fetchrow(
            "SELECT * FROM consent_request WHERE id = $1 AND person_id = $2 FOR UPDATE", request_id, person_id
        )
        if row is None:
            raise NotFound("demande de consentement introuvable")
        if row["status"] != "pending":
            raise Conflict("cette demande a déjà reçu une réponse")
        consent_id = None
        if accept:
            recipient = (
                Recipient.organisation(row["organisation_id"])
                if row["organisation_id"]
                else Recipient.user(row["requested_by_user_id"])
            )
            consent = Consent(
                id=uuid.uuid4(),
                person_id=person_id,
                recipient=recipient,
                actions=frozenset(map(Action, row["actions"])),
                categories=frozenset(map(DataCategory, row["categories"])),
                purposes=frozenset(map(Purpose, row["purposes"])),
                valid_from=at,
                recorded_by=recorded_by,
                recorded_at=at,
            )
            await insert_consent(consent, actor.user_id)
            consent_id = consent.id
        await connection.execute(
            "UPDATE consent_request SET status = $2, answered_at = $3, answered_by_user_id = $4, "
            "consent_id = $5 WHERE id = $1",
            request_id,
            "granted" if accept else "declined",
            at,
            actor.user_id,
            consent_id,
        )
        await append(
            Record(
                audit_actor(actor),
                "consent.request_answered",
                Outcome.SUCCESS,
                "person",
                str(person_id),
                {
                    "request_id": str(request_id),
                    "answer": "granted" if accept else "declined",
                    **({"consent_id": str(consent_id)} if consent_id else {}),
                },
            )
        )
        await notify(
            [row["requested_by_user_id"]],
            "consent.answered",
            "Réponse à votre demande de consentement",
            "La personne a accepté votre demande." if accept else "La personne a refusé votre demande.",
            f"personnes/{person_id}",
        )
    return consent_id


# ---------------------------------------------------------------- break-glass


async def declare_break_glass(
    runtime: Runtime, actor: SessionActor, person_id: uuid.UUID, justification: str
) -> uuid.UUID:
    """Declare an emergency access (valid one hour); the person and the DPO are notified at once."""
    tenant_id = _tenant(actor)
    text = justification.strip()
    if actor.role in BREAK_GLASS_EXCLUDED_ROLES or actor.role is Role.DPO:
        raise Forbidden(f"le rôle « {ROLE_LABELS[actor.role]} » ne peut pas recourir au bris de glace")
    if actor.role is None or not role_has(actor.role, Permission.PERSON_FILES):
        raise Forbidden("votre rôle ne permet pas d'accéder aux dossiers")
    if len(text) < MIN_JUSTIFICATION_LENGTH or len(text) > 1000:
        raise InvalidInput(
            "justification requise",
            [
                FieldError(
                    "justification",
                    f"décrivez l'urgence ({MIN_JUSTIFICATION_LENGTH} à 1000 caractères)",
                )
            ],
        )
    declaration_id = uuid.uuid4()
    async with tenant_scope(tenant_id):
        await ensure_person(person_id)
        cipher = await runtime.vault.person_cipher(person_id)
        await scoped_connection().execute(
            "INSERT INTO break_glass (id, tenant_id, person_id, user_account_id, organisation_id, role, "
            "justification_ciphertext, declared_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            declaration_id,
            tenant_id,
            person_id,
            actor.user_id,
            actor.organisation_id,
            actor.role.value,
            cipher.encrypt(BREAK_GLASS_FIELD, text),
            runtime.clock(),
        )
        await append(
            Record(
                audit_actor(actor),
                "break_glass.declared",
                Outcome.SUCCESS,
                "person",
                str(person_id),
                {"break_glass_id": str(declaration_id)},
            )
        )
        body = (
            f"Un accès en urgence (bris de glace) à un dossier a été déclaré par {ROLE_LABELS[actor.role]}. "
            "La justification est consultable dans le journal des accès."
        )
        await notify(
            await users_of_person(person_id),
            "break_glass",
            "Accès en urgence à votre dossier",
            body,
            "mon-dossier/journal",
        )
        await notify(await users_in_role(Role.DPO), "break_glass", "Bris de glace déclaré", body, "dpo")
    return declaration_id
