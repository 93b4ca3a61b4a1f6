"""Reading proposals: the inbox, its counters, one proposal with its history, thread and person.

A proposal row itself holds no personal data (an action type, a deadline, a holder). Who it is
about is personal data: the inbox and the detail show the person's name only when the consent
decision point allows the viewer to read the person's administrative data, and the event's details
only when it allows the event's category; every such decision is audited. A refused viewer still
sees the action and its deadline, with « Personne non identifiée (consentement requis) ».
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg

from core.access.policy import Actor as SessionActor
from core.consent.access import AccessRequest, check_all
from core.consent.model import Action, DataCategory, Purpose
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Forbidden, NotFound
from core.events.catalogue import Catalogue
from core.identity.roles import Role
from core.proposals.comments import Comment, comments
from core.proposals.lifecycle import OPEN, STATUS_LABELS, Move, Status, allowed_moves, reasons_for
from core.proposals.service import NOTE_FIELD, Acting, holder_label, holder_words, holds, may_act
from core.runtime import Runtime

MASKED = "Personne non identifiée (consentement requis)"
PAGE_SIZE = 25


def purpose_for(role: Role | None) -> Purpose:
    """Why a role reads a person's data when it works on a proposal."""
    if role is Role.PROVIDER_STAFF:
        return Purpose.SERVICE_DELIVERY
    if role is Role.FUNDER_AGENT:
        return Purpose.FUNDING_INSTRUCTION
    return Purpose.CARE_COORDINATION


@dataclass(frozen=True)
class InboxFilters:
    scope: str = "mine"
    """``mine`` (held by me or my organisation), ``team`` (accepted by me), ``territory`` (coordinators)."""
    status: str = "open"
    """``open``, ``closed``, ``all`` or one status."""
    due: str = ""
    """``overdue``, ``today``, ``week`` or empty."""
    action_type: str = ""
    person_id: uuid.UUID | None = None
    page: int = 1


@dataclass(frozen=True)
class InboxRow:
    id: uuid.UUID
    action_type: str
    action_label: str
    title: str
    status: Status
    status_label: str
    priority: str
    due_at: dt.datetime
    overdue: bool
    escalation_level: int
    version: int
    person_id: uuid.UUID
    person_label: str
    person_visible: bool
    event_label: str
    holder: str
    moves: list[Move]


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class Counters:
    to_handle: int
    overdue: int
    in_progress: int
    requested_today: int


def _scope_clause(actor: SessionActor, scope: str, args: list[Any]) -> str:
    """SQL restricting proposals to what ``actor`` may list in ``scope``."""
    if scope == "territory":
        if actor.role is not Role.COORDINATOR:
            raise Forbidden("la vue du territoire est réservée à la coordination")
        return "TRUE"
    args.append(actor.user_id)
    user = f"${len(args)}"
    if scope == "team":
        return f"p.assignee_user_id = {user}"
    args.append(actor.organisation_id)
    organisation = f"${len(args)}"
    args.append(actor.role.value if actor.role else "")
    role = f"${len(args)}"
    return (
        f"(p.assignee_user_id = {user} OR (p.assignee_kind = 'organisation' "
        f"AND p.assignee_organisation_id = {organisation}) "
        f"OR (p.assignee_kind = 'role' AND p.assignee = {role}))"
    )


def _filters_clause(filters: InboxFilters, now: dt.datetime, args: list[Any]) -> str:
    clauses = []
    open_statuses = [status.value for status in OPEN]
    if filters.status == "open":
        args.append(open_statuses)
        clauses.append(f"p.status = ANY(${len(args)})")
    elif filters.status == "closed":
        args.append(open_statuses)
        clauses.append(f"NOT p.status = ANY(${len(args)})")
    elif filters.status in {status.value for status in Status}:
        args.append(filters.status)
        clauses.append(f"p.status = ${len(args)}")
    if filters.due:
        args.append(now)
        at = f"${len(args)}::timestamptz"
        if filters.due == "overdue":
            clauses.append(f"p.due_at < {at}")
        elif filters.due == "today":
            clauses.append(f"p.due_at < {at} + interval '1 day'")
        elif filters.due == "week":
            clauses.append(f"p.due_at < {at} + interval '7 days'")
    if filters.action_type:
        args.append(filters.action_type)
        clauses.append(f"p.action_type = ${len(args)}")
    if filters.person_id is not None:
        args.append(filters.person_id)
        clauses.append(f"p.person_id = ${len(args)}")
    return " AND ".join(clauses) or "TRUE"


async def visible_people(
    runtime: Runtime, actor: SessionActor, people: list[uuid.UUID], access: str
) -> dict[uuid.UUID, bool]:
    """May ``actor`` read each person's administrative data (one audited decision each)?"""
    request = AccessRequest(DataCategory.ADMINISTRATIVE, Action.READ)
    visible = {}
    for person_id in dict.fromkeys(people):
        decisions = await check_all(
            runtime, actor, person_id, [request], purpose_for(actor.role), access=access
        )
        visible[person_id] = decisions[request].allowed
    return visible


def person_label(row: asyncpg.Record | dict, visible: bool, today: dt.date) -> str:
    if not visible:
        return MASKED
    if row["erased_at"] is not None:
        return "Dossier effacé"
    born = row["birth_date"]
    age = ""
    if born is not None:
        years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        age = f", {years} ans"
    return f"{row['given_names']} {row['family_name']}{age}"


async def inbox(
    runtime: Runtime, actor: SessionActor, filters: InboxFilters, catalogue: Catalogue
) -> InboxPage:
    """One page of the proposals ``actor`` may list, soonest deadline first."""
    assert actor.tenant_id is not None
    now = runtime.clock()
    args: list[Any] = []
    where = f"{_scope_clause(actor, filters.scope, args)} AND {_filters_clause(filters, now, args)}"
    page = max(filters.page, 1)
    async with tenant_scope(actor.tenant_id):
        connection = scoped_connection()
        total = await connection.fetchval(f"SELECT count(*) FROM action_proposal p WHERE {where}", *args)
        # The holders' names come with the page (one query, not one per row).
        rows = await connection.fetch(
            "SELECT p.*, e.type AS event_type, pe.given_names, pe.family_name, pe.birth_date, pe.erased_at, "
            "ho.name AS holder_organisation_name, hu.display_name AS holder_user_name "
            "FROM action_proposal p JOIN event e ON e.id = p.event_id JOIN person pe ON pe.id = p.person_id "
            "LEFT JOIN organisation ho ON ho.id = p.assignee_organisation_id "
            "LEFT JOIN user_account hu ON hu.id = p.assignee_user_id "
            f"WHERE {where} ORDER BY (p.status IN ('completed', 'cancelled', 'failed', 'rejected')), "
            f"p.due_at, p.id LIMIT {PAGE_SIZE} OFFSET {(page - 1) * PAGE_SIZE}",
            *args,
        )
    labels = {
        row["id"]: holder_words(row, row["holder_organisation_name"], row["holder_user_name"]) for row in rows
    }
    visible = await visible_people(runtime, actor, [row["person_id"] for row in rows], "inbox")
    acting = Acting.user(actor, "")
    return InboxPage(
        rows=[
            _inbox_row(row, visible[row["person_id"]], labels[row["id"]], acting, catalogue, now)
            for row in rows
        ],
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
    )


def _inbox_row(
    row: asyncpg.Record, visible: bool, holder: str, acting: Acting, catalogue: Catalogue, now: dt.datetime
) -> InboxRow:
    status = Status(row["status"])
    moves: list[Move] = []
    if may_act(acting, row):
        moves = [m for m in allowed_moves(status) if m != Move.CANCEL]
    return InboxRow(
        id=row["id"],
        action_type=row["action_type"],
        action_label=catalogue.action_label(row["action_type"]),
        title=row["title"],
        status=status,
        status_label=STATUS_LABELS[status],
        priority=row["priority"],
        due_at=row["due_at"],
        overdue=status in OPEN and row["due_at"] < now,
        escalation_level=row["escalation_level"],
        version=row["version"],
        person_id=row["person_id"],
        person_label=person_label(row, visible, now.date()),
        person_visible=visible,
        event_label=catalogue.event_label(row["event_type"]),
        holder=holder,
        moves=moves,
    )


async def counters(runtime: Runtime, actor: SessionActor) -> Counters:
    """The inbox's live counters (no personal data, so no consent decision)."""
    assert actor.tenant_id is not None
    args: list[Any] = []
    where = _scope_clause(actor, "mine", args)
    args += [[status.value for status in OPEN], runtime.clock()]
    n = len(args)
    async with tenant_scope(actor.tenant_id):
        row = await scoped_connection().fetchrow(
            "SELECT count(*) FILTER (WHERE p.status IN ('requested', 'received')) AS to_handle, "
            f"count(*) FILTER (WHERE p.due_at < ${n}) AS overdue, "
            "count(*) FILTER (WHERE p.status IN ('accepted', 'in-progress')) AS in_progress, "
            f"count(*) FILTER (WHERE p.created_at > ${n}::timestamptz - interval '1 day') AS requested_today "
            f"FROM action_proposal p WHERE {where} AND p.status = ANY(${n - 1})",
            *args,
        )
    return Counters(row["to_handle"], row["overdue"], row["in_progress"], row["requested_today"])


@dataclass(frozen=True)
class HistoryLine:
    kind: str
    at: dt.datetime
    actor: str
    via: str
    from_status: str | None
    to_status: str | None
    from_assignee: str | None
    to_assignee: str | None
    reason: str | None
    note: str | None


@dataclass(frozen=True)
class Attachment:
    id: uuid.UUID
    media_type: str
    size_bytes: int
    created_at: dt.datetime


@dataclass(frozen=True)
class FundingLine:
    programme: str
    funder_label: str
    status: str
    amount_cents: int | None
    currency: str
    decided_at: dt.datetime | None


@dataclass(frozen=True)
class LinkLine:
    id: uuid.UUID
    recipient: str
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


@dataclass
class ProposalDetail:
    row: InboxRow
    description: str
    suggested_funding: list[str]
    event_id: uuid.UUID
    event_type: str
    event_occurred_at: dt.datetime
    event_details: dict[str, Any] | None
    """None when the viewer may not read the event's category."""
    carrier: str | None
    status_reason: str | None
    can_act: bool
    is_coordinator: bool
    may_read_social: bool
    may_read_documents: bool
    history: list[HistoryLine] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    funding: list[FundingLine] = field(default_factory=list)
    links: list[LinkLine] = field(default_factory=list)


async def _load(proposal_id: uuid.UUID) -> asyncpg.Record:
    row = await scoped_connection().fetchrow(
        "SELECT p.*, e.type AS event_type, e.occurred_at AS event_occurred_at, e.details AS event_details, "
        "pe.given_names, pe.family_name, pe.birth_date, pe.erased_at "
        "FROM action_proposal p JOIN event e ON e.id = p.event_id JOIN person pe ON pe.id = p.person_id "
        "WHERE p.id = $1",
        proposal_id,
    )
    if row is None:
        raise NotFound("action introuvable dans ce territoire")
    return row


async def may_view(actor: SessionActor, row: asyncpg.Record) -> bool:
    """Coordinators, holders, and whoever acted on it before (they keep following it)."""
    acting = Acting.user(actor, "")
    if may_act(acting, row) or holds(acting, row):
        return True
    if actor.organisation_id is not None and row["carrier_organisation_id"] == actor.organisation_id:
        return True
    acted = await scoped_connection().fetchval(
        "SELECT EXISTS (SELECT 1 FROM proposal_history WHERE proposal_id = $1 AND actor_user_id = $2)",
        row["id"],
        actor.user_id,
    )
    return bool(acted)


async def proposal_detail(
    runtime: Runtime, actor: SessionActor, proposal_id: uuid.UUID, catalogue: Catalogue
) -> ProposalDetail:
    """One proposal as ``actor`` may see it (403 when they have nothing to do with it)."""
    assert actor.tenant_id is not None
    async with tenant_scope(actor.tenant_id):
        row = await _load(proposal_id)
        if not await may_view(actor, row):
            raise Forbidden("cette action ne vous concerne pas")
        holder = await holder_label(row)
    spec = catalogue.event(row["event_type"])
    category = spec.category if spec else DataCategory.MEDICAL
    wanted = [
        AccessRequest(DataCategory.ADMINISTRATIVE, Action.READ),
        AccessRequest(category, Action.READ),
        AccessRequest(DataCategory.SOCIAL, Action.READ),
        AccessRequest(DataCategory.DOCUMENTS, Action.READ),
    ]
    decisions = await check_all(
        runtime, actor, row["person_id"], wanted, purpose_for(actor.role), access="proposal"
    )
    allowed = {request.category for request, decision in decisions.items() if decision.allowed}
    now = runtime.clock()
    acting = Acting.user(actor, "")
    detail = ProposalDetail(
        row=_inbox_row(row, DataCategory.ADMINISTRATIVE in allowed, holder, acting, catalogue, now),
        description=row["description"],
        suggested_funding=list(row["suggested_funding"] or []),
        event_id=row["event_id"],
        event_type=row["event_type"],
        event_occurred_at=row["event_occurred_at"],
        event_details=json.loads(row["event_details"]) if category in allowed else None,
        carrier=row["carrier_label"],
        status_reason=reasons_for(Move.CANCEL if row["status"] == "cancelled" else Move.REJECT).get(
            row["status_reason"] or "", row["status_reason"]
        ),
        can_act=may_act(acting, row),
        is_coordinator=actor.role is Role.COORDINATOR,
        may_read_social=DataCategory.SOCIAL in allowed,
        may_read_documents=DataCategory.DOCUMENTS in allowed,
    )
    async with tenant_scope(actor.tenant_id):
        detail.history = await _history(runtime, row, DataCategory.SOCIAL in allowed)
        if detail.may_read_social:
            detail.comments = await comments(runtime, row["person_id"], proposal_id)
        if detail.may_read_documents:
            detail.attachments = await _attachments(proposal_id)
        detail.funding = await funding_lines(proposal_id)
        detail.links = await _links(proposal_id)
    return detail


async def _history(runtime: Runtime, row: asyncpg.Record, with_notes: bool) -> list[HistoryLine]:
    lines = await scoped_connection().fetch(
        "SELECT * FROM proposal_history WHERE proposal_id = $1 ORDER BY at, id", row["id"]
    )
    cipher = None
    if with_notes and any(line["note_ciphertext"] for line in lines):
        cipher = await runtime.vault.person_cipher(row["person_id"])
    result = []
    for line in lines:
        note = None
        if line["note_ciphertext"] is not None:
            note = (
                cipher.decrypt_text(NOTE_FIELD, line["note_ciphertext"]) if cipher else "(motif non visible)"
            )
        reason = None
        if line["reason_code"]:
            reason = {**reasons_for(Move.REJECT), **reasons_for(Move.CANCEL)}.get(
                line["reason_code"], line["reason_code"]
            )
        result.append(
            HistoryLine(
                kind=line["kind"],
                at=line["at"],
                actor=line["actor_label"],
                via=line["via"],
                from_status=STATUS_LABELS[Status(line["from_status"])] if line["from_status"] else None,
                to_status=STATUS_LABELS[Status(line["to_status"])] if line["to_status"] else None,
                from_assignee=line["from_assignee"],
                to_assignee=line["to_assignee"],
                reason=reason,
                note=note,
            )
        )
    return result


_Row = TypeVar("_Row")


async def _rows_of(make: Callable[..., _Row], query: str, proposal_id: uuid.UUID) -> list[_Row]:
    """The rows ``query`` selects for one proposal (``$1``), each made by ``make`` from its columns."""
    return [make(**dict(row)) for row in await scoped_connection().fetch(query, proposal_id)]


async def _attachments(proposal_id: uuid.UUID) -> list[Attachment]:
    return await _rows_of(
        Attachment,
        "SELECT id, media_type, size_bytes, created_at FROM person_document "
        "WHERE proposal_id = $1 AND content_ciphertext IS NOT NULL ORDER BY created_at",
        proposal_id,
    )


async def funding_lines(proposal_id: uuid.UUID) -> list[FundingLine]:
    return await _rows_of(
        FundingLine,
        "SELECT programme, funder_label, status, amount_cents, currency, decided_at FROM proposal_funding "
        "WHERE proposal_id = $1 ORDER BY programme",
        proposal_id,
    )


async def _links(proposal_id: uuid.UUID) -> list[LinkLine]:
    return await _rows_of(
        LinkLine,
        "SELECT id, recipient_label AS recipient, expires_at, revoked_at, last_used_at FROM action_link "
        "WHERE proposal_id = $1 ORDER BY created_at",
        proposal_id,
    )


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    kind: str
    """``event`` or ``proposal``."""
    label: str
    status: str | None
    proposal_id: uuid.UUID | None


async def timeline(
    runtime: Runtime, actor: SessionActor, person_id: uuid.UUID, catalogue: Catalogue
) -> list[TimelineEntry]:
    """The person's events and proposals, newest first — only the events whose category the viewer
    may read (each category decided once, audited)."""
    assert actor.tenant_id is not None
    categories = sorted({spec.category for spec in catalogue.events.values()})
    requests = [AccessRequest(category, Action.READ) for category in categories]
    decisions = await check_all(
        runtime, actor, person_id, requests, purpose_for(actor.role), access="timeline"
    )
    allowed = {request.category for request, decision in decisions.items() if decision.allowed}
    readable = [code for code, spec in catalogue.events.items() if spec.category in allowed]
    async with tenant_scope(actor.tenant_id):
        connection = scoped_connection()
        events = await connection.fetch(
            "SELECT id, type, occurred_at FROM event WHERE person_id = $1 AND type = ANY($2) "
            "ORDER BY occurred_at DESC LIMIT 100",
            person_id,
            readable,
        )
        proposals = await connection.fetch(
            "SELECT p.id, p.action_type, p.status, p.due_at, p.status_changed_at FROM action_proposal p "
            "JOIN event e ON e.id = p.event_id WHERE p.person_id = $1 AND e.type = ANY($2) "
            "ORDER BY p.due_at DESC LIMIT 200",
            person_id,
            readable,
        )
    entries = [
        TimelineEntry(row["occurred_at"], "event", catalogue.event_label(row["type"]), None, None)
        for row in events
    ] + [
        TimelineEntry(
            row["due_at"],
            "proposal",
            catalogue.action_label(row["action_type"]),
            STATUS_LABELS[Status(row["status"])],
            row["id"],
        )
        for row in proposals
    ]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)


async def inbox_row(
    runtime: Runtime, actor: SessionActor, proposal_id: uuid.UUID, catalogue: Catalogue
) -> InboxRow:
    """One proposal as an inbox row, fresh (the row redrawn after a one-click move): 403 when
    ``actor`` has nothing to do with it. One audited decision (the person's name), as in the inbox."""
    assert actor.tenant_id is not None
    async with tenant_scope(actor.tenant_id):
        row = await _load(proposal_id)
        if not await may_view(actor, row):
            raise Forbidden("cette action ne vous concerne pas")
        holder = await holder_label(row)
    visible = await visible_people(runtime, actor, [row["person_id"]], "inbox")
    return _inbox_row(
        row, visible[row["person_id"]], holder, Acting.user(actor, ""), catalogue, runtime.clock()
    )
