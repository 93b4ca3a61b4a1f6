"""Directory exchange of the marketplace: HSDS 3.0 export and import, data·inclusion export, CSV import.

Everything runs against the real database as the application role; exports are validated with the
vendored official schemas (and HSDS also in its CI's strict mode: no property the schemas do not
define).
"""

from __future__ import annotations

import codecs
import copy
import datetime as dt
import json
import uuid
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from core.access.policy import Actor
from core.audit.trail import Actor as AuditActor
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Forbidden
from core.identity.roles import Role
from core.marketplace import csv_import, datainclusion, hsds
from core.marketplace.exchange import Importer, find_provider, import_offers, importer_for
from core.marketplace.offers import OfferInput, create_offer, get_offer, set_status
from core.marketplace.taxonomy import taxonomy
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from tests.support.loop import LoopThread

OPERATOR = AuditActor("operator", "cli:test")


# --- fixtures ----------------------------------------------------------------------------------------


async def _organisation(tenant: TenantRecord, name: str, siret: str | None) -> uuid.UUID:
    organisation_id = uuid.uuid4()
    async with tenant_scope(tenant.id):
        await scoped_connection().execute(
            "INSERT INTO organisation (id, tenant_id, kind, name, siret, commune_insee, email, phone, "
            "is_demo, created_at) VALUES ($1, $2, 'home_help_provider', $3, $4, '40192', "
            "'contact@example.test', '0102030405', false, $5)",
            organisation_id,
            tenant.id,
            name,
            siret,
            dt.datetime.now(dt.UTC),
        )
    return organisation_id


def _staff(tenant: TenantRecord, organisation_id: uuid.UUID) -> Actor:
    return Actor(uuid.uuid4(), False, tenant.id, Role.PROVIDER_STAFF, organisation_id=organisation_id)


SAAD_SIRET = "99900003700013"
PHARMACY_SIRET = "99900002900010"


async def _territory(runtime: Runtime, tenant: TenantRecord) -> dict[str, uuid.UUID]:
    """Two providers: three published offers (varied), one draft, one paused."""
    saad = await _organisation(tenant, "SAAD des Landes", SAAD_SIRET)
    pharmacy = await _organisation(tenant, "Pharmacie du Marsan", PHARMACY_SIRET)
    staff, pharmacist = _staff(tenant, saad), _staff(tenant, pharmacy)
    ids = {
        "menage": await create_offer(
            runtime,
            staff,
            OfferInput(
                service_type="housekeeping",
                title="Aide ménagère",
                description="Entretien du logement et du linge.",
                price_cents=2550,
                price_unit="hour",
                capacity_per_week=40,
                lead_time_days=2,
                opening_hours="Du lundi au samedi, 8 h – 19 h",
                accepted_programmes=("apa", "carsat-oscar"),
                languages=("fr", "oc"),
                accessibility="Intervention à domicile",
                coverage=("40", "40192", "2A004"),
            ),
        ),
        "repas": await create_offer(
            runtime,
            staff,
            OfferInput(
                "meals_on_wheels",
                "Portage de repas",
                price_cents=1000,
                price_unit="meal",
                coverage=("40192",),
            ),
        ),
        "livraison": await create_offer(
            runtime,
            pharmacist,
            OfferInput("pharmacy_delivery", "Livraison de médicaments", coverage=("40192", "40088")),
        ),
        "brouillon": await create_offer(
            runtime, staff, OfferInput("night_care", "Garde de nuit", coverage=("40",))
        ),
        "pause": await create_offer(runtime, staff, OfferInput("respite", "Relayage", coverage=("40",))),
    }
    for key in ("menage", "repas", "livraison", "pause"):
        actor = pharmacist if key == "livraison" else staff
        await set_status(runtime, actor, ids[key], "published")
    await set_status(runtime, staff, ids["pause"], "paused")
    return {"saad": saad, "pharmacy": pharmacy, **ids}


def _count_offers(sql_owner: Any, tenant: TenantRecord) -> int:
    return sql_owner.execute(
        "SELECT count(*) FROM service_offer WHERE tenant_id = %s", (tenant.id,)
    ).fetchone()[0]


def _without_ids(document: Any) -> Any:
    """The document with what differs between territories removed: ids, dates, page addresses."""
    if isinstance(document, list):
        return [_without_ids(item) for item in document]
    if isinstance(document, dict):
        return {
            key: _without_ids(value)
            for key, value in document.items()
            if key not in ("id", "last_modified", "url") and not key.endswith("_id")
        }
    return document


def _strictly(schema: Any) -> Any:
    """A schema with ``additionalProperties: false`` wherever it lists properties (HSDS CI's check)."""
    if isinstance(schema, dict):
        strict = {key: _strictly(value) for key, value in schema.items()}
        if "properties" in strict:
            strict["additionalProperties"] = False
        return strict
    if isinstance(schema, list):
        return [_strictly(item) for item in schema]
    return schema


def _strict_problems(document: list[dict[str, Any]]) -> list[str]:
    resources = [
        (
            hsds.BASE_URI + path.name,
            Resource.from_contents(_strictly(json.loads(path.read_text())), DRAFT202012),
        )
        for path in hsds.SCHEMA_DIR.glob("*.json")
    ]
    registry: Registry[Any] = Registry().with_resources(resources)
    found = []
    for organization in document:
        bare = {key: value for key, value in organization.items() if key != "services"}
        for name, item in [("organization.json", bare)] + [
            ("service.json", s) for s in organization["services"]
        ]:
            validator = Draft202012Validator({"$ref": hsds.BASE_URI + name}, registry=registry)
            found += [f"{error.json_path}: {error.message}" for error in validator.iter_errors(item)]
    return found


# --- the vendored schemas and the taxonomy's mapping -------------------------------------------------


def test_vendored_hsds_schemas_are_valid_and_resolve():
    for path in hsds.SCHEMA_DIR.glob("*.json"):
        schema = json.loads(path.read_text())
        assert "$schema" not in schema  # the dialect comes from HSDS's openapi.json: 2020-12
        hsds.validator_class(path.name).check_schema(schema)
    assert hsds.validator_class() is Draft202012Validator
    assert hsds.validate_package([]) == []


def test_taxonomy_mapping_uses_only_datainclusion_vocabularies():
    service_schema = json.loads((datainclusion.SCHEMA_DIR / "service.json").read_text())
    enums = {name: set(spec["enum"]) for name, spec in service_schema["$defs"].items()}
    for vocabulary, enum in (
        ("thematiques", "Thematique"),
        ("types-de-services", "TypeService"),
        ("publics", "Public"),
        ("modes-accueil", "ModeAccueil"),
    ):
        assert set(datainclusion.vocabulary(vocabulary)) == enums[enum], vocabulary
    assert len(taxonomy()) == 15
    for item in taxonomy().values():
        mapping = item.datainclusion
        assert mapping.checked, item.code
        assert mapping.type in datainclusion.vocabulary("types-de-services"), item.code
        assert mapping.thematiques and set(mapping.thematiques) <= set(
            datainclusion.vocabulary("thematiques")
        )
        assert set(mapping.publics) <= set(datainclusion.vocabulary("publics")), item.code
        assert "tous-publics" not in mapping.publics or mapping.publics == ("tous-publics",)
        assert mapping.modes_accueil and set(mapping.modes_accueil) <= set(
            datainclusion.vocabulary("modes-accueil")
        )


# --- HSDS export -------------------------------------------------------------------------------------


def test_hsds_export_validates_and_maps_every_field(aio: LoopThread, runtime: Runtime, tenant: TenantRecord):
    ids = aio.run(_territory(runtime, tenant))
    document = aio.run(hsds.export_hsds(tenant, "https://parcours.example"))
    assert hsds.validate_package(document) == []
    assert _strict_problems(document) == []

    assert [o["name"] for o in document] == ["Pharmacie du Marsan", "SAAD des Landes"]
    pharmacy, saad = document
    assert pharmacy["id"] == str(ids["pharmacy"])
    assert pharmacy["description"] == "Service d'aide à domicile"
    assert pharmacy["organization_identifiers"][0] | {"id": "-"} == {
        "id": "-",
        "organization_id": str(ids["pharmacy"]),
        "identifier_type": "SIRET",
        "identifier": PHARMACY_SIRET,
    }
    assert "email" not in json.dumps(document) and "0102030405" not in json.dumps(document)
    assert [s["name"] for s in saad["services"]] == ["Aide ménagère", "Portage de repas"]  # published only
    service = saad["services"][0]
    assert service["id"] == str(ids["menage"]) and service["status"] == "active"
    assert service["url"] == f"https://parcours.example/t/{tenant.slug}/services/offres/{ids['menage']}"
    assert service["fees_description"] == "25,50\u00a0€ / heure"
    assert service["cost_options"][0] | {"id": "-", "service_id": "-"} == {
        "id": "-",
        "service_id": "-",
        "option": "hour",
        "currency": "EUR",
        "amount": 25.5,
        "amount_description": "par heure",
    }
    assert [area["uri"] for area in service["service_areas"]] == [
        "https://geo.api.gouv.fr/communes/2A004",
        "https://geo.api.gouv.fr/communes/40192",
        "https://geo.api.gouv.fr/departements/40",
    ]
    assert [(lang["code"], lang["name"]) for lang in service["languages"]] == [
        ("fr", "français"),
        ("oc", "occitan"),
    ]
    assert [f["source"] for f in service["funding"]] == ["apa", "carsat-oscar"]
    assert service["schedules"][0]["description"] == "Du lundi au samedi, 8 h – 19 h"
    terms = {
        (a["taxonomy_term"]["taxonomy"], a["taxonomy_term"]["code"]): a.get("value")
        for a in service["attributes"]
    }
    assert terms[("parcours", "housekeeping")] is None
    assert terms[("parcours-attributs", "lead_time_days")] == "2"
    assert terms[("parcours-attributs", "accessibility")] == "Intervention à domicile"
    assert ("data-inclusion-thematiques", "equipement-et-alimentation--aide-menagere") in terms
    assert "capacity" not in json.dumps(service)
    assert "cost_options" not in pharmacy["services"][0]  # price on request
    assert pharmacy["services"][0]["fees_description"] == "Prix sur demande"
    assert aio.run(hsds.export_hsds(tenant, "https://parcours.example")) == document  # stable


# --- HSDS import -------------------------------------------------------------------------------------


def test_round_trip_same_territory_and_another(
    aio: LoopThread, runtime: Runtime, make_tenant: Any, sql_owner: Any
):
    origin, other = make_tenant(), make_tenant()
    aio.run(_territory(runtime, origin))
    exported = aio.run(hsds.export_hsds(origin))
    package = hsds.dumps(exported)

    # Into the same territory: every offer is found by its id, nothing changes.
    report = aio.run(import_offers(runtime, Importer(origin.id, None, OPERATOR), package))
    assert report.ok and report.written, report.problems
    assert (report.total, report.created, report.updated, report.unchanged) == (3, 0, 0, 3)
    assert aio.run(hsds.export_hsds(origin)) == exported

    # Into another territory whose providers have the same SIRET (other ids): created, then idempotent.
    aio.run(_organisation(other, "SAAD des Landes", SAAD_SIRET))
    aio.run(_organisation(other, "Pharmacie du Marsan", PHARMACY_SIRET))
    before = _count_offers(sql_owner, other)
    first = aio.run(import_offers(runtime, Importer(other.id, None, OPERATOR), package))
    assert first.ok, first.problems
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    again = aio.run(import_offers(runtime, Importer(other.id, None, OPERATOR), package))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert again.offer_ids == first.offer_ids
    assert _count_offers(sql_owner, other) == before + 3
    status = sql_owner.execute(
        "SELECT DISTINCT status, capacity_per_week FROM service_offer WHERE tenant_id = %s", (other.id,)
    ).fetchall()
    assert status == [("published", None)]
    copied = aio.run(hsds.export_hsds(other))
    assert hsds.validate_package(copied) == []
    assert _without_ids(copied) == _without_ids(exported)
    assert copied[1]["services"][0]["id"] == str(
        hsds.derived_offer_id(other.id, uuid.UUID(exported[1]["services"][0]["id"]))
    )


def test_import_updates_changes_and_pauses_inactive(aio: LoopThread, runtime: Runtime, tenant: TenantRecord):
    ids = aio.run(_territory(runtime, tenant))
    package = aio.run(hsds.export_hsds(tenant))
    service = package[1]["services"][0]
    service["name"] = "Aide ménagère et repassage"
    service["cost_options"][0]["amount"] = 27
    service["service_areas"] = [
        {"id": str(uuid.uuid4()), "name": "64", "extent_type": "text", "extent": "64"}
    ]
    package[1]["services"][1]["status"] = "inactive"
    report = aio.run(import_offers(runtime, Importer(tenant.id, None, OPERATOR), hsds.dumps(package)))
    assert report.ok, report.problems
    assert (report.created, report.updated, report.unchanged) == (0, 2, 1)
    staff = _staff(tenant, ids["saad"])
    offer = aio.run(get_offer(staff, ids["menage"]))
    assert (offer.title, offer.price_cents, offer.coverage, offer.capacity_per_week) == (
        "Aide ménagère et repassage",
        2700,
        ("64",),
        40,  # not carried by HSDS: kept
    )
    assert aio.run(get_offer(staff, ids["repas"])).status == "paused"


def test_bad_package_lists_french_errors_by_path_and_writes_nothing(
    aio: LoopThread, runtime: Runtime, tenant: TenantRecord, sql_owner: Any
):
    aio.run(_territory(runtime, tenant))
    package = aio.run(hsds.export_hsds(tenant))
    saad = package[1]
    saad["services"][0]["name"] = "Nouvelle aide ménagère"  # a good change, not written either
    saad["services"][1]["status"] = "open"
    del saad["services"][1]["name"]
    before = _count_offers(sql_owner, tenant)
    titles = sql_owner.execute(
        "SELECT title FROM service_offer WHERE tenant_id = %s", (tenant.id,)
    ).fetchall()

    report = aio.run(import_offers(runtime, Importer(tenant.id, None, OPERATOR), hsds.dumps(package)))
    assert not report.written
    assert [(p.where, p.message) for p in report.problems] == [
        ("$[1].services[1].name", "champ obligatoire manquant"),
        (
            "$[1].services[1].status",
            "valeur non autorisée « open » ; valeurs possibles : "
            "active, inactive, defunct, temporarily closed",
        ),
    ]

    # Valid HSDS, but wrong for us: each problem at its path, in French.
    package = aio.run(hsds.export_hsds(tenant))
    service = package[1]["services"][0]
    service["cost_options"][0]["amount"] = 25.555
    service["cost_options"][0]["currency"] = "GBP"
    service["service_areas"][0]["uri"] = "https://example.org/zone"
    service["languages"][0]["code"] = "xx"
    service["attributes"] = [a for a in service["attributes"] if a["taxonomy_term"]["taxonomy"] != "parcours"]
    package[1]["services"][1]["attributes"][0]["taxonomy_term"]["code"] = "gardening"
    report = aio.run(import_offers(runtime, Importer(tenant.id, None, OPERATOR), hsds.dumps(package)))
    messages = {p.where: p.message for p in report.problems}
    assert (
        messages["$[1].services[0].cost_options[0].amount"]
        == "montant en euros, positif, deux décimales au plus"
    )
    assert messages["$[1].services[0].cost_options[0].currency"].startswith("seuls les prix en euros")
    assert messages["$[1].services[0].service_areas[0]"].startswith("zone non reconnue")
    assert messages["$[1].services[0].attributes"].startswith("type de service manquant")
    assert messages["$[1].services[1].attributes[0].taxonomy_term.code"].startswith("type de service inconnu")
    assert not report.written

    report = aio.run(import_offers(runtime, Importer(tenant.id, None, OPERATOR), b'[{"id": 1,}]'))
    assert [(p.where, p.message) for p in report.problems] == [
        ("fichier", "JSON illisible ligne 1, colonne 11 : nom de champ entre guillemets doubles attendu")
    ]
    assert _count_offers(sql_owner, tenant) == before
    assert (
        sql_owner.execute("SELECT title FROM service_offer WHERE tenant_id = %s", (tenant.id,)).fetchall()
        == titles
    )


def test_unknown_providers_are_reported_not_created(
    aio: LoopThread, runtime: Runtime, make_tenant: Any, sql_owner: Any
):
    origin, other = make_tenant(), make_tenant()
    aio.run(_territory(runtime, origin))
    package = hsds.dumps(aio.run(hsds.export_hsds(origin)))
    aio.run(_organisation(other, "SAAD des Landes", SAAD_SIRET))  # the pharmacy is not in the directory
    report = aio.run(import_offers(runtime, Importer(other.id, None, OPERATOR), package))
    assert not report.written and _count_offers(sql_owner, other) == 0
    assert len(report.problems) == 1
    assert report.problems[0].where == "$[0]"
    assert report.problems[0].message.startswith("structure inconnue du territoire : « Pharmacie du Marsan »")
    organisations = sql_owner.execute("SELECT count(*) FROM organisation WHERE tenant_id = %s", (other.id,))
    assert organisations.fetchone()[0] == 1


def test_a_provider_imports_its_own_offers_only(aio: LoopThread, runtime: Runtime, tenant: TenantRecord):
    ids = aio.run(_territory(runtime, tenant))
    package = hsds.dumps(aio.run(hsds.export_hsds(tenant)))
    importer = importer_for(_staff(tenant, ids["saad"]))
    assert importer.provider_id == ids["saad"]
    report = aio.run(import_offers(runtime, importer, package))
    assert [p.where for p in report.problems] == ["$[0]"]
    assert "n'est pas votre structure" in report.problems[0].message
    with pytest.raises(Forbidden):
        importer_for(_staff(tenant, ids["saad"]), any_provider=True)
    assert aio.run(find_provider(tenant.id, f" {SAAD_SIRET} ")) == ids["saad"]


# --- CSV import --------------------------------------------------------------------------------------

CSV = (
    "Type de service;Intitulé;Description;Prix;Unité;Délai (jours);Langues;Zone;Statut;Commentaire\n"
    'housekeeping;Ménage du printemps;"Grand ménage ; vitres comprises";25,50;heure;3;'
    "fr, oc;40192 40088;publiée;x\n"
    "Courses;Courses du samedi;;1 234,5;forfait;;;40;;\n"
)


def test_csv_semicolon_bom_and_french_prices(aio: LoopThread, runtime: Runtime, tenant: TenantRecord):
    provider = aio.run(_organisation(tenant, "SAAD des Landes", SAAD_SIRET))
    staff = _staff(tenant, provider)
    data = codecs.BOM_UTF8 + CSV.encode()
    report = aio.run(import_offers(runtime, importer_for(staff), data))
    assert report.ok, report.problems
    assert (report.format, report.total, report.created) == ("csv", 2, 2)
    spring, saturday = (aio.run(get_offer(staff, offer_id)) for offer_id in report.offer_ids)
    assert (spring.title, spring.price_cents, spring.price_unit, spring.status) == (
        "Ménage du printemps",
        2550,
        "hour",
        "published",
    )
    assert spring.description == "Grand ménage ; vitres comprises"
    assert (spring.lead_time_days, spring.languages, spring.coverage) == (3, ("fr", "oc"), ("40088", "40192"))
    assert (saturday.service_type, saturday.price_cents, saturday.price_unit, saturday.status) == (
        "shopping",
        123450,
        "flat",
        "draft",
    )

    again = aio.run(import_offers(runtime, importer_for(staff), data))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    comma = (
        'title,service_type,coverage,price,price_unit\nMÉNAGE DU PRINTEMPS,housekeeping,40192,"26,00",hour\n'
    )
    changed = aio.run(import_offers(runtime, importer_for(staff), comma.encode()))
    assert (changed.created, changed.updated) == (0, 1), changed.problems
    spring = aio.run(get_offer(staff, spring.id))
    assert (spring.price_cents, spring.lead_time_days, spring.languages) == (
        2600,
        3,
        ("fr", "oc"),
    )  # absent: kept


def test_csv_bad_rows_report_their_lines_and_nothing_is_written(
    aio: LoopThread, runtime: Runtime, tenant: TenantRecord, sql_owner: Any
):
    provider = aio.run(_organisation(tenant, "SAAD des Landes", SAAD_SIRET))
    data = (
        "service_type;title;price;price_unit;coverage\n"
        "housekeeping;Ménage;25,50;heure;40192\n"
        "jardinage;Tonte;12,345;heure;40192\n"
        "\n"
        'shopping;"Courses\nsur deux lignes";10;lune;4O192\n'
    ).encode()
    report = aio.run(import_offers(runtime, importer_for(_staff(tenant, provider)), data))
    assert not report.written and _count_offers(sql_owner, tenant) == 0
    assert [(p.line, p.field) for p in report.problems] == [
        (3, "service_type"),
        (3, "price"),
        (5, "price_unit"),
        (5, "coverage"),
    ]
    assert report.problems[0].message.startswith("type de service inconnu « jardinage »")
    assert report.problems[0].where == "ligne 3"

    missing = aio.run(import_offers(runtime, importer_for(_staff(tenant, provider)), b"titre;prix\nx;1\n"))
    assert missing.problems[0].where == "fichier"
    assert "colonne(s) obligatoire(s) manquante(s) : service_type, coverage" in missing.problems[0].message

    admin = Importer(tenant.id, None, OPERATOR)
    unknown = aio.run(csv_import.import_csv(runtime, admin, data, provider_id=None))
    assert unknown.problems[0].message == "indiquez la structure dont le fichier décrit les offres"


# --- data·inclusion export ---------------------------------------------------------------------------


def test_datainclusion_export_validates_with_vocabulary_values(
    aio: LoopThread, runtime: Runtime, tenant: TenantRecord
):
    ids = aio.run(_territory(runtime, tenant))
    document = aio.run(datainclusion.export_datainclusion(tenant, "https://parcours.example"))
    assert datainclusion.validate_export(document) == []
    source = f"parcours-{tenant.slug}"
    assert [s["id"] for s in document["structures"]] == [
        f"{source}--{ids['pharmacy']}",
        f"{source}--{ids['saad']}",
    ]
    assert {s["nom"] for s in document["services"]} == {
        "Aide ménagère",
        "Portage de repas",
        "Livraison de médicaments",
    }
    for service in document["services"]:
        assert service["source"] == source
        assert service["type"] in datainclusion.vocabulary("types-de-services")
        assert set(service["thematiques"]) <= set(datainclusion.vocabulary("thematiques"))
        assert set(service["publics"]) <= set(datainclusion.vocabulary("publics"))
        assert set(service["modes_accueil"]) <= set(datainclusion.vocabulary("modes-accueil"))
        assert service["frais"] in (None, *datainclusion.vocabulary("frais"))
        assert "courriel" not in service and "telephone" not in service
    menage = next(s for s in document["services"] if s["nom"] == "Aide ménagère")
    assert menage["frais"] == "payant"
    assert menage["frais_precisions"] == "25,50\u00a0€ par heure. Financements acceptés : apa, carsat-oscar."
    assert menage["zone_eligibilite"] == ["2A004", "40192", "40"]
    assert menage["lien_source"].endswith(f"/t/{tenant.slug}/services/offres/{ids['menage']}")
    assert "Horaires : Du lundi au samedi" in menage["description"]
    delivery = next(s for s in document["services"] if s["nom"] == "Livraison de médicaments")
    assert delivery["frais"] is None and delivery["frais_precisions"] == "Prix sur demande."
    assert delivery["publics"] == ["tous-publics"]

    broken = copy.deepcopy(document)
    broken["services"][0]["thematiques"] = ["sante--accompagnement-perte-d-autonomie"]
    problems = datainclusion.validate_export(broken)
    assert [p.where for p in problems] == ["$.services[0].thematiques[0]"]
    assert problems[0].message.startswith("valeur non autorisée « sante--accompagnement-perte-d-autonomie »")
