"""The DPO's review of emergency accesses (with the audit chain's integrity), and every user's
notifications."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.response import Template

from core.access.policy import Actor, Permission
from core.audit.trail import verify
from core.notifications.service import inbox, mark_all_read
from core.records.break_glass_review import break_glass_declarations
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import requires
from web.pages.nav import navigation

REVIEW_DAYS = 90
NO_STORE = CacheControlHeader(no_store=True)


@get(
    "/t/{slug:str}/dpo",
    opt=requires(Permission.AUDIT_REVIEW).opt(),
    include_in_schema=False,
    cache_control=NO_STORE,
)
async def dpo_page(
    request: Request[Any, Any, Any],
    tenant: NamedDependency[TenantRecord],
    actor: NamedDependency[Actor],
    runtime: NamedDependency[Runtime],
) -> Template:
    """Break-glass declarations of the last 90 days, newest first, and the audit chain's status."""
    chain = await verify(tenant.id)
    declarations = await break_glass_declarations(runtime, actor, since_days=REVIEW_DAYS)
    return Template(
        "dpo/home.html",
        context={
            "tenant": tenant,
            "chain": chain,
            "declarations": declarations,
            "days": REVIEW_DAYS,
            **await navigation(request, tenant),
        },
    )


@get(
    "/t/{slug:str}/notifications",
    opt=requires(Permission.WORKSPACE).opt(),
    include_in_schema=False,
    cache_control=NO_STORE,
)
async def notifications_page(
    request: Request[Any, Any, Any], tenant: NamedDependency[TenantRecord], actor: NamedDependency[Actor]
) -> Template:
    """My notifications, newest first; seeing them marks them read."""
    notifications = await inbox(tenant.id, actor.user_id)
    await mark_all_read(tenant.id, actor.user_id)
    return Template(
        "dpo/notifications.html",
        context={"tenant": tenant, "notifications": notifications, **await navigation(request, tenant)},
    )


DPO_PAGES: list[Any] = [dpo_page, notifications_page]
