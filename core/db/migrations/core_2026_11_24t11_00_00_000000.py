"""Providers' agreements (SAP declaration, SAAD authorisation…) and sites; coverage per site.

Hand-written, raw DDL only (not ``--auto``: others change tables concurrently). The two tables are
not Piccolo tables: ``core.marketplace.providers`` reads and writes them with SQL, so Piccolo's
migration snapshot stays in step. Both are tenant tables (row-level security, composite foreign keys
to the provider's organisation). ``offer_coverage.site_id`` says from which site an offer is
delivered to that commune or département (null: from the provider itself); a site still serving
an offer cannot be removed (``RESTRICT``).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db.engine import DB
from core.db.tenant_ddl import tenant_table_ddl

ID = "2026-11-24T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "provider agreements and sites"

STATEMENTS = [
    "CREATE TABLE provider_agreement ("
    "id uuid PRIMARY KEY, tenant_id uuid NOT NULL, "
    "organisation_id uuid NOT NULL REFERENCES organisation (id) ON DELETE RESTRICT, "
    "kind varchar(30) NOT NULL, reference varchar(60) NOT NULL, issuer varchar(200) NOT NULL DEFAULT '', "
    "valid_from date NULL, valid_until date NULL, created_at timestamptz NOT NULL DEFAULT now(), "
    "CONSTRAINT provider_agreement_kind_check CHECK (kind ~ '^[a-z][a-z0-9_]*$'), "
    "CONSTRAINT provider_agreement_period_check "
    "CHECK (valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from))",
    *tenant_table_ddl("provider_agreement", {"organisation_id": "organisation"}),
    "CREATE UNIQUE INDEX provider_agreement_key ON provider_agreement (tenant_id, organisation_id, kind, reference)",
    "CREATE TABLE provider_site ("
    "id uuid PRIMARY KEY, tenant_id uuid NOT NULL, "
    "organisation_id uuid NOT NULL REFERENCES organisation (id) ON DELETE RESTRICT, "
    "name varchar(120) NOT NULL, address varchar(300) NOT NULL DEFAULT '', "
    "commune_insee varchar(5) NOT NULL, phone varchar(30) NULL, "
    "created_at timestamptz NOT NULL DEFAULT now())",
    *tenant_table_ddl("provider_site", {"organisation_id": "organisation"}),
    "CREATE UNIQUE INDEX provider_site_name_key ON provider_site (tenant_id, organisation_id, lower(name))",
    "ALTER TABLE offer_coverage ADD COLUMN site_id uuid NULL REFERENCES provider_site (id) ON DELETE RESTRICT",
    "ALTER TABLE offer_coverage ADD CONSTRAINT offer_coverage_site_id_tenant_fkey "
    "FOREIGN KEY (tenant_id, site_id) REFERENCES provider_site (tenant_id, id)",
    "CREATE INDEX offer_coverage_site_idx ON offer_coverage (tenant_id, site_id) WHERE site_id IS NOT NULL",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def apply() -> None:
        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(apply)
    return manager
