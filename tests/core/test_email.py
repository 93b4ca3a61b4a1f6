"""The e-mail copy of notifications, sent to a local SMTP server (aiosmtpd)."""

from __future__ import annotations

import dataclasses
import email
import socket
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from core.db.scope import tenant_scope
from core.identity.directory import create_organisation
from core.notifications.email import FOOTER, parse_smtp_url, send_notification_emails
from core.notifications.service import EMAIL_TOPIC, notify
from core.runtime import Runtime
from tests.core.test_escalation import PERSON_WORDS, declare, member
from tests.factories import discharge


class Inbox:
    """An aiosmtpd handler keeping what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.calls = 0
        self.fail_calls: set[int] = set()
        """Numbers of the messages (counted from 1) answered with a temporary failure."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.calls += 1
        if self.calls in self.fail_calls:
            return "451 Requested action aborted: local error in processing"
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def mailing(runtime: Runtime, smtp_server: tuple[Inbox, int]) -> tuple[Runtime, Inbox]:
    inbox, port = smtp_server
    settings = runtime.settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}"})
    return dataclasses.replace(runtime, settings=settings), inbox


def email_payloads(sql_owner: Any, tenant_id: Any) -> list[dict]:
    rows = sql_owner.execute(
        "SELECT payload FROM outbox_message WHERE tenant_id = %s AND topic = %s ORDER BY created_at",
        (tenant_id, EMAIL_TOPIC),
    ).fetchall()
    return [row[0] for row in rows]


def run_handler(aio: Any, runtime: Runtime, tenant_id: Any, payloads: list[dict]) -> int:
    """The outbox handler on each payload, in the tenant's scope (as the outbox runs it)."""

    async def run() -> int:
        sent = 0
        for payload in payloads:
            async with tenant_scope(tenant_id):
                sent += await send_notification_emails(runtime, payload)
        return sent

    return aio.run(run())


def test_routed_event_emails_each_holder_once_without_personal_data(aio, mailing, make_tenant, sql_owner):
    runtime, inbox = mailing
    tenant = make_tenant(["routing.discharge"])
    provider = aio.run(create_organisation(tenant.id, kind="home_help_provider", name="Aide 40"))
    with_mail, address = member(aio, tenant, "professional", provider.id)
    without_mail, _ = member(aio, tenant, "professional", provider.id)
    sql_owner.execute("UPDATE user_account SET email = NULL WHERE id = %s", (without_mail,))
    coordinator, coordinator_address = member(aio, tenant, "coordinator")

    declare(aio, runtime, tenant, discharge())
    rows = sql_owner.execute(
        "SELECT id, recipient_user_id, title, link FROM notification WHERE tenant_id = %s",
        (tenant.id,),
    ).fetchall()
    by_recipient: dict[Any, list[tuple]] = {}
    for row in rows:
        by_recipient.setdefault(row[1], []).append(row)
    assert set(by_recipient) >= {with_mail, without_mail}
    payloads = email_payloads(sql_owner, tenant.id)
    assert payloads, "notify enqueued the e-mail copies (SMTP is configured)"
    mailable = [row for row in rows if row[1] != without_mail]

    assert run_handler(aio, runtime, tenant.id, payloads) == len(mailable)
    assert len(inbox.received) == len(mailable)
    addresses = {with_mail: address, coordinator: coordinator_address}
    expected = {(addresses[row[1]], row[2], f"http://localhost{row[3]}") for row in mailable}
    got = set()
    for recipients, message in inbox.received:
        assert len(recipients) == 1
        text = message.get_content()
        link = next(line for line in text.splitlines() if line.startswith("http://localhost/t/"))
        got.add((recipients[0], message["Subject"], link))
        assert message["To"] == recipients[0]
        assert message["From"] == runtime.settings.mail_from
        assert FOOTER in text
        for word in PERSON_WORDS:
            assert word.lower() not in f"{message['Subject']} {text}".lower(), word
    assert got == expected

    marked = dict(
        sql_owner.execute(
            "SELECT id, emailed_at IS NOT NULL FROM notification WHERE tenant_id = %s", (tenant.id,)
        ).fetchall()
    )
    assert all(marked[row[0]] for row in mailable)
    assert not any(marked[row[0]] for row in by_recipient[without_mail]), "no address: no e-mail"

    # A retried message sends nothing more.
    assert run_handler(aio, runtime, tenant.id, payloads) == 0
    assert len(inbox.received) == len(mailable)


def test_smtp_failure_keeps_what_was_sent_and_retries_the_rest(aio, mailing, make_tenant, sql_owner):
    runtime, inbox = mailing
    tenant = make_tenant([])
    users = [member(aio, tenant, "coordinator")[0] for _ in range(3)]

    async def write() -> None:
        async with tenant_scope(tenant.id):
            await notify(users, "test.kind", "Titre", "Texte", "/t/x", email=True)

    aio.run(write())
    [payload] = email_payloads(sql_owner, tenant.id)

    def emailed() -> int:
        return sql_owner.execute(
            "SELECT count(*) FROM notification WHERE tenant_id = %s AND emailed_at IS NOT NULL", (tenant.id,)
        ).fetchone()[0]

    # The server fails the second message: the first stays sent, the others go to a new message.
    inbox.fail_calls = {inbox.calls + 2}
    assert run_handler(aio, runtime, tenant.id, [payload]) == 1
    assert len(inbox.received) == 1
    assert emailed() == 1
    payloads = email_payloads(sql_owner, tenant.id)
    assert len(payloads) == 2
    assert len(payloads[1]["notification_ids"]) == 2
    assert run_handler(aio, runtime, tenant.id, payloads) == 2
    assert len(inbox.received) == 3
    assert emailed() == 3
    assert len({recipients[0] for recipients, _ in inbox.received}) == 3


def test_unreachable_smtp_server_fails_the_attempt_and_marks_nothing(aio, runtime, make_tenant, sql_owner):
    settings = runtime.settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{free_port()}"})
    down = dataclasses.replace(runtime, settings=settings)
    tenant = make_tenant([])
    user, _ = member(aio, tenant, "coordinator")

    async def write() -> None:
        async with tenant_scope(tenant.id):
            await notify([user], "test.kind", "Titre", "Texte", "/t/x", email=True)

    aio.run(write())
    with pytest.raises(OSError):
        run_handler(aio, down, tenant.id, email_payloads(sql_owner, tenant.id))
    emailed = sql_owner.execute(
        "SELECT emailed_at FROM notification WHERE recipient_user_id = %s", (user,)
    ).fetchone()[0]
    assert emailed is None


def test_without_smtp_the_handler_sends_and_marks_nothing(aio, runtime, make_tenant, sql_owner):
    assert runtime.settings.smtp_url is None
    tenant = make_tenant([])
    user, _ = member(aio, tenant, "coordinator")

    async def write() -> None:
        async with tenant_scope(tenant.id):
            await notify([user], "test.kind", "Titre", "Texte", "/t/x", email=True)

    aio.run(write())
    payloads = email_payloads(sql_owner, tenant.id)
    assert len(payloads) == 1
    assert run_handler(aio, runtime, tenant.id, payloads) == 0
    emailed = sql_owner.execute(
        "SELECT emailed_at FROM notification WHERE recipient_user_id = %s", (user,)
    ).fetchone()[0]
    assert emailed is None


def test_smtp_url_forms():
    plain = parse_smtp_url("smtp://relay.example.org")
    assert (plain.host, plain.port, plain.username, plain.implicit_tls, plain.starttls) == (
        "relay.example.org",
        25,
        None,
        False,
        False,
    )
    tls = parse_smtp_url("smtps://user%40dom:p%3Ass@mail.example.org")
    assert (tls.port, tls.username, tls.password, tls.implicit_tls) == (465, "user@dom", "p:ss", True)
    assert "p:ss" not in repr(tls)
    submission = parse_smtp_url("smtp://u:p@mail.example.org:2525?starttls=1")
    assert (submission.port, submission.starttls) == (2525, True)
    assert parse_smtp_url("smtp://mail.example.org?starttls=true").port == 587
    with pytest.raises(ValueError, match="PARCOURS_SMTP_URL"):
        parse_smtp_url("http://mail.example.org")
