"""``POST /t/{slug}/oauth/token``: OAuth 2.0 client credentials (RFC 6749 §4.4)."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Request, Response, post
from litestar.di import NamedDependency

from core.access.service import find_client, store_token
from core.access.token_server import TokenServer, client_id_of, token_request
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import PUBLIC

FORM = "application/x-www-form-urlencoded"


@post(
    "/t/{slug:str}/oauth/token",
    tags=["oauth"],
    summary="Obtenir un jeton d'accès (client credentials)",
    description="Corps `application/x-www-form-urlencoded` : `grant_type=client_credentials`, "
    "`scope` facultatif ; identifiants du client en HTTP Basic ou `client_id`/`client_secret`.",
    status_code=200,
    opt=PUBLIC.opt(),
)
async def issue_token(
    request: Request[Any, Any, Any],
    tenant: NamedDependency[TenantRecord],
    runtime: NamedDependency[Runtime],
) -> Response[Any]:
    if request.headers.get("content-type", "").split(";")[0].strip() != FORM:
        return _oauth_error(400, "invalid_request", f"le corps doit être {FORM}")
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    headers = request.headers
    client_id = client_id_of(headers, form)
    client = await find_client(tenant.id, client_id) if client_id else None
    server = TokenServer(client, runtime.settings.token_ttl_seconds, runtime.clock())
    oauth_request = token_request(str(request.url), headers, form)
    # argon2 verification is deliberately slow: keep it off the event loop.
    result = await anyio.to_thread.run_sync(server.create_token_response, oauth_request)
    if result.issued is not None:
        issued = result.issued
        await store_token(issued.client, issued.access_token, issued.scopes, issued.expires_at)
    return Response(result.body, status_code=result.status, headers=dict(result.headers))


def _oauth_error(status: int, error: str, description: str) -> Response[Any]:
    return Response(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )
