"""Key material: per-tenant key-encryption keys and per-person data keys, both stored wrapped."""

from __future__ import annotations

from piccolo.columns import UUID, Bytea, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db.engine import DB
from core.identity.tables import Person


class TenantKey(Table, db=DB, tablename="tenant_key"):
    """One version of a tenant's key-encryption key, wrapped (AES-256-GCM) by the master key.

    Rotation adds a version, re-wraps every person key with it, then destroys the old wrapped
    key (``wrapped_key`` set to NULL, ``retired_at`` set): the row stays as the record.
    """

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    version = Integer(null=False)
    wrapped_key = Bytea(null=True, default=None)
    master_key_id = Varchar(length=16, null=False)
    """Fingerprint of the master key that wraps this version."""
    created_at = Timestamptz(default=TimestamptzNow())
    retired_at = Timestamptz(null=True, default=None)


class PersonKey(Table, db=DB, tablename="person_key"):
    """A person's data key, wrapped by a version of the tenant key. Deleting it erases the person's
    encrypted data for good (crypto-shredding)."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    person = ForeignKey(Person, null=False, on_delete=OnDelete.restrict, db_column_name="person_id")
    tenant_key_version = Integer(null=False)
    wrapped_key = Bytea(null=False)
    created_at = Timestamptz(default=TimestamptzNow())
