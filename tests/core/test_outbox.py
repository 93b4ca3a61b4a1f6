"""The outbox: a message's work runs once, atomically, retried until given up, within its tenant."""

from __future__ import annotations

import json
import uuid

import msgspec
import pytest

from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.events.intake import ROUTE_EVENT, receive_event
from core.events.routing import route_event
from core.events.schemas import EventIn
from core.outbox.service import Dispatch, Outcome, claim_stale, enqueue, process
from tests.factories import discharge

TOPIC = "test.record"
SIDE_EFFECT = "test.side-effect"


class Recording:
    """Outbox handlers of our own: record each call, and write in the message's transaction."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.calls: list[dict] = []
        self.fail_with = fail_with

    @property
    def handlers(self):
        async def handle(payload: dict) -> None:
            self.calls.append(payload)
            # A write in the message's transaction (stored done, so nothing picks it up).
            written = await enqueue(SIDE_EFFECT, {"after": payload})
            await scoped_connection().execute(
                "UPDATE outbox_message SET status = 'done' WHERE id = $1", written.message_id
            )
            if self.fail_with is not None:
                raise self.fail_with

        return {TOPIC: handle}


async def enqueue_in(tenant_id: uuid.UUID, payload: dict, topic: str = TOPIC) -> Dispatch:
    async with tenant_scope(tenant_id):
        return await enqueue(topic, payload)


def message(sql_owner, dispatch: Dispatch) -> dict:
    row = sql_owner.execute(
        "SELECT tenant_id, topic, payload, status, attempts, last_error, done_at "
        "FROM outbox_message WHERE id = %s",
        (dispatch.message_id,),
    ).fetchone()
    assert row is not None, "message not stored"
    keys = ("tenant_id", "topic", "payload", "status", "attempts", "last_error", "done_at")
    return dict(zip(keys, row, strict=True))


def side_effects(sql_owner, tenant_id: uuid.UUID) -> int:
    return sql_owner.execute(
        "SELECT count(*) FROM outbox_message WHERE tenant_id = %s AND topic = %s",
        (tenant_id, SIDE_EFFECT),
    ).fetchone()[0]


def test_enqueue_stores_a_pending_message_in_the_current_tenant(aio, make_tenant, sql_owner):
    """A message written in a tenant scope is stored pending, for that tenant, with its payload."""
    tenant = make_tenant([])
    dispatch = aio.run(enqueue_in(tenant.id, {"n": 1, "text": "élan"}))
    assert dispatch.tenant_id == tenant.id
    row = message(sql_owner, dispatch)
    assert row["tenant_id"] == tenant.id
    assert row["topic"] == TOPIC
    assert row["payload"] == {"n": 1, "text": "élan"}
    assert (row["status"], row["attempts"], row["done_at"]) == ("pending", 0, None)
    assert aio.run(process(dispatch, Recording().handlers, max_attempts=3)) is Outcome.DONE  # leave none


def test_enqueue_rolled_back_with_its_transaction_leaves_no_message(aio, make_tenant, sql_owner):
    """A message exists only if the transaction that wrote it committed."""
    tenant = make_tenant([])
    written: list[Dispatch] = []

    async def write_then_fail() -> None:
        async with tenant_scope(tenant.id):
            written.append(await enqueue(TOPIC, {"n": 1}))
            raise RuntimeError("the data of this transaction is invalid")

    with pytest.raises(RuntimeError, match="invalid"):
        aio.run(write_then_fail())
    assert len(written) == 1
    count = sql_owner.execute(
        "SELECT count(*) FROM outbox_message WHERE id = %s", (written[0].message_id,)
    ).fetchone()[0]
    assert count == 0


def test_handler_runs_once_and_message_ends_done(aio, make_tenant, sql_owner):
    """A message is handled once; its effects and its completion commit together; a replay is skipped."""
    tenant = make_tenant([])
    recording = Recording()
    dispatch = aio.run(enqueue_in(tenant.id, {"event_id": "e-1"}))

    assert aio.run(process(dispatch, recording.handlers, max_attempts=3)) is Outcome.DONE
    assert recording.calls == [{"event_id": "e-1"}]
    row = message(sql_owner, dispatch)
    assert row["status"] == "done"
    assert row["attempts"] == 1
    assert row["done_at"] is not None
    assert side_effects(sql_owner, tenant.id) == 1  # the handler's write committed

    assert aio.run(process(dispatch, recording.handlers, max_attempts=3)) is Outcome.SKIPPED
    assert len(recording.calls) == 1
    assert message(sql_owner, dispatch)["attempts"] == 1
    assert side_effects(sql_owner, tenant.id) == 1


def test_failing_handler_is_retried_then_given_up(aio, make_tenant, sql_owner):
    """A failing handler leaves no effect, counts its attempts, and the message fails after max_attempts."""
    tenant = make_tenant([])
    recording = Recording(fail_with=RuntimeError("partner system down"))
    dispatch = aio.run(enqueue_in(tenant.id, {"event_id": "e-2"}))

    for attempt in (1, 2):
        with pytest.raises(RuntimeError, match="partner system down"):
            aio.run(process(dispatch, recording.handlers, max_attempts=3))
        row = message(sql_owner, dispatch)
        assert row["status"] == "pending"
        assert row["attempts"] == attempt
        assert "partner system down" in row["last_error"]
        assert row["done_at"] is None
        assert side_effects(sql_owner, tenant.id) == 0  # rolled back with the failure

    assert aio.run(process(dispatch, recording.handlers, max_attempts=3)) is Outcome.FAILED
    row = message(sql_owner, dispatch)
    assert (row["status"], row["attempts"], row["done_at"]) == ("failed", 3, None)
    assert side_effects(sql_owner, tenant.id) == 0
    assert len(recording.calls) == 3

    assert aio.run(process(dispatch, recording.handlers, max_attempts=3)) is Outcome.SKIPPED
    assert len(recording.calls) == 3  # a failed message is not run again
    assert message(sql_owner, dispatch)["attempts"] == 3


def test_message_without_handler_is_counted_as_a_failed_attempt(aio, make_tenant, sql_owner):
    """An unknown topic is an error of that attempt, not a silent success."""
    tenant = make_tenant([])
    dispatch = aio.run(enqueue_in(tenant.id, {}, topic="test.unknown"))
    with pytest.raises(LookupError, match=r"test\.unknown"):
        aio.run(process(dispatch, Recording().handlers, max_attempts=2))
    row = message(sql_owner, dispatch)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert aio.run(process(dispatch, Recording().handlers, max_attempts=2)) is Outcome.FAILED


def test_claim_stale_returns_only_pending_messages_not_dispatched_recently(aio, make_tenant, sql_owner):
    """The dispatcher re-sends pending messages dispatched long ago, not fresh or done ones, once."""
    tenant = make_tenant([])
    recording = Recording()
    done = aio.run(enqueue_in(tenant.id, {"which": "done"}))
    assert aio.run(process(done, recording.handlers, max_attempts=3)) is Outcome.DONE
    hour_ago = "now() - interval '1 hour'"
    sql_owner.execute(
        f"UPDATE outbox_message SET dispatched_at = {hour_ago} WHERE id = %s", (done.message_id,)
    )

    async def claim_in_one_transaction():
        # Aging the rows and claiming them in one transaction keeps a running
        # dispatcher (from another test's app) from claiming them in between.
        async with tenant_scope(tenant.id):
            stale = await enqueue(TOPIC, {"which": "stale"})
            never = await enqueue(TOPIC, {"which": "never dispatched"})
            fresh = await enqueue(TOPIC, {"which": "fresh"})
            connection = scoped_connection()
            await connection.execute(
                f"UPDATE outbox_message SET dispatched_at = {hour_ago} WHERE id = $1", stale.message_id
            )
            await connection.execute(
                "UPDATE outbox_message SET dispatched_at = NULL WHERE id = $1", never.message_id
            )
            claimed = await claim_stale(tenant.id, older_than_seconds=60)
            return stale, never, fresh, claimed

    stale, never, fresh, claimed = aio.run(claim_in_one_transaction())
    assert set(claimed) == {stale, never}
    assert fresh not in claimed and done not in claimed
    assert all(d.tenant_id == tenant.id for d in claimed)
    age = sql_owner.execute(
        "SELECT extract(epoch FROM now() - dispatched_at) FROM outbox_message WHERE id = %s",
        (stale.message_id,),
    ).fetchone()[0]
    assert age < 60, "a claimed message must be marked dispatched now"

    assert aio.run(claim_stale(tenant.id, older_than_seconds=60)) == []  # just claimed: not again
    assert set(aio.run(claim_stale(tenant.id, older_than_seconds=0))) == {stale, never, fresh}

    for dispatch in (stale, never, fresh):  # leave nothing pending behind
        assert aio.run(process(dispatch, recording.handlers, max_attempts=3)) is Outcome.DONE


def test_claim_stale_sees_only_its_tenant(aio, make_tenant):
    """Claiming for one tenant never returns another tenant's messages."""
    tenant_a, tenant_b = make_tenant([]), make_tenant([])
    dispatch = aio.run(enqueue_in(tenant_a.id, {"which": "A"}))
    assert aio.run(claim_stale(tenant_b.id, older_than_seconds=0)) == []
    assert aio.run(claim_stale(tenant_a.id, older_than_seconds=0)) == [dispatch]
    assert aio.run(process(dispatch, Recording().handlers, max_attempts=3)) is Outcome.DONE


def test_message_of_tenant_a_cannot_be_processed_as_tenant_b(aio, make_tenant, sql_owner):
    """A dispatch naming another tenant runs nothing and leaves the message untouched."""
    tenant_a, tenant_b = make_tenant([]), make_tenant([])
    recording = Recording()
    dispatch = aio.run(enqueue_in(tenant_a.id, {"secret": "A"}))
    before = message(sql_owner, dispatch)

    forged = Dispatch(tenant_b.id, dispatch.message_id)
    assert aio.run(process(forged, recording.handlers, max_attempts=1)) is Outcome.SKIPPED
    assert recording.calls == []
    assert message(sql_owner, dispatch) == before
    assert side_effects(sql_owner, tenant_a.id) == side_effects(sql_owner, tenant_b.id) == 0

    assert aio.run(process(dispatch, recording.handlers, max_attempts=1)) is Outcome.DONE  # its own tenant
    assert recording.calls == [{"secret": "A"}]


def test_routing_an_event_twice_stores_its_proposals_once(aio, runtime, make_tenant, sql_owner):
    """Routing is idempotent: a second run (or the outbox retry) adds no proposal."""
    tenant = make_tenant(["routing.discharge"])
    event_in = msgspec.json.decode(json.dumps(discharge()), type=EventIn)
    received = aio.run(
        receive_event(
            tenant.id, event_in, uuid.uuid4().hex, "test", runtime.keyring, runtime.vault, runtime.clock()
        )
    )
    assert received.created and received.dispatch is not None

    async def route() -> int:
        async with tenant_scope(tenant.id):
            return await route_event(runtime, received.event_id)

    assert aio.run(route()) == 5
    assert aio.run(route()) == 0

    async def route_handler(payload: dict) -> None:
        await route_event(runtime, uuid.UUID(payload["event_id"]))

    outcome = aio.run(process(received.dispatch, {ROUTE_EVENT: route_handler}, max_attempts=3))
    assert outcome is Outcome.DONE

    rows = sql_owner.execute(
        "SELECT action_type, dedup_key, source_plugin FROM action_proposal WHERE event_id = %s",
        (received.event_id,),
    ).fetchall()
    assert len(rows) == 5
    assert {row[0] for row in rows} == {
        "home_help_assessment",
        "nurse_visit",
        "pharmacy_delivery",
        "gp_follow_up_call",
        "funding_request",
    }
    assert len({row[1] for row in rows}) == 5
    assert {row[2] for row in rows} == {"routing.discharge"}
    status = sql_owner.execute("SELECT status FROM event WHERE id = %s", (received.event_id,)).fetchone()[0]
    assert status == "routed"
