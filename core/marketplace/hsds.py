"""HSDS 3.0 (Open Referral's Human Services Data Specification): export and import of offers.

**The document** is an HSDS *organization package*: a JSON array of ``organization`` objects,
each with its ``services`` nested, as ``schema/compiled/organization_package.json`` of HSDS 3.0
describes. It is validated against the official schemas vendored in ``schemas/hsds-3.0/``
(:func:`validate_package`), on export and before any import.

**Mapping** (our offer → an HSDS service; ids are kept: offer id = service id, organisation id =
organization id, sub-objects get ``uuid5`` ids derived from their service, so exports are stable):

- organisation: ``name``, ``description`` (its kind, e.g. « Service d'aide à domicile »),
  ``organization_identifiers`` (``identifier_type`` ``SIRET``, ``FINESS ET``, ``FINESS EJ``); no
  e-mail nor phone;
- offer: ``name`` (title), ``description``, ``status`` (always ``active``: only published offers
  are exported), ``fees_description`` (« 25,00 € / heure »), ``last_modified``;
- price: one ``cost_options`` item, ``amount`` in euros, ``currency`` ``EUR``, ``option`` the
  unit code (``hour``, ``meal``, ``month``, ``visit``, ``flat``), ``amount_description`` in French;
  no cost option: price on request;
- coverage: one ``service_areas`` item per commune or département, ``uri``
  ``https://geo.api.gouv.fr/communes/<code INSEE>`` or ``…/departements/<code>``;
- ``languages`` (ISO 639-1 ``code`` and French ``name``), ``funding`` (``source``: the programme
  code, e.g. ``apa``), ``schedules`` (one, ``description``: the opening hours as typed);
- ``attributes``: the service type as a ``taxonomy_term`` of the taxonomy ``parcours`` (``code``
  ``home_help``…), the lead time (``lead_time_days``) and accessibility (``accessibility``) as
  terms of ``parcours-attributs`` with a ``value``, and the data·inclusion ``thematiques`` of the
  type (taxonomy ``data-inclusion-thematiques``, informative, ignored on import).

**Import** reads the same shape (a single organization object is read as a package of one).
Each organization must be a provider already in the territory's directory, found by its ``id``,
else by its SIRET; unknown ones are reported, never created. Each service becomes an offer of
that provider: the ``parcours`` term gives the type; ``active`` publishes it, any other status
pauses it (a new one stays a draft); what HSDS does not carry (weekly capacity) is kept. A service
whose id is an offer of this territory updates it; otherwise the offer's id is derived from the
territory and the service id, so importing another directory's package again updates the same
offers. See :mod:`core.marketplace.exchange` for the all-or-nothing writing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import InvalidInput
from core.marketplace.exchange import (
    NAMESPACE,
    Importer,
    ImportProblem,
    ImportReport,
    PlannedOffer,
    ProgressCallback,
    ProviderOffers,
    apply_offers,
    field_problems,
    file_problem,
    offer_links,
    published_catalogue,
    schema_problems,
)
from core.marketplace.offers import DEPARTEMENT, Offer, OfferInput
from core.marketplace.search import COMMUNE, UNIT_LABELS, price_text
from core.marketplace.taxonomy import taxonomy
from core.runtime import Runtime
from core.tenancy.service import TenantRecord

SCHEMA_DIR = Path(__file__).with_name("schemas") / "hsds-3.0"
BASE_URI = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
"""Where HSDS publishes the vendored files; ``$ref``s resolve against it, from the registry only."""
TAXONOMY = "parcours"
ATTRIBUTES = "parcours-attributs"
THEMATIQUES = "data-inclusion-thematiques"
GEO_API = "https://geo.api.gouv.fr"
_AREA_URI = re.compile(r"^https?://geo\.api\.gouv\.fr/(communes|departements)/([0-9A-Za-z]{2,5})/?$")
_STATUSES = {"active": "published"}
"""HSDS status → ours; any other (inactive, defunct, temporarily closed) pauses the offer."""
_UNIT_NAMES = {
    **{code: code for code in UNIT_LABELS},
    **{label: code for code, label in UNIT_LABELS.items()},
    "heures": "hour",
    "h": "hour",
    "forfaitaire": "flat",
    "visite": "visit",
    "intervention": "visit",
}
_SIRET_TYPES = {"siret", "fr-siret"}
_IDENTIFIERS = (("siret", "SIRET"), ("finess_et", "FINESS ET"), ("finess_ej", "FINESS EJ"))


class ExportInvalid(RuntimeError):
    """Our own export does not validate: a bug, never the user's doing."""


# --- schemas -----------------------------------------------------------------------------------------


@cache
def _schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return loaded


@cache
def registry() -> Registry[Any]:
    """The vendored HSDS schemas under their published URIs (nothing is fetched)."""
    return Registry().with_resources(
        (BASE_URI + path.name, Resource.from_contents(_schema(path.name), default_specification=DRAFT202012))
        for path in sorted(SCHEMA_DIR.glob("*.json"))
    )


def package_schema() -> dict[str, Any]:
    """HSDS 3.0's organization package: organizations, each with its services (as compiled by HSDS)."""
    return {
        "type": "array",
        "items": {
            "allOf": [{"$ref": BASE_URI + "organization.json"}],
            "properties": {"services": {"type": "array", "items": {"$ref": BASE_URI + "service.json"}}},
        },
    }


def validator_class(name: str = "organization.json") -> type[Validator]:
    """The validator of the dialect a vendored schema declares (none does: draft 2020-12, as HSDS says)."""
    return validator_for(_schema(name), default=Draft202012Validator)


@cache
def _validator() -> Validator:
    cls = validator_class()
    return cls(package_schema(), registry=registry(), format_checker=cls.FORMAT_CHECKER)


def validate_package(document: Any) -> list[ImportProblem]:
    """Every way ``document`` departs from the HSDS 3.0 organization package, in French, by JSON path."""
    return schema_problems(_validator().iter_errors(document))


# --- export ------------------------------------------------------------------------------------------


def _id(parent: uuid.UUID, kind: str) -> str:
    return str(uuid.uuid5(parent, kind))


@cache
def _taxonomy_detail(name: str) -> dict[str, Any]:
    descriptions = {
        TAXONOMY: ("Types de services à domicile de la place de marché Parcours.", "1"),
        ATTRIBUTES: ("Précisions sur une offre de la place de marché Parcours.", "1"),
        THEMATIQUES: ("Thématiques du schéma data·inclusion des services d'insertion.", "1.0.8"),
    }
    description, version = descriptions[name]
    return {
        "id": str(uuid.uuid5(NAMESPACE, f"taxonomy:{name}")),
        "name": name,
        "description": description,
        "version": version,
    }


def _term(taxonomy_name: str, code: str, name: str, description: str) -> dict[str, Any]:
    detail = _taxonomy_detail(taxonomy_name)
    return {
        "id": str(uuid.uuid5(NAMESPACE, f"term:{taxonomy_name}:{code}")),
        "code": code,
        "name": name,
        "description": description,
        "taxonomy": taxonomy_name,
        "taxonomy_id": detail["id"],
        "taxonomy_detail": dict(detail),
        "language": "fr",
    }


def _attribute(service_id: uuid.UUID, term: dict[str, Any], value: str | None = None) -> dict[str, Any]:
    attribute = {
        "id": _id(service_id, f"attribute:{term['taxonomy']}:{term['code']}"),
        "link_id": str(service_id),
        "link_entity": "service",
        "taxonomy_term_id": term["id"],
        "taxonomy_term": term,
    }
    if value is not None:
        attribute["value"] = value
    return attribute


@cache
def _thematique_labels() -> dict[str, str]:
    path = SCHEMA_DIR.parent / "data-inclusion-1.0" / "extra" / "thematiques.json"
    return {item["value"]: item["label"] for item in json.loads(path.read_text(encoding="utf-8"))}


@cache
def _language_names() -> dict[str, str]:
    return {code: name for code, name in Locale.parse("fr").languages.items() if isinstance(code, str)}


def _amount(cents: int) -> int | float:
    return cents // 100 if cents % 100 == 0 else float(Decimal(cents) / 100)


def _timestamp(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def service_of(
    offer: Offer, organization_id: uuid.UUID, link: Callable[[uuid.UUID], str] | None = None
) -> dict[str, Any]:
    """One published offer as an HSDS 3.0 service (``link``: the address of its public page)."""
    sid = offer.id
    item = taxonomy().get(offer.service_type)
    service: dict[str, Any] = {
        "id": str(sid),
        "organization_id": str(organization_id),
        "name": offer.title,
    }
    if offer.description:
        service["description"] = offer.description
    if link is not None:
        service["url"] = link(offer.id)
    service["status"] = "active"
    service["fees_description"] = price_text(offer.price_cents, offer.price_unit)
    service["last_modified"] = _timestamp(offer.updated_at)
    if offer.price_cents is not None and offer.price_unit is not None:
        service["cost_options"] = [
            {
                "id": _id(sid, "cost_option"),
                "service_id": str(sid),
                "option": offer.price_unit,
                "currency": "EUR",
                "amount": _amount(offer.price_cents),
                "amount_description": "forfait"
                if offer.price_unit == "flat"
                else f"par {UNIT_LABELS.get(offer.price_unit, offer.price_unit)}",
            }
        ]
    areas = [("communes", "Commune", code) for code in offer.covered_communes]
    areas += [("departements", "Département", code) for code in offer.covered_departements]
    service["service_areas"] = [
        {
            "id": _id(sid, f"service_area:{code}"),
            "service_id": str(sid),
            "name": f"{label} {code}",
            "description": f"{label} de code officiel géographique (INSEE) {code}.",
            "uri": f"{GEO_API}/{path}/{code}",
        }
        for path, label, code in areas
    ]
    if offer.languages:
        service["languages"] = [
            {
                "id": _id(sid, f"language:{code}"),
                "service_id": str(sid),
                "name": _language_names().get(code, code),
                "code": code,
            }
            for code in offer.languages
        ]
    if offer.accepted_programmes:
        service["funding"] = [
            {"id": _id(sid, f"funding:{code}"), "service_id": str(sid), "source": code}
            for code in offer.accepted_programmes
        ]
    if offer.opening_hours:
        service["schedules"] = [
            {"id": _id(sid, "schedule"), "service_id": str(sid), "description": offer.opening_hours}
        ]
    attributes = [
        _attribute(
            sid,
            _term(
                TAXONOMY,
                offer.service_type,
                item.label if item else offer.service_type,
                item.description if item else offer.service_type,
            ),
        ),
        _attribute(
            sid,
            _term(
                ATTRIBUTES,
                "lead_time_days",
                "Délai de mise en place",
                "Délai en jours avant la première intervention.",
            ),
            str(offer.lead_time_days),
        ),
    ]
    if offer.accessibility:
        attributes.append(
            _attribute(
                sid,
                _term(
                    ATTRIBUTES, "accessibility", "Accessibilité", "Accessibilité du service, en texte libre."
                ),
                offer.accessibility,
            )
        )
    for code in item.thematiques if item else ():
        label = _thematique_labels().get(code, code)
        attributes.append(_attribute(sid, _term(THEMATIQUES, code, label, label)))
    service["attributes"] = attributes
    return service


def build_package(
    catalogue: list[ProviderOffers], link: Callable[[uuid.UUID], str] | None = None
) -> list[dict[str, Any]]:
    """The organization package of a catalogue (pure: validated by :func:`export_hsds`)."""
    package = []
    for entry in catalogue:
        provider = entry.provider
        organization: dict[str, Any] = {
            "id": str(provider.id),
            "name": provider.name,
            "description": provider.kind_label,
        }
        identifiers = [
            {
                "id": _id(provider.id, f"identifier:{label}"),
                "organization_id": str(provider.id),
                "identifier_type": label,
                "identifier": value,
            }
            for attribute, label in _IDENTIFIERS
            if (value := getattr(provider, attribute))
        ]
        if identifiers:
            organization["organization_identifiers"] = identifiers
        organization["services"] = [service_of(offer, provider.id, link) for offer in entry.offers]
        package.append(organization)
    return package


def check_export(document: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``document`` when it validates; :class:`ExportInvalid` otherwise."""
    problems = validate_package(document)
    if problems:
        shown = "; ".join(f"{p.where}: {p.message}" for p in problems[:5])
        raise ExportInvalid(f"HSDS export does not validate: {shown}")
    return document


async def export_hsds(tenant: TenantRecord, base_url: str | None = None) -> list[dict[str, Any]]:
    """The territory's published offers as a validated HSDS 3.0 organization package.

    ``base_url``: the platform's public address, for each service's ``url`` (its public page).
    """
    link = offer_links(base_url, tenant.slug) if base_url else None
    return check_export(build_package(await published_catalogue(tenant.id), link))


def dumps(document: Any) -> bytes:
    """A document as UTF-8 JSON, indented (what the endpoints and the CLI write)."""
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


# --- import ------------------------------------------------------------------------------------------


def load_json(data: bytes) -> Any:
    """The JSON document in ``data`` (UTF-8, BOM allowed); :class:`InvalidInput` in French."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput("le fichier n'est pas encodé en UTF-8") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"JSON illisible ligne {error.lineno}, colonne {error.colno} : {_json_reason(error.msg)}"
        ) from error
    except RecursionError as error:
        raise InvalidInput("JSON trop profondément imbriqué") from error


def _json_reason(message: str) -> str:
    reasons = {
        "Expecting value": "valeur attendue",
        "Expecting ',' delimiter": "virgule attendue",
        "Expecting ':' delimiter": "deux-points attendus",
        "Expecting property name enclosed in double quotes": "nom de champ entre guillemets doubles attendu",
        "Extra data": "données en trop après le document",
        "Unterminated string starting at": "texte non terminé",
        "Invalid control character at": "caractère de contrôle interdit",
    }
    return reasons.get(message, message)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _taxonomy_name(term: dict[str, Any]) -> str:
    detail = term.get("taxonomy_detail")
    name = _text(term.get("taxonomy")) or (_text(detail.get("name")) if isinstance(detail, dict) else "")
    return name.casefold()


def _siret(organization: dict[str, Any]) -> str | None:
    for identifier in organization.get("organization_identifiers") or []:
        kinds = {
            _text(identifier.get("identifier_type")).casefold(),
            _text(identifier.get("identifier_scheme")).casefold(),
        }
        if kinds & _SIRET_TYPES:
            return re.sub(r"\s", "", _text(identifier.get("identifier"))) or None
    return None


def _cents(amount: Any) -> int | None:
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


def _unit(text: str) -> str | None:
    key = re.sub(r"^(par|per|/)\s*", "", " ".join(text.casefold().split()))
    return _UNIT_NAMES.get(key)


def _area(area: dict[str, Any]) -> str | None:
    match = _AREA_URI.match(_text(area.get("uri")))
    if match:
        kind, code = match.group(1), match.group(2).upper()
        pattern = COMMUNE if kind == "communes" else DEPARTEMENT
        return code if pattern.match(code) else None
    for key in ("extent", "name"):
        code = _text(area.get(key)).upper()
        if COMMUNE.match(code) or DEPARTEMENT.match(code):
            return code
    return None


_FIELD_PATHS = {
    "service_type": "attributes",
    "title": "name",
    "description": "description",
    "price": "cost_options[0].amount",
    "price_unit": "cost_options[0].option",
    "lead_time_days": "attributes",
    "opening_hours": "schedules",
    "accepted_programmes": "funding",
    "languages": "languages",
    "accessibility": "attributes",
    "coverage": "service_areas",
}


def _service_input(service: dict[str, Any], path: str) -> tuple[OfferInput, list[ImportProblem]]:
    """The offer a service describes (not yet checked) and what is wrong with the mapping."""
    problems: list[ImportProblem] = []
    service_type = ""
    types = []
    lead_time = 0
    accessibility = ""
    for index, attribute in enumerate(service.get("attributes") or []):
        term = attribute.get("taxonomy_term")
        if not isinstance(term, dict):
            continue
        where = f"{path}.attributes[{index}]"
        name, code = _taxonomy_name(term), _text(term.get("code"))
        if name == TAXONOMY:
            types.append(code)
            if code not in taxonomy():
                problems.append(
                    ImportProblem(
                        f"{where}.taxonomy_term.code",
                        f"type de service inconnu {code!r} ; types possibles : {', '.join(taxonomy())}",
                        "code",
                    )
                )
        elif name == ATTRIBUTES and code == "lead_time_days":
            value = _text(attribute.get("value"))
            if value.isdigit() and len(value) <= 3:
                lead_time = int(value)
            else:
                problems.append(ImportProblem(f"{where}.value", "un nombre entier de jours", "value"))
        elif name == ATTRIBUTES and code == "accessibility":
            accessibility = _text(attribute.get("value"))
    if not types:
        problems.append(
            ImportProblem(
                f"{path}.attributes",
                f"type de service manquant : un attribut dont taxonomy_term.taxonomy vaut « {TAXONOMY} » "
                f"et code un type de la taxonomie ({', '.join(list(taxonomy())[:3])}…)",
                "attributes",
            )
        )
    elif len(types) > 1:
        problems.append(
            ImportProblem(f"{path}.attributes", "un seul type de service par offre", "attributes")
        )
    else:
        service_type = types[0]

    price_cents: int | None = None
    price_unit: str | None = None
    costs = service.get("cost_options") or []
    if len(costs) > 1:
        problems.append(
            ImportProblem(f"{path}.cost_options", "une seule option de prix par offre", "cost_options")
        )
    elif costs:
        cost, where = costs[0], f"{path}.cost_options[0]"
        if "amount" not in cost:
            problems.append(
                ImportProblem(f"{where}.amount", "montant manquant (ou aucune option de prix)", "amount")
            )
        else:
            price_cents = _cents(cost["amount"])
            if price_cents is None:
                problems.append(
                    ImportProblem(
                        f"{where}.amount", "montant en euros, positif, deux décimales au plus", "amount"
                    )
                )
        currency = _text(cost.get("currency"))
        if currency and currency.upper() != "EUR":
            problems.append(
                ImportProblem(
                    f"{where}.currency",
                    f"seuls les prix en euros (EUR) sont acceptés, pas {currency}",
                    "currency",
                )
            )
        unit_text = _text(cost.get("option")) or _text(cost.get("amount_description"))
        price_unit = _unit(unit_text)
        if price_unit is None:
            problems.append(
                ImportProblem(
                    f"{where}.option",
                    f"unité du prix inconnue {unit_text!r} : {', '.join(UNIT_LABELS)} "
                    f"(ou {', '.join(UNIT_LABELS.values())})",
                    "option",
                )
            )

    coverage = []
    for index, area in enumerate(service.get("service_areas") or []):
        area_code = _area(area)
        if area_code is None:
            problems.append(
                ImportProblem(
                    f"{path}.service_areas[{index}]",
                    f"zone non reconnue : uri attendue {GEO_API}/communes/<code INSEE> "
                    f"ou {GEO_API}/departements/<code>",
                    "uri",
                )
            )
        else:
            coverage.append(area_code)
    languages = []
    for index, language in enumerate(service.get("languages") or []):
        code = _text(language.get("code"))
        if code:
            languages.append(code)
        else:
            problems.append(
                ImportProblem(f"{path}.languages[{index}].code", "code de langue manquant", "code")
            )
    programmes = []
    for index, funding in enumerate(service.get("funding") or []):
        source = _text(funding.get("source"))
        if source:
            programmes.append(source)
        else:
            problems.append(
                ImportProblem(
                    f"{path}.funding[{index}].source", "code du programme de financement manquant", "source"
                )
            )
    hours = " ; ".join(
        text for schedule in service.get("schedules") or [] if (text := _text(schedule.get("description")))
    )
    data = OfferInput(
        service_type=service_type,
        title=_text(service.get("name")),
        description=_text(service.get("description")),
        price_cents=price_cents,
        price_unit=price_unit,
        lead_time_days=lead_time,
        opening_hours=hours,
        accepted_programmes=tuple(programmes),
        languages=tuple(languages),
        accessibility=accessibility,
        coverage=tuple(coverage),
    )
    return data, problems


def _located(path: str) -> Callable[[str], str]:
    """Where an :class:`OfferInput` field of the service at ``path`` comes from."""

    def where(name: str) -> str:
        return f"{path}.{_FIELD_PATHS.get(name, name)}"

    return where


def _services(document: list[Any]) -> Iterator[tuple[int, int, dict[str, Any]]]:
    for index, organization in enumerate(document):
        for position, service in enumerate(organization.get("services") or []):
            yield index, position, service


async def _providers(
    importer: Importer, document: list[Any]
) -> tuple[dict[int, uuid.UUID], list[ImportProblem]]:
    """The provider of each organization of the package (by index), or why there is none."""
    wanted = [(index, organization, _siret(organization)) for index, organization in enumerate(document)]
    ids = [uuid.UUID(org["id"]) for _, org, _ in wanted]
    sirets = [siret for _, _, siret in wanted if siret]
    async with tenant_scope(importer.tenant_id):
        rows = await scoped_connection().fetch(
            "SELECT id, siret FROM organisation WHERE id = ANY($1::uuid[]) OR siret = ANY($2::text[])",
            ids,
            sirets,
        )
    known = {row["id"] for row in rows}
    by_siret: dict[str, list[uuid.UUID]] = {}
    for row in rows:
        if row["siret"]:
            by_siret.setdefault(row["siret"], []).append(row["id"])
    found: dict[int, uuid.UUID] = {}
    problems = []
    for index, organization, siret in wanted:
        where = f"$[{index}]"
        organization_id = uuid.UUID(organization["id"])
        name = _text(organization.get("name"))
        if organization_id in known:
            provider = organization_id
        elif siret and len(by_siret.get(siret, [])) == 1:
            provider = by_siret[siret][0]
        elif siret and siret in by_siret:
            problems.append(
                ImportProblem(
                    where,
                    f"plusieurs structures du territoire ont le SIRET {siret} : « {name} » ambiguë",
                    "id",
                )
            )
            continue
        else:
            known_by = f"identifiant {organization_id}" + (f" ni SIRET {siret}" if siret else ", sans SIRET")
            problems.append(
                ImportProblem(
                    where,
                    f"structure inconnue du territoire : « {name} » ({known_by}) ; elle doit d'abord "
                    "être inscrite à l'annuaire, elle n'est pas créée par l'import",
                    "id",
                )
            )
            continue
        if importer.provider_id is not None and provider != importer.provider_id:
            problems.append(
                ImportProblem(
                    where, f"« {name} » n'est pas votre structure : vous n'importez que ses offres", "id"
                )
            )
            continue
        found[index] = provider
    return found, problems


def derived_offer_id(tenant_id: uuid.UUID, service_id: uuid.UUID) -> uuid.UUID:
    """The id of the offer imported into a territory from another directory's service."""
    return uuid.uuid5(NAMESPACE, f"hsds-import:{tenant_id}:{service_id}")


async def import_package(
    runtime: Runtime,
    importer: Importer,
    data: bytes,
    *,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import an HSDS 3.0 package (bytes of JSON): everything, or nothing and why."""
    report = ImportReport("hsds")
    try:
        document = load_json(data)
    except InvalidInput as error:
        return report.refuse([file_problem(error.detail)])
    if isinstance(document, dict):
        document = [document]
    problems = validate_package(document)
    if problems:
        if isinstance(document, list):
            report.total = sum(len(o.get("services") or []) for o in document if isinstance(o, dict))
        return report.refuse(problems)
    report.total = sum(1 for _ in _services(document))
    providers, problems = await _providers(importer, document)
    plans: list[PlannedOffer] = []
    seen: dict[str, str] = {}
    for index, position, service in _services(document):
        path = f"$[{index}].services[{position}]"
        organization_id = document[index]["id"]
        if _text(service.get("organization_id")) not in ("", organization_id):
            problems.append(
                ImportProblem(
                    f"{path}.organization_id",
                    f"le service est rangé sous l'organisation {organization_id}, pas sous celle-ci",
                    "organization_id",
                )
            )
        if service["id"] in seen:
            problems.append(
                ImportProblem(f"{path}.id", f"identifiant déjà utilisé par {seen[service['id']]}", "id")
            )
            continue
        seen[service["id"]] = path
        data_in, found = _service_input(service, path)
        problems += found
        if found:
            continue
        try:
            checked = data_in.checked()
        except InvalidInput as refused:
            problems += field_problems(refused.errors, _located(path))
            continue
        if index not in providers:
            continue
        service_id = uuid.UUID(service["id"])
        offer_id = derived_offer_id(importer.tenant_id, service_id)
        plans.append(
            PlannedOffer(
                where=path,
                provider_id=providers[index],
                data=checked,
                status=_STATUSES.get(service["status"], "paused"),
                ids=(service_id, offer_id),
                new_id=offer_id,
                keep=frozenset({"capacity_per_week"}),
            )
        )
    if problems:
        return report.refuse(problems)
    return await apply_offers(runtime, importer, plans, report, on_progress=on_progress)
