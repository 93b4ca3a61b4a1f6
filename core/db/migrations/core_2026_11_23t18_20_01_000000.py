"""Grants and indexes for the identity provider tables.

A separate migration because Piccolo runs a manager's ``add_raw`` functions
before its ``add_table`` operations: the tables must exist first.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db.engine import DB
from core.db.tenant_ddl import APP_ROLE

ID = "2026-11-23T18:20:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "identity provider grants"

TABLES = ["idp_account", "idp_client", "idp_authorization_code", "idp_access_token", "idp_signing_key"]

STATEMENTS = [
    *(f"GRANT SELECT, INSERT, UPDATE ON {table} TO {APP_ROLE}" for table in TABLES),
    # Nonce replay check at the authorization endpoint.
    "CREATE INDEX idp_authorization_code_nonce_idx ON idp_authorization_code (client_id, nonce)",
    # Revoking the tokens of a replayed code.
    "CREATE INDEX idp_access_token_code_idx ON idp_access_token (authorization_code_id)",
    # At most one active signing key: two processes creating the first key cannot both win.
    "CREATE UNIQUE INDEX idp_signing_key_one_active ON idp_signing_key ((true)) WHERE retired_at IS NULL",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def apply() -> None:
        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(apply)
    return manager
