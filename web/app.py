"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Server
from litestar.plugins.htmx import HTMXPlugin, HTMXRequest
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from core.config import Environment
from core.db.engine import DB
from core.jobs.system import JobSystem
from core.runtime import Runtime
from web.api.directory import DirectoryController
from web.api.events import EventsController
from web.api.exchange import EXCHANGE_API
from web.api.followup import FOLLOWUP_API
from web.api.funding import FUNDING_API
from web.api.oauth import issue_token
from web.api.services import search_services_api
from web.authz import PUBLIC, authorize
from web.context import provide_actor, provide_jobs, provide_runtime, provide_tenant
from web.filters import register_filters
from web.health import health
from web.idp.routes import IDP_HANDLERS
from web.pages.actions import ACTIONS_PAGES
from web.pages.admin import (
    admin_home,
    members_invite,
    members_page,
    members_revoke,
    organisations_create,
    organisations_page,
    professionals_create,
    professionals_page,
)
from web.pages.auth import (
    choose_page,
    choose_submit,
    login_callback,
    login_page,
    logout,
    my_profile,
    start_login,
)
from web.pages.declare import DECLARE_PAGES
from web.pages.dpo import DPO_PAGES
from web.pages.followup import FOLLOWUP_PAGES
from web.pages.funder import FUNDER_PAGES
from web.pages.funding import FUNDING_PAGES
from web.pages.home import platform_home, tenant_home
from web.pages.links import LINKS_PAGES
from web.pages.moderation import MODERATION_PAGES
from web.pages.orders import ORDERS_PAGES
from web.pages.people import PEOPLE_PAGES
from web.pages.portal import PORTAL_PAGES
from web.pages.portal_export import EXPORT_PAGES
from web.pages.portal_orders import PORTAL_ORDER_PAGES
from web.pages.provider import PROVIDER_PAGES
from web.pages.provider_profile import PROVIDER_PROFILE_PAGES
from web.pages.services import SERVICES_PAGES
from web.pages.simulator import SIMULATOR_PAGES
from web.problems import EXCEPTION_HANDLERS
from web.ratelimit import login_rate_limit
from web.security import SecurityHeadersMiddleware

HERE = Path(__file__).parent
AUTH_PAGES = [login_page, start_login, login_callback, choose_page, choose_submit, logout, my_profile]
ADMIN_PAGES = [
    admin_home,
    organisations_page,
    organisations_create,
    professionals_page,
    professionals_create,
    members_page,
    members_invite,
    members_revoke,
]
SWAGGER = "/static/vendor/swagger-ui-5.35.0"
"""Vendored API viewer served at /schema (no CDN at run time)."""


def create_app(runtime: Runtime, *, start_jobs: bool = True) -> Litestar:
    """Build the app. ``start_jobs``: run the broker, dispatcher and (embedded) worker."""
    settings = runtime.settings
    jobs = JobSystem(runtime) if start_jobs else None

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await DB.ensure_pool()
        if jobs is not None:
            jobs.start(with_worker=settings.embedded_worker)
            jobs.start_dispatcher()
            jobs.start_watch()
        try:
            yield
        finally:
            if jobs is not None:
                await jobs.stop_watch()
                await jobs.stop_dispatcher()
                jobs.stop()
            await DB.close_pool()

    return Litestar(
        route_handlers=[
            health,
            platform_home,
            tenant_home,
            issue_token,
            EventsController,
            DirectoryController,
            *FOLLOWUP_API,
            *FUNDING_API,
            *AUTH_PAGES,
            *ADMIN_PAGES,
            *PEOPLE_PAGES,
            *PORTAL_PAGES,
            *EXPORT_PAGES,
            *DPO_PAGES,
            *ACTIONS_PAGES,
            *DECLARE_PAGES,
            *LINKS_PAGES,
            *FOLLOWUP_PAGES,
            *PROVIDER_PAGES,
            *PROVIDER_PROFILE_PAGES,
            *ORDERS_PAGES,
            *PORTAL_ORDER_PAGES,
            *MODERATION_PAGES,
            *SERVICES_PAGES,
            *SIMULATOR_PAGES,
            *FUNDING_PAGES,
            *FUNDER_PAGES,
            search_services_api,
            *EXCHANGE_API,
            *IDP_HANDLERS,
            create_static_files_router(path="/static", directories=[HERE / "static"], opt=PUBLIC.opt()),
        ],
        guards=[authorize],
        dependencies={
            "runtime": Provide(provide_runtime, sync_to_thread=False),
            "jobs": Provide(provide_jobs, sync_to_thread=False),
            "tenant": Provide(provide_tenant),
            "actor": Provide(provide_actor, sync_to_thread=False),
        },
        middleware=[
            SecurityHeadersMiddleware(hsts=settings.env is Environment.PRODUCTION),
            login_rate_limit(settings.login_attempts_per_minute).middleware,
        ],
        state=State({"runtime": runtime, "jobs": jobs}),
        lifespan=[lifespan],
        request_class=HTMXRequest,
        plugins=[HTMXPlugin()],
        template_config=TemplateConfig(
            directory=HERE / "templates", engine=JinjaTemplateEngine, engine_callback=register_filters
        ),
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024),
        openapi_config=OpenAPIConfig(
            title="Parcours API",
            version="1",
            description="Déclaration d'événements de vie et suivi des propositions d'action, "
            "par territoire (`/t/{slug}/…`). Erreurs au format RFC 9457 "
            "(`application/problem+json`).",
            servers=[Server(url=settings.base_url)],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="Jeton obtenu sur `/t/{slug}/oauth/token` (client credentials).",
                    )
                }
            ),
            path="/schema",
            render_plugins=[
                SwaggerRenderPlugin(
                    js_url=f"{SWAGGER}/swagger-ui-bundle.js",
                    css_url=f"{SWAGGER}/swagger-ui.css",
                    standalone_preset_js_url=f"{SWAGGER}/swagger-ui-standalone-preset.js",
                    path="/",
                    favicon="<link rel='icon' href='data:,'>",
                )
            ],
        ),
        debug=False,
    )
