"""Reminders of funding lines whose funder's decision is late (run by the periodic watch).

A line waiting on its funder (« Transmise » or « En cours d'instruction ») whose ``due_at`` (the
submission date plus the programme's ``decision_days``) has passed gets **one** reminder: the
funder organisation's agents are notified (in-app, and by e-mail when SMTP is configured), the
requester too, a ``reminder`` line is added to the line's history and an audit entry written. The
messages name the programme and the date, never the person.

Each line is reminded in its own transaction by a conditional ``UPDATE … WHERE reminded_at IS NULL
… RETURNING``: of two watches running at once, the second finds it done. A line that goes back to
the funder after an answer keeps its first reminder (``reminded_at`` is not cleared): one per line.
"""

from __future__ import annotations

import uuid

from core import locale
from core.audit.trail import Actor as AuditActor
from core.audit.trail import Outcome, Record, append
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.financing.lines import LineStatus
from core.notifications.service import notify, users_of_organisation
from core.runtime import Runtime
from core.tenancy.service import get_tenant_by_id

WATCH_LABEL = "veille des échéances"
REMINDER_KIND = "funding.overdue"
WAITING = (LineStatus.SUBMITTED.value, LineStatus.UNDER_REVIEW.value)
BATCH = 200
"""Lines reminded per territory and per run at most (the next run takes the rest)."""


async def remind_overdue(runtime: Runtime, tenant_id: uuid.UUID) -> int:
    """Remind the late lines of one territory (call outside any tenant scope); how many were."""
    tenant = await get_tenant_by_id(tenant_id)
    if tenant is None:
        return 0
    now = runtime.clock()
    async with tenant_scope(tenant_id):
        due = await scoped_connection().fetch(
            "SELECT id FROM funding_line WHERE status = ANY($1::text[]) AND due_at < $2 "
            "AND reminded_at IS NULL ORDER BY due_at LIMIT $3",
            list(WAITING),
            now,
            BATCH,
        )
    reminded = 0
    for candidate in due:
        async with tenant_scope(tenant_id):
            connection = scoped_connection()
            line = await connection.fetchrow(
                "UPDATE funding_line l SET reminded_at = $2 FROM funding_request r "
                "WHERE l.id = $1 AND r.id = l.request_id AND l.reminded_at IS NULL "
                "AND l.status = ANY($3::text[]) AND l.due_at < $2 "
                "RETURNING l.id, l.request_id, l.programme, l.status, l.due_at, l.funder_organisation_id, "
                "r.created_by_user_id",
                candidate["id"],
                now,
                list(WAITING),
            )
            if line is None:
                continue  # decided meanwhile, or another watch was first
            await connection.execute(
                "INSERT INTO funding_line_event (id, tenant_id, line_id, at, kind, from_status, to_status, "
                "actor_label) VALUES ($1, $2, $3, $4, 'reminder', $5, $5, $6)",
                uuid.uuid4(),
                tenant_id,
                line["id"],
                now,
                line["status"],
                WATCH_LABEL,
            )
            late_since = locale.day(locale.paris_day(line["due_at"]))
            title = f"Décision de financement en retard ({line['programme']})"
            email = runtime.settings.smtp_url is not None
            if line["funder_organisation_id"] is not None:
                await notify(
                    await users_of_organisation(line["funder_organisation_id"]),
                    REMINDER_KIND,
                    title,
                    f"Une demande attend votre décision depuis le {late_since}.",
                    f"/t/{tenant.slug}/financeur/demandes/{line['id']}",
                    email=email,
                )
            if line["created_by_user_id"] is not None:
                await notify(
                    [line["created_by_user_id"]],
                    REMINDER_KIND,
                    title,
                    f"Le financeur devait répondre le {late_since} au plus tard ; il vient d'être relancé.",
                    f"/t/{tenant.slug}/financements/{line['request_id']}",
                    email=email,
                )
            await append(
                Record(
                    AuditActor.system(),
                    "funding.line.reminded",
                    Outcome.SUCCESS,
                    "funding_line",
                    str(line["id"]),
                    {"programme": line["programme"]},
                )
            )
            reminded += 1
    return reminded
