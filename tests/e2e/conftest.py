"""Browser tests: a real Chromium (playwright) against the real ``parcours run --demo``.

Chromium is the system one (``playwright install`` is not used): the
``PARCOURS_CHROMIUM`` path, else ``/usr/bin/chromium``, else ``chromium`` on
the ``PATH``. Without it the tests are skipped locally and fail in CI.

The server is what ``make run`` starts: ``parcours run --demo`` on a data
directory of its own (its own embedded PostgreSQL), not the session's
database. Its base URL is its own address, so the demo seed registers the
built-in provider's issuer and the client's redirect URI for it. It cannot
share the session's database: accounts are keyed by (issuer, subject), so a
browser login through ``http://127.0.0.1:<port>/idp`` would claim the demo
invitations for an account the session's ``http://localhost`` logins never
find again. The server and the browser live for this package only
(``scope="package"``): nothing of them runs beside the rest of the session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.processes import ROOT, Server

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000


def find_chromium() -> str | None:
    configured = os.environ.get("PARCOURS_CHROMIUM")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@pytest.fixture(scope="package")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        where = os.environ.get("PARCOURS_CHROMIUM") or "/usr/bin/chromium or chromium on the PATH"
        if os.environ.get("CI"):
            pytest.fail(f"Chromium absent ({where}): the browser tests are required in CI")
        pytest.skip("Chromium absent: apt-get install chromium (browser tests run in CI)")
    return path


@pytest.fixture(scope="package")
def browser(chromium: str) -> Iterator[Browser]:
    """One Chromium for all the browser tests."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="package")
def live_server(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of ``parcours run --demo`` on a fresh data directory."""
    here = tmp_path_factory.mktemp("e2e-server")
    env = {name: value for name, value in os.environ.items() if not name.startswith("PARCOURS_")}
    env.update(
        PYTHONPATH=str(ROOT),
        PARCOURS_DATA_DIR=str(here / "data"),
        # The tests log in several times a minute from one address.
        PARCOURS_LOGIN_ATTEMPTS_PER_MINUTE="1000",
    )
    log = here / "parcours-run.log"
    server = Server(env, log, "--demo")
    try:
        try:
            server.wait_healthy(timeout=90)
        except AssertionError as failed:
            raise AssertionError(f"{failed}; {log}:\n{log.read_text(errors='replace')[-3000:]}") from None
        yield server.base
    finally:
        if server.process.poll() is None:
            try:
                server.terminate()
            except subprocess.TimeoutExpired:
                server.kill()
                raise


def _new_page(browser: Browser, base_url: str, *, bypass_csp: bool) -> Iterator[Page]:
    context = browser.new_context(
        base_url=base_url, locale="fr-FR", viewport={"width": 1280, "height": 900}, bypass_csp=bypass_csp
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A fresh browser context (no cookies) per test, the app's CSP enforced."""
    yield from _new_page(browser, live_server, bypass_csp=False)


@pytest.fixture
def audit_page(browser: Browser, live_server: str) -> Iterator[Page]:
    """Like ``page``, but the CSP lets the test inject axe-core."""
    yield from _new_page(browser, live_server, bypass_csp=True)
