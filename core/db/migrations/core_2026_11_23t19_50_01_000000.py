"""Tenant isolation, grants and keys for the consent, person file, key and notification tables."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db.engine import DB
from core.db.tenant_ddl import APP_ROLE, tenant_table_ddl

ID = "2026-11-23T19:50:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "consent, person file, key and notification isolation"

_CATEGORIES = "ARRAY['administrative','social','medical','funding','documents']::varchar[]"
_ACTIONS = "ARRAY['read','write']::varchar[]"
_PURPOSES = "ARRAY['care_coordination','funding_instruction','service_delivery','statistics']::varchar[]"


def _scope_checks(table: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ADD CONSTRAINT {table}_scope_check CHECK ("
        f"cardinality(actions) > 0 AND actions <@ {_ACTIONS} "
        f"AND cardinality(categories) > 0 AND categories <@ {_CATEGORIES} "
        f"AND cardinality(purposes) > 0 AND purposes <@ {_PURPOSES})",
    ]


STATEMENTS = [
    # Keys: a tenant's key-encryption key versions, and one data key per person.
    *tenant_table_ddl("tenant_key", privileges="SELECT, INSERT, UPDATE"),
    "ALTER TABLE tenant_key ADD CONSTRAINT tenant_key_version_key UNIQUE (tenant_id, version)",
    *tenant_table_ddl("person_key", {"person_id": "person"}),
    "ALTER TABLE person_key ADD CONSTRAINT person_key_person_key UNIQUE (tenant_id, person_id)",
    # Consents: recorded once; the application may only set their revocation.
    *tenant_table_ddl(
        "consent",
        {"person_id": "person", "recipient_organisation_id": "organisation"},
        privileges="SELECT, INSERT",
    ),
    f"GRANT UPDATE (revoked_at, revoked_by_user_id) ON consent TO {APP_ROLE}",
    *_scope_checks("consent"),
    "ALTER TABLE consent ADD CONSTRAINT consent_window_check "
    "CHECK (valid_until IS NULL OR valid_until > valid_from)",
    "ALTER TABLE consent ADD CONSTRAINT consent_proof_check "
    "CHECK (recorded_by <> 'professional_with_proof' OR length(trim(proof_reference)) > 0)",
    "CREATE INDEX consent_person_idx ON consent (tenant_id, person_id)",
    *tenant_table_ddl(
        "care_team_member",
        {"person_id": "person", "member_organisation_id": "organisation"},
        privileges="SELECT, INSERT, UPDATE",
    ),
    "ALTER TABLE care_team_member ADD CONSTRAINT care_team_member_one_member_check "
    "CHECK ((member_user_id IS NULL) <> (member_organisation_id IS NULL))",
    "CREATE INDEX care_team_member_person_idx ON care_team_member (tenant_id, person_id)",
    *tenant_table_ddl(
        "consent_request",
        {"person_id": "person", "organisation_id": "organisation", "consent_id": "consent"},
        privileges="SELECT, INSERT, UPDATE",
    ),
    *_scope_checks("consent_request"),
    "CREATE INDEX consent_request_person_idx ON consent_request (tenant_id, person_id, status)",
    *tenant_table_ddl(
        "break_glass", {"person_id": "person", "organisation_id": "organisation"}, privileges="SELECT, INSERT"
    ),
    "CREATE INDEX break_glass_lookup_idx ON break_glass (tenant_id, person_id, user_account_id, declared_at)",
    # The person's file.
    *tenant_table_ddl(
        "person_note", {"person_id": "person", "organisation_id": "organisation"}, privileges="SELECT, INSERT"
    ),
    "ALTER TABLE person_note ADD CONSTRAINT person_note_category_check "
    "CHECK (category IN ('social', 'medical'))",
    "CREATE INDEX person_note_person_idx ON person_note (tenant_id, person_id, created_at)",
    *tenant_table_ddl(
        "person_document",
        {"person_id": "person", "organisation_id": "organisation"},
        privileges="SELECT, INSERT, UPDATE",
    ),
    "CREATE INDEX person_document_person_idx ON person_document (tenant_id, person_id, created_at)",
    *tenant_table_ddl("notification", privileges="SELECT, INSERT, UPDATE"),
    "CREATE INDEX notification_recipient_idx ON notification (tenant_id, recipient_user_id, created_at)",
    # The person's access log reads the trail by target.
    "CREATE INDEX audit_entry_target_idx ON audit_entry (tenant_id, target_kind, target_id, seq)",
    # Erased people keep their row (the audit trail names it) but no identity.
    "ALTER TABLE person ADD CONSTRAINT person_identity_check "
    "CHECK (erased_at IS NOT NULL OR (ins_digest IS NOT NULL AND ins_ciphertext IS NOT NULL "
    "AND birth_date IS NOT NULL))",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def apply() -> None:
        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(apply)
    return manager
