"""Funding requests: one request for a person, fanned out as one line per funder programme, each
line followed to its funder's answer.

Every change is one transaction: the line row is locked (``FOR UPDATE``) and its status and version
re-read, one history row and one audit entry are appended, and when the request answers a routed
action its funding line in the follow-up record (``proposal_funding``) is brought up to date. The
situation and the needs are stored encrypted with the person's key; history notes too.
Reads and writes of the person's data go through the consent decision point (purpose: instruction
of a funding), and a funder's agent only ever sees its own organisation's lines.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg
import msgspec

from core import locale
from core.access.policy import Actor as SessionActor
from core.audit.trail import Outcome, Record, append
from core.consent.access import audit_actor, ensure_person, require
from core.consent.model import Action, DataCategory, Purpose
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from core.financing.lines import (
    FUNDER_MOVES,
    FUNDING_STATUS,
    OPEN,
    REQUESTER_MOVES,
    STATUS_LABELS,
    LineMove,
    LineStatus,
    check_move,
)
from core.financing.registry import TerritoryFunders
from core.financing.situation import Situation
from core.identity.people import age_on
from core.identity.roles import Role
from core.notifications.service import notify, users_of_organisation, users_of_person
from core.runtime import Runtime

SITUATION_FIELD = "funding_request.situation"
NEEDS_FIELD = "funding_request.needs"
NOTE_FIELD = "funding_line.note"
MAX_NEEDS = 4000
REQUESTER_ROLES = frozenset(
    {Role.PROFESSIONAL, Role.SOCIAL_WORKER, Role.COORDINATOR, Role.PERSON, Role.CARER}
)


@dataclass(frozen=True)
class RequestInput:
    """A new request as typed: the programmes to ask, the situation, the needs, the quote."""

    programmes: tuple[str, ...]
    situation: Situation
    needs: str = ""
    offer_id: uuid.UUID | None = None
    quote_cents: int | None = None
    document_ids: tuple[uuid.UUID, ...] = ()
    proposal_id: uuid.UUID | None = None


def _tenant(actor: SessionActor) -> uuid.UUID:
    if actor.tenant_id is None or actor.role is None:
        raise Forbidden("aucun rôle dans ce territoire")
    return actor.tenant_id


def _requester(actor: SessionActor) -> None:
    if actor.role not in REQUESTER_ROLES:
        raise Forbidden("votre rôle ne permet pas de demander un financement")


async def require_funding(
    runtime: Runtime, actor: SessionActor, person_id: uuid.UUID, action: Action
) -> None:
    """Consent must allow ``action`` on the person's funding data for the instruction of a funding
    (one audited decision; ``AccessDenied`` otherwise)."""
    await require(
        runtime, actor, person_id, DataCategory.FUNDING, action, Purpose.FUNDING_INSTRUCTION, access="funding"
    )


async def _check_request_writer(runtime: Runtime, actor: SessionActor, request_id: uuid.UUID) -> uuid.UUID:
    """The person of a request, once consent allows ``actor`` to write their funding data."""
    async with tenant_scope(_tenant(actor)):
        person_id: uuid.UUID | None = await scoped_connection().fetchval(
            "SELECT person_id FROM funding_request WHERE id = $1", request_id
        )
    if person_id is None:
        raise NotFound("demande de financement inconnue")
    await require_funding(runtime, actor, person_id, Action.WRITE)
    return person_id


async def situation_from_file(person_id: uuid.UUID, today: dt.date) -> Situation:
    """What the person's file already says (age, commune, living alone, days since the last
    discharge), in the caller's tenant scope. The caller has checked consent."""
    connection = scoped_connection()
    row = await connection.fetchrow(
        "SELECT birth_date, commune_insee, lives_alone FROM person WHERE id = $1", person_id
    )
    if row is None:
        raise NotFound("personne inconnue dans ce territoire")
    discharged = await connection.fetchval(
        "SELECT max(occurred_at) FROM event WHERE person_id = $1 AND type = 'hospital_discharge'", person_id
    )
    days = None
    if discharged is not None and discharged.date() <= today:
        days = (today - discharged.date()).days
    return Situation(
        age=age_on(row["birth_date"], today) if row["birth_date"] else None,
        commune_insee=row["commune_insee"],
        lives_alone=row["lives_alone"],
        days_since_discharge=days if days is not None and days <= 3650 else None,
    )


def _check_programmes(funders: TerritoryFunders, codes: tuple[str, ...]) -> list[str]:
    unique = list(dict.fromkeys(code.strip() for code in codes if code.strip()))
    if not unique:
        raise InvalidInput(
            "demande incomplète", [FieldError("programmes", "choisissez au moins un financeur")]
        )
    unknown = [code for code in unique if funders.find(code) is None]
    if unknown:
        raise InvalidInput(
            "programme inconnu", [FieldError("programmes", f"programme non proposé ici : {unknown[0]}")]
        )
    return unique


async def _insert_lines(
    tenant_id: uuid.UUID,
    request_id: uuid.UUID,
    funders: TerritoryFunders,
    codes: list[str],
    requested_cents: int | None,
) -> list[uuid.UUID]:
    """Add draft lines for ``codes`` not yet on the request (a known programme is kept as is)."""
    added = []
    for code in codes:
        found = funders.find(code)
        assert found is not None
        funder, _programme = found
        line_id = uuid.uuid4()
        inserted = await scoped_connection().fetchval(
            "INSERT INTO funding_line (id, tenant_id, request_id, funder, programme, funder_organisation_id, "
            "status, requested_cents, updated_at, version) "
            "VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, now(), 1) "
            "ON CONFLICT (tenant_id, request_id, programme) DO NOTHING RETURNING id",
            line_id,
            tenant_id,
            request_id,
            funder.identifier,
            code,
            funders.organisations.get(funder.identifier),
            requested_cents,
        )
        if inserted is not None:
            added.append(line_id)
    return added


async def create_request(
    runtime: Runtime,
    actor: SessionActor,
    label: str,
    person_id: uuid.UUID,
    given: RequestInput,
    funders: TerritoryFunders,
) -> uuid.UUID:
    """Create a draft request with one line per chosen programme; consent must allow writing the
    person's funding data for the instruction of a funding."""
    tenant_id = _tenant(actor)
    _requester(actor)
    codes = _check_programmes(funders, given.programmes)
    needs = given.needs.strip()
    if len(needs) > MAX_NEEDS:
        raise InvalidInput("besoins trop longs", [FieldError("needs", f"{MAX_NEEDS} caractères au plus")])
    if given.quote_cents is not None and not 0 <= given.quote_cents <= 100_000_000:
        raise InvalidInput("devis invalide", [FieldError("quote", "montant du devis invalide")])
    await require_funding(runtime, actor, person_id, Action.WRITE)
    async with tenant_scope(tenant_id):
        cipher = await runtime.vault.person_cipher(person_id)
    request_id = uuid.uuid4()
    async with tenant_scope(tenant_id):
        await ensure_person(person_id)
        quote_label = ""
        if given.offer_id is not None:
            offer = await scoped_connection().fetchrow(
                "SELECT o.title, org.name FROM service_offer o JOIN organisation org "
                "ON org.id = o.provider_organisation_id WHERE o.id = $1",
                given.offer_id,
            )
            if offer is None:
                raise InvalidInput(
                    "offre inconnue", [FieldError("offer", "offre inconnue dans ce territoire")]
                )
            quote_label = f"{offer['title']} — {offer['name']}"[:300]
        documents = await _own_documents(person_id, given.document_ids)
        await scoped_connection().execute(
            "INSERT INTO funding_request (id, tenant_id, person_id, proposal_id, offer_id, quote_cents, "
            "quote_label, situation_ciphertext, needs_ciphertext, document_ids, status, created_by_user_id, "
            "created_by_label, created_at, version) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'draft', $11, $12, now(), 1)",
            request_id,
            tenant_id,
            person_id,
            given.proposal_id,
            given.offer_id,
            given.quote_cents,
            quote_label,
            cipher.encrypt(SITUATION_FIELD, msgspec.json.encode(given.situation)),
            cipher.encrypt(NEEDS_FIELD, needs) if needs else None,
            documents,
            actor.user_id,
            label[:300],
        )
        await _insert_lines(tenant_id, request_id, funders, codes, given.quote_cents)
        await append(
            Record(
                actor=audit_actor(actor),
                action="funding.request.create",
                outcome=Outcome.SUCCESS,
                target_kind="funding_request",
                target_id=str(request_id),
                detail={"programmes": codes},
            )
        )
    return request_id


async def _own_documents(person_id: uuid.UUID, ids: tuple[uuid.UUID, ...]) -> list[uuid.UUID]:
    if not ids:
        return []
    found = await scoped_connection().fetch(
        "SELECT id FROM person_document WHERE person_id = $1 AND id = ANY($2::uuid[])", person_id, list(ids)
    )
    if len(found) != len(set(ids)):
        raise InvalidInput("document inconnu", [FieldError("documents", "document absent du dossier")])
    return list(dict.fromkeys(ids))


async def draft_for_proposal(
    tenant_id: uuid.UUID,
    proposal_id: uuid.UUID,
    person_id: uuid.UUID,
    programmes: tuple[str, ...],
    funders: TerritoryFunders,
) -> uuid.UUID | None:
    """Prepare the draft request of a routed « demande de financement » (in the routing transaction).

    Holds the suggested programmes the territory offers and nothing personal: the social worker
    completes the situation and sends it. Idempotent: one request per proposal.
    """
    codes = [code for code in dict.fromkeys(programmes) if funders.find(code) is not None]
    if not codes:
        return None
    request_id = await scoped_connection().fetchval(
        "INSERT INTO funding_request (id, tenant_id, person_id, proposal_id, document_ids, status, "
        "created_by_label, created_at, version) VALUES ($1, $2, $3, $4, '{}', 'draft', $5, now(), 1) "
        "ON CONFLICT (tenant_id, proposal_id) WHERE proposal_id IS NOT NULL DO NOTHING RETURNING id",
        uuid.uuid4(),
        tenant_id,
        person_id,
        proposal_id,
        "Parcours (proposition d'action)",
    )
    if request_id is None:
        return None
    await _insert_lines(tenant_id, request_id, funders, codes, None)
    return request_id


async def complete_draft(
    runtime: Runtime,
    actor: SessionActor,
    request_id: uuid.UUID,
    situation: Situation,
    needs: str,
    quote_cents: int | None,
) -> None:
    """Give (or correct) the situation, needs and quote of a draft request before it is sent — the
    draft a routed proposal prepared holds none. Refused once the request was sent."""
    tenant_id = _tenant(actor)
    _requester(actor)
    needs = needs.strip()
    if len(needs) > MAX_NEEDS:
        raise InvalidInput("besoins trop longs", [FieldError("needs", f"{MAX_NEEDS} caractères au plus")])
    if quote_cents is not None and not 0 <= quote_cents <= 100_000_000:
        raise InvalidInput("devis invalide", [FieldError("quote", "montant du devis invalide")])
    person_id = await _check_request_writer(runtime, actor, request_id)
    async with tenant_scope(tenant_id):
        cipher = await runtime.vault.person_cipher(person_id)
    async with tenant_scope(tenant_id):
        request = await _lock_request(request_id)
        if request["status"] != "draft":
            raise Conflict("cette demande est déjà envoyée")
        await scoped_connection().execute(
            "UPDATE funding_request SET situation_ciphertext = $2, needs_ciphertext = $3, "
            "quote_cents = coalesce($4, quote_cents), version = version + 1 WHERE id = $1",
            request_id,
            cipher.encrypt(SITUATION_FIELD, msgspec.json.encode(situation)),
            cipher.encrypt(NEEDS_FIELD, needs) if needs else None,
            quote_cents,
        )
        if quote_cents is not None:
            await scoped_connection().execute(
                "UPDATE funding_line SET requested_cents = $2 WHERE request_id = $1 AND status = 'draft'",
                request_id,
                quote_cents,
            )
        await append(
            Record(
                actor=audit_actor(actor),
                action="funding.request.complete",
                outcome=Outcome.SUCCESS,
                target_kind="funding_request",
                target_id=str(request_id),
            )
        )


async def _lock_request(request_id: uuid.UUID) -> asyncpg.Record:
    row = await scoped_connection().fetchrow(
        "SELECT id, person_id, proposal_id, status, quote_cents, version FROM funding_request "
        "WHERE id = $1 FOR UPDATE",
        request_id,
    )
    if row is None:
        raise NotFound("demande de financement inconnue")
    return row


async def add_programmes(
    runtime: Runtime,
    actor: SessionActor,
    request_id: uuid.UUID,
    programmes: tuple[str, ...],
    funders: TerritoryFunders,
) -> list[uuid.UUID]:
    """Add funders to a request in one click. On a request already sent, the new lines are sent at
    once (with their own deadline); on a draft they wait for the sending."""
    tenant_id = _tenant(actor)
    _requester(actor)
    codes = _check_programmes(funders, programmes)
    await _check_request_writer(runtime, actor, request_id)
    async with tenant_scope(tenant_id):
        request = await _lock_request(request_id)
        if request["status"] == "closed":
            raise Conflict("cette demande est close")
        added = await _insert_lines(tenant_id, request_id, funders, codes, request["quote_cents"])
        if request["status"] == "submitted":
            await _send_lines(runtime, actor, request, funders, only=added)
        await append(
            Record(
                actor=audit_actor(actor),
                action="funding.request.add",
                outcome=Outcome.SUCCESS,
                target_kind="funding_request",
                target_id=str(request_id),
                detail={"programmes": codes, "added": len(added)},
            )
        )
    return added


async def submit(
    runtime: Runtime, actor: SessionActor, request_id: uuid.UUID, funders: TerritoryFunders
) -> int:
    """Send every draft line to its funder; return how many were sent.

    Refused when a line's funder has no instructing organisation in the territory, or when the
    situation was never given (a draft prepared by routing).
    """
    tenant_id = _tenant(actor)
    _requester(actor)
    await _check_request_writer(runtime, actor, request_id)
    async with tenant_scope(tenant_id):
        request = await _lock_request(request_id)
        has_situation = await scoped_connection().fetchval(
            "SELECT situation_ciphertext IS NOT NULL FROM funding_request WHERE id = $1", request_id
        )
        if not has_situation:
            raise InvalidInput(
                "demande incomplète", [FieldError("situation", "complétez la situation de la personne")]
            )
        sent = await _send_lines(runtime, actor, request, funders, only=None)
        if not sent:
            raise Conflict("aucun financement en brouillon à envoyer")
        await scoped_connection().execute(
            "UPDATE funding_request SET status = 'submitted', submitted_at = coalesce(submitted_at, now()), "
            "version = version + 1 WHERE id = $1",
            request_id,
        )
    return sent


async def _send_lines(
    runtime: Runtime,
    actor: SessionActor,
    request: asyncpg.Record,
    funders: TerritoryFunders,
    only: list[uuid.UUID] | None,
) -> int:
    rows = await scoped_connection().fetch(
        "SELECT id, funder, programme, funder_organisation_id FROM funding_line "
        "WHERE request_id = $1 AND status = 'draft' AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[])) "
        "ORDER BY programme FOR UPDATE",
        request["id"],
        only,
    )
    now = runtime.clock()
    for row in rows:
        found = funders.find(row["programme"])
        organisation = row["funder_organisation_id"] or funders.organisations.get(row["funder"])
        if found is None or organisation is None:
            name = found[0].verbose_name if found else row["programme"]
            raise InvalidInput(
                "financeur non joignable",
                [FieldError("programmes", f"aucun organisme n'instruit « {name} » dans ce territoire")],
            )
        funder, programme = found
        due = now + dt.timedelta(days=funder.values(programme).number("decision_days"))
        await scoped_connection().execute(
            "UPDATE funding_line SET status = 'submitted', funder_organisation_id = $2, submitted_at = $3, "
            "due_at = $4, updated_at = $3, version = version + 1 WHERE id = $1",
            row["id"],
            organisation,
            now,
            due,
        )
        await _history(row["id"], "status", LineStatus.DRAFT, LineStatus.SUBMITTED, actor_label(actor), actor)
        await _project(request, row["programme"], funder.verbose_name, LineStatus.SUBMITTED, None, now)
        await notify(
            await users_of_organisation(organisation),
            "funding.submitted",
            f"Nouvelle demande : {programme.label}"[:200],
            "Une demande de financement attend votre instruction.",
            f"/t/{await _slug()}/financeur/demandes/{row['id']}",
        )
        await append(
            Record(
                actor=audit_actor(actor),
                action="funding.line.submitted",
                outcome=Outcome.SUCCESS,
                target_kind="funding_line",
                target_id=str(row["id"]),
                detail={"programme": row["programme"]},
            )
        )
    return len(rows)


async def _slug() -> str:
    """The current tenant's slug, for links in notifications."""
    return str(
        await scoped_connection().fetchval(
            "SELECT slug FROM tenant WHERE id = current_setting('app.tenant_id')::uuid"
        )
    )


def actor_label(actor: SessionActor) -> str:
    return f"{actor.role.value if actor.role else 'utilisateur'}:{actor.user_id}"


async def _history(
    line_id: uuid.UUID,
    kind: str,
    before: LineStatus | None,
    after: LineStatus | None,
    label: str,
    actor: SessionActor | None,
    body: bytes | None = None,
) -> None:
    await scoped_connection().execute(
        "INSERT INTO funding_line_event (id, tenant_id, line_id, at, kind, from_status, to_status, "
        "actor_label, actor_user_id, body_ciphertext) "
        "SELECT $1, tenant_id, id, now(), $3, $4, $5, $6, $7, $8 FROM funding_line WHERE id = $2",
        uuid.uuid4(),
        line_id,
        kind,
        before.value if before else None,
        after.value if after else None,
        label[:300],
        # An API client acting for a funder (no membership) has no user account to point at.
        actor.user_id if actor is not None and actor.membership_id is not None else None,
        body,
    )


async def _project(
    request: asyncpg.Record | dict,
    programme: str,
    funder_label: str,
    status: LineStatus,
    amount_cents: int | None,
    now: dt.datetime,
) -> None:
    """Bring the routed action's funding line (``proposal_funding``) in step with the request line."""
    if request["proposal_id"] is None or status not in FUNDING_STATUS:
        return
    await scoped_connection().execute(
        "INSERT INTO proposal_funding (id, tenant_id, proposal_id, programme, funder_label, status, "
        "amount_cents, currency, recorded_by, created_at, decided_at) "
        "SELECT $1, tenant_id, id, $3, $4, $5::text, $6, 'EUR', 'Guichet unique des financements', $7, "
        "CASE WHEN $5::text = 'requested' THEN NULL ELSE $7::timestamptz END "
        "FROM action_proposal WHERE id = $2 "
        "ON CONFLICT (tenant_id, proposal_id, programme) DO UPDATE SET status = EXCLUDED.status, "
        "funder_label = EXCLUDED.funder_label, amount_cents = EXCLUDED.amount_cents, "
        "decided_at = EXCLUDED.decided_at",
        uuid.uuid4(),
        request["proposal_id"],
        programme,
        funder_label[:200],
        FUNDING_STATUS[status],
        amount_cents,
        now,
    )


async def move_line(
    runtime: Runtime,
    actor: SessionActor,
    label: str,
    line_id: uuid.UUID,
    move: LineMove,
    funders: TerritoryFunders,
) -> LineStatus:
    """Apply a funder's decision (its agents only) or a requester's answer / withdrawal.

    Raises ``Conflict`` when the line moved since the caller displayed it (status or version), with
    who moved it and when; ``Forbidden`` when the actor may not make this move.
    """
    tenant_id = _tenant(actor)
    check_move(move)
    async with tenant_scope(tenant_id):
        line = await _lock_line(line_id)
        funder_side = actor.role is Role.FUNDER_AGENT
        if funder_side:
            if actor.organisation_id is None or line["funder_organisation_id"] != actor.organisation_id:
                raise NotFound("demande de financement inconnue")
        else:
            _requester(actor)
    if not funder_side:
        await require_funding(runtime, actor, line["person_id"], Action.WRITE)
    async with tenant_scope(tenant_id):
        cipher = await runtime.vault.person_cipher(line["person_id"])
    async with tenant_scope(tenant_id):
        line = await _lock_line(line_id)
        current = LineStatus(line["status"])
        if move.expected_version is not None and move.expected_version != line["version"]:
            raise Conflict(await _moved_since(line_id, current))
        allowed = (FUNDER_MOVES if funder_side else REQUESTER_MOVES).get(current, frozenset())
        if move.to not in allowed:
            if current is move.to or current not in OPEN | {LineStatus.DRAFT}:
                raise Conflict(await _moved_since(line_id, current))
            raise Forbidden(f"impossible depuis le statut « {STATUS_LABELS[current]} »")
        if move.to is LineStatus.SUBMITTED:
            raise Conflict("envoyez la demande entière (bouton « Envoyer »)")
        now = runtime.clock()
        note = move.note.strip()
        body = cipher.encrypt(NOTE_FIELD, note) if note else None
        decided = move.to in (LineStatus.APPROVED, LineStatus.PARTIALLY_APPROVED, LineStatus.REFUSED)
        await scoped_connection().execute(
            "UPDATE funding_line SET status = $2, updated_at = $3, version = version + 1, "
            "decided_cents = CASE WHEN $4 THEN $5 ELSE decided_cents END, "
            "decided_hours = CASE WHEN $4 THEN $6 ELSE decided_hours END, "
            "period_start = CASE WHEN $4 THEN $7 ELSE period_start END, "
            "period_end = CASE WHEN $4 THEN $8 ELSE period_end END, "
            "conditions = CASE WHEN $4 THEN nullif($9, '') ELSE conditions END, "
            "reason_code = CASE WHEN $4 THEN $10 ELSE reason_code END, "
            "note_ciphertext = CASE WHEN $4 THEN $11 ELSE note_ciphertext END, "
            "decided_at = CASE WHEN $4 THEN $3 ELSE decided_at END, "
            "decided_by = CASE WHEN $4 THEN $12 ELSE decided_by END WHERE id = $1",
            line_id,
            move.to.value,
            now,
            decided,
            move.amount_cents if move.to is not LineStatus.REFUSED else None,
            move.hours if move.to is not LineStatus.REFUSED else None,
            move.period_start if move.to is not LineStatus.REFUSED else None,
            move.period_end if move.to is not LineStatus.REFUSED else None,
            move.conditions.strip() if move.to is not LineStatus.REFUSED else "",
            move.reason_code if move.to is LineStatus.REFUSED else None,
            body,
            label[:300],
        )
        kind = "status"
        if move.to is LineStatus.INFORMATION_REQUESTED:
            kind = "question"
        elif current is LineStatus.INFORMATION_REQUESTED and move.to is LineStatus.UNDER_REVIEW:
            kind = "answer"
        await _history(line_id, kind, current, move.to, label, actor, body)
        amount = (
            move.amount_cents if move.to in (LineStatus.APPROVED, LineStatus.PARTIALLY_APPROVED) else None
        )
        if move.to is LineStatus.PAID:
            amount = line["decided_cents"]
        found = funders.find(line["programme"])
        funder_label = found[0].verbose_name if found else line["funder"]
        await _project(line, line["programme"], funder_label, move.to, amount, now)
        await _tell_the_other_side(line, move.to, funder_side)
        await append(
            Record(
                actor=audit_actor(actor),
                action=f"funding.line.{move.to.value}",
                outcome=Outcome.SUCCESS,
                target_kind="funding_line",
                target_id=str(line_id),
                detail={"from": current.value, "programme": line["programme"]},
            )
        )
    return move.to


async def _lock_line(line_id: uuid.UUID) -> asyncpg.Record:
    row = await scoped_connection().fetchrow(
        "SELECT l.id, l.request_id, l.funder, l.programme, l.funder_organisation_id, l.status, l.version, "
        "l.decided_cents, r.person_id, r.proposal_id, r.created_by_user_id "
        "FROM funding_line l JOIN funding_request r ON r.id = l.request_id WHERE l.id = $1 FOR UPDATE OF l",
        line_id,
    )
    if row is None:
        raise NotFound("demande de financement inconnue")
    return row


async def _moved_since(line_id: uuid.UUID, current: LineStatus) -> str:
    last = await scoped_connection().fetchrow(
        "SELECT actor_label, at FROM funding_line_event WHERE line_id = $1 ORDER BY at DESC LIMIT 1", line_id
    )
    if last is None:
        return f"Impossible : la demande est « {STATUS_LABELS[current]} »."
    return (
        f"Impossible : la demande est déjà « {STATUS_LABELS[current]} » "
        f"({last['actor_label']}, {locale.when(last['at'])})."
    )


async def _tell_the_other_side(line: asyncpg.Record, status: LineStatus, funder_side: bool) -> None:
    """Notify the requester of a funder's move, or the funder of the requester's (no personal data)."""
    slug = await _slug()
    if funder_side:
        recipients = [line["created_by_user_id"]] if line["created_by_user_id"] else []
        await notify(
            recipients,
            "funding.answer",
            f"Financement : {STATUS_LABELS[status].lower()}",
            "Un financeur a répondu à une demande de financement.",
            f"/t/{slug}/financements/{line['request_id']}",
        )
        await notify(
            await users_of_person(line["person_id"]),
            "funding.answer",
            f"Financement : {STATUS_LABELS[status].lower()}",
            "Un financeur a répondu à votre demande de financement.",
            f"/t/{slug}/mon-dossier/financements",
        )
    elif line["funder_organisation_id"] is not None:
        await notify(
            await users_of_organisation(line["funder_organisation_id"]),
            "funding.update",
            f"Demande de financement : {STATUS_LABELS[status].lower()}",
            "Le demandeur a mis à jour une demande de financement.",
            f"/t/{slug}/financeur/demandes/{line['id']}",
        )
