"""Public pages: the list of territories and each territory's home page."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from core.access.service import SCOPES
from core.tenancy.service import TenantRecord, list_tenants
from web.authz import PUBLIC
from web.pages.nav import navigation


@get("/", include_in_schema=False, opt=PUBLIC.opt())
async def platform_home() -> Template:
    return Template("platform_home.html", context={"tenants": await list_tenants()})


@get("/t/{slug:str}/", include_in_schema=False, opt=PUBLIC.opt())
async def tenant_home(request: Request[Any, Any, Any], tenant: NamedDependency[TenantRecord]) -> Template:
    return Template(
        "tenant_home.html",
        context={"tenant": tenant, "scopes": SCOPES, **await navigation(request, tenant)},
    )
