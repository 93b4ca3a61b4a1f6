"""Kill the routing process at random, again and again: no event is lost, no proposal duplicated.

200 discharges are declared in a fresh territory; a routing process (``parcours run`` on the
in-memory broker, or ``parcours worker`` on the Redis/RabbitMQ of ``PARCOURS_BROKER_URL``) routes
them and is SIGKILLed a few times at random moments, then restarted, until everything is routed.
The seed of the random plan is printed with every failure; ``KILL_SEED=…`` replays it.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest

from core.config import Settings
from core.events.intake import ROUTE_EVENT, receive_event
from core.events.routing import READMISSION_HORIZONS, route_event
from core.events.schemas import EventIn
from core.outbox.service import Dispatch, Outcome, process
from core.runtime import Runtime, build_runtime
from core.tenancy.service import create_tenant
from tests.factories import discharge, nir
from tests.support.processes import PARCOURS, ROOT, command_env, free_port

pytestmark = pytest.mark.slow

EVENTS = 200
PLUGINS = ["routing.discharge", "tests.support.steady_routing"]
LOADED = "tests.support.slow_routing,tests.support.steady_routing"
"""Plugins of the routing processes: the session's test plugins too (they may route other
tenants' leftover messages)."""
WORKER_THREADS = 2
REAL_BROKER = os.environ.get("PARCOURS_BROKER_URL", "").startswith(("redis", "amqp"))


class Router:
    """The routing process, in its own process group: killed with SIGKILL, or stopped cleanly."""

    def __init__(self, env: dict[str, str], log: Path, markers: Path) -> None:
        # On the in-memory broker only `parcours run` holds a worker (and its own broker).
        web = ["run", "--host", "127.0.0.1", "--port", str(free_port())]
        args = ["worker"] if REAL_BROKER else web
        self.log = log
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [PARCOURS, *args],
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.marker = markers / str(self.process.pid)

    def wait_routing(self, why: str, timeout: float = 60) -> None:
        """Until this process has started routing (the plugin marked its pid)."""
        deadline = time.monotonic() + timeout
        while not self.marker.exists():
            if self.process.poll() is not None:
                raise AssertionError(f"router exited with {self.process.returncode}; {why}\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"router did not start routing within {timeout} s; {why}\n{self.tail()}")
            time.sleep(0.02)

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self._log.close()

    def terminate(self) -> int:
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(30)
        finally:
            self._log.close()

    def tail(self) -> str:
        self._log.flush()
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])


@contextmanager
def session_dispatcher_paused(client: Any) -> Iterator[None]:
    """Stop the test session's outbox dispatcher: it would hand this territory's pending messages
    (older than its redispatch delay) to the session's own worker, not to the process under test."""
    jobs = client.app.state.jobs
    portal = client.blocking_portal
    portal.call(jobs.stop_dispatcher)

    async def restart() -> None:
        jobs.start_dispatcher()

    try:
        yield
    finally:
        portal.call(restart)


def drop_queue(broker_url: str, queue: str) -> None:
    """Remove the test's own queue (and dramatiq's delay and dead-letter queues) from the broker."""
    if broker_url.startswith("redis"):
        import redis

        connection = redis.Redis.from_url(broker_url)
        keys = [
            *connection.scan_iter(f"dramatiq:{queue}*"),
            *connection.scan_iter(f"dramatiq:__acks__.*{queue}*"),
        ]
        if keys:
            connection.delete(*keys)
        connection.close()
    else:
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(broker_url))
        channel = connection.channel()
        for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
            channel.queue_delete(name)
        connection.close()


async def declare(runtime: Runtime, tenant_id: uuid.UUID, count: int, offset: int) -> list[uuid.UUID]:
    """``count`` discharges of distinct people aged 75 or more, stored with their outbox messages."""
    ids = []
    now = dt.datetime.now(dt.UTC)
    for i in range(offset, offset + count):
        body = discharge(ins=nir(f"2420240{i % 1000:03d}{i // 1000 % 1000:03d}"))
        event = msgspec.convert(body, EventIn)
        received = await receive_event(
            tenant_id, event, f"kill-{i}", "test", runtime.keyring, runtime.vault, now
        )
        assert received.created
        ids.append(received.event_id)
    return ids


def test_killing_the_router_at_random_loses_and_duplicates_nothing(
    settings: Settings, runtime: Runtime, aio: Any, sql_owner: Any, client: Any, tmp_path: Path
) -> None:
    seed = int(os.environ.get("KILL_SEED") or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    delays = [round(rng.uniform(0.2, 2.0), 2) for _ in range(rng.randint(3, 5))]
    # Enough work to outlast every kill: the routing would take the sum of the delays plus 4 s
    # (the plugin's wait alone, WORKER_THREADS events at a time).
    per_event_ms = WORKER_THREADS * 1000 * (sum(delays) + 4) / EVENTS
    story = [f"KILL_SEED={seed}", f"kill delays {delays} s", f"{per_event_ms:.0f} ms per event"]
    markers = tmp_path / "routing"
    markers.mkdir()
    queue = "kill-" + uuid.uuid4().hex[:8]
    env = command_env(
        settings,
        share_broker=REAL_BROKER,
        PARCOURS_PLUGINS=LOADED,
        PARCOURS_QUEUE=queue,
        PARCOURS_WORKER_THREADS=str(WORKER_THREADS),
        PARCOURS_OUTBOX_REDISPATCH_SECONDS="1",
        PARCOURS_OUTBOX_POLL_SECONDS="0.2",
        STEADY_ROUTING_DIR=str(markers),
        STEADY_ROUTING_DELAY_MS=f"{per_event_ms:.0f}",
    )

    with session_dispatcher_paused(client):
        tenant = aio.run(create_tenant("kill-" + uuid.uuid4().hex[:6], "Territoire kill", ["40"], PLUGINS))

        # One reference discharge routed here, in-process, with the same plugins: what each event
        # must end with.
        reference_runtime = build_runtime(settings.model_copy(update={"plugins": LOADED}))
        (reference,) = aio.run(declare(reference_runtime, tenant.id, 1, 0))
        message = sql_owner.execute(
            "SELECT id FROM outbox_message WHERE tenant_id = %s", (tenant.id,)
        ).fetchone()[0]

        async def route(payload: dict) -> None:
            await route_event(reference_runtime, uuid.UUID(payload["event_id"]))

        outcome = aio.run(process(Dispatch(tenant.id, message), {ROUTE_EVENT: route}, 10))
        assert outcome is Outcome.DONE
        expected = [
            row[0]
            for row in sql_owner.execute(
                "SELECT dedup_key FROM action_proposal WHERE event_id = %s ORDER BY dedup_key", (reference,)
            )
        ]
        assert "tests.support.steady_routing:steady_check" in expected
        assert any(key.startswith("routing.discharge:") for key in expected), expected

        aio.run(declare(runtime, tenant.id, EVENTS, 1), timeout=120)
        total = EVENTS + 1

        def routed() -> int:
            return int(
                sql_owner.execute(
                    "SELECT count(*) FROM event WHERE tenant_id = %s AND status = 'routed'", (tenant.id,)
                ).fetchone()[0]
            )

        routers: list[Router] = []
        try:
            for number, delay in enumerate(delays, 1):
                router = Router(env, tmp_path / f"router-{number}.log", markers)
                routers.append(router)
                router.wait_routing("; ".join(story))
                time.sleep(delay)
                router.kill()
                story.append(f"kill {number} after {delay} s: {routed()}/{total} routed")
                assert routed() < total, "routing ended before the kill: " + "; ".join(story)

            final = Router(env, tmp_path / "router-final.log", markers)
            routers.append(final)
            deadline = time.monotonic() + 90
            while (
                routed() < total
                or sql_owner.execute(
                    "SELECT count(*) FROM outbox_message WHERE tenant_id = %s AND status = 'pending'",
                    (tenant.id,),
                ).fetchone()[0]
            ):
                assert time.monotonic() < deadline, (
                    f"not routed within 90 s ({routed()}/{total}); " + "; ".join(story) + "\n" + final.tail()
                )
                assert final.process.poll() is None, "final router exited; " + "; ".join(story) + final.tail()
                time.sleep(0.1)
            story.append(f"restarted: all routed after {90 - (deadline - time.monotonic()):.1f} s")
            assert final.terminate() == 0, "; ".join(story)
        finally:
            for router in routers:
                if router.process.poll() is None:  # a failed wait: leave no process behind
                    router.kill()
            if REAL_BROKER:
                drop_queue(env["PARCOURS_BROKER_URL"], queue)

    why = "; ".join(story)
    print(why)
    tenant_id = tenant.id
    # Nothing lost: every event routed, every message done, each event with every proposal.
    assert sql_owner.execute(
        "SELECT status, count(*) FROM event WHERE tenant_id = %s GROUP BY status", (tenant_id,)
    ).fetchall() == [("routed", total)], why
    assert sql_owner.execute(
        "SELECT status, count(*) FROM outbox_message WHERE tenant_id = %s GROUP BY status", (tenant_id,)
    ).fetchall() == [("done", total)], why
    per_event = sql_owner.execute(
        "SELECT e.id, coalesce(array_agg(p.dedup_key ORDER BY p.dedup_key) "
        "FILTER (WHERE p.id IS NOT NULL), '{}') FROM event e "
        "LEFT JOIN action_proposal p ON p.event_id = e.id WHERE e.tenant_id = %s GROUP BY e.id",
        (tenant_id,),
    ).fetchall()
    wrong = [(event_id, keys) for event_id, keys in per_event if keys != expected]
    assert len(per_event) == total and wrong == [], (
        f"{len(wrong)} event(s) without {expected}: {wrong[:3]}; {why}"
    )
    # Nothing twice: no (event, dedup_key) pair, proposal history line or readmission check repeated.
    assert (
        sql_owner.execute(
            "SELECT event_id, dedup_key FROM action_proposal WHERE tenant_id = %s "
            "GROUP BY event_id, dedup_key HAVING count(*) > 1",
            (tenant_id,),
        ).fetchall()
        == []
    ), why
    proposals = sql_owner.execute(
        "SELECT count(*) FROM action_proposal WHERE tenant_id = %s", (tenant_id,)
    ).fetchone()[0]
    assert proposals == total * len(expected), why
    created = sql_owner.execute(
        "SELECT count(*), count(DISTINCT proposal_id) FROM proposal_history "
        "WHERE tenant_id = %s AND kind = 'created'",
        (tenant_id,),
    ).fetchone()
    assert created == (proposals, proposals), why
    checks = sql_owner.execute(
        "SELECT e.id, count(r.id) FROM event e LEFT JOIN readmission_check r ON r.discharge_event_id = e.id "
        "WHERE e.tenant_id = %s GROUP BY e.id HAVING count(r.id) <> %s",
        (tenant_id, len(READMISSION_HORIZONS)),
    ).fetchall()
    assert checks == [], f"discharges without exactly {len(READMISSION_HORIZONS)} readmission checks; {why}"
    assert sql_owner.execute(
        "SELECT count(*) FROM readmission_check WHERE tenant_id = %s", (tenant_id,)
    ).fetchone()[0] == total * len(READMISSION_HORIZONS), why
