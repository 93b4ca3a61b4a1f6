"""What happens to an action proposal after routing: its history, comments, links and funding."""

from __future__ import annotations

from piccolo.columns import UUID, BigInt, Bytea, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.db.engine import DB
from core.events.tables import ActionProposal
from core.identity.accounts_tables import UserAccount
from core.identity.directory_tables import Organisation


class ProposalHistory(Table, db=DB, tablename="proposal_history"):
    """One change of a proposal: a status transition, a reassignment, an escalation (append-only)."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    proposal = ForeignKey(
        ActionProposal, null=False, on_delete=OnDelete.restrict, db_column_name="proposal_id"
    )
    kind = Varchar(length=20, null=False)
    """``created``, ``status``, ``reassigned``, ``escalated``, ``carrier``, ``link``."""
    from_status = Varchar(length=20, null=True, default=None)
    to_status = Varchar(length=20, null=True, default=None)
    from_assignee = Varchar(length=300, null=True, default=None)
    to_assignee = Varchar(length=300, null=True, default=None)
    reason_code = Varchar(length=40, null=True, default=None)
    note_ciphertext = Bytea(null=True, default=None)
    """Why (free text, encrypted with the person's data key: it may say more than it should)."""
    actor_user = ForeignKey(
        UserAccount, null=True, on_delete=OnDelete.restrict, db_column_name="actor_user_id"
    )
    actor_label = Varchar(length=300, null=False)
    via = Varchar(length=10, null=False)
    """``user`` (signed in), ``link`` (a recipient's signed link) or ``system`` (routing, jobs)."""
    at = Timestamptz(null=False)


class ProposalComment(Table, db=DB, tablename="proposal_comment"):
    """A message in a proposal's thread (asking for missing information…), encrypted."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    proposal = ForeignKey(
        ActionProposal, null=False, on_delete=OnDelete.restrict, db_column_name="proposal_id"
    )
    author_user = ForeignKey(
        UserAccount, null=True, on_delete=OnDelete.restrict, db_column_name="author_user_id"
    )
    author_label = Varchar(length=300, null=False)
    via = Varchar(length=10, null=False)
    body_ciphertext = Bytea(null=False)
    created_at = Timestamptz(null=False)


class ActionLink(Table, db=DB, tablename="action_link"):
    """A single-purpose link for a recipient without an account: act on one proposal until it expires.

    Only the SHA-256 digest of the token is stored; the token itself is shown once to whoever
    creates the link (and sent by e-mail when the recipient has an address).
    """

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    proposal = ForeignKey(
        ActionProposal, null=False, on_delete=OnDelete.restrict, db_column_name="proposal_id"
    )
    token_digest = Varchar(length=64, null=False, unique=True)
    recipient_organisation = ForeignKey(
        Organisation, null=True, on_delete=OnDelete.restrict, db_column_name="recipient_organisation_id"
    )
    recipient_label = Varchar(length=200, null=False)
    recipient_email = Varchar(length=320, null=True, default=None)
    created_by_user = ForeignKey(
        UserAccount, null=True, on_delete=OnDelete.restrict, db_column_name="created_by_user_id"
    )
    created_at = Timestamptz(null=False)
    expires_at = Timestamptz(null=False)
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)


class ProposalFunding(Table, db=DB, tablename="proposal_funding"):
    """A funding programme asked for an action, and the funder's answer (amounts in cents)."""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    proposal = ForeignKey(
        ActionProposal, null=False, on_delete=OnDelete.restrict, db_column_name="proposal_id"
    )
    programme = Varchar(length=60, null=False)
    funder_label = Varchar(length=200, null=False)
    status = Varchar(length=24, null=False, default="requested")
    """``requested``, ``approved``, ``partially_approved``, ``refused``, ``paid``."""
    amount_cents = BigInt(null=True, default=None)
    currency = Varchar(length=3, default="EUR")
    reference = Varchar(length=100, null=True, default=None)
    recorded_by = Varchar(length=300, null=False)
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)
