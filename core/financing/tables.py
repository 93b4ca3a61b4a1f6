"""Funding requests, one line per funder programme, their history, and territory settings.

A request holds the common information once (the situation and the needs, encrypted with the
person's key; the quote; the documents of the file it reuses); each line is what one funder
receives and answers. Every status change of a line appends one history row.
"""

from __future__ import annotations

from piccolo.columns import (
    JSONB,
    UUID,
    Array,
    BigInt,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db.engine import DB
from core.events.tables import ActionProposal
from core.identity.accounts_tables import UserAccount
from core.identity.directory_tables import Organisation
from core.identity.tables import Person
from core.marketplace.tables import ServiceOffer


class TenantSetting(Table, db=DB, tablename="tenant_setting"):
    """One setting of a territory in a namespace (``funders.carsat_ardh``…), as JSON."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    namespace = Varchar(length=100, null=False)
    key = Varchar(length=100, null=False)
    value = JSONB(null=False)
    updated_at = Timestamptz(default=TimestamptzNow())
    updated_by = Varchar(length=300, null=False, default="")


class FundingRequest(Table, db=DB, tablename="funding_request"):
    """One request for a person, sent to one or several funders (its lines)."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    person = ForeignKey(Person, null=False, on_delete=OnDelete.restrict, db_column_name="person_id")
    proposal = ForeignKey(
        ActionProposal, null=True, on_delete=OnDelete.restrict, db_column_name="proposal_id"
    )
    """The routed action (« demande de financement ») it answers, if any."""
    offer = ForeignKey(ServiceOffer, null=True, on_delete=OnDelete.restrict, db_column_name="offer_id")
    """The marketplace offer quoted, if any."""
    quote_cents = BigInt(null=True, default=None)
    quote_label = Varchar(length=300, null=False, default="")
    situation_ciphertext = Bytea(null=True, default=None)
    """The :class:`core.financing.situation.Situation` as JSON, encrypted with the person's key."""
    needs_ciphertext = Bytea(null=True, default=None)
    """What the person needs, in the requester's words, encrypted."""
    document_ids = Array(UUID(), null=False, default=list)
    """Documents of the person's file attached once, shown to every funder allowed to see documents."""
    status = Varchar(length=12, null=False, default="draft")
    """``draft`` (being prepared), ``submitted`` (lines sent), ``closed``."""
    created_by_user = ForeignKey(
        UserAccount, null=True, on_delete=OnDelete.restrict, db_column_name="created_by_user_id"
    )
    created_by_label = Varchar(length=300, null=False)
    created_at = Timestamptz(default=TimestamptzNow())
    submitted_at = Timestamptz(null=True, default=None)
    version = Integer(null=False, default=1)


class FundingLine(Table, db=DB, tablename="funding_line"):
    """What one funder programme is asked, and its answer."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    request = ForeignKey(FundingRequest, null=False, on_delete=OnDelete.restrict, db_column_name="request_id")
    funder = Varchar(length=60, null=False)
    """The funder's identifier (``carsat_ardh``)."""
    programme = Varchar(length=60, null=False)
    funder_organisation = ForeignKey(
        Organisation, null=True, on_delete=OnDelete.restrict, db_column_name="funder_organisation_id"
    )
    """The territory's organisation that instructs this funder's requests (its agents see the line)."""
    status = Varchar(length=24, null=False, default="draft")
    requested_cents = BigInt(null=True, default=None)
    decided_cents = BigInt(null=True, default=None)
    decided_hours = Integer(null=True, default=None)
    period_start = Date(null=True, default=None)
    period_end = Date(null=True, default=None)
    conditions = Text(null=True, default=None)
    reason_code = Varchar(length=40, null=True, default=None)
    note_ciphertext = Bytea(null=True, default=None)
    """The funder's free-text explanation of its decision, encrypted with the person's key."""
    due_at = Timestamptz(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decided_by = Varchar(length=300, null=True, default=None)
    reminded_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
    version = Integer(null=False, default=1)


class FundingLineEvent(Table, db=DB, tablename="funding_line_event"):
    """Append-only history of a line: status changes, questions of the funder and their answers."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    line = ForeignKey(FundingLine, null=False, on_delete=OnDelete.restrict, db_column_name="line_id")
    at = Timestamptz(default=TimestamptzNow())
    kind = Varchar(length=12, null=False)
    """``status``, ``question``, ``answer`` or ``reminder``."""
    from_status = Varchar(length=24, null=True, default=None)
    to_status = Varchar(length=24, null=True, default=None)
    actor_label = Varchar(length=300, null=False)
    actor_user = ForeignKey(
        UserAccount, null=True, on_delete=OnDelete.restrict, db_column_name="actor_user_id"
    )
    body_ciphertext = Bytea(null=True, default=None)
