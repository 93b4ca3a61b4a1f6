"""Service orders: tenant isolation, checks on status, dates and quantity, the capacity index."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db.engine import DB
from core.db.tenant_ddl import tenant_table_ddl

ID = "2026-11-23T22:45:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "service orders isolation and checks"

STATEMENTS = [
    *tenant_table_ddl(
        "service_order",
        {"offer_id": "service_offer", "person_id": "person", "proposal_id": "action_proposal"},
        privileges="SELECT, INSERT, UPDATE",
    ),
    "ALTER TABLE service_order ADD CONSTRAINT service_order_status_check "
    "CHECK (status IN ('requested','accepted','declined','cancelled','completed'))",
    "ALTER TABLE service_order ADD CONSTRAINT service_order_dates_check CHECK (end_date >= start_date)",
    "ALTER TABLE service_order ADD CONSTRAINT service_order_quantity_check CHECK (quantity > 0)",
    "ALTER TABLE service_order ADD CONSTRAINT service_order_decision_check "
    "CHECK ((status = 'requested') = (decided_at IS NULL))",
    "ALTER TABLE service_order ADD CONSTRAINT service_order_declined_reason_check "
    "CHECK (status <> 'declined' OR status_reason IS NOT NULL)",
    "CREATE INDEX service_order_capacity_idx ON service_order (tenant_id, offer_id, status)",
    "CREATE INDEX service_order_person_idx ON service_order (tenant_id, person_id, created_at)",
    "CREATE INDEX service_order_proposal_idx ON service_order (tenant_id, proposal_id) "
    "WHERE proposal_id IS NOT NULL",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def apply() -> None:
        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(apply)
    return manager
