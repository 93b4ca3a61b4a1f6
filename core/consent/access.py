"""The one decision point for a person's data, with its audit entry.

Every read or write of personal data asks ``check`` (or ``check_all`` for several categories at
once) before touching the data. Each decision, allowed or denied, appends exactly one entry to the
tenant's hash-chained audit trail, in a transaction of its own so a refusal is recorded even when
the caller then fails. Deny by default: the rules of ``core.consent.rules`` must find a ground.

The audit entry names who (user, role, organisation), what (category, action), why (purpose),
the decision, its basis and the consent it rests on. It never carries personal data: the
justification of a break-glass stays encrypted in its declaration, the entry cites its id.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from core.access.policy import Actor as SessionActor
from core.audit.trail import Actor as AuditActor
from core.audit.trail import Outcome, Record, append
from core.consent.model import Action, Actor, Basis, BreakGlass, DataCategory, Decision, Purpose
from core.consent.rules import decide
from core.consent.store import break_glass_value, latest_break_glass, load_context
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Forbidden, Gone, NotFound
from core.runtime import Runtime

AUDIT_ACTIONS = {Action.READ: "person.read", Action.WRITE: "person.write"}
BREAK_GLASS_FIELD = "break_glass.justification"


class AccessDenied(Forbidden):
    """A refused access; ``decision.reason`` says what was missing."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason)
        self.decision = decision


@dataclass(frozen=True)
class AccessRequest:
    category: DataCategory
    action: Action = Action.READ


def consent_actor(actor: SessionActor) -> Actor:
    """The rules' view of a signed-in user (their role, organisation and person record)."""
    if actor.role is None or actor.tenant_id is None:
        raise Forbidden("aucun rôle dans ce territoire")
    return Actor(
        user_id=actor.user_id,
        role=actor.role,
        organisation_id=actor.organisation_id,
        person_id=actor.person_id,
    )


def audit_actor(actor: SessionActor) -> AuditActor:
    acting_for = str(actor.organisation_id) if actor.organisation_id else (actor.role or "")
    return AuditActor("user", str(actor.user_id), f"{actor.role}:{acting_for}" if actor.role else None)


async def ensure_person(person_id: uuid.UUID) -> None:
    """404 for an unknown person, 410 for an erased file (in the caller's tenant scope)."""
    row = await scoped_connection().fetchrow("SELECT erased_at FROM person WHERE id = $1", person_id)
    if row is None:
        raise NotFound("personne inconnue dans ce territoire")
    if row["erased_at"] is not None:
        raise Gone("le dossier de cette personne a été effacé à sa demande")


async def check_all(
    runtime: Runtime,
    actor: SessionActor,
    person_id: uuid.UUID,
    requests: Iterable[AccessRequest],
    purpose: Purpose,
    *,
    access: str = "file",
) -> dict[AccessRequest, Decision]:
    """Decide each request at the same instant; one audit entry per decision. ``access`` names what
    the caller does with the data (``file``, ``document``, ``export``…) for the access log."""
    who = consent_actor(actor)
    at = runtime.clock()
    assert actor.tenant_id is not None
    decisions: dict[AccessRequest, Decision] = {}
    async with tenant_scope(actor.tenant_id):
        await ensure_person(person_id)
        context = await load_context(person_id)
        emergency = await _break_glass(runtime, person_id, actor.user_id, at)
        for request in dict.fromkeys(requests):
            decision = decide(
                who,
                person_id,
                request.category,
                request.action,
                purpose,
                consents=context.consents,
                care_team=context.care_team,
                carer_links=context.carer_links,
                at=at,
                break_glass=emergency[1] if emergency else None,
            )
            decisions[request] = decision
            await append(_entry(actor, person_id, request, purpose, decision, access, emergency, at))
    return decisions


async def check(
    runtime: Runtime,
    actor: SessionActor,
    person_id: uuid.UUID,
    category: DataCategory,
    action: Action,
    purpose: Purpose,
    *,
    access: str = "file",
) -> Decision:
    request = AccessRequest(DataCategory(category), Action(action))
    decisions = await check_all(runtime, actor, person_id, [request], purpose, access=access)
    return decisions[request]


async def require(
    runtime: Runtime,
    actor: SessionActor,
    person_id: uuid.UUID,
    category: DataCategory,
    action: Action,
    purpose: Purpose,
    *,
    access: str = "file",
) -> Decision:
    """``check``, raising ``AccessDenied`` (403 with the reason) when refused."""
    decision = await check(runtime, actor, person_id, category, action, purpose, access=access)
    if not decision.allowed:
        raise AccessDenied(decision)
    return decision


async def _break_glass(
    runtime: Runtime, person_id: uuid.UUID, user_id: uuid.UUID, at: dt.datetime
) -> tuple[uuid.UUID, BreakGlass] | None:
    found = await latest_break_glass(person_id, user_id, at)
    if found is None:
        return None
    declaration_id, declared_at, ciphertext = found
    cipher = await runtime.vault.person_cipher(person_id)
    justification = cipher.decrypt_text(BREAK_GLASS_FIELD, ciphertext)
    return declaration_id, break_glass_value(justification, declared_at)


def _entry(
    actor: SessionActor,
    person_id: uuid.UUID,
    request: AccessRequest,
    purpose: Purpose,
    decision: Decision,
    access: str,
    emergency: tuple[uuid.UUID, BreakGlass] | None,
    at: dt.datetime,
) -> Record:
    detail: dict[str, str] = {
        "category": request.category.value,
        "purpose": purpose.value,
        "basis": decision.basis.value,
        "access": access,
        "decided_at": at.isoformat(),
    }
    if decision.consent_id is not None:
        detail["consent_id"] = str(decision.consent_id)
    if decision.basis is Basis.BREAK_GLASS and emergency is not None:
        # The justification may describe the person's health: it stays encrypted in its declaration.
        detail["break_glass_id"] = str(emergency[0])
        detail["reason"] = "accès en urgence (bris de glace)"
    else:
        detail["reason"] = decision.reason
    return Record(
        actor=audit_actor(actor),
        action=AUDIT_ACTIONS[request.action],
        outcome=Outcome.ALLOWED if decision.allowed else Outcome.DENIED,
        target_kind="person",
        target_id=str(person_id),
        detail=detail,
    )
