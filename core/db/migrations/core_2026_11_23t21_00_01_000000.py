"""Tenant isolation, checks and indexes for proposal lifecycle, links, funding and readmission tables."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db.engine import DB
from core.db.tenant_ddl import tenant_table_ddl

ID = "2026-11-23T21:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "proposal lifecycle isolation"

_STATUSES = "'requested','received','accepted','rejected','in-progress','completed','cancelled','failed'"

STATEMENTS = [
    # Proposals: the person they concern, who holds them, who carries them out.
    "UPDATE action_proposal p SET person_id = e.person_id FROM event e "
    "WHERE e.id = p.event_id AND p.person_id IS NULL",
    "ALTER TABLE action_proposal ALTER COLUMN person_id SET NOT NULL",
    "ALTER TABLE action_proposal ADD CONSTRAINT action_proposal_person_id_tenant_fkey "
    "FOREIGN KEY (tenant_id, person_id) REFERENCES person (tenant_id, id)",
    "ALTER TABLE action_proposal ADD CONSTRAINT action_proposal_assignee_organisation_id_tenant_fkey "
    "FOREIGN KEY (tenant_id, assignee_organisation_id) REFERENCES organisation (tenant_id, id)",
    "ALTER TABLE action_proposal ADD CONSTRAINT action_proposal_carrier_organisation_id_tenant_fkey "
    "FOREIGN KEY (tenant_id, carrier_organisation_id) REFERENCES organisation (tenant_id, id)",
    f"ALTER TABLE action_proposal ADD CONSTRAINT action_proposal_status_check CHECK (status IN ({_STATUSES}))",
    "CREATE INDEX action_proposal_organisation_idx "
    "ON action_proposal (tenant_id, assignee_organisation_id, status, due_at)",
    "CREATE INDEX action_proposal_user_idx ON action_proposal (tenant_id, assignee_user_id, status, due_at)",
    "CREATE INDEX action_proposal_assignee_idx ON action_proposal (tenant_id, assignee_kind, assignee, status)",
    "CREATE INDEX action_proposal_person_idx ON action_proposal (tenant_id, person_id, created_at)",
    # History and comments are append-only for the application.
    *tenant_table_ddl("proposal_history", {"proposal_id": "action_proposal"}, privileges="SELECT, INSERT"),
    "CREATE INDEX proposal_history_proposal_idx ON proposal_history (tenant_id, proposal_id, at)",
    *tenant_table_ddl("proposal_comment", {"proposal_id": "action_proposal"}, privileges="SELECT, INSERT"),
    "CREATE INDEX proposal_comment_proposal_idx ON proposal_comment (tenant_id, proposal_id, created_at)",
    *tenant_table_ddl(
        "action_link",
        {"proposal_id": "action_proposal", "recipient_organisation_id": "organisation"},
        privileges="SELECT, INSERT, UPDATE",
    ),
    "CREATE INDEX action_link_proposal_idx ON action_link (tenant_id, proposal_id)",
    *tenant_table_ddl(
        "proposal_funding", {"proposal_id": "action_proposal"}, privileges="SELECT, INSERT, UPDATE"
    ),
    "ALTER TABLE proposal_funding ADD CONSTRAINT proposal_funding_status_check CHECK (status IN "
    "('requested','approved','partially_approved','refused','paid'))",
    "ALTER TABLE proposal_funding ADD CONSTRAINT proposal_funding_amount_check "
    "CHECK (amount_cents IS NULL OR amount_cents >= 0)",
    "ALTER TABLE proposal_funding ADD CONSTRAINT proposal_funding_programme_key "
    "UNIQUE (tenant_id, proposal_id, programme)",
    # Attachments of a proposal are documents of the person's file.
    "ALTER TABLE person_document ADD CONSTRAINT person_document_proposal_id_tenant_fkey "
    "FOREIGN KEY (tenant_id, proposal_id) REFERENCES action_proposal (tenant_id, id)",
    # Readmission watch.
    *tenant_table_ddl(
        "readmission_check",
        {"discharge_event_id": "event", "person_id": "person", "readmission_event_id": "event"},
        privileges="SELECT, INSERT, UPDATE",
    ),
    "ALTER TABLE readmission_check ADD CONSTRAINT readmission_check_horizon_key "
    "UNIQUE (tenant_id, discharge_event_id, horizon_days)",
    "CREATE INDEX readmission_check_due_idx ON readmission_check (tenant_id, due_at) WHERE checked_at IS NULL",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def apply() -> None:
        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(apply)
    return manager
