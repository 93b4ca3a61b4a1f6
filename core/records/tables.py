"""The person's file beyond identity: notes and documents, encrypted with the person's data key."""

from __future__ import annotations

from piccolo.columns import UUID, Bytea, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db.engine import DB
from core.events.tables import ActionProposal
from core.identity.accounts_tables import UserAccount
from core.identity.directory_tables import Organisation
from core.identity.tables import Person


class PersonNote(Table, db=DB, tablename="person_note"):
    """A free-text note of the ``social`` or ``medical`` category; the text is never stored in clear."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    person = ForeignKey(Person, null=False, on_delete=OnDelete.restrict, db_column_name="person_id")
    category = Varchar(length=20, null=False)
    body_ciphertext = Bytea(null=False)
    author_user = ForeignKey(
        UserAccount, null=True, on_delete=OnDelete.restrict, db_column_name="author_user_id"
    )
    """NULL for a note imported from a partner's system or seeded."""
    author_label = Varchar(length=200, null=False)
    """Who wrote it, as shown in the file (« Dr Marc Darrieutort, Cabinet médical du Sablar »)."""
    organisation = ForeignKey(
        Organisation, null=True, on_delete=OnDelete.restrict, db_column_name="organisation_id"
    )
    created_at = Timestamptz(default=TimestamptzNow())


class PersonDocument(Table, db=DB, tablename="person_document"):
    """A PDF or image attached to the file; its name and content are encrypted."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    person = ForeignKey(Person, null=False, on_delete=OnDelete.restrict, db_column_name="person_id")
    title_ciphertext = Bytea(null=False)
    media_type = Varchar(length=40, null=False)
    size_bytes = Integer(null=False)
    content_ciphertext = Bytea(null=True, default=None)
    """NULL once the person's file has been erased."""
    uploaded_by_user = ForeignKey(
        UserAccount, null=False, on_delete=OnDelete.restrict, db_column_name="uploaded_by_user_id"
    )
    organisation = ForeignKey(
        Organisation, null=True, on_delete=OnDelete.restrict, db_column_name="organisation_id"
    )
    proposal = ForeignKey(
        ActionProposal, null=True, on_delete=OnDelete.restrict, db_column_name="proposal_id"
    )
    """Set when the document was attached to an action proposal."""
    created_at = Timestamptz(default=TimestamptzNow())
