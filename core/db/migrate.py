"""Run the migrations as the owner, after creating the database and the app role."""

from __future__ import annotations

import contextlib
import io
import logging

import asyncpg
from piccolo.apps.migrations.commands.forwards import run_forwards

from core.db.bootstrap import DatabaseUrls, ensure_app_role, ensure_database
from core.db.engine import DB, configure_engine

log = logging.getLogger(__name__)

_MIGRATION_LOCK = 0x5041_5243  # "PARC": one migrating process at a time


class MigrationError(RuntimeError):
    pass


async def migrate(urls: DatabaseUrls, app_password: str | None = None) -> str:
    """Bring the schema up to date; return Piccolo's report.

    Must run in an event loop where the engine has no pool (migrations use
    the owner's connection, the application the ``parcours_app`` role's).
    """
    if DB.pool is not None:
        raise MigrationError("migrate() must not run on a loop with an application pool")
    await ensure_database(urls.owner)
    await ensure_app_role(urls.owner, app_password)
    lock = await asyncpg.connect(urls.owner)
    try:
        await lock.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        configure_engine(urls.owner)
        report = io.StringIO()
        try:
            with contextlib.redirect_stdout(report):
                result = await run_forwards(app_name="core")
        finally:
            configure_engine(urls.app)
        if not result.success:
            raise MigrationError(result.message)
        return report.getvalue()
    finally:
        await lock.close()
