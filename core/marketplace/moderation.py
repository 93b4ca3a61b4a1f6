"""The territory's moderation of marketplace offers: every provider's offers, suspend, reinstate.

Coordinators and territory admins (``offers.moderate``) see the offers of every provider of the
territory and may **suspend** a published or paused one with a coded reason
(:data:`~core.marketplace.offers.SUSPENSION_REASONS`) and an optional note of at most 500
characters (required for « Autre motif »). A suspended offer is out of everything that reads
``status = 'published'``: the search, its public page (404, as an unpublished one), the HSDS and
data·inclusion exports, the simulator, and orders (``place_order`` refuses it). Its provider still
edits it, but can neither publish nor pause it (``core.marketplace.offers.set_status``) until the
territory **reinstates** it: back to ``paused``, so the provider decides when to publish again.

Each move locks the offer row (``SELECT … FOR UPDATE``) and checks its status in one tenant
transaction, so of two moderators suspending at once the second gets a :class:`Conflict`; it
appends one audit entry (``offer.suspended``, ``offer.reinstated``) and notifies the provider
organisation's staff in the application (the offer's title and the reason; never the note, never
anyone's personal data). The reason, note, date and moderator's label live on the offer row
(raw columns of ``service_offer``, migration ``core_2026_11_24t10_00_00_000000``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from core import locale
from core.access.policy import Actor, Permission, decide
from core.audit.trail import Outcome, Record, append
from core.consent.access import audit_actor
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from core.marketplace.offers import STATUS_LABELS, SUSPENSION_REASONS
from core.marketplace.search import clean_text
from core.marketplace.taxonomy import label_of
from core.notifications.service import notify, users_of_organisation
from core.runtime import Runtime

NOTE_MAX = 500
PAGE_SIZE = 25
MAX_PAGE = 1000
SUSPENDABLE = ("published", "paused")
LISTED = ("published", "paused", "suspended")
"""What the queue shows without a status filter: drafts are not public yet (a status filter shows them)."""
STATUS_FILTERS = {
    "published": "Publiées",
    "paused": "En pause",
    "suspended": "Suspendues par le territoire",
    "draft": "Brouillons",
}
"""The queue's status filters, with their French labels (none: :data:`LISTED`)."""


@dataclass(frozen=True)
class ModeratedOffer:
    """One offer as the territory's moderators see it (public information and its moderation)."""

    id: uuid.UUID
    title: str
    service_type: str
    provider_id: uuid.UUID
    provider_name: str
    status: str
    updated_at: dt.datetime
    moderation_reason: str | None
    moderation_note: str
    moderated_at: dt.datetime | None
    moderated_by_label: str

    @property
    def type_label(self) -> str:
        return label_of(self.service_type)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def reason_label(self) -> str:
        return SUSPENSION_REASONS.get(self.moderation_reason or "", self.moderation_reason or "")

    @property
    def suspended(self) -> bool:
        return self.status == "suspended"

    @property
    def can_suspend(self) -> bool:
        return self.status in SUSPENDABLE

    @property
    def public(self) -> bool:
        """Its public page answers (``/t/{slug}/services/offres/{id}``)."""
        return self.status == "published"


@dataclass(frozen=True)
class ModerationPage:
    rows: list[ModeratedOffer]
    total: int
    page: int
    page_size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


_SELECT = """
    SELECT o.id, o.title, o.service_type, o.provider_organisation_id, org.name AS provider_name, o.status,
           o.updated_at, o.moderation_reason, o.moderation_note, o.moderated_at, o.moderated_by_label
    FROM service_offer o
    JOIN organisation org ON org.tenant_id = o.tenant_id AND org.id = o.provider_organisation_id
"""


def _row(row: asyncpg.Record) -> ModeratedOffer:
    return ModeratedOffer(
        id=row["id"],
        title=row["title"],
        service_type=row["service_type"],
        provider_id=row["provider_organisation_id"],
        provider_name=row["provider_name"],
        status=row["status"],
        updated_at=row["updated_at"],
        moderation_reason=row["moderation_reason"],
        moderation_note=row["moderation_note"] or "",
        moderated_at=row["moderated_at"],
        moderated_by_label=row["moderated_by_label"] or "",
    )


def _moderator(actor: Actor) -> uuid.UUID:
    """The actor's tenant; :class:`Forbidden` unless their role there moderates offers."""
    decision = decide(actor, Permission.OFFERS_MODERATE, actor.tenant_id)
    if not decision.allowed or actor.tenant_id is None:
        raise Forbidden(decision.reason)
    return actor.tenant_id


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere (its own % _ \\ matched literally)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def moderation_queue(
    actor: Actor, status: str | None = None, query: str | None = None, page: int = 1
) -> ModerationPage:
    """The territory's offers, most recently changed first, ``PAGE_SIZE`` a page.

    ``status`` one of :data:`STATUS_FILTERS` (None: published, paused and suspended ones);
    ``query`` matched, accents and case aside, anywhere in the title or the provider's name.
    """
    tenant_id = _moderator(actor)
    if status is not None and status not in STATUS_FILTERS:
        raise InvalidInput("statut inconnu", [FieldError("statut", "choisissez un statut de la liste")])
    page = min(max(page, 1), MAX_PAGE)
    text = clean_text(query or "")
    statuses = [status] if status else list(LISTED)
    pattern = _like(text) if text else None
    async with tenant_scope(tenant_id):
        connection = scoped_connection()
        where = (
            " WHERE o.status = ANY($1::text[]) AND ($2::text IS NULL "
            "OR parcours_unaccent(lower(o.title)) LIKE parcours_unaccent(lower($2)) "
            "OR parcours_unaccent(lower(org.name)) LIKE parcours_unaccent(lower($2)))"
        )
        total = await connection.fetchval(
            "SELECT count(*) FROM service_offer o JOIN organisation org "
            "ON org.tenant_id = o.tenant_id AND org.id = o.provider_organisation_id" + where,
            statuses,
            pattern,
        )
        rows = await connection.fetch(
            _SELECT + where + " ORDER BY o.updated_at DESC, o.title, o.id LIMIT $3 OFFSET $4",
            statuses,
            pattern,
            PAGE_SIZE,
            (page - 1) * PAGE_SIZE,
        )
    return ModerationPage([_row(row) for row in rows], int(total), page)


async def moderated_offer(actor: Actor, offer_id: uuid.UUID) -> ModeratedOffer:
    """One offer of the territory as its moderators see it; :class:`NotFound` otherwise."""
    tenant_id = _moderator(actor)
    async with tenant_scope(tenant_id):
        row = await scoped_connection().fetchrow(_SELECT + " WHERE o.id = $1", offer_id)
    if row is None:
        raise NotFound("offre introuvable dans ce territoire")
    return _row(row)


def check_suspension(reason: str, note: str) -> tuple[str, str]:
    """The reason code and the trimmed note; :class:`InvalidInput` naming each wrong field."""
    reason, note = reason.strip(), note.strip()
    errors = []
    if reason not in SUSPENSION_REASONS:
        errors.append(FieldError("reason", "choisissez le motif de la suspension"))
    if len(note) > NOTE_MAX:
        errors.append(FieldError("note", f"{NOTE_MAX} caractères au plus ({len(note)} saisis)"))
    elif reason == "other" and not note:
        errors.append(FieldError("note", "précisez le motif de la suspension"))
    if errors:
        raise InvalidInput("suspension incomplète", errors)
    return reason, note


async def _label(actor: Actor) -> str:
    """« Claire Dupont, DAC des Landes »: who moderated, as the queue shows it."""
    connection = scoped_connection()
    name = await connection.fetchval("SELECT display_name FROM user_account WHERE id = $1", actor.user_id)
    organisation = None
    if actor.organisation_id is not None:
        organisation = await connection.fetchval(
            "SELECT name FROM organisation WHERE id = $1", actor.organisation_id
        )
    words = name or "coordination du territoire"
    return (f"{words}, {organisation}" if organisation else words)[:200]


async def _locked(offer_id: uuid.UUID) -> asyncpg.Record:
    row = await scoped_connection().fetchrow(
        "SELECT id, title, status, provider_organisation_id, moderation_reason, moderated_at "
        "FROM service_offer WHERE id = $1 FOR UPDATE",
        offer_id,
    )
    if row is None:
        raise NotFound("offre introuvable dans ce territoire")
    return row


async def _current(offer_id: uuid.UUID) -> ModeratedOffer:
    """The offer as it is now in the current scope (after a move)."""
    row = await scoped_connection().fetchrow(_SELECT + " WHERE o.id = $1", offer_id)
    if row is None:
        raise NotFound("offre introuvable dans ce territoire")
    return _row(row)


async def _console_link() -> str:
    slug = await scoped_connection().fetchval(
        "SELECT slug FROM tenant WHERE id = current_setting('app.tenant_id')::uuid"
    )
    return f"/t/{slug}/prestataire"


async def suspend_offer(
    runtime: Runtime, actor: Actor, offer_id: uuid.UUID, reason: str, note: str = ""
) -> ModeratedOffer:
    """Suspend a published or paused offer of the territory; return it as it is now.

    :class:`InvalidInput` without a known reason (or a note too long, or missing for « Autre
    motif »), :class:`NotFound` for an offer the territory does not hold, :class:`Conflict` for an
    offer already suspended (by someone faster) or still a draft.
    """
    tenant_id = _moderator(actor)
    reason, note = check_suspension(reason, note)
    now = runtime.clock()
    async with tenant_scope(tenant_id):
        offer = await _locked(offer_id)
        if offer["status"] == "suspended":
            reason_label = SUSPENSION_REASONS.get(offer["moderation_reason"], offer["moderation_reason"])
            since = locale.day(locale.paris_day(offer["moderated_at"]))
            raise Conflict(
                f"impossible : l'offre est déjà suspendue depuis le {since} (motif : {reason_label.lower()})"
            )
        if offer["status"] not in SUSPENDABLE:
            raise Conflict("impossible : un brouillon n'est pas public, il n'y a rien à suspendre")
        await scoped_connection().execute(
            "UPDATE service_offer SET status = 'suspended', moderation_reason = $2, moderation_note = $3, "
            "moderated_at = $4, moderated_by_label = $5, updated_at = $4 WHERE id = $1",
            offer_id,
            reason,
            note or None,
            now,
            await _label(actor),
        )
        await append(
            Record(
                audit_actor(actor),
                "offer.suspended",
                Outcome.SUCCESS,
                "service_offer",
                str(offer_id),
                {"from": offer["status"], "reason": reason},
            )
        )
        await notify(
            await users_of_organisation(offer["provider_organisation_id"]),
            "offer.suspended",
            f"Offre suspendue par le territoire : {offer['title']}"[:200],
            f"Motif : {SUSPENSION_REASONS[reason]}. L'offre n'apparaît plus dans la recherche des services "
            "ni dans les exports. Corrigez-la si besoin, puis contactez la coordination du territoire.",
            await _console_link(),
        )
        return await _current(offer_id)


async def reinstate_offer(runtime: Runtime, actor: Actor, offer_id: uuid.UUID) -> ModeratedOffer:
    """Lift the suspension: the offer is paused, its provider publishes it again when ready.

    :class:`NotFound` for an offer the territory does not hold, :class:`Conflict` for one that is
    not suspended (reinstated by someone faster, or never suspended).
    """
    tenant_id = _moderator(actor)
    now = runtime.clock()
    async with tenant_scope(tenant_id):
        offer = await _locked(offer_id)
        if offer["status"] != "suspended":
            now_label = STATUS_LABELS.get(offer["status"], offer["status"]).lower()
            raise Conflict(f"impossible : l'offre n'est pas suspendue (elle est « {now_label} »)")
        await scoped_connection().execute(
            "UPDATE service_offer SET status = 'paused', moderation_reason = NULL, moderation_note = NULL, "
            "moderated_at = $2, moderated_by_label = $3, updated_at = $2 WHERE id = $1",
            offer_id,
            now,
            await _label(actor),
        )
        await append(
            Record(
                audit_actor(actor),
                "offer.reinstated",
                Outcome.SUCCESS,
                "service_offer",
                str(offer_id),
                {"from": "suspended", "to": "paused", "reason": offer["moderation_reason"]},
            )
        )
        await notify(
            await users_of_organisation(offer["provider_organisation_id"]),
            "offer.reinstated",
            f"Offre rétablie par le territoire : {offer['title']}"[:200],
            "La suspension est levée : l'offre est en pause. Publiez-la depuis « Mes offres » quand vous "
            "le souhaitez.",
            await _console_link(),
        )
        return await _current(offer_id)
