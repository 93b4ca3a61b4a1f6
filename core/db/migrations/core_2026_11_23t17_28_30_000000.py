"""Tenant isolation for the initial tables: composite keys, RLS, grants, indexes."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db.engine import DB
from core.db.tenant_ddl import APP_ROLE, tenant_table_ddl

ID = "2026-11-23T17:28:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant isolation"

STATEMENTS = [
    f"GRANT SELECT, INSERT, UPDATE ON tenant TO {APP_ROLE}",
    *tenant_table_ddl("api_client"),
    "ALTER TABLE api_client ADD CONSTRAINT api_client_client_id_key UNIQUE (tenant_id, client_id)",
    *tenant_table_ddl("api_token", {"api_client_id": "api_client"}, "SELECT, INSERT, DELETE"),
    "ALTER TABLE api_token ADD CONSTRAINT api_token_digest_key UNIQUE (tenant_id, token_digest)",
    *tenant_table_ddl("person"),
    "ALTER TABLE person ADD CONSTRAINT person_ins_key UNIQUE (tenant_id, ins_digest)",
    *tenant_table_ddl("event", {"person_id": "person"}),
    "ALTER TABLE event ADD CONSTRAINT event_idempotency_key UNIQUE (tenant_id, idempotency_key)",
    "CREATE INDEX event_person_idx ON event (tenant_id, person_id, occurred_at)",
    *tenant_table_ddl("action_proposal", {"event_id": "event"}),
    "ALTER TABLE action_proposal ADD CONSTRAINT action_proposal_dedup_key "
    "UNIQUE (tenant_id, event_id, dedup_key)",
    "CREATE INDEX action_proposal_inbox_idx ON action_proposal (tenant_id, status, due_at)",
    *tenant_table_ddl("outbox_message"),
    "CREATE INDEX outbox_message_pending_idx ON outbox_message (tenant_id, created_at) "
    "WHERE status = 'pending'",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def apply() -> None:
        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(apply)
    return manager
