"""A throw-away Parcours database for one test session.

Embedded by default (a fresh data directory); with ``PARCOURS_DATABASE_URL``
a fresh database on that server, dropped at the end.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from core.db.bootstrap import DatabaseUrls, database_name, with_database, with_user
from core.db.embedded import EmbeddedPostgres
from core.db.migrate import migrate


@contextmanager
def test_database(data_dir: Path) -> Iterator[DatabaseUrls]:
    server_url = os.environ.get("PARCOURS_DATABASE_URL")
    embedded: EmbeddedPostgres | None = None
    if server_url:
        owner = with_database(server_url, f"parcours_test_{secrets.token_hex(4)}")
    else:
        embedded = EmbeddedPostgres(data_dir)
        embedded.start()
        owner = embedded.uri("parcours")
    urls = DatabaseUrls(owner=owner, app=with_user(owner, "parcours_app", None))
    asyncio.run(migrate(urls))
    try:
        yield urls
    finally:
        if embedded is not None:
            embedded.stop()
        else:
            asyncio.run(_drop(owner))


async def _drop(owner: str) -> None:
    connection = await asyncpg.connect(with_database(owner, "postgres"))
    try:
        name = database_name(owner)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
