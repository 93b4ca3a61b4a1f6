"""Request-scoped dependencies: the runtime, the job system, the tenant, the caller."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.params import FromPath

from core.access.service import Principal, authenticate_bearer
from core.errors import NotFound
from core.jobs.system import JobSystem
from core.runtime import Runtime
from core.tenancy.service import TenantRecord, get_tenant


def provide_runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


def provide_jobs(state: State) -> JobSystem | None:
    jobs: JobSystem | None = state.jobs
    return jobs


async def provide_tenant(slug: FromPath[str]) -> TenantRecord:
    """The tenant named in the path (``/t/{slug}/…``); 404 if there is none."""
    tenant = await get_tenant(slug)
    if tenant is None:
        raise NotFound(f"aucun territoire {slug!r}")
    return tenant


def _bearer(request: Request[Any, Any, Any]) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class _Challenge(NotAuthorizedException):
    def __init__(self, detail: str, error: str = "invalid_token") -> None:
        super().__init__(
            detail=detail,
            headers={"WWW-Authenticate": f'Bearer realm="parcours", error="{error}"'},
        )


async def provide_principal(
    request: Request[Any, Any, Any], tenant: NamedDependency[TenantRecord]
) -> Principal:
    """The API client calling, authenticated by a bearer token of *this* tenant."""
    token = _bearer(request)
    if token is None:
        raise _Challenge("jeton d'accès (Bearer) manquant", error="invalid_request")
    principal = await authenticate_bearer(tenant.id, token)
    if principal is None:
        raise _Challenge("jeton d'accès invalide, expiré ou d'un autre territoire")
    return principal


def require_scope(principal: Principal, scope: str) -> None:
    if scope not in principal.scopes:
        raise PermissionDeniedException(detail=f"portée {scope!r} requise")
