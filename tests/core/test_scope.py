"""The tenant scope never leaks a connection, even when its task is cancelled."""

from __future__ import annotations

import asyncio
import contextlib

from core.db.connection import scoped_connection
from core.db.engine import DB
from core.db.scope import current_tenant_id, tenant_scope
from core.plugins import create_plugin_manager


def test_cancelled_scopes_give_their_connections_back(aio, tenant):
    """A server shutting down cancels tasks mid-transaction: the pool must still close."""

    async def busy() -> None:
        while True:
            async with tenant_scope(tenant.id):
                await scoped_connection().fetchval("SELECT count(*) FROM event")

    async def scenario() -> tuple[int, int]:
        pool = await DB.ensure_pool()
        for delay in (0, 0.0002, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016):
            tasks = [asyncio.create_task(busy()) for _ in range(4)]
            await asyncio.sleep(delay)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return pool.get_idle_size(), pool.get_size()

    idle, size = aio.run(scenario())
    assert idle == size


def test_scope_sets_and_clears_the_current_tenant(aio, tenant):
    async def scenario() -> bool:
        async with tenant_scope(tenant.id):
            inside = current_tenant_id() == tenant.id
            setting = await scoped_connection().fetchval("SELECT current_setting('app.tenant_id')")
        try:
            current_tenant_id()
        except RuntimeError:
            return inside and setting == str(tenant.id)
        return False

    assert aio.run(scenario())


def test_a_builtin_plugin_named_by_module_path_is_not_registered_twice():
    """PARCOURS_PLUGINS=plugins.routing.discharge must not crash start-up."""
    pm = create_plugin_manager(["plugins.routing.discharge"])
    names = [name for name, _ in pm.list_name_plugin()]
    assert names.count("routing.discharge") == 1
    assert "plugins.routing.discharge" not in names
