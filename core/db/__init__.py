"""Database access: the engine, the tenant scope, bootstrap and migrations."""

import os

# Piccolo's migration machinery finds its engine and apps through this module.
os.environ.setdefault("PICCOLO_CONF", "core.db.piccolo_conf")

from core.db.engine import DB, configure_engine
from core.db.scope import current_tenant_id, tenant_scope

__all__ = ["DB", "configure_engine", "current_tenant_id", "tenant_scope"]
