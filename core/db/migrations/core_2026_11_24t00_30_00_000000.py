"""API clients may act for one organisation of the territory (a funder's system: its requests only).

Hand-written, raw DDL only (not ``--auto``: others change tables concurrently). The column is not
declared on the Piccolo table (``core.access.tables.ApiClient``), so Piccolo's migration snapshot
stays in step; it is read and written with SQL by ``core.access.service``. The composite foreign key
of tenant tables (``core.db.tenant_ddl``) keeps a client from pointing at another territory's
organisation.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db.engine import DB

ID = "2026-11-24T00:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "api client organisation"

STATEMENTS = [
    "ALTER TABLE api_client ADD COLUMN organisation_id uuid NULL "
    "REFERENCES organisation (id) ON DELETE RESTRICT",
    "ALTER TABLE api_client ADD CONSTRAINT api_client_organisation_id_tenant_fkey "
    "FOREIGN KEY (tenant_id, organisation_id) REFERENCES organisation (tenant_id, id)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def apply() -> None:
        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(apply)
    return manager
