"""Bring a PostgreSQL server to the state the application needs.

Resolves the owner and application connection strings, creates the
application database and the ``parcours_app`` role (login, NOSUPERUSER,
NOBYPASSRLS, owner of nothing) and runs the migrations as the owner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from core.config import Settings
from core.db.embedded import EmbeddedPostgres

APP_ROLE = "parcours_app"
EMBEDDED_DATABASE = "parcours"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class DatabaseUrls:
    owner: str
    app: str


def with_user(url: str, user: str, password: str | None) -> str:
    """Return ``url`` with its user (and password) replaced."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = quote(user, safe="")
    if password:
        netloc += ":" + quote(password, safe="")
    netloc += "@" + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"


class DatabaseServer:
    """The PostgreSQL server the settings point at, started if embedded."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedded: EmbeddedPostgres | None = None

    def start(self) -> DatabaseUrls:
        settings = self.settings
        if settings.database_url is None:
            self.embedded = EmbeddedPostgres(settings.data_dir)
            self.embedded.start()
            owner = self.embedded.uri(EMBEDDED_DATABASE)
        else:
            owner = settings.database_url
        password = settings.app_db_password.get_secret_value() if settings.app_db_password else None
        app = settings.app_database_url or with_user(owner, APP_ROLE, password)
        return DatabaseUrls(owner=owner, app=app)

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None


async def ensure_database(owner_url: str) -> None:
    """Create the database named in ``owner_url`` if it does not exist."""
    name = database_name(owner_url)
    if not _IDENTIFIER.match(name):
        raise ValueError(f"unsupported database name {name!r}")
    conn = await asyncpg.connect(with_database(owner_url, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def ensure_app_role(owner_url: str, password: str | None) -> None:
    """Create or tighten the application role and let it use the database."""
    conn = await asyncpg.connect(owner_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", APP_ROLE)
        verb = "ALTER" if exists else "CREATE"
        await conn.execute(f"{verb} ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
        if password is not None:
            # ALTER ROLE takes no bind parameters: quote the literal server-side.
            literal = await conn.fetchval("SELECT quote_literal($1)", password)
            await conn.execute(f"ALTER ROLE {APP_ROLE} PASSWORD {literal}")
        name = database_name(owner_url)
        await conn.execute(f'GRANT CONNECT, TEMPORARY ON DATABASE "{name}" TO {APP_ROLE}')
        await conn.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    finally:
        await conn.close()
