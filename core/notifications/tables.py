"""In-app notifications (tenant table). Never carry medical data: a title, a short text, a link."""

from __future__ import annotations

from piccolo.columns import UUID, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db.engine import DB
from core.identity.accounts_tables import UserAccount


class Notification(Table, db=DB, tablename="notification"):
    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    recipient_user = ForeignKey(
        UserAccount, null=False, on_delete=OnDelete.restrict, db_column_name="recipient_user_id"
    )
    kind = Varchar(length=40, null=False)
    title = Varchar(length=200, null=False)
    body = Varchar(length=1000, null=False)
    link = Varchar(length=300, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)
    emailed_at = Timestamptz(null=True, default=None)
    """When the e-mail copy was handed to the SMTP server (None: no e-mail, or not yet)."""
