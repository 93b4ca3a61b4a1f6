"""Event intake: Parcours (HTTP and service) against bare baselines doing the same SQL.

Four measurements, same database, same run:

1. ``bare SQL``: raw asyncpg, one transaction per event: SET LOCAL tenant,
   person upsert, event insert, outbox insert (the statements Parcours runs).
2. ``service``: ``core.events.intake.receive_event`` (validation, NIR check,
   keyed hash + AES-GCM of the INS, idempotency lookup, tenant scope).
3. ``bare HTTP``: a minimal Litestar app whose handler runs the bare SQL.
4. ``parcours HTTP``: ``POST /t/{slug}/api/v1/events`` through the real app
   (bearer token check, msgspec body, problem details), without the worker.

HTTP runs in-process through ``httpx.ASGITransport`` (no sockets), so the
ratio isolates the application's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import os
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import msgspec
from litestar import Litestar, post

from core.access.service import create_client
from core.config import Settings
from core.db.bootstrap import DatabaseServer
from core.db.engine import DB, configure_engine
from core.db.migrate import migrate
from core.events.intake import receive_event
from core.events.schemas import EventIn
from core.identity.nir import nir_key
from core.runtime import build_runtime
from core.tenancy.service import create_tenant


def nir(i: int) -> str:
    first13 = f"2420240{i % 1000:03d}{i // 1000 % 1000:03d}"
    return first13 + f"{nir_key(first13):02d}"


def body(i: int) -> dict:
    return {
        "type": "hospital_discharge",
        "occurred_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat(),
        "person": {
            "ins": nir(i),
            "family_name": "Lafitte",
            "given_names": "Jeanne",
            "birth_date": "1942-02-14",
            "commune_insee": "40192",
            "lives_alone": True,
        },
    }


BARE_SQL = (
    "INSERT INTO person (id, tenant_id, ins_digest, ins_ciphertext, family_name, given_names, "
    "birth_date, commune_insee, lives_alone, ins_status, is_demo, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, 'Lafitte', 'Jeanne', '1942-02-14', '40192', true, 'provisional', false, "
    "now(), now()) ON CONFLICT (tenant_id, ins_digest) DO UPDATE SET updated_at = now() RETURNING id",
    "INSERT INTO event (id, tenant_id, person_id, type, occurred_at, details, status, idempotency_key, "
    "request_digest, declared_by, created_at) VALUES ($1, $2, $3, 'hospital_discharge', now(), '{}', "
    "'received', $4, 'x', 'bench', now())",
    "INSERT INTO outbox_message (id, tenant_id, topic, payload, status, attempts, created_at, "
    "dispatched_at) VALUES ($1, $2, 'event.route', $3, 'pending', 0, now(), now())",
)


async def bare_event(pool: asyncpg.Pool, tenant_id: uuid.UUID, i: int) -> None:
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(f"SET LOCAL app.tenant_id = '{tenant_id}'")
        person_id = await connection.fetchval(BARE_SQL[0], uuid.uuid4(), tenant_id, f"bare-{i}", b"x" * 48)
        event_id = uuid.uuid4()
        await connection.execute(BARE_SQL[1], event_id, tenant_id, person_id, f"bare-{i}")
        await connection.execute(
            BARE_SQL[2], uuid.uuid4(), tenant_id, json.dumps({"event_id": str(event_id)})
        )


async def measure(label: str, count: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> dict:
    latencies: list[float] = []
    queue = iter(range(count))

    async def worker() -> None:
        for i in queue:
            start = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - start)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "label": label,
        "per_second": count / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
    }


def bare_app(pool_holder: dict, tenant_id: uuid.UUID) -> Litestar:
    counter = iter(range(10**9))

    @post("/events", status_code=201)
    async def declare(data: dict) -> dict:
        i = next(counter)
        await bare_event(pool_holder["pool"], tenant_id, 10_000_000 + i)
        return {"status": "received"}

    return Litestar([declare])


async def run(events: int, concurrency: int, data_dir: Path) -> list[dict]:
    settings = Settings(
        data_dir=data_dir,
        database_url=os.environ.get("PARCOURS_DATABASE_URL") or None,
        master_key=base64.b64encode(secrets.token_bytes(32)).decode(),
        base_url="http://localhost",
    )
    server = DatabaseServer(settings)
    urls = server.start()
    try:
        await migrate(urls)
        configure_engine(urls.app)
        runtime = build_runtime(settings)
        tenant = await create_tenant("bench-" + uuid.uuid4().hex[:6], "Bench", ["40"], [])
        pool = await asyncpg.create_pool(urls.app, min_size=concurrency, max_size=concurrency)
        await DB.ensure_pool(min_size=concurrency, max_size=concurrency)
        now = dt.datetime.now(dt.UTC)
        decoded = [msgspec.convert(body(i), EventIn) for i in range(events)]

        async def service(i: int) -> None:
            await receive_event(
                tenant.id, decoded[i], f"svc-{i}", "bench", runtime.keyring, runtime.vault, now
            )

        results = [
            await measure(
                "bare SQL (asyncpg)", events, concurrency, lambda i: bare_event(pool, tenant.id, i)
            ),
            await measure("Parcours service", events, concurrency, service),
        ]

        holder = {"pool": pool}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=bare_app(holder, tenant.id)), base_url="http://localhost"
        ) as bare:

            async def bare_http(i: int) -> None:
                response = await bare.post("/events", json=body(i))
                assert response.status_code == 201

            results.append(await measure("bare HTTP (Litestar + asyncpg)", events, concurrency, bare_http))

        from web.app import create_app

        app = create_app(runtime, start_jobs=False)
        client_credentials = await create_client(tenant.id, "bench", ["events:write"])
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as http:
            token = await http.post(
                f"/t/{tenant.slug}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client_credentials.client_id, client_credentials.client_secret),
            )
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

            async def parcours_http(i: int) -> None:
                response = await http.post(
                    f"/t/{tenant.slug}/api/v1/events",
                    json=body(200_000 + i),
                    headers={**headers, "Idempotency-Key": f"http-{i}"},
                )
                assert response.status_code == 201, response.text

            results.append(await measure("Parcours HTTP (POST /events)", events, concurrency, parcours_http))
        await pool.close()
        await DB.close_pool()
        return results
    finally:
        server.stop()


def report(results: list[dict], events: int, concurrency: int) -> str:
    by = {r["label"]: r for r in results}
    lines = [
        f"event intake — {events} events, concurrency {concurrency}",
        f"{'':34} {'events/s':>10} {'p50 ms':>8} {'p95 ms':>8}",
    ]
    for r in results:
        lines.append(f"{r['label']:34} {r['per_second']:10.0f} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f}")
    sql, svc = by["bare SQL (asyncpg)"], by["Parcours service"]
    http_bare, http = by["bare HTTP (Litestar + asyncpg)"], by["Parcours HTTP (POST /events)"]
    lines += [
        f"service / bare SQL throughput ratio: {svc['per_second'] / sql['per_second']:.2f}",
        f"Parcours HTTP / bare HTTP throughput ratio: {http['per_second'] / http_bare['per_second']:.2f}",
        f"Parcours HTTP p95 / bare HTTP p95: {http['p95_ms'] / http_bare['p95_ms']:.2f}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="parcours-bench-") as data_dir:
        results = asyncio.run(run(args.events, args.concurrency, Path(data_dir)))
    print(report(results, args.events, args.concurrency))


if __name__ == "__main__":
    main()
