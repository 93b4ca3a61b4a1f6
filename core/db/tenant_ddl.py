"""DDL that turns a table into a tenant table; used by migrations.

A tenant table carries ``tenant_id`` (referencing the registry), a unique key
``(tenant_id, id)``, a composite foreign key ``(tenant_id, x_id) → x (tenant_id, id)``
beside every Piccolo foreign key (so no row can point at another tenant's
row), and row-level security that is enabled, forced, and reads the tenant
from ``app.tenant_id`` (set by :func:`core.db.scope.tenant_scope`).

The policy deliberately has no sub-select and no ``OR`` (both break on Citus
or defeat the index), and ``NULLIF(…, '')`` makes "no tenant" mean "no rows".
"""

from __future__ import annotations

from collections.abc import Mapping

APP_ROLE = "parcours_app"
TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"


def tenant_table_ddl(
    table: str,
    references: Mapping[str, str] | None = None,
    privileges: str = "SELECT, INSERT, UPDATE, DELETE",
) -> list[str]:
    """Statements (one per item, as Piccolo's ``add_raw`` needs) for ``table``.

    ``references`` maps a foreign-key column to the tenant table it points at.
    """
    statements = [
        f"ALTER TABLE {table} ADD CONSTRAINT {table}_tenant_fkey "
        f"FOREIGN KEY (tenant_id) REFERENCES tenant (id)",
        f"ALTER TABLE {table} ADD CONSTRAINT {table}_tenant_id_id_key UNIQUE (tenant_id, id)",
    ]
    for column, target in (references or {}).items():
        statements.append(
            f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_tenant_fkey "
            f"FOREIGN KEY (tenant_id, {column}) REFERENCES {target} (tenant_id, id)"
        )
    statements += [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})",
        f"GRANT {privileges} ON {table} TO {APP_ROLE}",
    ]
    return statements
