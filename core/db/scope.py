"""The tenant scope: one transaction in which row-level security sees one tenant."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from piccolo.engine.postgres import PostgresTransaction

from core.db.engine import DB

_current_tenant: contextvars.ContextVar[uuid.UUID | None] = contextvars.ContextVar(
    "parcours_tenant", default=None
)


class TenantScopeError(RuntimeError):
    """Tenant work attempted outside, or across, tenant scopes."""


def current_tenant_id() -> uuid.UUID:
    """The tenant of the enclosing :func:`tenant_scope`; raises outside one."""
    tenant_id = _current_tenant.get()
    if tenant_id is None:
        raise TenantScopeError("no tenant scope is active")
    return tenant_id


class _ScopeTransaction(PostgresTransaction):
    """Piccolo's transaction on a connection the scope acquired (and will release).

    Piccolo's own transaction acquires the connection in ``__aenter__``; a task
    cancelled there (a server shutting down) never releases it and the pool
    cannot close. Here the scope owns the connection in a ``try/finally``.
    """

    def __init__(self, connection: asyncpg.Connection) -> None:
        super().__init__(DB, allow_nested=False)
        self._scope_connection = connection

    async def get_connection(self) -> asyncpg.Connection:
        return self._scope_connection

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            self.engine.current_transaction.reset(self.context)
        return exception is None


@asynccontextmanager
async def tenant_scope(tenant_id: uuid.UUID) -> AsyncIterator[PostgresTransaction]:
    """Run the enclosed queries in one transaction scoped to ``tenant_id``.

    The first statement is ``SET LOCAL app.tenant_id``, which every tenant
    table's row-level security policy reads: rows of other tenants are
    invisible and cannot be written. ``SET`` takes no bind parameters, so the
    value is rendered from a :class:`uuid.UUID`, never from user text.
    """
    if not isinstance(tenant_id, uuid.UUID):
        raise TypeError("tenant_scope needs a uuid.UUID")
    outer = _current_tenant.get()
    if outer is not None:
        if outer != tenant_id:
            raise TenantScopeError("nested tenant scope for another tenant")
        async with DB.transaction() as transaction:
            yield transaction
        return
    pool = await DB.ensure_pool()
    token = _current_tenant.set(tenant_id)
    connection = await pool.acquire()
    try:
        async with _ScopeTransaction(connection) as transaction:
            await connection.execute(f"SET LOCAL app.tenant_id = '{tenant_id}'")
            yield transaction
    finally:
        # Released whatever happened (an open transaction is rolled back by the pool).
        await pool.release(connection)
        _current_tenant.reset(token)
