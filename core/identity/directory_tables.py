"""The directory of a tenant: organisations, professionals, memberships, carers, identity providers."""

from __future__ import annotations

from piccolo.columns import UUID, Array, Boolean, Bytea, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db.engine import DB
from core.identity.accounts_tables import UserAccount
from core.identity.tables import Person


class Organisation(Table, db=DB, tablename="organisation"):
    """A hospital, practice, CCAS, provider, funder, employer… of the territory."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    kind = Varchar(length=40, null=False)
    name = Varchar(length=200, null=False)
    finess_ej = Varchar(length=9, null=True, default=None)
    finess_et = Varchar(length=9, null=True, default=None)
    siret = Varchar(length=14, null=True, default=None)
    commune_insee = Varchar(length=5, null=True, default=None)
    email = Varchar(length=320, null=True, default=None)
    phone = Varchar(length=30, null=True, default=None)
    is_demo = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class Professional(Table, db=DB, tablename="professional"):
    """A health or social care professional (RPPS or ADELI when they have one)."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    rpps = Varchar(length=11, null=True, default=None)
    adeli = Varchar(length=9, null=True, default=None)
    profession = Varchar(length=60, null=False)
    family_name = Varchar(length=100, null=False)
    given_names = Varchar(length=200, null=False)
    email = Varchar(length=320, null=True, default=None)
    phone = Varchar(length=30, null=True, default=None)
    is_demo = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class Membership(Table, db=DB, tablename="membership"):
    """A role of a user in a tenant, possibly for an organisation; invited, active or revoked."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    user_account = ForeignKey(
        UserAccount, null=True, on_delete=OnDelete.restrict, db_column_name="user_account_id"
    )
    organisation = ForeignKey(
        Organisation, null=True, on_delete=OnDelete.restrict, db_column_name="organisation_id"
    )
    professional = ForeignKey(
        Professional, null=True, on_delete=OnDelete.restrict, db_column_name="professional_id"
    )
    person = ForeignKey(Person, null=True, on_delete=OnDelete.restrict, db_column_name="person_id")
    """For the roles ``person`` and ``carer``: the person concerned."""
    role = Varchar(length=30, null=False)
    status = Varchar(length=10, default="invited")
    invited_email = Varchar(length=320, null=True, default=None)
    invited_by = Varchar(length=200, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    activated_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class CarerLink(Table, db=DB, tablename="carer_link"):
    """A carer (aidant) of a person, granted by the person or their legal representative."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    person = ForeignKey(Person, null=False, on_delete=OnDelete.restrict, db_column_name="person_id")
    carer = ForeignKey(Person, null=False, on_delete=OnDelete.restrict, db_column_name="carer_id")
    relationship = Varchar(length=60, null=False)
    granted_by = Varchar(length=30, null=False)
    """``person`` or ``legal_representative``."""
    granted_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)


class IdentityProvider(Table, db=DB, tablename="identity_provider"):
    """An OIDC identity provider a tenant accepts (Pro Santé Connect, FranceConnect, Keycloak…)."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    key = Varchar(length=40, null=False)
    label = Varchar(length=100, null=False)
    issuer = Varchar(length=300, null=False)
    client_id = Varchar(length=200, null=False)
    client_secret_ciphertext = Bytea(null=False)
    scopes = Array(base_column=Varchar(length=60))
    audience = Varchar(length=20, default="all")
    """``professionals``, ``citizens`` or ``all``: who this button is for."""
    enabled = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
