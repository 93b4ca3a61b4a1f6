"""The e-mail copy of notifications: the handler of the ``notification.email`` outbox topic.

:func:`core.notifications.service.notify` writes the notifications and, when SMTP is configured, one
outbox message naming them. This handler, run inside that message's transaction, sends each
recipient who has an address a plain-text French e-mail saying what the in-app notification says
(its title as subject, its text, an absolute link to the page) — never medical content — then sets
``notification.emailed_at``.

Delivery is at least once. A retried message sends only the notifications not yet marked; but a
crash (or a lost database connection) between the SMTP server accepting an e-mail and the commit
that marks it may send that e-mail once more. When the SMTP server fails in the middle of a batch,
the e-mails already accepted are marked and the rest are put in a new outbox message, so a retry does
not send them again. A recipient the server refuses is skipped (logged, never retried); a recipient
without an e-mail address is skipped.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from core.db.connection import scoped_connection
from core.notifications.service import EMAIL_TOPIC
from core.outbox.service import enqueue
from core.runtime import Runtime

log = logging.getLogger(__name__)

FOOTER = "Ne répondez pas à ce message. Aucune donnée médicale n'est transmise par courriel."
TIMEOUT_SECONDS = 30.0
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    implicit_tls: bool = False
    """``smtps://``: TLS from the first byte (usually port 465)."""
    starttls: bool = False
    """``?starttls=1``: upgrade a plain connection with STARTTLS (usually port 587)."""


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://user:password@host:port`` (``smtps://`` for implicit TLS, ``?starttls=1``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("PARCOURS_SMTP_URL must look like smtp://user:password@host:port or smtps://…")
    implicit_tls = parts.scheme == "smtps"
    starttls = parse_qs(parts.query).get("starttls", ["0"])[-1].lower() in _TRUE
    default_port = 465 if implicit_tls else 587 if starttls else 25
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or default_port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=implicit_tls,
        starttls=starttls and not implicit_tls,
    )


def compose(mail_from: str, to: str, title: str, body: str, url: str | None) -> EmailMessage:
    """The e-mail copy of one notification (plain text, French)."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = " ".join(title.split())
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="parcours.invalid")
    message["Auto-Submitted"] = "auto-generated"
    lines = [body.strip(), ""]
    if url:
        lines += ["Pour voir le détail, connectez-vous à Parcours :", url, ""]
    lines += ["-- ", FOOTER, ""]
    message.set_content("\n".join(lines))
    return message


def absolute(base_url: str, link: str | None) -> str | None:
    if not link:
        return None
    return base_url + link if link.startswith("/") else link


def _connect(target: SmtpTarget) -> smtplib.SMTP:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if target.implicit_tls:
        smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=TIMEOUT_SECONDS, context=context)
    else:
        smtp = smtplib.SMTP(target.host, target.port, timeout=TIMEOUT_SECONDS)
    try:
        if target.starttls:
            smtp.starttls(context=context)
        if target.username:
            smtp.login(target.username, target.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


@dataclass
class Delivery:
    accepted: list[uuid.UUID] = field(default_factory=list)
    """Handed to the SMTP server."""
    unsent: list[uuid.UUID] = field(default_factory=list)
    """Not sent because the connection failed first (to retry)."""
    error: Exception | None = None


def deliver(target: SmtpTarget, messages: list[tuple[uuid.UUID, EmailMessage]]) -> Delivery:
    """Send over one connection (blocking: run it in a thread); a refused recipient is skipped."""
    delivery = Delivery()
    position = 0
    try:
        with _connect(target) as smtp:
            for notification_id, message in messages:
                try:
                    smtp.send_message(message)
                except smtplib.SMTPRecipientsRefused:
                    log.warning("notification %s: recipient refused by the SMTP server", notification_id)
                else:
                    delivery.accepted.append(notification_id)
                position += 1
    except (OSError, smtplib.SMTPException) as error:
        delivery.unsent = [notification_id for notification_id, _ in messages[position:]]
        delivery.error = error
    return delivery


async def send_notification_emails(runtime: Runtime, payload: dict[str, Any]) -> int:
    """Send the e-mail copies of the notifications in ``payload``; return how many were sent.

    Runs in the outbox message's tenant scope and transaction. Without ``smtp_url`` it sends and
    marks nothing.
    """
    settings = runtime.settings
    if settings.smtp_url is None:
        return 0
    target = parse_smtp_url(settings.smtp_url)
    ids = [uuid.UUID(value) for value in payload.get("notification_ids", [])]
    if not ids:
        return 0
    connection = scoped_connection()
    rows = await connection.fetch(
        "SELECT n.id, n.title, n.body, n.link, a.email FROM notification n "
        "JOIN user_account a ON a.id = n.recipient_user_id "
        "WHERE n.id = ANY($1::uuid[]) AND n.emailed_at IS NULL "
        "ORDER BY n.created_at, n.id FOR UPDATE OF n SKIP LOCKED",
        ids,
    )
    messages = [
        (
            row["id"],
            compose(
                settings.mail_from,
                row["email"],
                row["title"],
                row["body"],
                absolute(settings.base_url, row["link"]),
            ),
        )
        for row in rows
        if row["email"]
    ]
    if not messages:
        return 0
    delivery = await asyncio.to_thread(deliver, target, messages)
    if delivery.accepted:
        await connection.execute(
            "UPDATE notification SET emailed_at = now() WHERE id = ANY($1::uuid[]) AND emailed_at IS NULL",
            delivery.accepted,
        )
    if delivery.error is not None and delivery.unsent:
        if not delivery.accepted:
            raise delivery.error  # nothing sent: the outbox retries this message
        # Some were sent: commit their marks and retry the others as a new message.
        await enqueue(EMAIL_TOPIC, {"notification_ids": [str(value) for value in delivery.unsent]})
        log.warning(
            "SMTP failed after %d e-mail(s), %d left for a retry: %r",
            len(delivery.accepted),
            len(delivery.unsent),
            delivery.error,
        )
    return len(delivery.accepted)
