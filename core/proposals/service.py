"""Changing a proposal: status moves, reassignment, carrier, funding. Each change is one transaction,
one history line and one audit entry.

Concurrency: every change locks the proposal row (``FOR UPDATE``) and re-reads its status, so of two
people accepting the same proposal at once, the second finds it already accepted and gets a
``Conflict`` saying by whom and when. A caller may also name the ``version`` it displayed; a change
made since then is refused the same way rather than silently overwritten.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from core import locale
from core.access.policy import Actor as SessionActor
from core.audit.trail import Actor as AuditActor
from core.audit.trail import Outcome, Record, append
from core.consent.access import audit_actor
from core.consent.care_team import add_member
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from core.identity.roles import Role
from core.proposals.assignment import (
    Assignee,
    AssigneeKind,
    organisation_assignee,
    role_assignee,
    user_assignee,
)
from core.proposals.lifecycle import (
    LINK_MOVES,
    NEEDS_REASON,
    REASSIGNABLE,
    STATUS_LABELS,
    Move,
    Status,
    reasons_for,
    target_of,
)
from core.proposals.notify import holders, notify_users, proposal_link
from core.runtime import Runtime
from core.tenancy.service import get_tenant_by_id

NOTE_FIELD = "proposal.note"
MAX_NOTE = 2000


@dataclass(frozen=True)
class Acting:
    """Who changes a proposal: a signed-in user, a recipient's signed link, or the system."""

    via: str
    """``user``, ``link`` or ``system``."""
    label: str
    user_id: uuid.UUID | None = None
    role: Role | None = None
    organisation_id: uuid.UUID | None = None
    link_id: uuid.UUID | None = None
    session: SessionActor | None = None

    @classmethod
    def user(cls, actor: SessionActor, label: str) -> Acting:
        return cls("user", label, actor.user_id, actor.role, actor.organisation_id, session=actor)

    @classmethod
    def link(cls, link_id: uuid.UUID, label: str, organisation_id: uuid.UUID | None) -> Acting:
        return cls("link", label, organisation_id=organisation_id, link_id=link_id)

    @classmethod
    def system(cls, label: str) -> Acting:
        return cls("system", label)

    def audit(self) -> AuditActor:
        if self.session is not None:
            return audit_actor(self.session)
        if self.link_id is not None:
            return AuditActor("link", str(self.link_id), str(self.organisation_id or ""))
        return AuditActor("system", self.label)


def holds(acting: Acting, row: asyncpg.Record | dict) -> bool:
    """Is ``acting`` among those who hold the proposal ``row``?"""
    if row["assignee_user_id"] is not None and row["assignee_user_id"] == acting.user_id:
        return True
    if row["assignee_kind"] == AssigneeKind.ORGANISATION and acting.organisation_id is not None:
        return bool(row["assignee_organisation_id"] == acting.organisation_id)
    if row["assignee_kind"] == AssigneeKind.ROLE and acting.role is not None:
        return bool(row["assignee"] == acting.role.value)
    return False


def may_act(acting: Acting, row: asyncpg.Record | dict) -> bool:
    """Holders act on a proposal; the territory's coordinators may act on any; the system always, and
    a link's recipient on the one proposal its link was made for (checked when the link is opened)."""
    if acting.via in {"system", "link"}:
        return True
    if acting.via == "user" and acting.role is Role.COORDINATOR:
        return True
    return holds(acting, row)


async def lock(proposal_id: uuid.UUID) -> asyncpg.Record:
    row = await scoped_connection().fetchrow(
        "SELECT * FROM action_proposal WHERE id = $1 FOR UPDATE", proposal_id
    )
    if row is None:
        raise NotFound("action introuvable dans ce territoire")
    return row


async def _last_change(proposal_id: uuid.UUID) -> str:
    row = await scoped_connection().fetchrow(
        "SELECT actor_label, at FROM proposal_history WHERE proposal_id = $1 AND kind IN "
        "('status', 'reassigned') ORDER BY at DESC, id DESC LIMIT 1",
        proposal_id,
    )
    if row is None:
        return ""
    return f" par {row['actor_label']} ({locale.when(row['at'])})"


def _check_reason(move: Move, reason_code: str | None, note: str) -> None:
    if move not in NEEDS_REASON:
        return
    reasons = reasons_for(move)
    if reason_code not in reasons:
        raise InvalidInput("motif requis", [FieldError("reason", "choisissez un motif dans la liste")])
    if reason_code == "other" and not note:
        raise InvalidInput("précision requise", [FieldError("note", "précisez le motif en quelques mots")])


async def _history(
    tenant_id: uuid.UUID,
    runtime: Runtime,
    row: asyncpg.Record,
    acting: Acting,
    kind: str,
    *,
    to_status: str | None = None,
    from_assignee: str | None = None,
    to_assignee: str | None = None,
    reason_code: str | None = None,
    note: str = "",
) -> None:
    ciphertext = None
    if note:
        cipher = await runtime.vault.person_cipher(row["person_id"])
        ciphertext = cipher.encrypt(NOTE_FIELD, note)
    await scoped_connection().execute(
        "INSERT INTO proposal_history (id, tenant_id, proposal_id, kind, from_status, to_status, "
        "from_assignee, to_assignee, reason_code, note_ciphertext, actor_user_id, actor_label, via, at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        uuid.uuid4(),
        tenant_id,
        row["id"],
        kind,
        row["status"],
        to_status,
        from_assignee,
        to_assignee,
        reason_code,
        ciphertext,
        acting.user_id,
        acting.label[:300],
        acting.via,
        runtime.clock(),
    )


async def _audit(acting: Acting, action: str, row: asyncpg.Record, detail: dict[str, str]) -> None:
    await append(
        Record(
            acting.audit(),
            action,
            Outcome.SUCCESS,
            "proposal",
            str(row["id"]),
            {"event_id": str(row["event_id"]), "via": acting.via, **detail},
        )
    )


async def move(
    runtime: Runtime,
    tenant_id: uuid.UUID,
    proposal_id: uuid.UUID,
    what: Move,
    acting: Acting,
    *,
    version: int | None = None,
    reason_code: str | None = None,
    note: str = "",
) -> Status:
    """Apply ``what`` to the proposal; return its new status.

    ``Forbidden`` if ``acting`` does not hold it; ``Conflict`` if its status no longer allows the
    move (someone was faster) or if it changed since ``version``; ``InvalidInput`` for a missing
    or unknown reason.
    """
    note = note.strip()[:MAX_NOTE]
    _check_reason(what, reason_code, note)
    if acting.via == "link" and what not in LINK_MOVES:
        raise Forbidden("ce lien ne permet pas cette action")
    if what is Move.CANCEL and acting.via == "user" and acting.role is not Role.COORDINATOR:
        raise Forbidden("seule la coordination peut annuler une action")
    async with tenant_scope(tenant_id):
        connection = scoped_connection()
        row = await lock(proposal_id)
        if not may_act(acting, row):
            raise Forbidden("cette action est attribuée à quelqu'un d'autre")
        current = Status(row["status"])
        target = target_of(what, current)
        if target is None:
            raise Conflict(
                f"Impossible : l'action est déjà « {STATUS_LABELS[current].lower()} »"
                f"{await _last_change(proposal_id)}."
            )
        if version is not None and version != row["version"]:
            raise Conflict(
                f"L'action a été modifiée entre-temps{await _last_change(proposal_id)} : "
                "rechargez la page pour voir son état."
            )
        now = runtime.clock()
        taker = acting.user_id if what is Move.ACCEPT and acting.via == "user" else None
        carrier = acting.organisation_id if what is Move.ACCEPT else None
        await connection.execute(
            "UPDATE action_proposal SET status = $2::varchar, status_reason = $3::varchar, "
            "version = version + 1, status_changed_at = $4::timestamptz, "
            "first_response_at = coalesce(first_response_at, $4::timestamptz), "
            "completed_at = CASE WHEN $2::varchar = 'completed' THEN $4::timestamptz ELSE completed_at END, "
            "assignee_user_id = coalesce($5::uuid, assignee_user_id), "
            "carrier_organisation_id = coalesce(carrier_organisation_id, $6::uuid), "
            "carrier_label = CASE WHEN $7::text IS NOT NULL AND carrier_label IS NULL THEN $7::text "
            "ELSE carrier_label END WHERE id = $1",
            proposal_id,
            target.value,
            reason_code if what in NEEDS_REASON else None,
            now,
            taker,
            carrier,
            acting.label if what is Move.ACCEPT and acting.via == "link" else None,
        )
        await _history(
            tenant_id,
            runtime,
            row,
            acting,
            "status",
            to_status=target.value,
            reason_code=reason_code,
            note=note,
        )
        await _audit(
            acting,
            f"proposal.{what.value}",
            row,
            {"from": current.value, "to": target.value, **_reason(reason_code)},
        )
        if what is Move.ACCEPT and acting.role is Role.PROFESSIONAL and acting.organisation_id is not None:
            # Taking part in the person's care makes the organisation a member of the care team
            # (CSP L.1110-12); the person can see it in their file and oppose.
            await add_member(
                row["person_id"],
                role=Role.PROFESSIONAL,
                function=row["title"][:60],
                by=acting.audit(),
                organisation_id=acting.organisation_id,
                added_by_user_id=acting.user_id,
            )
        if what in (Move.REJECT, Move.FAIL):
            await _tell_coordinators(runtime, tenant_id, row, f"Action {STATUS_LABELS[target].lower()}")
    return target


def _reason(reason_code: str | None) -> dict[str, str]:
    return {"reason": reason_code} if reason_code else {}


async def _tell_coordinators(runtime: Runtime, tenant_id: uuid.UUID, row: asyncpg.Record, title: str) -> None:
    tenant = await get_tenant_by_id(tenant_id)
    assert tenant is not None
    users = await holders(role_assignee(Role.COORDINATOR))
    await notify_users(
        runtime,
        users,
        "proposal.attention",
        title,
        f"Une action attend une décision de la coordination (échéance {locale.when(row['due_at'])}).",
        proposal_link(tenant, row["id"]),
    )


async def assignee_for(
    *, organisation_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None, role: Role | None = None
) -> Assignee:
    """The assignee named by exactly one of the arguments (422 when it does not exist)."""
    found: Assignee | None = None
    if organisation_id is not None:
        found = await organisation_assignee(organisation_id)
    elif user_id is not None:
        found = await user_assignee(user_id)
    elif role is not None:
        found = role_assignee(role)
    if found is None:
        raise InvalidInput(
            "destinataire inconnu", [FieldError("assignee", "choisissez un destinataire de l'annuaire")]
        )
    return found


async def reassign(
    runtime: Runtime,
    tenant_id: uuid.UUID,
    proposal_id: uuid.UUID,
    acting: Acting,
    *,
    organisation_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    role: Role | None = None,
    note: str = "",
    version: int | None = None,
    kind: str = "reassigned",
) -> Assignee:
    """Hand the proposal to someone else, with why; it goes back to « requested » for them."""
    note = note.strip()[:MAX_NOTE]
    if acting.via == "user" and not note:
        raise InvalidInput(
            "motif requis", [FieldError("note", "dites pourquoi vous réattribuez cette action")]
        )
    async with tenant_scope(tenant_id):
        row = await lock(proposal_id)
        if acting.via == "link" or not may_act(acting, row):
            raise Forbidden("seuls la coordination et le détenteur de l'action peuvent la réattribuer")
        if Status(row["status"]) not in REASSIGNABLE:
            raise Conflict(f"Impossible : l'action est « {STATUS_LABELS[Status(row['status'])].lower()} ».")
        if version is not None and version != row["version"]:
            raise Conflict("L'action a été modifiée entre-temps : rechargez la page pour voir son état.")
        to = await assignee_for(organisation_id=organisation_id, user_id=user_id, role=role)
        before = await holder_label(row)
        await scoped_connection().execute(
            "UPDATE action_proposal SET assignee_kind = $2, assignee = $3, assignee_user_id = $4, "
            "assignee_organisation_id = $5, status = 'requested', status_reason = NULL, "
            "version = version + 1, status_changed_at = $6 WHERE id = $1",
            proposal_id,
            to.kind,
            to.value,
            to.user_id,
            to.organisation_id,
            runtime.clock(),
        )
        await _history(
            tenant_id,
            runtime,
            row,
            acting,
            kind,
            to_status=Status.REQUESTED.value,
            from_assignee=before,
            to_assignee=to.label,
            note=note,
        )
        await _audit(acting, f"proposal.{kind}", row, {"to": to.value, "to_kind": to.kind})
        tenant = await get_tenant_by_id(tenant_id)
        assert tenant is not None
        await notify_users(
            runtime,
            await holders(to),
            "proposal.assigned",
            "Action qui vous est confiée",
            f"Une action vous a été attribuée (échéance {locale.when(row['due_at'])}).",
            proposal_link(tenant, proposal_id),
        )
    return to


async def holder_assignee(row: asyncpg.Record | dict) -> Assignee:
    """The proposal's current holder as an assignee value (to notify them)."""
    return Assignee(
        row["assignee_kind"],
        row["assignee"],
        await holder_label(row),
        user_id=row["assignee_user_id"] if row["assignee_kind"] == AssigneeKind.USER else None,
        organisation_id=row["assignee_organisation_id"],
    )


def holder_words(row: asyncpg.Record | dict, organisation_name: str | None, user_name: str | None) -> str:
    """Who holds the proposal, in words, given the names of its organisation and user (if any)."""
    if row["assignee_kind"] == AssigneeKind.ORGANISATION and row["assignee_organisation_id"]:
        return organisation_name or "structure inconnue"
    if row["assignee_kind"] == AssigneeKind.USER and row["assignee_user_id"]:
        return user_name or "utilisateur inconnu"
    try:
        return role_assignee(Role(row["assignee"])).label
    except ValueError:
        return str(row["assignee"])


async def holder_label(row: asyncpg.Record | dict) -> str:
    """Who holds the proposal, in words (an organisation's or a user's name, a role)."""
    connection = scoped_connection()
    organisation_name = user_name = None
    if row["assignee_kind"] == AssigneeKind.ORGANISATION and row["assignee_organisation_id"]:
        organisation_name = await connection.fetchval(
            "SELECT name FROM organisation WHERE id = $1", row["assignee_organisation_id"]
        )
    elif row["assignee_kind"] == AssigneeKind.USER and row["assignee_user_id"]:
        user_name = await connection.fetchval(
            "SELECT display_name FROM user_account WHERE id = $1", row["assignee_user_id"]
        )
    return holder_words(row, organisation_name, user_name)


async def set_carrier(
    runtime: Runtime,
    tenant_id: uuid.UUID,
    proposal_id: uuid.UUID,
    acting: Acting,
    *,
    organisation_id: uuid.UUID | None = None,
    label: str = "",
) -> None:
    """Record who carries the action out (a provider of the directory, or named in words)."""
    label = label.strip()[:200]
    if organisation_id is None and not label:
        raise InvalidInput(
            "prestataire requis", [FieldError("carrier", "choisissez ou nommez le prestataire")]
        )
    async with tenant_scope(tenant_id):
        row = await lock(proposal_id)
        if not may_act(acting, row):
            raise Forbidden("cette action est attribuée à quelqu'un d'autre")
        if organisation_id is not None:
            found = await organisation_assignee(organisation_id)
            if found is None:
                raise InvalidInput(
                    "prestataire inconnu", [FieldError("carrier", "structure inconnue de l'annuaire")]
                )
            label = found.label
        await scoped_connection().execute(
            "UPDATE action_proposal SET carrier_organisation_id = $2, carrier_label = $3, "
            "version = version + 1 WHERE id = $1",
            proposal_id,
            organisation_id,
            label,
        )
        await _history(tenant_id, runtime, row, acting, "carrier", to_assignee=label)
        await _audit(acting, "proposal.carrier", row, {"carrier": str(organisation_id or "texte")})


FUNDING_STATUSES = {
    "requested": "Demandé",
    "approved": "Accordé",
    "partially_approved": "Accordé en partie",
    "refused": "Refusé",
    "paid": "Versé",
}


async def record_funding(
    runtime: Runtime,
    tenant_id: uuid.UUID,
    proposal_id: uuid.UUID,
    acting: Acting,
    *,
    programme: str,
    funder_label: str,
    status: str,
    amount_cents: int | None = None,
    reference: str | None = None,
) -> None:
    """Link a funding programme to the action and record where its request stands (one row per programme).

    The funding single window will write here when a funder decides; until then the holder of the
    action or the coordination records the answer they received.
    """
    programme = programme.strip()
    errors = []
    if not programme or len(programme) > 60:
        errors.append(FieldError("programme", "programme de financement requis"))
    if status not in FUNDING_STATUSES:
        errors.append(FieldError("status", "statut inconnu"))
    if amount_cents is not None and amount_cents < 0:
        errors.append(FieldError("amount", "montant positif attendu"))
    if errors:
        raise InvalidInput("financement invalide", errors)
    async with tenant_scope(tenant_id):
        row = await lock(proposal_id)
        if not may_act(acting, row):
            raise Forbidden("cette action est attribuée à quelqu'un d'autre")
        decided = runtime.clock() if status != "requested" else None
        await scoped_connection().execute(
            "INSERT INTO proposal_funding (id, tenant_id, proposal_id, programme, funder_label, status, "
            "amount_cents, currency, reference, recorded_by, created_at, decided_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, 'EUR', $8, $9, $10, $11) "
            "ON CONFLICT (tenant_id, proposal_id, programme) DO UPDATE SET status = EXCLUDED.status, "
            "funder_label = EXCLUDED.funder_label, amount_cents = EXCLUDED.amount_cents, "
            "reference = EXCLUDED.reference, recorded_by = EXCLUDED.recorded_by, "
            "decided_at = EXCLUDED.decided_at",
            uuid.uuid4(),
            tenant_id,
            proposal_id,
            programme,
            funder_label.strip()[:200] or programme,
            status,
            amount_cents,
            reference,
            acting.label[:300],
            runtime.clock(),
            decided,
        )
        await _history(
            tenant_id,
            runtime,
            row,
            acting,
            "funding",
            to_assignee=f"{programme} : {FUNDING_STATUSES[status]}",
        )
        await _audit(acting, "proposal.funding", row, {"programme": programme, "status": status})
