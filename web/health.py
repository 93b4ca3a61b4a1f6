"""``GET /health``: is the service up, and does it reach its database?"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Response, get

from core.db.engine import DB
from web.authz import PUBLIC


@get("/health", tags=["operations"], summary="État du service", opt=PUBLIC.opt())
async def health() -> Response[dict[str, Any]]:
    try:
        pool = await DB.ensure_pool()
        async with asyncio.timeout(2):
            await pool.fetchval("SELECT 1")
        database = "ok"
    except Exception:
        database = "unavailable"
    status = "ok" if database == "ok" else "degraded"
    return Response(
        {"status": status, "database": database},
        status_code=200 if status == "ok" else 503,
        headers={"Cache-Control": "no-store"},
    )
