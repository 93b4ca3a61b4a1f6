"""Event routing: events/s from intake to proposals persisted, against a bare dramatiq actor.

Four measurements, same database, same broker, same dramatiq worker, same run:

1. ``bare actor``: N messages sent to a bare async actor doing one INSERT (raw asyncpg); timed
   from the first send until the N rows are committed.
2. ``bare intake + actor``: the bare intake SQL of ``bench/event_intake.py`` (person upsert,
   event, outbox message, one transaction), then the same send and one-INSERT actor.
3. ``Parcours routing``: N discharges stored beforehand (not timed); their outbox messages sent
   to ``process_outbox_message``; timed until every event is ``routed`` (proposals, their history
   lines, readmission checks and the message's ``done`` committed).
4. ``Parcours intake → routed``: ``receive_event`` then ``JobSystem.send`` (what
   ``POST /events`` does), timed from the first declaration until every event is routed.

The broker is dramatiq's in-memory StubBroker by default, or ``--broker redis://…|amqp://…``;
the worker is the one ``JobSystem`` starts (``--threads`` worker threads). Completion is seen
by polling the database every 10 ms.

``--statements N`` then routes N more events one after the other in this process (no broker)
and prints, per routed event, the SQL statements sent and the time spent waiting for each.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import os
import secrets
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import dramatiq
import msgspec
from dramatiq.asyncio import get_event_loop_thread
from pydantic import SecretStr

from bench.event_intake import bare_event, body
from core.config import Settings, get_settings
from core.db.bootstrap import DatabaseServer
from core.db.engine import DB, configure_engine
from core.db.migrate import migrate
from core.events.intake import receive_event
from core.events.schemas import EventIn
from core.jobs.system import JobSystem
from core.outbox.service import Dispatch, process
from core.runtime import build_runtime
from core.tenancy.service import create_tenant

QUEUE = "bench-routing"
BARE_TABLE = "CREATE TABLE IF NOT EXISTS bench_routed (n integer PRIMARY KEY, at timestamptz NOT NULL)"
BARE_INSERT = "INSERT INTO bench_routed (n, at) VALUES ($1, clock_timestamp())"


class BareActor:
    """An async dramatiq actor on the job system's broker: one INSERT per message."""

    def __init__(self, broker: dramatiq.Broker, dsn: str, threads: int) -> None:
        self._pools: dict[asyncio.AbstractEventLoop, asyncpg.Pool] = {}
        self._lock = threading.Lock()
        self._dsn = dsn
        self._threads = threads

        async def bench_bare_insert(n: int) -> None:
            pool = await self.pool()
            await pool.execute(BARE_INSERT, n)

        decorate = dramatiq.actor(
            broker=broker, queue_name=QUEUE, actor_name="bench_bare_insert", max_retries=0
        )
        self.actor = decorate(bench_bare_insert)

    async def pool(self) -> asyncpg.Pool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=self._threads)
            self._pools[loop] = pool
        return pool

    async def close(self) -> None:
        for pool in self._pools.values():
            await pool.close()


async def wait_until(count: Callable[[], Awaitable[int]], expected: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while await count() < expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {await count()} of {expected} done after {seconds} s")
        await asyncio.sleep(0.01)


async def timed(
    label: str,
    events: int,
    concurrency: int,
    one: Callable[[int], Awaitable[None]],
    done: Callable[[], Awaitable[int]],
) -> dict[str, Any]:
    """Run ``one(i)`` for every event (``concurrency`` at a time), then wait until ``done`` counts
    them all; return the throughput and when the last send left."""
    queue = iter(range(events))

    async def sender() -> None:
        for i in queue:
            await one(i)

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    sent = time.perf_counter() - started
    await wait_until(done, events, max(120.0, events / 5))
    elapsed = time.perf_counter() - started
    return {"label": label, "per_second": events / elapsed, "seconds": elapsed, "sent_s": sent}


async def run(
    events: int,
    concurrency: int,
    threads: int,
    broker_url: str | None,
    database_url: str | None,
    data: Path,
    statements: int,
) -> tuple[list[dict[str, Any]], dict[str, Any], list[str]]:
    os.environ["PARCOURS_QUEUE"] = QUEUE  # read when the job system imports its actors
    get_settings.cache_clear()
    settings = Settings(
        data_dir=data,
        database_url=database_url,
        broker_url=broker_url,
        worker_threads=threads,
        master_key=SecretStr(base64.b64encode(secrets.token_bytes(32)).decode()),
        base_url="http://localhost",
    )
    server = DatabaseServer(settings)
    urls = server.start()
    jobs: JobSystem | None = None
    bare: BareActor | None = None
    try:
        await migrate(urls)
        configure_engine(urls.app)
        runtime = build_runtime(settings)
        owner = await asyncpg.connect(urls.owner)
        await owner.execute(BARE_TABLE)
        await owner.execute("TRUNCATE bench_routed")
        await DB.ensure_pool(min_size=concurrency, max_size=concurrency)
        pool = await asyncpg.create_pool(urls.app, min_size=concurrency, max_size=concurrency)
        jobs = JobSystem(runtime)
        jobs.start(with_worker=True)
        assert jobs.broker is not None
        bare = BareActor(jobs.broker, urls.owner, threads)
        send_bare = bare.actor.send
        send = jobs.send

        async def inserted() -> int:
            return int(await owner.fetchval("SELECT count(*) FROM bench_routed"))

        async def routed(tenant_id: uuid.UUID) -> int:
            return int(
                await owner.fetchval(
                    "SELECT count(*) FROM event WHERE tenant_id = $1 AND status = 'routed'", tenant_id
                )
            )

        async def declare(tenant_id: uuid.UUID, i: int, key: str, event: EventIn | None = None) -> Dispatch:
            received = await receive_event(
                tenant_id, event or decoded[i], key, "bench", runtime.keyring, runtime.vault, now
            )
            assert received.dispatch is not None
            return received.dispatch

        now = dt.datetime.now(dt.UTC)
        decoded = [msgspec.convert(body(i), EventIn) for i in range(2 * events + 1)]
        bare_tenant = await create_tenant("bare-" + uuid.uuid4().hex[:6], "Bare", ["40"], [])
        plugins = ["routing.discharge"]
        tenant = (await create_tenant("bench-" + uuid.uuid4().hex[:6], "Bench", ["40"], plugins)).id
        second = (await create_tenant("bench-" + uuid.uuid4().hex[:6], "Bench 2", ["40"], plugins)).id

        # Warm-up, not timed: both actors once (pools opened, plugins imported).
        send_bare(-1)
        send(await declare(second, 2 * events, "warm-up"))
        await wait_until(inserted, 1, 60)
        await wait_until(lambda: routed(second), 1, 60)
        await owner.execute("TRUNCATE bench_routed")
        # Parcours routing alone: the events stored first, their messages sent when timed.
        stored = [await declare(tenant, i, f"pre-{i}") for i in range(events)]

        async def bare_only(i: int) -> None:
            send_bare(i)

        async def bare_intake(i: int) -> None:
            await bare_event(pool, bare_tenant.id, i)
            send_bare(events + i)

        async def route_stored(i: int) -> None:
            send(stored[i])

        async def intake(i: int) -> None:
            send(await declare(second, events + i, f"new-{i}"))

        async def intake_inserted() -> int:
            return await inserted() - events

        async def second_routed() -> int:
            return await routed(second) - 1

        results = [
            await timed("bare actor (1 INSERT)", events, concurrency, bare_only, inserted),
            await timed("bare intake SQL + actor", events, concurrency, bare_intake, intake_inserted),
            await timed("Parcours routing", events, concurrency, route_stored, lambda: routed(tenant)),
            await timed("Parcours intake → routed", events, concurrency, intake, second_routed),
        ]
        counts = {
            "proposals": await owner.fetchval(
                "SELECT count(*) FROM action_proposal WHERE tenant_id = $1", tenant
            ),
            "readmission_checks": await owner.fetchval(
                "SELECT count(*) FROM readmission_check WHERE tenant_id = $1", tenant
            ),
            "routed": await routed(tenant),
        }
        profile: list[str] = []
        if statements:
            more = [
                await declare(tenant, 0, f"stmt-{i}", msgspec.convert(body(events + i), EventIn))
                for i in range(statements)
            ]
            profile = await statement_profile(more)
        await owner.execute("DROP TABLE bench_routed")
        await owner.close()
        await pool.close()
        return results, counts, profile
    finally:
        if jobs is not None:
            if bare is not None:
                loop_thread = get_event_loop_thread()
                if loop_thread is not None:
                    loop_thread.run_coroutine(bare.close())
            if jobs.broker is not None:
                jobs.broker.flush(QUEUE)
            jobs.stop()
        await DB.close_pool()
        server.stop()


async def statement_profile(dispatches: list[Dispatch]) -> list[str]:
    """Route ``dispatches`` one by one in this process, counting and timing every SQL statement."""
    from core.jobs.actors import outbox_handlers

    calls: Counter[str] = Counter()
    waited: defaultdict[str, float] = defaultdict(float)
    methods = ("execute", "executemany", "fetch", "fetchrow", "fetchval")
    originals = {name: getattr(asyncpg.Connection, name) for name in methods}

    def counted(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def call(self: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await method(self, query, *args, **kwargs)
            finally:
                statement = " ".join(str(query).split())[:72]
                calls[statement] += 1
                waited[statement] += time.perf_counter() - started

        return call

    for name, method in originals.items():
        setattr(asyncpg.Connection, name, counted(method))
    try:
        started = time.perf_counter()
        for dispatch in dispatches:
            await process(dispatch, outbox_handlers(), 10)
        elapsed = time.perf_counter() - started
    finally:
        for name, method in originals.items():
            setattr(asyncpg.Connection, name, method)
    n = len(dispatches)
    lines = [
        f"one at a time, in-process, {n} events: {1000 * elapsed / n:.1f} ms per routed event, "
        f"{sum(calls.values()) / n:.1f} statements, {1000 * sum(waited.values()) / n:.1f} ms waiting on SQL",
        f"{'per event':>9} {'ms':>6}  statement",
    ]
    for statement, count in sorted(calls.items(), key=lambda item: -waited[item[0]]):
        lines.append(f"{count / n:8.1f}x {1000 * waited[statement] / n:6.2f}  {statement}")
    return lines


def report(
    results: list[dict[str, Any]],
    counts: dict[str, Any],
    events: int,
    concurrency: int,
    threads: int,
    broker: str,
) -> str:
    by = {r["label"]: r for r in results}
    routed = counts["routed"]
    lines = [
        f"event routing — {events} events, broker {broker}, {threads} worker threads, "
        f"{concurrency} senders; per routed event: {counts['proposals'] / routed:.1f} proposals, "
        f"{counts['readmission_checks'] / routed:.1f} readmission checks",
        f"{'':28} {'events/s':>10} {'total s':>8} {'sent s':>8}",
    ]
    for r in results:
        lines.append(f"{r['label']:28} {r['per_second']:10.0f} {r['seconds']:8.2f} {r['sent_s']:8.2f}")
    bare, bare_intake = by["bare actor (1 INSERT)"], by["bare intake SQL + actor"]
    routing, full = by["Parcours routing"], by["Parcours intake → routed"]
    lines += [
        f"Parcours routing / bare actor throughput ratio: {routing['per_second'] / bare['per_second']:.2f}",
        "Parcours intake → routed / bare intake + actor throughput ratio: "
        f"{full['per_second'] / bare_intake['per_second']:.2f}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--broker", default=None, help="redis://… or amqp://… (default: in-memory)")
    parser.add_argument("--threads", type=int, default=2, help="dramatiq worker threads")
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent senders")
    parser.add_argument(
        "--statements", type=int, default=0, help="then profile the SQL of N events routed one by one"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("PARCOURS_DATABASE_URL") or None,
        help="PostgreSQL owner URL (default: a throw-away embedded PostgreSQL)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="parcours-bench-") as data_dir:
        results, counts, profile = asyncio.run(
            run(
                args.events,
                args.concurrency,
                args.threads,
                args.broker,
                args.database_url,
                Path(data_dir),
                args.statements,
            )
        )
    broker = args.broker.split("@")[-1] if args.broker else "in-memory (StubBroker)"
    print(report(results, counts, args.events, args.concurrency, args.threads, broker))
    print("\n".join(profile))


if __name__ == "__main__":
    main()
