"""Directory exchange of the marketplace: what the imports and exports share.

- **Exports** (``hsds.py``, ``datainclusion.py``) read :func:`published_catalogue`: the territory's
  published offers grouped by provider, public fields only (no contact, no capacity, nobody's
  personal data).
- **Imports** (``hsds.py`` for HSDS 3.0 packages, ``csv_import.py`` for spreadsheets) turn a file
  into :class:`PlannedOffer` items, each checked by :meth:`OfferInput.checked` (the console's rules,
  not a copy), then :func:`apply_offers` writes them in **one tenant transaction**: all of them or,
  if one is refused, none. An offer already there is updated (or left alone when nothing changed),
  never duplicated, so importing the same file twice changes nothing the second time. Imports of
  one tenant are serialised by a transaction-level advisory lock. Every created or changed offer
  gets its audit entry (``offer.created``, ``offer.updated``), the whole import one more
  (``offers.imported``).
- Who imports for whom (:func:`importer_for`): a provider's staff for their own organisation only;
  territory admins (and the CLI) for any provider of the territory.

Problems are :class:`ImportProblem` items in French, located by line (CSV) or JSON path (HSDS).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from core.access.policy import Actor, Permission, decide
from core.audit.trail import Actor as AuditActor
from core.audit.trail import Outcome, Record, append
from core.consent.access import audit_actor
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import FieldError, Forbidden, NotFound
from core.identity.roles import ORGANISATION_LABELS, OrganisationKind
from core.marketplace.offers import (
    OFFER_SELECT,
    Offer,
    OfferInput,
    _columns,
    _write_coverage,
    offer_from_row,
    provider_scope,
)
from core.runtime import Runtime

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

MAX_IMPORT_BYTES = 5 * 1024 * 1024
"""Largest file an import reads (a few thousand offers)."""
MAX_REPORTED = 200
"""Problems listed in a report, at most (the count says how many more)."""
NAMESPACE = uuid.UUID("6f1d0c52-4b0e-5d3c-9a55-2a4f4b9a7e10")
"""Namespace of the UUIDs the exchange derives (``uuid5``): ids of HSDS sub-objects, taxonomy
terms, and offers imported from another directory's service ids."""

ProgressCallback = Callable[[int, int], None]
"""``on_progress(done, total)`` while offers are written."""


# --- reports -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportProblem:
    """One reason an import was refused: where (« ligne 4 », ``$[0].services[1].name``), what, why."""

    where: str
    message: str
    field: str = ""
    """The CSV column (as written in the file) or the HSDS field concerned, if any."""
    line: int | None = None
    """The CSV line (the header is line 1)."""


@dataclass
class ImportReport:
    """What an import did — or, when it was refused, why nothing was written."""

    format: str
    """``hsds`` or ``csv``."""
    total: int = 0
    """Offers read (HSDS services or CSV rows)."""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    hidden_problems: int = 0
    """Problems beyond the :data:`MAX_REPORTED` listed."""
    written: bool = False
    offer_ids: list[uuid.UUID] = field(default_factory=list)
    """The offers the file describes (created, updated or unchanged), in file order."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def format_label(self) -> str:
        return {"hsds": "HSDS 3.0 (JSON)", "csv": "CSV"}.get(self.format, self.format)

    def refuse(self, problems: Iterable[ImportProblem]) -> ImportReport:
        """Record the problems (at most :data:`MAX_REPORTED`); nothing is written."""
        found = list(problems)
        self.problems = found[:MAX_REPORTED]
        self.hidden_problems = max(0, len(found) - MAX_REPORTED)
        self.written = False
        return self


def file_problem(message: str) -> ImportProblem:
    return ImportProblem("fichier", message)


# --- who imports -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Importer:
    """Who imports into which territory, and for which provider."""

    tenant_id: uuid.UUID
    provider_id: uuid.UUID | None
    """Only this organisation's offers; None: any provider of the territory."""
    by: AuditActor


def importer_for(actor: Actor, *, any_provider: bool = False) -> Importer:
    """The import rights of a signed-in user; :class:`Forbidden` without them.

    ``any_provider``: as a territory admin (any provider of the territory); otherwise as a
    provider's staff (their own organisation's offers only).
    """
    if not any_provider:
        tenant_id, organisation_id = provider_scope(actor)
        return Importer(tenant_id, organisation_id, audit_actor(actor))
    decision = decide(actor, Permission.TENANT_ADMIN, actor.tenant_id)
    if not decision.allowed or actor.tenant_id is None:
        raise Forbidden(decision.reason)
    return Importer(actor.tenant_id, None, audit_actor(actor))


async def find_provider(tenant_id: uuid.UUID, text: str) -> uuid.UUID:
    """The organisation of the territory named by its id or SIRET; :class:`NotFound` in French."""
    wanted = "".join(text.split())
    try:
        organisation_id: uuid.UUID | None = uuid.UUID(wanted)
    except ValueError:
        organisation_id = None
    async with tenant_scope(tenant_id):
        rows = await scoped_connection().fetch(
            "SELECT id FROM organisation WHERE id = $1 OR siret = $2", organisation_id, wanted
        )
    if len(rows) != 1:
        raise NotFound(
            f"aucune structure du territoire n'a l'identifiant ou le SIRET {text!r}"
            if not rows
            else f"plusieurs structures du territoire ont le SIRET {text!r} : indiquez leur identifiant"
        )
    found: uuid.UUID = rows[0]["id"]
    return found


def detect_format(data: bytes) -> str:
    """``hsds`` for a JSON document (its first character ``[`` or ``{``), else ``csv``."""
    start = data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
    return "hsds" if start in (b"[", b"{") else "csv"


async def import_offers(
    runtime: Runtime,
    importer: Importer,
    data: bytes,
    *,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import an HSDS 3.0 package or a CSV file (told apart by :func:`detect_format`)."""
    from core.marketplace import csv_import, hsds

    fmt = detect_format(data)
    if len(data) > MAX_IMPORT_BYTES:
        return ImportReport(fmt).refuse(
            [file_problem(f"fichier trop volumineux : {MAX_IMPORT_BYTES // (1024 * 1024)} Mo au plus")]
        )
    if fmt == "hsds":
        return await hsds.import_package(runtime, importer, data, on_progress=on_progress)
    return await csv_import.import_csv(runtime, importer, data, on_progress=on_progress)


# --- the catalogue exported --------------------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    """A provider organisation as the exports show it (no contact details)."""

    id: uuid.UUID
    name: str
    kind: str
    siret: str | None
    finess_et: str | None
    finess_ej: str | None
    commune_insee: str | None

    @property
    def kind_label(self) -> str:
        try:
            return ORGANISATION_LABELS[OrganisationKind(self.kind)]
        except ValueError:
            return self.kind


@dataclass(frozen=True)
class ProviderOffers:
    provider: Provider
    offers: tuple[Offer, ...]


async def published_catalogue(tenant_id: uuid.UUID) -> list[ProviderOffers]:
    """The territory's published offers by provider: providers by name, offers by title."""
    async with tenant_scope(tenant_id):
        connection = scoped_connection()
        rows = await connection.fetch(
            OFFER_SELECT + " WHERE o.status = 'published' ORDER BY o.title, o.service_type, o.id"
        )
        providers = await connection.fetch(
            "SELECT id, name, kind, siret, finess_et, finess_ej, commune_insee FROM organisation "
            "WHERE id = ANY($1::uuid[]) ORDER BY name, id",
            list({row["provider_organisation_id"] for row in rows}),
        )
    offers: dict[uuid.UUID, list[Offer]] = {}
    for row in rows:
        offers.setdefault(row["provider_organisation_id"], []).append(offer_from_row(row))
    return [
        ProviderOffers(
            Provider(
                id=row["id"],
                name=row["name"],
                kind=row["kind"],
                siret=row["siret"],
                finess_et=row["finess_et"],
                finess_ej=row["finess_ej"],
                commune_insee=row["commune_insee"],
            ),
            tuple(offers[row["id"]]),
        )
        for row in providers
    ]


def offer_links(base_url: str, slug: str) -> Callable[[uuid.UUID], str]:
    """The address of each published offer's public page (``/t/{slug}/services/offres/{id}``)."""
    base = f"{base_url.rstrip('/')}/t/{slug}/services/offres/"

    def link(offer_id: uuid.UUID) -> str:
        return f"{base}{offer_id}"

    return link


# --- planned offers and their writing ----------------------------------------------------------------

INPUT_FIELDS = tuple(OfferInput.__dataclass_fields__)


@dataclass(frozen=True)
class PlannedOffer:
    """One offer a file describes, checked, not yet matched with what the territory holds."""

    where: str
    """Where the file describes it (for problems)."""
    provider_id: uuid.UUID
    data: OfferInput
    """Checked (:meth:`OfferInput.checked`)."""
    status: str | None = None
    """Wanted status: ``published``, ``paused``, ``draft``; None keeps it (a new offer is a draft)."""
    ids: tuple[uuid.UUID, ...] = ()
    """Ids under which the offer may already exist, in order of preference."""
    new_id: uuid.UUID | None = None
    """Id of the offer when it is created (None: a random one)."""
    match_title: bool = False
    """Without an existing id: the provider's offer with the same title (any case) is this one."""
    must_exist: bool = False
    """One of ``ids`` must be an existing offer (a CSV row naming an offer by its id)."""
    keep: frozenset[str] = frozenset()
    """Fields of :class:`OfferInput` the file does not carry: an existing offer keeps its values."""
    line: int | None = None


def _comparable(data: OfferInput) -> OfferInput:
    return replace(data, coverage=tuple(sorted(data.coverage)))


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def next_status(current: str | None, wanted: str | None) -> str | None:
    """The status an import gives an offer now ``current`` (None: new); None when not allowed.

    A new offer is a draft unless published; « en pause » asked of a draft keeps it a draft (it
    was never public); an offer once published never becomes a draft again; a suspended offer keeps
    its status (only the territory lifts a suspension).
    """
    if current is None:
        return "published" if wanted == "published" else "draft"
    if current == "suspended":
        return current if wanted in (None, current) else None
    if wanted is None or wanted == current:
        return current
    if wanted == "published":
        return "published"
    if wanted == "paused":
        return "paused" if current == "published" else current
    return None


async def _existing(
    plans: Sequence[PlannedOffer],
) -> tuple[dict[uuid.UUID, tuple[uuid.UUID, Offer]], list[Any]]:
    connection = scoped_connection()
    ids = list({offer_id for plan in plans for offer_id in plan.ids})
    rows = await connection.fetch(OFFER_SELECT + " WHERE o.id = ANY($1::uuid[]) FOR UPDATE OF o", ids)
    by_id = {row["id"]: (row["provider_organisation_id"], offer_from_row(row)) for row in rows}
    providers = list({plan.provider_id for plan in plans if plan.match_title})
    titled = await connection.fetch(
        OFFER_SELECT + " WHERE o.provider_organisation_id = ANY($1::uuid[]) ORDER BY o.created_at, o.id "
        "FOR UPDATE OF o",
        providers,
    )
    return by_id, list(titled)


async def apply_offers(
    runtime: Runtime,
    importer: Importer,
    plans: Sequence[PlannedOffer],
    report: ImportReport,
    *,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Create or update the planned offers in one transaction; nothing at all when one is refused.

    Refused here (the file is fine, the territory disagrees): an id naming another provider's
    offer, two items of the file naming the same offer, several offers of the provider with the
    title of a CSV row without ``id``, a status move the console does not allow either.
    """
    now = runtime.clock()
    problems: list[ImportProblem] = []
    async with tenant_scope(importer.tenant_id):
        connection = scoped_connection()
        await connection.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))", f"parcours.offer_import:{importer.tenant_id}"
        )
        by_id, titled = await _existing(plans)
        by_title: dict[tuple[uuid.UUID, str], list[Offer]] = {}
        for row in titled:
            by_title.setdefault((row["provider_organisation_id"], _fold(row["title"])), []).append(
                offer_from_row(row)
            )
        resolved: list[tuple[PlannedOffer, Offer | None, str]] = []
        claimed: dict[uuid.UUID, str] = {}
        for plan in plans:
            current: Offer | None = None
            known = next((offer_id for offer_id in plan.ids if offer_id in by_id), None)
            if known is not None:
                owner, current = by_id[known]
                if owner != plan.provider_id:
                    problems.append(
                        ImportProblem(
                            plan.where,
                            f"l'offre {known} appartient à une autre structure du territoire",
                            "id",
                            plan.line,
                        )
                    )
                    continue
            else:
                if plan.match_title:
                    same = by_title.get((plan.provider_id, _fold(plan.data.title)), [])
                    if len(same) > 1:
                        problems.append(
                            ImportProblem(
                                plan.where,
                                f"{len(same)} offres de la structure s'intitulent « {plan.data.title} » : "
                                "indiquez l'identifiant (colonne id) de celle à mettre à jour",
                                "title",
                                plan.line,
                            )
                        )
                        continue
                    current = same[0] if same else None
            if current is None and plan.must_exist:
                problems.append(
                    ImportProblem(
                        plan.where,
                        f"aucune offre de la structure n'a l'identifiant {plan.ids[0]} "
                        "(laissez la colonne id vide pour créer une offre)",
                        "id",
                        plan.line,
                    )
                )
                continue
            target = current.id if current else plan.new_id
            if target is not None:
                if target in claimed:
                    problems.append(
                        ImportProblem(
                            plan.where,
                            f"même offre que {claimed[target]} : une seule fois par fichier",
                            "id",
                            plan.line,
                        )
                    )
                    continue
                claimed[target] = plan.where
            status = next_status(current.status if current else None, plan.status)
            if status is None:
                assert current is not None
                because = (
                    "seul le territoire peut lever la suspension"
                    if current.suspended
                    else "elle ne redevient pas brouillon (mettez-la en pause)"
                )
                problems.append(
                    ImportProblem(
                        plan.where,
                        f"l'offre est « {current.status_label.lower()} » : {because}",
                        "status",
                        plan.line,
                    )
                )
                continue
            resolved.append((plan, current, status))
        if problems:
            return report.refuse(problems)
        for done, (plan, current, status) in enumerate(resolved, start=1):
            offer_id = await _write(importer, plan, current, status, now, report)
            report.offer_ids.append(offer_id)
            if on_progress is not None:
                on_progress(done, len(resolved))
        await append(
            Record(
                importer.by,
                "offers.imported",
                Outcome.SUCCESS,
                "organisation" if importer.provider_id else "tenant",
                str(importer.provider_id or importer.tenant_id),
                {
                    "format": report.format,
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                },
            )
        )
    report.written = True
    return report


async def _write(
    importer: Importer,
    plan: PlannedOffer,
    current: Offer | None,
    status: str,
    now: dt.datetime,
    report: ImportReport,
) -> uuid.UUID:
    connection = scoped_connection()
    source = f"import:{report.format}"
    if current is None:
        offer_id = plan.new_id or uuid.uuid4()
        await connection.execute(
            "INSERT INTO service_offer (id, tenant_id, provider_organisation_id, service_type, "
            "type_label, title, description, price_cents, price_unit, capacity_per_week, "
            "lead_time_days, opening_hours, accepted_programmes, languages, accessibility, "
            "currency, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
            "$10, $11, $12, $13, $14, $15, 'EUR', $16, $17, $17)",
            offer_id,
            importer.tenant_id,
            plan.provider_id,
            *_columns(plan.data),
            status,
            now,
        )
        await _write_coverage(importer.tenant_id, offer_id, plan.data)
        await _audit(importer, "offer.created", offer_id, {"source": source, "status": status})
        report.created += 1
        return offer_id
    before = current.as_input()
    # Imports know no sites: the coverage a provider gave its sites is kept as it is.
    kept = {name: getattr(before, name) for name in (*plan.keep, "site_coverage")}
    data = replace(plan.data, **kept)
    # Exports list the area of every site with the offer's own: what a site covers stays the site's.
    from_sites = {code for _site, codes in before.site_coverage for code in codes}
    data = replace(data, coverage=tuple(code for code in data.coverage if code not in from_sites))
    if _comparable(data) == _comparable(before) and status == current.status:
        report.unchanged += 1
        return current.id
    await connection.execute(
        "UPDATE service_offer SET service_type = $4, type_label = $5, title = $6, description = $7, "
        "price_cents = $8, price_unit = $9, capacity_per_week = $10, lead_time_days = $11, "
        "opening_hours = $12, accepted_programmes = $13, languages = $14, accessibility = $15, "
        "status = $16, updated_at = $3 WHERE id = $1 AND provider_organisation_id = $2",
        current.id,
        plan.provider_id,
        now,
        *_columns(data),
        status,
    )
    await _write_coverage(importer.tenant_id, current.id, data, plan.provider_id)
    detail = {"source": source, "status": status}
    if status != current.status:
        detail["from"] = current.status
    await _audit(importer, "offer.updated", current.id, detail)
    report.updated += 1
    return current.id


async def _audit(importer: Importer, action: str, offer_id: uuid.UUID, detail: dict[str, str]) -> None:
    await append(Record(importer.by, action, Outcome.SUCCESS, "service_offer", str(offer_id), detail))


# --- shared helpers ----------------------------------------------------------------------------------

_TYPE_NAMES = {
    "object": "un objet",
    "array": "une liste",
    "string": "un texte",
    "number": "un nombre",
    "integer": "un nombre entier",
    "boolean": "vrai ou faux",
    "null": "null",
}
_FORMAT_NAMES = {
    "uuid": "un identifiant UUID (par exemple 0b8f3c9e-4c1d-4f51-9a57-2f1f6f0b7c11)",
    "date": "une date AAAA-MM-JJ",
    "date-time": "une date et heure ISO 8601",
    "email": "une adresse e-mail",
    "uri": "une adresse (URI)",
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int):
        return "integer"
    return "number"


def _shown(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    return f"« {text[:limit]}{'…' if len(text) > limit else ''} »"


def _deepest(error: ValidationError) -> ValidationError:
    """For ``anyOf``/``oneOf`` (« a list of codes, or null »), the error of the branch the value
    meant to take: not a branch of another type, the deepest in the value."""
    while error.validator in ("anyOf", "oneOf") and error.context:
        meant = [sub for sub in error.context if sub.validator != "type"] or list(error.context)
        error = max(meant, key=lambda sub: len(sub.absolute_path))
    return error


def schema_problems(errors: Iterable[ValidationError]) -> list[ImportProblem]:
    """JSON Schema errors in French, each at the JSON path of the value concerned, in document order."""

    def order(error: ValidationError) -> tuple[list[str], str]:
        return [
            f"{part:08d}" if isinstance(part, int) else part for part in error.absolute_path
        ], error.message

    found: list[ImportProblem] = []
    for error in sorted((_deepest(error) for error in errors), key=order):
        where = error.json_path
        name = str(error.absolute_path[-1]) if error.absolute_path else ""
        validator, expected, value = error.validator, error.validator_value, error.instance
        if validator == "required":
            missing = error.message.split("'")[1] if error.message.count("'") >= 2 else ""
            where, name = f"{where}.{missing}", missing
            message = "champ obligatoire manquant"
        elif validator == "type":
            wanted = [expected] if isinstance(expected, str) else list(expected)
            names = " ou ".join(_TYPE_NAMES.get(item, item) for item in wanted)
            message = f"{names} attendu, pas {_TYPE_NAMES[_json_type(value)]}"
        elif validator == "enum":
            message = (
                f"valeur non autorisée {_shown(value)} ; valeurs possibles : {', '.join(map(str, expected))}"
            )
        elif validator == "format":
            message = f"{_FORMAT_NAMES.get(expected, expected)} attendu, pas {_shown(value)}"
        elif validator == "minLength":
            message = f"au moins {expected} caractère(s)"
        elif validator == "maxLength":
            message = f"{expected} caractères au plus"
        elif validator == "pattern":
            message = f"format invalide : {_shown(value)}"
        elif validator == "minItems":
            message = f"au moins {expected} élément(s)"
        elif validator == "uniqueItems":
            message = "valeurs en double"
        elif validator in ("minimum", "exclusiveMinimum"):
            message = f"nombre trop petit (minimum {expected})"
        elif validator in ("maximum", "exclusiveMaximum"):
            message = f"nombre trop grand (maximum {expected})"
        else:
            message = f"valeur invalide ({validator})"
        found.append(ImportProblem(where, message, name))
    return found


def field_problems(
    refused: Iterable[FieldError],
    where: Callable[[str], str],
    *,
    line: int | None = None,
    names: Callable[[str], str] | None = None,
) -> list[ImportProblem]:
    """The core's field errors (:meth:`OfferInput.checked`) located in the file."""
    return [
        ImportProblem(where(error.field), error.message, names(error.field) if names else error.field, line)
        for error in refused
    ]
