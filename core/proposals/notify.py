"""Tell the holders of a proposal that they have something to do (never any medical content).

A notification names the action type, its deadline and a link to the proposal: no name of the
person, no detail of the event. The e-mail copy, when SMTP is configured, says the same.
"""

from __future__ import annotations

import datetime as dt
import uuid

from core import locale
from core.identity.roles import Role
from core.notifications.service import notify, users_in_role, users_of_organisation
from core.proposals.assignment import Assignee, AssigneeKind
from core.runtime import Runtime
from core.tenancy.service import TenantRecord


async def holders(assignee: Assignee) -> list[uuid.UUID]:
    """The user accounts that see a proposal held by ``assignee``, in the caller's tenant scope."""
    if assignee.kind == AssigneeKind.USER and assignee.user_id is not None:
        return [assignee.user_id]
    if assignee.kind == AssigneeKind.ORGANISATION and assignee.organisation_id is not None:
        return await users_of_organisation(assignee.organisation_id)
    if assignee.kind == AssigneeKind.ROLE:
        return await users_in_role(Role(assignee.value))
    return []


def proposal_link(tenant: TenantRecord, proposal_id: uuid.UUID) -> str:
    return f"/t/{tenant.slug}/actions/{proposal_id}"


async def notify_assignee(
    runtime: Runtime,
    tenant: TenantRecord,
    proposal_id: uuid.UUID,
    assignee: Assignee,
    action_label: str,
    due_at: dt.datetime,
    *,
    kind: str = "proposal.assigned",
    title: str = "Nouvelle action à traiter",
) -> int:
    """Notify every holder in-app (and by e-mail when SMTP is configured)."""
    return await notify(
        await holders(assignee),
        kind,
        title,
        f"{action_label} — échéance {locale.when(due_at)}.",
        proposal_link(tenant, proposal_id),
        email=runtime.settings.smtp_url is not None,
    )


async def notify_users(
    runtime: Runtime, users: list[uuid.UUID], kind: str, title: str, body: str, link: str
) -> int:
    return await notify(users, kind, title, body, link, email=runtime.settings.smtp_url is not None)
