"""A provider's own offers: create, edit, publish and pause them (the provider console).

An offer belongs to one organisation of the directory: only its staff (``offers.manage``, with
that organisation) see and change it. Another organisation's offer is « introuvable » (404), so
its existence does not leak. Offers are never deleted (the application role cannot): an offer
no longer offered is paused. Moves: draft → published, published → paused, paused → published.
The territory may suspend a published or paused offer (``core.marketplace.moderation``): its staff
can still edit it, but neither publish nor pause it until the territory reinstates it (paused).

Every change runs in one tenant transaction with one audit entry (``offer.created``,
``offer.updated``, ``offer.published``, ``offer.paused``). Input is checked here, whatever the
edge (page or API), by :meth:`OfferInput.checked`, which names every wrong field.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass, replace
from functools import cache

import asyncpg
from babel import Locale

from core.access.policy import Actor, Permission, decide
from core.audit.trail import Outcome, Record, append
from core.consent.access import audit_actor
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from core.marketplace.search import COMMUNE, PROGRAMME, UNIT_LABELS
from core.marketplace.taxonomy import label_of, taxonomy
from core.runtime import Runtime

STATUSES = ("draft", "published", "paused", "suspended")
STATUS_LABELS = {
    "draft": "Brouillon",
    "published": "Publiée",
    "paused": "En pause",
    "suspended": "Suspendue par le territoire",
}
SUSPENSION_REASONS = {
    "misleading": "Informations trompeuses ou inexactes",
    "out_of_territory": "Service hors du territoire",
    "unauthorised": "Activité non autorisée (agrément ou autorisation manquant)",
    "duplicate": "Doublon d'une autre offre",
    "complaint": "Réclamation en cours d'examen",
    "other": "Autre motif",
}
"""Why the territory suspends an offer (``moderation_reason``), with the label its provider reads."""
MOVES = {("draft", "published"), ("published", "paused"), ("paused", "published")}
"""Allowed status changes (from, to); a draft is never deleted nor paused: it stays unpublished."""
MOVE_ACTIONS = {"published": "offer.published", "paused": "offer.paused"}

TITLE_MIN, TITLE_MAX = 3, 120
DESCRIPTION_MAX = 2000
SHORT_TEXT_MAX = 500
MAX_PRICE_CENTS = 10**9 - 1
MAX_CAPACITY = 100_000
MAX_LEAD_DAYS = 90
MAX_PROGRAMMES = 10
MAX_LANGUAGES = 10
MAX_COVERAGE = 200
DEPARTEMENT = re.compile(r"^(0[1-9]|1[0-9]|2[1-9AB]|[3-8][0-9]|9[0-5]|97[1-6])$")
"""Metropolitan départements 01–95 (Corsica is 2A/2B, not 20) and overseas 971–976."""
LANGUAGE = re.compile(r"^[a-z]{2}$")


@cache
def _iso_639_1() -> frozenset[str]:
    """Two-letter language codes CLDR names (ISO 639-1)."""
    codes = Locale.parse("fr").languages
    return frozenset(code for code in codes if isinstance(code, str) and LANGUAGE.match(code))


def split_codes(text: str) -> tuple[str, ...]:
    """Codes typed in one field, separated by commas, semicolons or spaces (empty ones dropped)."""
    return tuple(code for code in re.split(r"[\s,;]+", text.strip()) if code)


@dataclass(frozen=True)
class OfferInput:
    """What a provider says of an offer. Field names are the form's (errors name them)."""

    service_type: str
    title: str
    description: str = ""
    price_cents: int | None = None
    price_unit: str | None = None
    capacity_per_week: int | None = None
    lead_time_days: int = 0
    opening_hours: str = ""
    accepted_programmes: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    accessibility: str = ""
    coverage: tuple[str, ...] = ()
    """INSEE commune codes (``40192``, ``2A004``) and/or départements (``40``, ``2B``, ``974``)."""
    site_coverage: tuple[tuple[uuid.UUID, tuple[str, ...]], ...] = ()
    """Where each of the provider's sites (``core.marketplace.providers``) delivers this offer: the
    same codes, per site id. ``coverage`` is what the provider covers itself, without a site."""

    @property
    def communes(self) -> tuple[str, ...]:
        return tuple(code for code in self.coverage if COMMUNE.match(code))

    @property
    def departements(self) -> tuple[str, ...]:
        return tuple(code for code in self.coverage if not COMMUNE.match(code))

    def checked(self) -> OfferInput:
        """This input trimmed and normalised; :class:`InvalidInput` naming every wrong field."""
        clean = replace(
            self,
            service_type=self.service_type.strip(),
            title=" ".join(self.title.split()),
            description=self.description.strip(),
            price_unit=(self.price_unit or "").strip() or None if self.price_cents is not None else None,
            opening_hours=self.opening_hours.strip(),
            accepted_programmes=tuple(dict.fromkeys(p.strip().lower() for p in self.accepted_programmes)),
            languages=tuple(dict.fromkeys(code.strip().lower() for code in self.languages)),
            accessibility=self.accessibility.strip(),
            coverage=_codes(self.coverage),
            site_coverage=tuple((site, _codes(codes)) for site, codes in self.site_coverage if codes),
        )
        errors = clean._errors()
        if errors:
            raise InvalidInput("offre invalide", errors)
        return clean

    def _errors(self) -> list[FieldError]:
        errors = []
        if self.service_type not in taxonomy():
            errors.append(FieldError("service_type", "choisissez un type de service de la liste"))
        if not TITLE_MIN <= len(self.title) <= TITLE_MAX:
            errors.append(FieldError("title", f"intitulé de {TITLE_MIN} à {TITLE_MAX} caractères"))
        if len(self.description) > DESCRIPTION_MAX:
            errors.append(FieldError("description", f"{DESCRIPTION_MAX} caractères au plus"))
        if self.price_cents is not None:
            if not 0 <= self.price_cents <= MAX_PRICE_CENTS:
                errors.append(FieldError("price", "prix en euros, positif ou nul"))
            if self.price_unit not in UNIT_LABELS:
                errors.append(FieldError("price_unit", "choisissez l'unité du prix"))
        if self.capacity_per_week is not None and not 0 <= self.capacity_per_week <= MAX_CAPACITY:
            errors.append(FieldError("capacity_per_week", f"un nombre de 0 à {MAX_CAPACITY}"))
        if not 0 <= self.lead_time_days <= MAX_LEAD_DAYS:
            errors.append(FieldError("lead_time_days", f"un nombre de jours de 0 à {MAX_LEAD_DAYS}"))
        for name in ("opening_hours", "accessibility"):
            if len(getattr(self, name)) > SHORT_TEXT_MAX:
                errors.append(FieldError(name, f"{SHORT_TEXT_MAX} caractères au plus"))
        if len(self.accepted_programmes) > MAX_PROGRAMMES:
            errors.append(FieldError("accepted_programmes", f"{MAX_PROGRAMMES} programmes au plus"))
        elif bad := [p for p in self.accepted_programmes if not PROGRAMME.match(p)]:
            errors.append(
                FieldError(
                    "accepted_programmes",
                    f"code de programme invalide : {bad[0]} (lettres minuscules, chiffres, - _ .)",
                )
            )
        if len(self.languages) > MAX_LANGUAGES:
            errors.append(FieldError("languages", f"{MAX_LANGUAGES} langues au plus"))
        elif bad := [code for code in self.languages if code not in _iso_639_1()]:
            errors.append(
                FieldError(
                    "languages", f"code de langue inconnu : {bad[0]} (deux lettres, par exemple fr, oc)"
                )
            )
        if not self.coverage and not self.site_coverage:
            errors.append(FieldError("coverage", "indiquez au moins une commune ou un département"))
        fields = [("coverage", self.coverage)]
        fields += [(f"coverage_site_{site}", codes) for site, codes in self.site_coverage]
        for field, codes in fields:
            if len(codes) > MAX_COVERAGE:
                errors.append(FieldError(field, f"{MAX_COVERAGE} codes au plus"))
            elif bad := [code for code in codes if not COMMUNE.match(code) and not DEPARTEMENT.match(code)]:
                errors.append(
                    FieldError(
                        field,
                        f"code inconnu : {bad[0][:12]} (commune INSEE à 5 caractères comme 40192, "
                        "ou département comme 40, 2A, 974)",
                    )
                )
        return errors


def _codes(codes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(code.strip().upper() for code in codes))


@dataclass(frozen=True)
class SiteCoverage:
    """Where one of the provider's sites delivers an offer."""

    site_id: uuid.UUID
    site_name: str
    communes: tuple[str, ...]
    departements: tuple[str, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return self.communes + self.departements


@dataclass(frozen=True)
class Offer:
    """One offer as its provider sees it (all statuses)."""

    id: uuid.UUID
    service_type: str
    title: str
    description: str
    price_cents: int | None
    price_unit: str | None
    capacity_per_week: int | None
    lead_time_days: int
    opening_hours: str
    accepted_programmes: tuple[str, ...]
    languages: tuple[str, ...]
    accessibility: str
    status: str
    communes: tuple[str, ...]
    departements: tuple[str, ...]
    updated_at: dt.datetime
    moderation_reason: str | None = None
    """While suspended: a code of :data:`SUSPENSION_REASONS`."""
    moderation_note: str = ""
    moderated_at: dt.datetime | None = None
    sites: tuple[SiteCoverage, ...] = ()
    """Coverage per site of the provider (``communes``/``departements``: the provider's own)."""

    @property
    def type_label(self) -> str:
        return label_of(self.service_type)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def suspended(self) -> bool:
        return self.status == "suspended"

    @property
    def moderation_reason_label(self) -> str:
        return SUSPENSION_REASONS.get(self.moderation_reason or "", self.moderation_reason or "")

    @property
    def coverage(self) -> tuple[str, ...]:
        return self.communes + self.departements

    @property
    def covered_communes(self) -> tuple[str, ...]:
        """Every commune it is delivered to, from the provider itself or any of its sites."""
        return tuple(sorted({*self.communes, *(c for site in self.sites for c in site.communes)}))

    @property
    def covered_departements(self) -> tuple[str, ...]:
        return tuple(sorted({*self.departements, *(d for site in self.sites for d in site.departements)}))

    @property
    def next_statuses(self) -> list[str]:
        """The statuses this offer may move to."""
        return [to for (origin, to) in sorted(MOVES) if origin == self.status]

    def as_input(self) -> OfferInput:
        return OfferInput(
            service_type=self.service_type,
            title=self.title,
            description=self.description,
            price_cents=self.price_cents,
            price_unit=self.price_unit,
            capacity_per_week=self.capacity_per_week,
            lead_time_days=self.lead_time_days,
            opening_hours=self.opening_hours,
            accepted_programmes=self.accepted_programmes,
            languages=self.languages,
            accessibility=self.accessibility,
            coverage=self.coverage,
            site_coverage=tuple((site.site_id, site.codes) for site in self.sites),
        )


OFFER_SELECT = """
    SELECT o.*,
           ARRAY(SELECT c.commune_insee FROM offer_coverage c WHERE c.offer_id = o.id
                 AND c.site_id IS NULL AND c.commune_insee IS NOT NULL ORDER BY c.commune_insee) AS communes,
           ARRAY(SELECT c.departement FROM offer_coverage c WHERE c.offer_id = o.id
                 AND c.site_id IS NULL AND c.departement IS NOT NULL ORDER BY c.departement) AS departements,
           ARRAY(SELECT jsonb_build_object('site', s.id, 'name', s.name,
                        'communes', array_remove(array_agg(c.commune_insee ORDER BY c.commune_insee), NULL),
                        'departements', array_remove(array_agg(c.departement ORDER BY c.departement), NULL))
                 FROM offer_coverage c JOIN provider_site s ON s.id = c.site_id
                 WHERE c.offer_id = o.id GROUP BY s.id, s.name ORDER BY lower(s.name)) AS sites
    FROM service_offer o
"""
"""Offers with their coverage (the provider's own, then per site), for :func:`offer_from_row`; add a WHERE."""
_SELECT = OFFER_SELECT + " WHERE o.provider_organisation_id = $1"


def offer_from_row(row: asyncpg.Record) -> Offer:
    return Offer(
        id=row["id"],
        service_type=row["service_type"],
        title=row["title"],
        description=row["description"],
        price_cents=row["price_cents"],
        price_unit=row["price_unit"],
        capacity_per_week=row["capacity_per_week"],
        lead_time_days=row["lead_time_days"],
        opening_hours=row["opening_hours"] or "",
        accepted_programmes=tuple(row["accepted_programmes"] or ()),
        languages=tuple(row["languages"] or ()),
        accessibility=row["accessibility"] or "",
        status=row["status"],
        communes=tuple(row["communes"]),
        departements=tuple(row["departements"]),
        updated_at=row["updated_at"],
        moderation_reason=row.get("moderation_reason"),
        moderation_note=row.get("moderation_note") or "",
        moderated_at=row.get("moderated_at"),
        sites=tuple(_site_coverage(item) for item in row["sites"]),
    )


def _site_coverage(item: str | dict[str, object]) -> SiteCoverage:
    data = json.loads(item) if isinstance(item, str) else item
    return SiteCoverage(
        uuid.UUID(str(data["site"])),
        str(data["name"]),
        tuple(data["communes"]),  # type: ignore[arg-type]
        tuple(data["departements"]),  # type: ignore[arg-type]
    )


def provider_scope(actor: Actor) -> tuple[uuid.UUID, uuid.UUID]:
    """The actor's tenant and organisation; :class:`Forbidden` unless they manage offers for one."""
    decision = decide(actor, Permission.OFFERS, actor.tenant_id)
    if not decision.allowed:
        raise Forbidden(decision.reason)
    if actor.tenant_id is None or actor.organisation_id is None:
        raise Forbidden("réservé au personnel d'une structure de l'annuaire")
    return actor.tenant_id, actor.organisation_id


async def _owned(organisation_id: uuid.UUID, offer_id: uuid.UUID, *, lock: bool = False) -> Offer:
    """The organisation's offer (in the current scope); NotFound for any other."""
    row = await scoped_connection().fetchrow(
        _SELECT + " AND o.id = $2" + (" FOR UPDATE OF o" if lock else ""), organisation_id, offer_id
    )
    if row is None:
        raise NotFound("offre introuvable")
    return offer_from_row(row)


async def _audit(actor: Actor, action: str, offer_id: uuid.UUID, detail: dict[str, str]) -> None:
    await append(Record(audit_actor(actor), action, Outcome.SUCCESS, "service_offer", str(offer_id), detail))


async def _write_coverage(
    tenant_id: uuid.UUID, offer_id: uuid.UUID, data: OfferInput, organisation_id: uuid.UUID | None = None
) -> None:
    """Replace the offer's coverage; sites must be ``organisation_id``'s (:class:`InvalidInput`)."""
    connection = scoped_connection()
    if data.site_coverage:
        wanted = [site for site, _codes in data.site_coverage]
        owned = {
            row["id"]
            for row in await connection.fetch(
                "SELECT id FROM provider_site WHERE organisation_id = $1 AND id = ANY($2::uuid[])",
                organisation_id,
                wanted,
            )
        }
        if unknown := [site for site in wanted if site not in owned]:
            raise InvalidInput(
                "offre invalide",
                [FieldError(f"coverage_site_{unknown[0]}", "site inconnu de votre structure")],
            )
    await connection.execute("DELETE FROM offer_coverage WHERE offer_id = $1", offer_id)
    rows: list[tuple[object, ...]] = []
    for site, codes in ((None, data.coverage), *data.site_coverage):
        for code in codes:
            commune = code if COMMUNE.match(code) else None
            rows.append((uuid.uuid4(), tenant_id, offer_id, commune, None if commune else code, site))
    await connection.executemany(
        "INSERT INTO offer_coverage (id, tenant_id, offer_id, commune_insee, departement, site_id) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        rows,
    )


def _columns(data: OfferInput) -> list[object]:
    """Values of the editable columns, in the order of the statements below ($4…$15)."""
    return [
        data.service_type,
        label_of(data.service_type),
        data.title,
        data.description,
        data.price_cents,
        data.price_unit,
        data.capacity_per_week,
        data.lead_time_days,
        data.opening_hours or None,
        list(data.accepted_programmes),
        list(data.languages),
        data.accessibility or None,
    ]


async def list_offers(actor: Actor) -> list[Offer]:
    """The actor's organisation's offers, every status, most recently changed first."""
    tenant_id, organisation_id = provider_scope(actor)
    async with tenant_scope(tenant_id):
        rows = await scoped_connection().fetch(
            _SELECT + " ORDER BY o.updated_at DESC, o.title", organisation_id
        )
    return [offer_from_row(row) for row in rows]


async def get_offer(actor: Actor, offer_id: uuid.UUID) -> Offer:
    """One of the actor's organisation's offers; NotFound for anyone else's."""
    tenant_id, organisation_id = provider_scope(actor)
    async with tenant_scope(tenant_id):
        return await _owned(organisation_id, offer_id)


async def create_offer(runtime: Runtime, actor: Actor, data: OfferInput) -> uuid.UUID:
    """A new draft offer of the actor's organisation, with its coverage; returns its id."""
    tenant_id, organisation_id = provider_scope(actor)
    data = data.checked()
    offer_id = uuid.uuid4()
    now = runtime.clock()
    async with tenant_scope(tenant_id):
        await scoped_connection().execute(
            "INSERT INTO service_offer (id, tenant_id, provider_organisation_id, service_type, "
            "type_label, title, description, price_cents, price_unit, capacity_per_week, "
            "lead_time_days, opening_hours, accepted_programmes, languages, accessibility, "
            "currency, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
            "$10, $11, $12, $13, $14, $15, 'EUR', 'draft', $16, $16)",
            offer_id,
            tenant_id,
            organisation_id,
            *_columns(data),
            now,
        )
        await _write_coverage(tenant_id, offer_id, data, organisation_id)
        await _audit(actor, "offer.created", offer_id, {"service_type": data.service_type})
    return offer_id


async def update_offer(runtime: Runtime, actor: Actor, offer_id: uuid.UUID, data: OfferInput) -> None:
    """Replace what the offer says and where it is delivered (its status is kept)."""
    tenant_id, organisation_id = provider_scope(actor)
    data = data.checked()
    async with tenant_scope(tenant_id):
        current = await _owned(organisation_id, offer_id, lock=True)
        await scoped_connection().execute(
            "UPDATE service_offer SET service_type = $4, type_label = $5, title = $6, description = $7, "
            "price_cents = $8, price_unit = $9, capacity_per_week = $10, lead_time_days = $11, "
            "opening_hours = $12, accepted_programmes = $13, languages = $14, accessibility = $15, "
            "updated_at = $3 WHERE id = $1 AND provider_organisation_id = $2",
            offer_id,
            organisation_id,
            runtime.clock(),
            *_columns(data),
        )
        await _write_coverage(tenant_id, offer_id, data, organisation_id)
        await _audit(actor, "offer.updated", offer_id, {"status": current.status})


async def set_status(runtime: Runtime, actor: Actor, offer_id: uuid.UUID, status: str) -> str:
    """Publish or pause the offer; returns the new status.

    :class:`InvalidInput` for an unknown status, :class:`Conflict` for a move its current status
    does not allow (a draft cannot be paused; publishing a published offer changes nothing; a
    suspended offer waits for the territory).
    """
    tenant_id, organisation_id = provider_scope(actor)
    if status not in MOVE_ACTIONS:
        raise InvalidInput("statut inconnu", [FieldError("status", "publier ou mettre en pause")])
    async with tenant_scope(tenant_id):
        current = await _owned(organisation_id, offer_id, lock=True)
        if current.suspended:
            raise Conflict(
                "impossible : l'offre est suspendue par le territoire (motif : "
                f"{current.moderation_reason_label.lower()}) ; vous pouvez la corriger, puis demandez "
                "à la coordination du territoire de la rétablir"
            )
        if (current.status, status) not in MOVES:
            raise Conflict(
                f"impossible : l'offre est « {current.status_label.lower()} », "
                f"elle ne peut pas passer « {STATUS_LABELS[status].lower()} »"
            )
        await scoped_connection().execute(
            "UPDATE service_offer SET status = $2, updated_at = $3 WHERE id = $1",
            offer_id,
            status,
            runtime.clock(),
        )
        await _audit(actor, MOVE_ACTIONS[status], offer_id, {"from": current.status, "to": status})
    return status
