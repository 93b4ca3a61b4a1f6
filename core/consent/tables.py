"""Consents, care teams, consent requests and break-glass declarations (tenant tables)."""

from __future__ import annotations

from piccolo.columns import UUID, Array, Bytea, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db.engine import DB
from core.identity.accounts_tables import UserAccount
from core.identity.directory_tables import Organisation
from core.identity.tables import Person


class ConsentRecord(Table, db=DB, tablename="consent"):
    """A consent (or opposition) as recorded; the application may only set its revocation."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    person = ForeignKey(Person, null=False, on_delete=OnDelete.restrict, db_column_name="person_id")
    kind = Varchar(length=12, null=False)
    recipient_kind = Varchar(length=14, null=False)
    recipient_organisation = ForeignKey(
        Organisation, null=True, on_delete=OnDelete.restrict, db_column_name="recipient_organisation_id"
    )
    recipient_role = Varchar(length=30, null=True, default=None)
    recipient_user = ForeignKey(
        UserAccount, null=True, on_delete=OnDelete.restrict, db_column_name="recipient_user_id"
    )
    actions = Array(base_column=Varchar(length=10))
    categories = Array(base_column=Varchar(length=20))
    purposes = Array(base_column=Varchar(length=30))
    valid_from = Timestamptz(null=False)
    valid_until = Timestamptz(null=True, default=None)
    recorded_by = Varchar(length=30, null=False)
    recorded_by_user = ForeignKey(
        UserAccount, null=True, on_delete=OnDelete.restrict, db_column_name="recorded_by_user_id"
    )
    recorded_at = Timestamptz(default=TimestamptzNow())
    proof_reference = Varchar(length=200, null=True, default=None)
    """Where the paper or oral consent is kept (form number, scanned document reference…)."""
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by_user = ForeignKey(
        UserAccount, null=True, on_delete=OnDelete.restrict, db_column_name="revoked_by_user_id"
    )


class CareTeamMember(Table, db=DB, tablename="care_team_member"):
    """A user or an organisation in a person's care team, in one role, for a period."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    person = ForeignKey(Person, null=False, on_delete=OnDelete.restrict, db_column_name="person_id")
    member_user = ForeignKey(
        UserAccount, null=True, on_delete=OnDelete.restrict, db_column_name="member_user_id"
    )
    member_organisation = ForeignKey(
        Organisation, null=True, on_delete=OnDelete.restrict, db_column_name="member_organisation_id"
    )
    role = Varchar(length=30, null=False)
    function = Varchar(length=60, null=False)
    """What they are for the person: « médecin traitant », « infirmière », « pharmacie »…"""
    since = Timestamptz(default=TimestamptzNow())
    until = Timestamptz(null=True, default=None)
    added_by_user = ForeignKey(
        UserAccount, null=True, on_delete=OnDelete.restrict, db_column_name="added_by_user_id"
    )


class ConsentRequest(Table, db=DB, tablename="consent_request"):
    """A professional asks the person for a consent; it waits in the person's portal."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    person = ForeignKey(Person, null=False, on_delete=OnDelete.restrict, db_column_name="person_id")
    requested_by_user = ForeignKey(
        UserAccount, null=False, on_delete=OnDelete.restrict, db_column_name="requested_by_user_id"
    )
    organisation = ForeignKey(
        Organisation, null=True, on_delete=OnDelete.restrict, db_column_name="organisation_id"
    )
    requester_role = Varchar(length=30, null=False)
    actions = Array(base_column=Varchar(length=10))
    categories = Array(base_column=Varchar(length=20))
    purposes = Array(base_column=Varchar(length=30))
    message = Varchar(length=500, null=False)
    status = Varchar(length=12, default="pending")
    created_at = Timestamptz(default=TimestamptzNow())
    answered_at = Timestamptz(null=True, default=None)
    answered_by_user = ForeignKey(
        UserAccount, null=True, on_delete=OnDelete.restrict, db_column_name="answered_by_user_id"
    )
    consent = ForeignKey(ConsentRecord, null=True, on_delete=OnDelete.restrict, db_column_name="consent_id")


class BreakGlassDeclaration(Table, db=DB, tablename="break_glass"):
    """An emergency access declared by a user, with its justification (encrypted with the person's key)."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    person = ForeignKey(Person, null=False, on_delete=OnDelete.restrict, db_column_name="person_id")
    user_account = ForeignKey(
        UserAccount, null=False, on_delete=OnDelete.restrict, db_column_name="user_account_id"
    )
    organisation = ForeignKey(
        Organisation, null=True, on_delete=OnDelete.restrict, db_column_name="organisation_id"
    )
    role = Varchar(length=30, null=False)
    justification_ciphertext = Bytea(null=False)
    declared_at = Timestamptz(default=TimestamptzNow())
