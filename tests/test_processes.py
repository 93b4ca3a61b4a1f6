"""The whole process: crash mid-routing and recover; clean shutdown; CLI beside a running server."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import httpx
import psutil
import pytest

from core.access.service import create_client
from core.tenancy.service import create_tenant
from tests.conftest import wait_for
from tests.factories import discharge
from tests.support.processes import PARCOURS, ROOT, Server, command_env

pytestmark = pytest.mark.slow


def token(server: Server, slug: str, client_id: str, secret: str) -> dict[str, str]:
    response = httpx.post(
        f"{server.base}/t/{slug}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_killed_during_routing_then_restarted_creates_proposals_exactly_once(
    settings, aio, sql_owner, tmp_path
):
    plugins = ["routing.discharge", "tests.support.slow_routing"]
    slug = "crash-" + uuid.uuid4().hex[:6]
    tenant = aio.run(create_tenant(slug, "Territoire crash", ["40"], plugins))
    new = aio.run(create_client(tenant.id, "Hôpital", ["events:write", "events:read"]))
    marker = tmp_path / "routing-started"
    env = command_env(
        settings,
        share_broker=False,
        PARCOURS_PLUGINS="tests.support.slow_routing",
        PARCOURS_OUTBOX_REDISPATCH_SECONDS="1",
        PARCOURS_OUTBOX_POLL_SECONDS="0.2",
        SLOW_ROUTING_MARKER=str(marker),
    )

    first = Server(env, tmp_path / "first.log")
    first.wait_healthy()
    headers = {**token(first, slug, new.client_id, new.client_secret), "Idempotency-Key": "crash-1"}
    response = httpx.post(f"{first.base}/t/{slug}/api/v1/events", json=discharge(), headers=headers)
    assert response.status_code == 201
    event_id = response.json()["id"]
    wait_for(marker.exists, timeout=20)  # routing is running, inside its transaction
    first.kill()

    state = sql_owner.execute(
        "SELECT e.status, (SELECT count(*) FROM action_proposal p WHERE p.event_id = e.id), "
        "(SELECT status FROM outbox_message o WHERE o.tenant_id = e.tenant_id) "
        "FROM event e WHERE e.id = %s",
        (event_id,),
    ).fetchone()
    assert state == ("received", 0, "pending")

    second = Server(env, tmp_path / "second.log")
    try:
        second.wait_healthy()
        read = {"Authorization": headers["Authorization"]}

        def routed():
            body = httpx.get(f"{second.base}/t/{slug}/api/v1/events/{event_id}", headers=read).json()
            return body if body["status"] == "routed" else None

        event = wait_for(routed, timeout=30)
    finally:
        assert second.terminate() == 0
    keys = sorted((p["source_plugin"], p["action_type"]) for p in event["proposals"])
    assert keys == [
        ("routing.discharge", "funding_request"),
        ("routing.discharge", "gp_follow_up_call"),
        ("routing.discharge", "home_help_assessment"),
        ("routing.discharge", "nurse_visit"),
        ("routing.discharge", "pharmacy_delivery"),
        ("tests.support.slow_routing", "coordination_check"),
    ]
    rows = sql_owner.execute(
        "SELECT count(*) FROM action_proposal WHERE event_id = %s", (event_id,)
    ).fetchone()[0]
    assert rows == 6
    assert (
        sql_owner.execute("SELECT status FROM outbox_message WHERE tenant_id = %s", (tenant.id,)).fetchone()[
            0
        ]
        == "done"
    )


def test_run_serves_demo_then_stops_cleanly_with_its_database(tmp_path):
    """`parcours run --demo` on a fresh data dir: health, demo page; SIGTERM stops PostgreSQL too."""
    data = tmp_path / "fresh"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARCOURS_")}
    env.update(PARCOURS_DATA_DIR=str(data), PYTHONPATH=str(ROOT))
    server = Server(env, tmp_path / "run.log", "--demo")
    try:
        server.wait_healthy(timeout=90)
        assert httpx.get(f"{server.base}/health").json() == {"status": "ok", "database": "ok"}
        page = httpx.get(f"{server.base}/t/landes/")
        assert page.status_code == 200
        assert "Landes" in page.text
        demo = token(server, "landes", "demo-ch-mont-de-marsan", "demo-secret-landes-not-for-production")
        assert demo["Authorization"].startswith("Bearer ")
    finally:
        code = server.terminate()
    assert code == 0
    leftovers = [
        p for p in psutil.process_iter(["cmdline"]) if str(data) in " ".join(p.info["cmdline"] or [])
    ]
    assert leftovers == []
    log = (tmp_path / "run.log").read_text()
    assert "demo-ch-mont-de-marsan" in log  # how to get a token is printed
    carsat = log[log.index("demo-carsat-aquitaine") :]
    assert "/api/v1/funding-requests" in carsat.split("Obtenir")[0]  # its own use, not the events


def run_cli(settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PARCOURS, *args],
        env=command_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_administers_the_same_database_as_the_running_app(settings, client):
    slug = "cli-" + uuid.uuid4().hex[:6]
    created = run_cli(settings, "tenant", "create", slug, "--name", "Pays Basque", "--departement", "64")
    assert created.returncode == 0, created.stderr
    listed = run_cli(settings, "tenant", "list")
    assert slug in listed.stdout
    plugins = run_cli(settings, "plugins", "list", "--tenant", slug)
    assert "routing.discharge" in plugins.stdout and "oui" in plugins.stdout
    made = run_cli(
        settings,
        "api-client",
        "create",
        "--tenant",
        slug,
        "--name",
        "CH Bayonne",
        "--scope",
        "events:write",
        "--scope",
        "events:read",
    )
    assert made.returncode == 0, made.stderr
    credentials = json.loads(made.stdout)
    assert set(credentials) == {"client_id", "client_secret"}
    response = client.post(
        f"/t/{slug}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(credentials["client_id"], credentials["client_secret"]),
    )
    assert response.status_code == 200
    # the session's app still reaches its database after the CLI left
    assert client.get("/health").json()["database"] == "ok"


def test_cli_reports_bad_input_clearly(settings):
    bad = run_cli(settings, "tenant", "create", "x", "--name", "", "--departement", "99")
    assert bad.returncode == 2
    assert "slug" in bad.stderr and "99" in bad.stderr and "Traceback" not in bad.stderr
    unknown = run_cli(
        settings, "api-client", "create", "--tenant", "nope", "--name", "n", "--scope", "events:write"
    )
    assert unknown.returncode == 2
    assert "aucun territoire" in unknown.stderr


@pytest.mark.skipif(
    not os.environ.get("PARCOURS_BROKER_URL", "").startswith("redis://"),
    reason="a separate worker process needs a real broker (run with make test-server)",
)
def test_separate_worker_process_routes_events(settings, aio, tmp_path):
    """`parcours run` without its embedded worker + `parcours worker`: events still get routed."""
    slug = "wrk-" + uuid.uuid4().hex[:6]
    tenant = aio.run(create_tenant(slug, "Territoire worker", ["40"], ["routing.discharge"]))
    new = aio.run(create_client(tenant.id, "Hôpital", ["events:write", "events:read"]))
    # Own Redis database: the test session's in-process worker must not take the job.
    env = command_env(
        settings,
        PARCOURS_BROKER_URL="redis://127.0.0.1:6379/14",
        PARCOURS_EMBEDDED_WORKER="false",
    )
    server = Server(env, tmp_path / "web.log")
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen([PARCOURS, "worker"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        server.wait_healthy()
        headers = {**token(server, slug, new.client_id, new.client_secret), "Idempotency-Key": "w-1"}
        url = f"{server.base}/t/{slug}/api/v1/events"
        event_id = httpx.post(url, json=discharge(), headers=headers).json()["id"]

        def routed():
            body = httpx.get(f"{url}/{event_id}", headers=headers).json()
            return body if body["status"] == "routed" else None

        assert len(wait_for(routed, timeout=30)["proposals"]) == 5
    finally:
        worker.terminate()
        assert worker.wait(20) == 0
        log.close()
        assert server.terminate() == 0
    assert "outbox message" in (tmp_path / "worker.log").read_text()


def test_cli_enables_and_disables_plugins_of_a_territory(settings):
    slug = "plg-" + uuid.uuid4().hex[:6]
    assert (
        run_cli(settings, "tenant", "create", slug, "--name", "Béarn", "--departement", "64").returncode == 0
    )
    off = run_cli(settings, "tenant", "plugins", slug, "--disable", "routing.discharge")
    assert off.returncode == 0, off.stderr
    assert "routing.discharge" not in off.stdout and "routing.fall" in off.stdout
    listed = run_cli(settings, "plugins", "list", "--tenant", slug)
    assert "non" in listed.stdout
    unknown = run_cli(settings, "tenant", "plugins", slug, "--enable", "funders.nope")
    assert unknown.returncode == 2
    assert "funders.nope" in unknown.stderr
    on = run_cli(settings, "tenant", "plugins", slug, "--enable", "routing.discharge")
    assert "routing.discharge" in on.stdout
