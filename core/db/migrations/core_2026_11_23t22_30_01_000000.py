"""Marketplace offers: tenant isolation, checks, French full-text and trigram search indexes."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db.engine import DB
from core.db.tenant_ddl import tenant_table_ddl

ID = "2026-11-23T22:30:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "marketplace offers isolation and search"

_FTS = "to_tsvector('french'::regconfig, parcours_unaccent({}))"

STATEMENTS = [
    # Trusted contrib extensions (a database owner may create them): accents, trigrams, and
    # btree_gin so that GIN indexes can lead with tenant_id like every other index.
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    # unaccent() is only STABLE (its dictionary could change); indexes and generated columns
    # need an IMMUTABLE wrapper naming the dictionary explicitly.
    "CREATE OR REPLACE FUNCTION parcours_unaccent(text) RETURNS text "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT "
    "AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$",
    *tenant_table_ddl(
        "service_offer", {"provider_organisation_id": "organisation"}, privileges="SELECT, INSERT, UPDATE"
    ),
    "ALTER TABLE service_offer ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    f"setweight({_FTS.format('title')}, 'A') || "
    f"setweight({_FTS.format('type_label')}, 'B') || "
    f"setweight({_FTS.format('description')}, 'C')) STORED",
    "ALTER TABLE service_offer ADD CONSTRAINT service_offer_status_check "
    "CHECK (status IN ('draft','published','paused'))",
    "ALTER TABLE service_offer ADD CONSTRAINT service_offer_price_unit_check "
    "CHECK (price_unit IS NULL OR price_unit IN ('hour','meal','month','visit','flat'))",
    "ALTER TABLE service_offer ADD CONSTRAINT service_offer_price_check "
    "CHECK ((price_cents IS NULL OR price_cents >= 0) AND (price_cents IS NULL) = (price_unit IS NULL))",
    "ALTER TABLE service_offer ADD CONSTRAINT service_offer_currency_check CHECK (currency = 'EUR')",
    "ALTER TABLE service_offer ADD CONSTRAINT service_offer_numbers_check "
    "CHECK (lead_time_days >= 0 AND (capacity_per_week IS NULL OR capacity_per_week >= 0))",
    "ALTER TABLE service_offer ADD CONSTRAINT service_offer_service_type_check "
    "CHECK (service_type ~ '^[a-z][a-z0-9_]*$')",
    "CREATE INDEX service_offer_search_idx ON service_offer USING gin (tenant_id, search_vector)",
    "CREATE INDEX service_offer_title_trgm_idx ON service_offer "
    "USING gin (tenant_id, parcours_unaccent(lower(title)) gin_trgm_ops)",
    "CREATE INDEX service_offer_status_idx ON service_offer (tenant_id, status, service_type, price_cents)",
    "CREATE INDEX service_offer_provider_idx ON service_offer (tenant_id, provider_organisation_id)",
    *tenant_table_ddl("offer_coverage", {"offer_id": "service_offer"}),
    "ALTER TABLE offer_coverage ADD CONSTRAINT offer_coverage_one_place_check "
    "CHECK (num_nonnulls(commune_insee, departement) = 1)",
    "ALTER TABLE offer_coverage ADD CONSTRAINT offer_coverage_commune_check "
    "CHECK (commune_insee ~ '^([0-9]{5}|2[AB][0-9]{3})$')",
    "ALTER TABLE offer_coverage ADD CONSTRAINT offer_coverage_departement_check "
    "CHECK (departement ~ '^([0-9]{2}|2[AB]|97[0-9])$')",
    "CREATE INDEX offer_coverage_commune_idx ON offer_coverage (tenant_id, commune_insee, offer_id)",
    "CREATE INDEX offer_coverage_departement_idx ON offer_coverage (tenant_id, departement, offer_id)",
    "CREATE INDEX offer_coverage_offer_idx ON offer_coverage (tenant_id, offer_id)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def apply() -> None:
        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(apply)
    return manager
