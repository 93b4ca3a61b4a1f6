"""Accounts and browser sessions (platform-wide: a person may work in several territories)."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass

from core.crypto import sha256_hex
from core.db.engine import DB


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    issuer: str
    subject: str
    email: str | None
    display_name: str
    is_platform_admin: bool


@dataclass(frozen=True)
class Session:
    id: uuid.UUID
    account: Account
    csrf_token: str
    current_memberships: dict[str, str]
    """tenant id → membership id (as strings)."""


def _account(row: dict) -> Account:
    return Account(
        id=row["id"],
        issuer=row["issuer"],
        subject=row["subject"],
        email=row["email"],
        display_name=row["display_name"],
        is_platform_admin=row["is_platform_admin"],
    )


async def _fetchrow(sql: str, *args: object) -> dict | None:
    pool = await DB.ensure_pool()
    row = await pool.fetchrow(sql, *args)
    return dict(row) if row else None


async def upsert_account(issuer: str, subject: str, email: str | None, display_name: str) -> Account:
    """The account of (issuer, subject), created on first login, refreshed after."""
    row = await _fetchrow(
        "INSERT INTO user_account (id, issuer, subject, email, display_name, is_platform_admin, "
        "created_at, last_login_at) VALUES ($1, $2, $3, $4, $5, false, now(), now()) "
        "ON CONFLICT (issuer, subject) DO UPDATE SET email = EXCLUDED.email, "
        "display_name = EXCLUDED.display_name, last_login_at = now() "
        "RETURNING id, issuer, subject, email, display_name, is_platform_admin",
        uuid.uuid4(),
        issuer,
        subject,
        email,
        display_name[:200] or subject,
    )
    assert row is not None
    return _account(row)


async def set_platform_admin(account_id: uuid.UUID, value: bool) -> None:
    pool = await DB.ensure_pool()
    await pool.execute("UPDATE user_account SET is_platform_admin = $2 WHERE id = $1", account_id, value)


async def open_session(account: Account, max_hours: int) -> tuple[str, uuid.UUID]:
    """Start a session; return the token for the cookie (only its digest is stored) and its id."""
    token = secrets.token_urlsafe(32)
    session_id = uuid.uuid4()
    pool = await DB.ensure_pool()
    await pool.execute(
        "INSERT INTO web_session (id, token_digest, user_account_id, csrf_token, "
        "current_memberships, created_at, last_seen_at, expires_at) "
        "VALUES ($1, $2, $3, $4, '{}', now(), now(), now() + make_interval(hours => $5))",
        session_id,
        sha256_hex(token),
        account.id,
        secrets.token_urlsafe(32),
        max_hours,
    )
    return token, session_id


async def load_session(token: str, idle_minutes: int) -> Session | None:
    """The live session of ``token`` (touching it), or None if unknown, expired or idle too long."""
    row = await _fetchrow(
        "UPDATE web_session s SET last_seen_at = now() FROM user_account a "
        "WHERE s.token_digest = $1 AND a.id = s.user_account_id AND s.revoked_at IS NULL "
        "AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(mins => $2) "
        "RETURNING s.id AS session_id, s.csrf_token, s.current_memberships, a.id, a.issuer, "
        "a.subject, a.email, a.display_name, a.is_platform_admin",
        sha256_hex(token),
        idle_minutes,
    )
    if row is None:
        return None
    return Session(
        id=row["session_id"],
        account=_account(row),
        csrf_token=row["csrf_token"],
        current_memberships=json.loads(row["current_memberships"]),
    )


async def choose_membership(session_id: uuid.UUID, tenant_id: uuid.UUID, membership_id: uuid.UUID) -> None:
    pool = await DB.ensure_pool()
    await pool.execute(
        "UPDATE web_session SET current_memberships = current_memberships || "
        "jsonb_build_object($2::text, $3::text) WHERE id = $1",
        session_id,
        str(tenant_id),
        str(membership_id),
    )


async def close_session(token: str) -> None:
    pool = await DB.ensure_pool()
    await pool.execute(
        "UPDATE web_session SET revoked_at = now() WHERE token_digest = $1 AND revoked_at IS NULL",
        sha256_hex(token),
    )
