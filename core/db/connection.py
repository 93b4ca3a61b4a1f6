"""The asyncpg connection of the enclosing tenant scope, for hand-written SQL."""

from __future__ import annotations

import asyncpg

from core.db.engine import DB
from core.db.scope import TenantScopeError


def scoped_connection() -> asyncpg.Connection:
    """The connection of the current transaction (set up by ``tenant_scope``)."""
    transaction = DB.current_transaction.get()
    if transaction is None:
        raise TenantScopeError("hand-written SQL must run inside tenant_scope()")
    return transaction.connection
