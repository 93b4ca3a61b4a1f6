"""What people see of funding requests: the requester's and the person's view of a request (every
funder's answer and the remaining share), a funder's queue and one line as its agent may see it.

A funder's agent sees only the lines of its own organisation; what it sees of the person is decided
per category by the consent decision point (purpose: instruction of a funding; one audited decision
per category), restricted to the categories the programme needs — never medical data.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Protocol

import asyncpg
import msgspec

from core.access.policy import Actor as SessionActor
from core.consent.access import AccessRequest, check_all, ensure_person
from core.consent.model import Action, DataCategory, Purpose
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Forbidden, NotFound
from core.financing.lines import GRANTED, OPEN, REFUSAL_REASONS, STATUS_LABELS, LineStatus
from core.financing.registry import TerritoryFunders
from core.financing.requests import NEEDS_FIELD, NOTE_FIELD, SITUATION_FIELD, require_funding
from core.financing.situation import Situation
from core.funders import Assessment, remaining_share
from core.identity.roles import Role
from core.proposals.queries import MASKED, person_label
from core.runtime import Runtime


@dataclass(frozen=True)
class LineEvent:
    at: dt.datetime
    kind: str
    from_status: str | None
    to_status: str | None
    actor_label: str
    body: str | None


@dataclass(frozen=True)
class LineView:
    id: uuid.UUID
    request_id: uuid.UUID
    funder: str
    funder_label: str
    programme: str
    programme_label: str
    status: LineStatus
    requested_cents: int | None
    decided_cents: int | None
    decided_hours: int | None
    period_start: dt.date | None
    period_end: dt.date | None
    conditions: str | None
    reason: str | None
    note: str | None
    due_at: dt.datetime | None
    submitted_at: dt.datetime | None
    decided_at: dt.datetime | None
    decided_by: str | None
    version: int
    overdue: bool
    history: tuple[LineEvent, ...] = ()

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def open(self) -> bool:
        return self.status in OPEN

    @property
    def question(self) -> str | None:
        """The funder's pending question, when it asked for information."""
        if self.status is not LineStatus.INFORMATION_REQUESTED:
            return None
        asked = [event for event in self.history if event.kind == "question"]
        return asked[-1].body if asked else None


@dataclass(frozen=True)
class RequestView:
    id: uuid.UUID
    person_id: uuid.UUID
    person_label: str
    proposal_id: uuid.UUID | None
    offer_id: uuid.UUID | None
    quote_cents: int | None
    quote_label: str
    situation: Situation | None
    needs: str | None
    document_ids: tuple[uuid.UUID, ...]
    status: str
    created_by_label: str
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    lines: tuple[LineView, ...]
    assessments: dict[str, Assessment] = field(default_factory=dict)
    """Eligibility of each line's programme (and of the others the territory offers), by code."""

    @property
    def granted_cents(self) -> int:
        return sum(line.decided_cents or 0 for line in self.lines if line.status in GRANTED)

    @property
    def remaining_cents(self) -> int | None:
        """The person's remaining share of the quote once the granted amounts are deducted."""
        if self.quote_cents is None:
            return None
        return remaining_share(self.quote_cents, [self.granted_cents])

    @property
    def estimated_remaining_cents(self) -> int | None:
        """The remaining share if every pending line were granted its estimate."""
        if self.quote_cents is None:
            return None
        pending = [
            estimate.amount_cents
            for line in self.lines
            if line.status in OPEN or line.status is LineStatus.DRAFT
            if (assessment := self.assessments.get(line.programme)) is not None
            if (estimate := assessment.estimate) is not None
        ]
        return remaining_share(self.quote_cents, [self.granted_cents, *pending])

    @property
    def answered(self) -> int:
        return sum(1 for line in self.lines if line.status in GRANTED | {LineStatus.REFUSED})


async def _visible(
    runtime: Runtime, actor: SessionActor, people: list[uuid.UUID], access: str
) -> dict[uuid.UUID, bool]:
    """May ``actor`` read each person's identity to instruct a funding (one audited decision each)?
    The purpose is the funding's, whatever the role: a social worker's consent is often only that."""
    request = AccessRequest(DataCategory.ADMINISTRATIVE, Action.READ)
    visible = {}
    for person_id in dict.fromkeys(people):
        decisions = await check_all(
            runtime, actor, person_id, [request], Purpose.FUNDING_INSTRUCTION, access=access
        )
        visible[person_id] = decisions[request].allowed
    return visible


def _labels(funders: TerritoryFunders, funder: str, programme: str) -> tuple[str, str]:
    found = funders.find(programme)
    if found is None:
        return funder, programme
    return found[0].verbose_name, found[1].label


class TextOpener(Protocol):
    def decrypt_text(self, field: str, blob: bytes) -> str: ...


async def _lines(
    cipher: TextOpener | None,
    rows: list[asyncpg.Record],
    funders: TerritoryFunders,
    now: dt.datetime,
    history: bool,
) -> tuple[LineView, ...]:
    events: dict[uuid.UUID, list[LineEvent]] = {}
    if history and rows:
        assert cipher is not None, "a line's history holds encrypted notes"
        for event in await scoped_connection().fetch(
            "SELECT line_id, at, kind, from_status, to_status, actor_label, body_ciphertext "
            "FROM funding_line_event WHERE line_id = ANY($1::uuid[]) ORDER BY at, id",
            [row["id"] for row in rows],
        ):
            body = (
                cipher.decrypt_text(NOTE_FIELD, event["body_ciphertext"])
                if event["body_ciphertext"]
                else None
            )
            events.setdefault(event["line_id"], []).append(
                LineEvent(
                    event["at"],
                    event["kind"],
                    event["from_status"],
                    event["to_status"],
                    event["actor_label"],
                    body,
                )
            )
    views = []
    for row in rows:
        funder_label, programme_label = _labels(funders, row["funder"], row["programme"])
        status = LineStatus(row["status"])
        note = None  # without the person's key (queues), free text stays encrypted
        if cipher is not None and row["note_ciphertext"]:
            note = cipher.decrypt_text(NOTE_FIELD, row["note_ciphertext"])
        views.append(
            LineView(
                id=row["id"],
                request_id=row["request_id"],
                funder=row["funder"],
                funder_label=funder_label,
                programme=row["programme"],
                programme_label=programme_label,
                status=status,
                requested_cents=row["requested_cents"],
                decided_cents=row["decided_cents"],
                decided_hours=row["decided_hours"],
                period_start=row["period_start"],
                period_end=row["period_end"],
                conditions=row["conditions"],
                reason=REFUSAL_REASONS.get(row["reason_code"] or ""),
                note=note,
                due_at=row["due_at"],
                submitted_at=row["submitted_at"],
                decided_at=row["decided_at"],
                decided_by=row["decided_by"],
                version=row["version"],
                overdue=status in OPEN and row["due_at"] is not None and row["due_at"] < now,
                history=tuple(events.get(row["id"], ())),
            )
        )
    return tuple(views)


LINE_COLUMNS = (
    "l.id, l.request_id, l.funder, l.programme, l.status, l.requested_cents, l.decided_cents, "
    "l.decided_hours, l.period_start, l.period_end, l.conditions, l.reason_code, l.note_ciphertext, "
    "l.due_at, l.submitted_at, "
    "l.decided_at, l.decided_by, l.version, l.funder_organisation_id"
)


async def request_view(
    runtime: Runtime, actor: SessionActor, request_id: uuid.UUID, funders: TerritoryFunders
) -> RequestView:
    """The whole request for its requester, the person or their carer: consent must allow reading the
    person's funding data (purpose: instruction of a funding)."""
    if actor.tenant_id is None or actor.role is Role.FUNDER_AGENT:
        raise NotFound("demande de financement inconnue")
    async with tenant_scope(actor.tenant_id):
        row = await scoped_connection().fetchrow(
            "SELECT r.*, p.given_names, p.family_name, p.birth_date, p.erased_at FROM funding_request r "
            "JOIN person p ON p.id = r.person_id WHERE r.id = $1",
            request_id,
        )
    if row is None:
        raise NotFound("demande de financement inconnue")
    if actor.role is Role.PERSON and actor.person_id != row["person_id"]:
        raise NotFound("demande de financement inconnue")
    await require_funding(runtime, actor, row["person_id"], Action.READ)
    visible = await _visible(runtime, actor, [row["person_id"]], "funding")
    async with tenant_scope(actor.tenant_id):
        cipher = await runtime.vault.person_cipher(row["person_id"])
    now = runtime.clock()
    async with tenant_scope(actor.tenant_id):
        rows = await scoped_connection().fetch(
            f"SELECT {LINE_COLUMNS} FROM funding_line l WHERE l.request_id = $1 ORDER BY l.programme",
            request_id,
        )
        lines = await _lines(cipher, list(rows), funders, now, history=True)
    situation = (
        msgspec.json.decode(cipher.decrypt(SITUATION_FIELD, row["situation_ciphertext"]), type=Situation)
        if row["situation_ciphertext"]
        else None
    )
    assessments: dict[str, Assessment] = {}
    if situation is not None:
        for funder, programme in funders.programmes():
            assessments[programme.code] = funder.assess(programme, situation, row["quote_cents"])
    return RequestView(
        id=row["id"],
        person_id=row["person_id"],
        person_label=person_label(row, visible[row["person_id"]], now.date()),
        proposal_id=row["proposal_id"],
        offer_id=row["offer_id"],
        quote_cents=row["quote_cents"],
        quote_label=row["quote_label"],
        situation=situation,
        needs=cipher.decrypt_text(NEEDS_FIELD, row["needs_ciphertext"]) if row["needs_ciphertext"] else None,
        document_ids=tuple(row["document_ids"] or ()),
        status=row["status"],
        created_by_label=row["created_by_label"],
        created_at=row["created_at"],
        submitted_at=row["submitted_at"],
        lines=lines,
        assessments=assessments,
    )


@dataclass(frozen=True)
class RequestSummary:
    id: uuid.UUID
    person_id: uuid.UUID
    person_label: str
    status: str
    created_at: dt.datetime
    quote_label: str
    lines: tuple[tuple[str, str], ...]
    """(programme label, status label) of each line."""


async def requests_of_person(
    runtime: Runtime, actor: SessionActor, person_id: uuid.UUID, funders: TerritoryFunders
) -> list[RequestSummary]:
    """A person's requests, newest first (the portal and the person's file)."""
    assert actor.tenant_id is not None
    await require_funding(runtime, actor, person_id, Action.READ)
    return await _summaries(runtime, actor, "r.person_id = $1", [person_id], funders)


async def requests_by_me(
    runtime: Runtime, actor: SessionActor, funders: TerritoryFunders
) -> list[RequestSummary]:
    """The requests ``actor`` created, newest first; names only where consent allows."""
    assert actor.tenant_id is not None
    return await _summaries(runtime, actor, "r.created_by_user_id = $1", [actor.user_id], funders)


async def _summaries(
    runtime: Runtime, actor: SessionActor, where: str, args: list[object], funders: TerritoryFunders
) -> list[RequestSummary]:
    assert actor.tenant_id is not None
    async with tenant_scope(actor.tenant_id):
        rows = await scoped_connection().fetch(
            "SELECT r.id, r.person_id, r.status, r.created_at, r.quote_label, p.given_names, p.family_name, "
            "p.birth_date, p.erased_at, coalesce(array_agg(l.programme ORDER BY l.programme) "
            "FILTER (WHERE l.id IS NOT NULL), '{}') AS programmes, coalesce(array_agg(l.status ORDER BY "
            "l.programme) FILTER (WHERE l.id IS NOT NULL), '{}') AS statuses FROM funding_request r "
            "JOIN person p ON p.id = r.person_id LEFT JOIN funding_line l ON l.request_id = r.id "
            f"WHERE {where} GROUP BY r.id, p.id ORDER BY r.created_at DESC LIMIT 200",
            *args,
        )
    visible = await _visible(runtime, actor, [row["person_id"] for row in rows], "funding")
    today = runtime.clock().date()
    return [
        RequestSummary(
            id=row["id"],
            person_id=row["person_id"],
            person_label=person_label(row, visible[row["person_id"]], today),
            status=row["status"],
            created_at=row["created_at"],
            quote_label=row["quote_label"],
            lines=tuple(
                (_labels(funders, "", code)[1], STATUS_LABELS[LineStatus(status)])
                for code, status in zip(row["programmes"], row["statuses"], strict=True)
            ),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class QueueItem:
    line: LineView
    person_label: str


def _funder_agent(actor: SessionActor) -> uuid.UUID:
    if actor.role is not Role.FUNDER_AGENT or actor.organisation_id is None or actor.tenant_id is None:
        raise Forbidden("réservé aux agents d'un financeur")
    return actor.organisation_id


QUEUE_FILTERS = {
    "a-traiter": ("submitted", "under_review"),
    "en-attente": ("information_requested",),
    "decidees": ("approved", "partially_approved", "refused", "paid"),
}


async def funder_queue(
    runtime: Runtime, actor: SessionActor, funders: TerritoryFunders, show: str = "a-traiter"
) -> list[QueueItem]:
    """The lines of the agent's organisation, soonest deadline first (decided ones: latest first)."""
    organisation = _funder_agent(actor)
    statuses = list(QUEUE_FILTERS.get(show, QUEUE_FILTERS["a-traiter"]))
    order = "l.decided_at DESC" if show == "decidees" else "l.due_at NULLS LAST, l.submitted_at"
    assert actor.tenant_id is not None
    async with tenant_scope(actor.tenant_id):
        rows = await scoped_connection().fetch(
            f"SELECT {LINE_COLUMNS}, r.person_id, p.given_names, p.family_name, p.birth_date, p.erased_at "
            "FROM funding_line l JOIN funding_request r ON r.id = l.request_id "
            "JOIN person p ON p.id = r.person_id "
            f"WHERE l.funder_organisation_id = $1 AND l.status = ANY($2::text[]) ORDER BY {order} LIMIT 200",
            organisation,
            statuses,
        )
    visible = await _visible(runtime, actor, [row["person_id"] for row in rows], "funding")
    now = runtime.clock()
    lines = await _lines(None, list(rows), funders, now, history=False)
    return [
        QueueItem(line, person_label(row, visible[row["person_id"]], now.date()))
        for line, row in zip(lines, rows, strict=True)
    ]


@dataclass(frozen=True)
class FunderLineView:
    """One line as the funder's agent sees it: only the categories consent allows and it needs."""

    line: LineView
    person_label: str
    allowed: frozenset[DataCategory]
    refused: dict[DataCategory, str]
    """Categories the programme needs that consent refused, with the reason."""
    identity: dict[str, str]
    situation: dict[str, str]
    """Labelled facts of the situation, only those of allowed categories."""
    needs: str | None
    quote_label: str
    quote_cents: int | None
    documents: tuple[tuple[uuid.UUID, str], ...]
    assessment: Assessment | None
    other_funders: int
    """How many other funders were asked (never which, nor their answers)."""


async def funder_line(
    runtime: Runtime, actor: SessionActor, line_id: uuid.UUID, funders: TerritoryFunders
) -> FunderLineView:
    from core.financing.disclosure import disclose

    organisation = _funder_agent(actor)
    assert actor.tenant_id is not None
    async with tenant_scope(actor.tenant_id):
        row = await scoped_connection().fetchrow(
            f"SELECT {LINE_COLUMNS}, r.person_id, r.quote_label, r.quote_cents, r.situation_ciphertext, "
            "r.needs_ciphertext, r.document_ids, (SELECT count(*) FROM funding_line o WHERE o.request_id = "
            "l.request_id AND o.id <> l.id AND o.status <> 'draft') AS others "
            "FROM funding_line l JOIN funding_request r ON r.id = l.request_id WHERE l.id = $1",
            line_id,
        )
        if row is None or row["funder_organisation_id"] != organisation or row["status"] == "draft":
            raise NotFound("demande de financement inconnue")
        await ensure_person(row["person_id"])
    found = funders.find(row["programme"])
    needed = found[1].categories if found else frozenset({DataCategory.ADMINISTRATIVE})
    requests = [AccessRequest(category, Action.READ) for category in sorted(needed)]
    decisions = await check_all(
        runtime, actor, row["person_id"], requests, Purpose.FUNDING_INSTRUCTION, access="funding"
    )
    allowed = frozenset(r.category for r, d in decisions.items() if d.allowed)
    refused = {r.category: d.reason for r, d in decisions.items() if not d.allowed}
    async with tenant_scope(actor.tenant_id):
        cipher = await runtime.vault.person_cipher(row["person_id"])
    now = runtime.clock()
    async with tenant_scope(actor.tenant_id):
        (line,) = await _lines(cipher, [row], funders, now, history=True)
        disclosed = await disclose(cipher, row, allowed, now.date())
    assessment = None
    if found is not None and disclosed.situation is not None:
        assessment = found[0].assess(found[1], disclosed.situation, row["quote_cents"])
    return FunderLineView(
        line=line,
        person_label=disclosed.person_label if DataCategory.ADMINISTRATIVE in allowed else MASKED,
        allowed=allowed,
        refused=refused,
        identity=disclosed.identity,
        situation=disclosed.facts,
        needs=disclosed.needs,
        quote_label=row["quote_label"] if DataCategory.FUNDING in allowed else "",
        quote_cents=row["quote_cents"] if DataCategory.FUNDING in allowed else None,
        documents=disclosed.documents,
        assessment=assessment,
        other_funders=row["others"],
    )
