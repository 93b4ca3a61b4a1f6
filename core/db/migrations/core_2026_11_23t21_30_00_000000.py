"""Indexes for the deadline watch: proposals not yet escalated, by deadline; escalated once, by date."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db.engine import DB

ID = "2026-11-23T21:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "escalation watch indexes"

STATEMENTS = [
    "CREATE INDEX action_proposal_due_watch_idx ON action_proposal (tenant_id, due_at) "
    "WHERE escalation_level = 0",
    "CREATE INDEX action_proposal_escalated_watch_idx ON action_proposal (tenant_id, escalated_at) "
    "WHERE escalation_level = 1",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def apply() -> None:
        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(apply)
    return manager
