"""Fixtures of the page tests run on the demo territory (``landes``): the seeded tenant, a fresh
browser, and logging a demo user in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from tenants.demo import seed_all
from tests.support.loop import LoopThread
from tests.web.test_login import form_fields, login

DEMO_SLUG = "landes"


@pytest.fixture(scope="module")
def landes(aio: LoopThread, runtime: Runtime, client: TestClient[Any]) -> TenantRecord:
    """The demo territory, seeded (idempotently) with its organisations, people and one account per role."""
    reports = aio.run(seed_all(runtime))
    return next(r for r in reports if r.tenant.slug == DEMO_SLUG).tenant


@pytest.fixture
def browser(client: TestClient[Any]) -> Iterator[TestClient[Any]]:
    """The session's HTTP client with an empty cookie jar, as a fresh browser."""
    client.cookies.clear()
    yield client
    client.cookies.clear()


def sign_in(browser: TestClient[Any], username: str) -> str:
    """Log the demo user ``username`` in (a fresh cookie jar); return the session's CSRF token."""
    browser.cookies.clear()
    assert login(browser, DEMO_SLUG, username).status_code == 303
    return form_fields(browser.get(f"/t/{DEMO_SLUG}/moi").text)["_csrf"]
