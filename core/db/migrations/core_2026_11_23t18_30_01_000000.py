"""Tenant isolation, grants and keys for the directory, account, session and audit tables."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db.engine import DB
from core.db.tenant_ddl import APP_ROLE, tenant_table_ddl

ID = "2026-11-23T18:30:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "directory, accounts and audit isolation"

STATEMENTS = [
    # Platform-wide: accounts and sessions span territories.
    "ALTER TABLE user_account ADD CONSTRAINT user_account_subject_key UNIQUE (issuer, subject)",
    f"GRANT SELECT, INSERT, UPDATE ON user_account TO {APP_ROLE}",
    f"GRANT SELECT, INSERT, UPDATE ON web_session TO {APP_ROLE}",
    "CREATE INDEX web_session_account_idx ON web_session (user_account_id)",
    # Per tenant.
    *tenant_table_ddl("oidc_login_request", privileges="SELECT, INSERT, UPDATE"),
    "ALTER TABLE oidc_login_request ADD CONSTRAINT oidc_login_request_state_key "
    "UNIQUE (tenant_id, state_digest)",
    *tenant_table_ddl("audit_entry", privileges="SELECT, INSERT"),
    "ALTER TABLE audit_entry ADD CONSTRAINT audit_entry_seq_key UNIQUE (tenant_id, seq)",
    *tenant_table_ddl("organisation"),
    "CREATE INDEX organisation_name_idx ON organisation (tenant_id, name)",
    *tenant_table_ddl("professional"),
    "ALTER TABLE professional ADD CONSTRAINT professional_rpps_key UNIQUE (tenant_id, rpps)",
    *tenant_table_ddl(
        "membership",
        {"organisation_id": "organisation", "professional_id": "professional", "person_id": "person"},
    ),
    "CREATE INDEX membership_account_idx ON membership (tenant_id, user_account_id)",
    "CREATE INDEX membership_invited_idx ON membership (tenant_id, lower(invited_email)) "
    "WHERE status = 'invited'",
    *tenant_table_ddl("carer_link", {"person_id": "person", "carer_id": "person"}),
    *tenant_table_ddl("identity_provider"),
    "ALTER TABLE identity_provider ADD CONSTRAINT identity_provider_key UNIQUE (tenant_id, key)",
    # Declared after identity_provider's (tenant_id, id) key exists.
    "ALTER TABLE oidc_login_request ADD CONSTRAINT oidc_login_request_provider_fkey "
    "FOREIGN KEY (tenant_id, provider_id) REFERENCES identity_provider (tenant_id, id)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def apply() -> None:
        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(apply)
    return manager
