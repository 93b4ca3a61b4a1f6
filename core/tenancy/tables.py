"""Platform-wide table of tenants (the only kind of table without row-level security)."""

from __future__ import annotations

from piccolo.columns import UUID, Array, Boolean, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db.engine import DB


class Tenant(Table, db=DB, tablename="tenant"):
    """A territory (a département or a care-coordination area) running Parcours."""

    id = UUID(primary_key=True)
    slug = Varchar(length=40, unique=True, null=False)
    name = Varchar(length=200, null=False)
    departements = Array(base_column=Varchar(length=3))
    enabled_plugins = Array(base_column=Varchar(length=100))
    is_demo = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
