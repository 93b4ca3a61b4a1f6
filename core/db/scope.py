"""The tenant scope: one transaction in which row-level security sees one tenant."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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
    await DB.ensure_pool()
    token = _current_tenant.set(tenant_id)
    try:
        async with DB.transaction(allow_nested=False) as transaction:
            await transaction.connection.execute(f"SET LOCAL app.tenant_id = '{tenant_id}'")
            yield transaction
    finally:
        _current_tenant.reset(token)
