"""People known to a tenant."""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, Bytea, Date, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db.engine import DB


class Person(Table, db=DB, tablename="person"):
    """A person receiving care. The INS is stored encrypted, found by a keyed hash."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    ins_digest = Varchar(length=64, null=True, default=None)
    """HMAC-SHA256 of the INS/NIR under the tenant's lookup key (deduplication); NULL once erased."""
    ins_ciphertext = Bytea(null=True, default=None)
    """AES-256-GCM of the INS/NIR under the person's data key; NULL once erased."""
    family_name = Varchar(length=100, null=False)
    given_names = Varchar(length=200, null=False)
    birth_date = Date(null=True, default=None)
    """NULL only once erased."""
    commune_insee = Varchar(length=5, null=False)
    lives_alone = Boolean(null=True, default=None)
    ins_status = Varchar(length=12, default="provisional")
    """Identity vigilance status: provisional, recovered, verified or qualified.
    Only a qualified INS may be sent to partners."""
    phone = Varchar(length=30, null=True, default=None)
    email = Varchar(length=320, null=True, default=None)
    address = Varchar(length=300, null=True, default=None)
    is_demo = Boolean(default=False)
    erased_at = Timestamptz(null=True, default=None)
    """Set when the file was erased (RGPD art. 17): identity blanked, data key destroyed."""
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
