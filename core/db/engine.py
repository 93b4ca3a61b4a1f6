"""The one Piccolo engine every table is bound to.

asyncpg pools belong to the event loop that created them, and Parcours runs
several loops in one process (the web server's, and the job worker's). The
engine therefore keeps one pool per running loop, created on first use by
:func:`ensure_pool`.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import asyncpg
from piccolo.engine.postgres import PostgresEngine


class AppEngine(PostgresEngine):
    """A Piccolo Postgres engine with one connection pool per event loop."""

    def __init__(self) -> None:
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncpg.Pool] = (
            weakref.WeakKeyDictionary()
        )
        self._creating: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Future[asyncpg.Pool]] = (
            weakref.WeakKeyDictionary()
        )
        super().__init__(config={}, extensions=())

    @property
    def pool(self) -> asyncpg.Pool | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        return self._pools.get(loop)

    @pool.setter
    def pool(self, value: Any) -> None:
        # Piccolo assigns ``self.pool = None`` in its constructor; pools are
        # managed per loop by ensure_pool/close_pool instead.
        if value is not None:
            raise AttributeError("use ensure_pool() to create a pool")

    async def ensure_pool(self, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
        """Return the current loop's pool, creating it on first use."""
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is not None:
            return pool
        creating = self._creating.get(loop)
        if creating is not None:  # another task of this loop is creating it
            return await asyncio.shield(creating)
        if not self.config:
            raise RuntimeError("database engine not configured")
        future: asyncio.Future[asyncpg.Pool] = loop.create_future()
        self._creating[loop] = future
        try:
            pool = await asyncpg.create_pool(min_size=min_size, max_size=max_size, **self.config)
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # mark retrieved: waiters re-raise it
            raise
        finally:
            self._creating.pop(loop, None)
        self._pools[loop] = pool
        future.set_result(pool)
        return pool

    async def close_pool(self, grace_seconds: float = 10.0) -> None:
        """Close the current loop's pool, if any; terminate it if a connection is stuck."""
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), grace_seconds)
            except TimeoutError:
                pool.terminate()

    async def start_connection_pool(self, **kwargs: Any) -> None:
        await self.ensure_pool()

    async def close_connection_pool(self) -> None:
        await self.close_pool()


DB = AppEngine()
"""The engine shared by all tables; configured at start-up with :func:`configure_engine`."""


def configure_engine(dsn: str) -> None:
    """Point the engine at ``dsn`` (the application role, or the owner for migrations)."""
    DB.config = {"dsn": dsn}
