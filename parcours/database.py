"""Open the configured database for one command: start (or join) it, migrate, point the engine."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from core.config import Settings
from core.db.bootstrap import DatabaseServer, DatabaseUrls
from core.db.engine import configure_engine
from core.db.migrate import migrate


@contextmanager
def open_database(settings: Settings) -> Iterator[DatabaseUrls]:
    """The database ready for the application role, for the duration of the block.

    An embedded server already started by another process on the same data
    directory is reused; one started here stops when the block ends, unless
    another process still uses it.
    """
    server = DatabaseServer(settings)
    urls = server.start()
    try:
        password = settings.app_db_password.get_secret_value() if settings.app_db_password else None
        asyncio.run(migrate(urls, password))
        configure_engine(urls.app)
        yield urls
    finally:
        server.stop()
