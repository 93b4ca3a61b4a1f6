"""Funding requests: tenant isolation, append-only history, status checks, queue indexes."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db.engine import DB
from core.db.tenant_ddl import tenant_table_ddl

ID = "2026-11-24T00:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "funding requests isolation and checks"

LINE_STATUSES = (
    "'draft','submitted','under_review','information_requested','approved',"
    "'partially_approved','refused','paid','withdrawn'"
)

STATEMENTS = [
    *tenant_table_ddl("tenant_setting", privileges="SELECT, INSERT, UPDATE, DELETE"),
    "CREATE UNIQUE INDEX tenant_setting_key_idx ON tenant_setting (tenant_id, namespace, key)",
    *tenant_table_ddl(
        "funding_request",
        {
            "person_id": "person",
            "proposal_id": "action_proposal",
            "offer_id": "service_offer",
        },
        privileges="SELECT, INSERT, UPDATE",
    ),
    "ALTER TABLE funding_request ADD CONSTRAINT funding_request_status_check "
    "CHECK (status IN ('draft','submitted','closed'))",
    "ALTER TABLE funding_request ADD CONSTRAINT funding_request_quote_check "
    "CHECK (quote_cents IS NULL OR quote_cents >= 0)",
    "CREATE INDEX funding_request_person_idx ON funding_request (tenant_id, person_id, created_at)",
    "CREATE UNIQUE INDEX funding_request_proposal_idx ON funding_request (tenant_id, proposal_id) "
    "WHERE proposal_id IS NOT NULL",
    *tenant_table_ddl(
        "funding_line",
        {"request_id": "funding_request", "funder_organisation_id": "organisation"},
        privileges="SELECT, INSERT, UPDATE",
    ),
    f"ALTER TABLE funding_line ADD CONSTRAINT funding_line_status_check CHECK (status IN ({LINE_STATUSES}))",
    "ALTER TABLE funding_line ADD CONSTRAINT funding_line_amounts_check "
    "CHECK ((requested_cents IS NULL OR requested_cents >= 0) AND (decided_cents IS NULL OR decided_cents >= 0) "
    "AND (decided_hours IS NULL OR decided_hours >= 0))",
    "ALTER TABLE funding_line ADD CONSTRAINT funding_line_period_check "
    "CHECK (period_end IS NULL OR period_start IS NULL OR period_end >= period_start)",
    "ALTER TABLE funding_line ADD CONSTRAINT funding_line_refusal_check "
    "CHECK (status <> 'refused' OR reason_code IS NOT NULL)",
    "ALTER TABLE funding_line ADD CONSTRAINT funding_line_programme_key UNIQUE (tenant_id, request_id, programme)",
    "CREATE INDEX funding_line_queue_idx ON funding_line (tenant_id, funder_organisation_id, status, due_at)",
    *tenant_table_ddl(
        "funding_line_event",
        {"line_id": "funding_line"},
        privileges="SELECT, INSERT",
    ),
    "ALTER TABLE funding_line_event ADD CONSTRAINT funding_line_event_kind_check "
    "CHECK (kind IN ('status','question','answer','reminder'))",
    "CREATE INDEX funding_line_event_line_idx ON funding_line_event (tenant_id, line_id, at)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def apply() -> None:
        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(apply)
    return manager
