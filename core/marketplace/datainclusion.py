"""Export of the published offers in the data·inclusion schema (French social inclusion services).

data·inclusion (GIP Plateforme de l'inclusion) consolidates the directories of inclusion services
for national reuse. Its schema, version 1.0 (vendored in ``schemas/data-inclusion-1.0/``), has two
lists: ``structures`` and ``services``. The export is one JSON object ``{"structures": [...],
"services": [...]}``, each item validated against the vendored JSON schema
(:func:`validate_export`).

Mapping:

- ``source``: ``parcours-<territory slug>``; ``id``: ``<source>--<our uuid>`` (offer or
  organisation id), ``structure_id`` likewise;
- structure: ``nom``, ``siret``, ``code_insee``, ``date_maj`` (its latest published offer);
  no e-mail nor phone;
- service: ``nom`` (title), ``description`` (the offer's, then its opening hours and lead time;
  the type's description when the offer has none), ``type``, ``thematiques``, ``publics``,
  ``modes_accueil`` from the service type's mapping in ``taxonomy.toml``; ``frais`` ``gratuit``
  for a zero price, ``payant`` otherwise, none when the price is on request; ``frais_precisions``
  the price and the funding programmes accepted; ``zone_eligibilite`` the INSEE commune and
  département codes; ``mobilisable_par`` professionals and users; ``date_maj`` its last change.
  Contact fields are left out; ``horaires_accueil`` too, since it must use the OpenStreetMap
  opening-hours syntax and ours are free text (they go in the description).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel.numbers import format_currency
from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from core.locale import LOCALE, paris_day
from core.marketplace.exchange import (
    ImportProblem,
    Provider,
    ProviderOffers,
    offer_links,
    published_catalogue,
    schema_problems,
)
from core.marketplace.offers import Offer
from core.marketplace.search import UNIT_LABELS
from core.marketplace.taxonomy import taxonomy
from core.tenancy.service import TenantRecord

SCHEMA_VERSION = "1.0.8"
SCHEMA_DIR = Path(__file__).with_name("schemas") / "data-inclusion-1.0"
VOCABULARIES = ("thematiques", "types-de-services", "publics", "modes-accueil", "frais")
MIN_DESCRIPTION = 5


class ExportInvalid(RuntimeError):
    """Our own export does not validate: a bug, never the user's doing."""


@cache
def _schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return loaded


@cache
def vocabulary(name: str) -> dict[str, str]:
    """A vendored vocabulary (``thematiques``, ``types-de-services``…): value → French label."""
    items = json.loads((SCHEMA_DIR / "extra" / f"{name}.json").read_text(encoding="utf-8"))
    return {item["value"]: item["label"] for item in items}


@cache
def _validator(name: str) -> Validator:
    schema = _schema(name)
    cls = validator_for(schema, default=Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate_export(document: dict[str, Any]) -> list[ImportProblem]:
    """What in ``document`` departs from the data·inclusion 1.0 schemas, by JSON path (none: valid)."""
    problems: list[ImportProblem] = []
    for key, name in (("structures", "structure.json"), ("services", "service.json")):
        for index, item in enumerate(document.get(key, [])):
            for problem in schema_problems(_validator(name).iter_errors(item)):
                where = f"$.{key}[{index}]" + problem.where.removeprefix("$")
                problems.append(ImportProblem(where, problem.message, problem.field))
    return problems


def source_of(tenant: TenantRecord) -> str:
    return f"parcours-{tenant.slug}"


def _structure(source: str, provider: Provider, offers: tuple[Offer, ...]) -> dict[str, Any]:
    structure = {
        "source": source,
        "id": f"{source}--{provider.id}",
        "nom": provider.name,
        "date_maj": max(paris_day(offer.updated_at) for offer in offers).isoformat(),
        "siret": provider.siret,
        "code_insee": provider.commune_insee,
    }
    return {key: value for key, value in structure.items() if value is not None}


def _euros(cents: int) -> str:
    return format_currency(Decimal(cents) / 100, "EUR", locale=LOCALE)


def _fees(offer: Offer) -> tuple[str | None, str | None]:
    if offer.price_cents is None:
        fees, precision = None, "Prix sur demande."
    else:
        fees = "gratuit" if offer.price_cents == 0 else "payant"
        amount = _euros(offer.price_cents)
        unit = "forfait" if offer.price_unit == "flat" else UNIT_LABELS.get(offer.price_unit or "", "")
        precision = f"{amount} ({unit})." if offer.price_unit == "flat" else f"{amount} par {unit}."
    if offer.accepted_programmes:
        precision = f"{precision} Financements acceptés : {', '.join(offer.accepted_programmes)}."
    return fees, precision


def _description(offer: Offer) -> str:
    item = taxonomy().get(offer.service_type)
    text = offer.description or (f"{item.label} : {item.description}" if item else offer.title)
    extra = []
    if offer.opening_hours:
        extra.append(f"Horaires : {offer.opening_hours}.")
    if offer.lead_time_days > 0:
        days = offer.lead_time_days
        extra.append(f"Mise en place sous {days} jour{'s' if days > 1 else ''}.")
    if offer.accessibility:
        extra.append(f"Accessibilité : {offer.accessibility}.")
    text = "\n\n".join([text, " ".join(extra)]) if extra else text
    return text if len(text) >= MIN_DESCRIPTION else f"{text} — {offer.title}"


def _service(
    source: str, provider: Provider, offer: Offer, link: Callable[[uuid.UUID], str] | None
) -> dict[str, Any]:
    item = taxonomy()[offer.service_type]
    mapping = item.datainclusion
    fees, precision = _fees(offer)
    service = {
        "source": source,
        "structure_id": f"{source}--{provider.id}",
        "id": f"{source}--{offer.id}",
        "nom": offer.title,
        "description": _description(offer),
        "date_maj": paris_day(offer.updated_at).isoformat(),
        "type": mapping.type,
        "thematiques": list(mapping.thematiques),
        "publics": list(mapping.publics),
        "modes_accueil": list(mapping.modes_accueil),
        "frais": fees,
        "frais_precisions": precision,
        "zone_eligibilite": list(offer.covered_communes + offer.covered_departements) or None,
        "mobilisable_par": ["professionnels", "usagers"],
    }
    if link is not None:
        service["lien_source"] = link(offer.id)
    return service


def build_export(
    tenant: TenantRecord, catalogue: list[ProviderOffers], link: Callable[[uuid.UUID], str] | None = None
) -> dict[str, Any]:
    """The data·inclusion document of a catalogue (pure: validated by :func:`export_datainclusion`)."""
    source = source_of(tenant)
    structures = [_structure(source, entry.provider, entry.offers) for entry in catalogue if entry.offers]
    services = [
        _service(source, entry.provider, offer, link)
        for entry in catalogue
        for offer in entry.offers
        if offer.service_type in taxonomy()
    ]
    return {"structures": structures, "services": services}


async def export_datainclusion(tenant: TenantRecord, base_url: str | None = None) -> dict[str, Any]:
    """The territory's published offers in the data·inclusion 1.0 schema, validated.

    ``base_url``: the platform's public address, for each service's ``lien_source``.
    """
    link = offer_links(base_url, tenant.slug) if base_url else None
    document = build_export(tenant, await published_catalogue(tenant.id), link)
    problems = validate_export(document)
    if problems:
        shown = "; ".join(f"{p.where}: {p.message}" for p in problems[:5])
        raise ExportInvalid(f"data·inclusion export does not validate: {shown}")
    return document
