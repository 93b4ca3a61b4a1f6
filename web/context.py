"""Request-scoped dependencies: the runtime, the job system, the tenant, the caller."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.params import FromPath

from core.access.policy import Actor
from core.access.service import Principal
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


async def provide_tenant(request: Request[Any, Any, Any], slug: FromPath[str]) -> TenantRecord:
    """The tenant named in the path (``/t/{slug}/…``); 404 if there is none.

    The guard usually looked it up already (kept in the request state)."""
    cached = request.state.get("tenant")
    tenant = cached if cached is not None and cached.slug == slug else await get_tenant(slug)
    if tenant is None:
        raise NotFound(f"aucun territoire {slug!r}")
    return tenant


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The API client the guard authenticated (policy ``api_scope``)."""
    principal: Principal = request.state.principal
    return principal


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    """The user and role the guard authorised (policy ``requires``)."""
    actor: Actor = request.state.actor
    return actor
