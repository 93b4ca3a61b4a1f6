"""The territory moderates marketplace offers: status ``suspended`` with a coded reason, a note, when, by whom.

Hand-written, raw DDL only (not ``--auto``: others change tables concurrently). The columns are not
declared on the Piccolo table (``core.marketplace.tables.ServiceOffer``), so Piccolo's migration
snapshot stays in step; they are read and written with SQL by ``core.marketplace.moderation`` and
read by ``core.marketplace.offers``. ``status`` is ``varchar(10)``, long enough for ``suspended``;
its CHECK constraint is replaced to allow it. An offer has a moderation reason exactly while it is
suspended, and a date: lifting a suspension means clearing its reason, so a write of the status
alone (a provider's import asking « publiée ») fails rather than republishing it.
The table-level grants of ``service_offer`` cover the new columns.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db.engine import DB

ID = "2026-11-24T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "offer moderation"

STATEMENTS = [
    "ALTER TABLE service_offer "
    "ADD COLUMN moderation_reason varchar(40) NULL, "
    "ADD COLUMN moderation_note text NULL, "
    "ADD COLUMN moderated_at timestamptz NULL, "
    "ADD COLUMN moderated_by_label varchar(200) NULL",
    "ALTER TABLE service_offer DROP CONSTRAINT service_offer_status_check",
    "ALTER TABLE service_offer ADD CONSTRAINT service_offer_status_check "
    "CHECK (status IN ('draft','published','paused','suspended'))",
    # A reason exactly while suspended: whatever writes the status (the console, an import) cannot
    # lift a suspension without clearing it, which only core.marketplace.moderation does.
    "ALTER TABLE service_offer ADD CONSTRAINT service_offer_moderation_check "
    "CHECK ((moderation_reason IS NULL OR moderation_reason ~ '^[a-z][a-z0-9_]*$') "
    "AND (moderation_note IS NULL OR (moderation_reason IS NOT NULL AND char_length(moderation_note) <= 500)) "
    "AND ((status = 'suspended') = (moderation_reason IS NOT NULL)) "
    "AND (status <> 'suspended' OR moderated_at IS NOT NULL))",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def apply() -> None:
        for statement in STATEMENTS:
            await DB.run_ddl(statement)

    manager.add_raw(apply)
    return manager
