"""Fixtures: one real PostgreSQL per session, the real app, real tokens.

Nothing is mocked: the app runs with its dramatiq worker (in-process, or on
the broker of ``PARCOURS_BROKER_URL``) against PostgreSQL as the
``parcours_app`` role, under row-level security.
"""

from __future__ import annotations

import base64
import os
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from litestar.testing import TestClient

from core.access.service import create_client
from core.config import Settings
from core.db.bootstrap import DatabaseUrls
from core.db.engine import configure_engine
from core.runtime import Runtime, build_runtime
from core.tenancy.service import TenantRecord
from tenants.onboarding import onboard_territory
from tests.support.database import test_database
from tests.support.loop import LoopThread
from web.app import create_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("parcours-data")


@pytest.fixture(scope="session")
def database(data_dir: Path) -> Iterator[DatabaseUrls]:
    with test_database(data_dir) as urls:
        configure_engine(urls.app)
        yield urls


@pytest.fixture(scope="session")
def master_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture(scope="session")
def settings(database: DatabaseUrls, data_dir: Path, master_key: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database.owner,
        master_key=master_key,
        broker_url=os.environ.get("PARCOURS_BROKER_URL") or None,
        # Loaded (enabled for no tenant unless a test says so): a plugin that
        # hangs on first use, for the crash test. Any worker of the session may
        # pick up that test's event after the crash, so all must know it.
        plugins="tests.support.slow_routing",
        outbox_redispatch_seconds=1.0,
        login_attempts_per_minute=10_000,
        outbox_poll_seconds=0.2,
        base_url="http://localhost",
    )


@pytest.fixture(scope="session")
def runtime(settings: Settings) -> Runtime:
    return build_runtime(settings)


@pytest.fixture(scope="session")
def aio(database: DatabaseUrls) -> Iterator[LoopThread]:
    """Run coroutines (service calls) from synchronous tests."""
    loop = LoopThread()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def client(runtime: Runtime, database: DatabaseUrls) -> Iterator[TestClient[Any]]:
    """The real app, its lifespan (pool, broker, worker, dispatcher) running."""
    with TestClient(create_app(runtime), base_url="http://localhost") as test_client:
        yield test_client


@pytest.fixture
def make_tenant(aio: LoopThread, runtime: Runtime) -> Callable[..., TenantRecord]:
    def make(
        plugins: tuple[str, ...] = ("routing.discharge",), departements: tuple[str, ...] = ("40",)
    ) -> TenantRecord:
        slug = "t-" + uuid.uuid4().hex[:10]
        return aio.run(
            onboard_territory(runtime.plugins, slug, f"Territoire {slug}", departements, list(plugins))
        )

    return make


@pytest.fixture
def tenant(make_tenant: Callable[..., TenantRecord]) -> TenantRecord:
    return make_tenant()


@pytest.fixture
def token_for(aio: LoopThread, client: TestClient[Any]) -> Callable[..., dict[str, str]]:
    """Authorization headers from a real client-credentials exchange."""

    def token(
        tenant: TenantRecord, scopes: tuple[str, ...] = ("events:write", "events:read")
    ) -> dict[str, str]:
        new = aio.run(create_client(tenant.id, "Hôpital de test", list(scopes)))
        response = client.post(
            f"/t/{tenant.slug}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(new.client_id, new.client_secret),
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return token


@pytest.fixture
def sql_owner(database: DatabaseUrls) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database.owner, autocommit=True) as connection:
        yield connection


@pytest.fixture
def sql_app(database: DatabaseUrls) -> Iterator[psycopg.Connection[Any]]:
    """A connection as the application role (row-level security applies)."""
    with psycopg.connect(database.app) as connection:
        yield connection


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
