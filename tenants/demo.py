"""Load the demo territories of ``tenants/territories/*.toml`` (idempotent)."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from core.access.service import register_known_client
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.events.catalogue import tenant_catalogue
from core.events.intake import receive_event
from core.events.schemas import EventIn
from core.identity.directory import list_organisations
from core.runtime import Runtime
from core.tenancy.service import TenantRecord, get_tenant, set_enabled_plugins
from tenants.demo_funders import seed_funders
from tenants.demo_identities import DemoLogin, seed_identities
from tenants.demo_offers import seed_offers
from tenants.demo_records import seed_records
from tenants.demo_story import seed_story
from tenants.onboarding import check_plugins, onboard_territory

TERRITORIES = Path(__file__).parent / "territories"


@dataclass
class SeedReport:
    tenant: TenantRecord
    created_tenant: bool
    api_clients: list[dict[str, str]]
    events_created: int
    logins: list[DemoLogin] = field(default_factory=list)


def territory_files() -> list[Path]:
    return sorted(TERRITORIES.glob("*.toml"))


def load_territory(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


async def seed_territory(runtime: Runtime, spec: dict[str, Any]) -> SeedReport:
    """Create the territory of ``spec`` if missing, then its clients and events."""
    meta = spec["tenant"]
    tenant = await get_tenant(meta["slug"])
    created = tenant is None
    if tenant is None:
        tenant = await onboard_territory(
            runtime.plugins,
            meta["slug"],
            meta["name"],
            meta["departements"],
            meta.get("plugins"),
            is_demo=True,
        )
    else:
        await set_enabled_plugins(tenant.slug, check_plugins(runtime.plugins, meta["plugins"]))
    clients: list[dict[str, str]] = []
    report = SeedReport(tenant, created, clients, events_created=0)
    now = runtime.clock()
    for item in spec.get("events", []):
        occurred = (now + dt.timedelta(days=item.get("occurred_in_days", 0))).replace(
            hour=10, minute=0, second=0, microsecond=0
        )
        event = msgspec.convert(
            {
                "type": item["type"],
                "occurred_at": occurred.isoformat(),
                "person": item["person"],
                "details": item.get("details", {}),
            },
            EventIn,
        )
        received = await receive_event(
            tenant.id,
            event,
            item["idempotency_key"],
            "demo-seed",
            runtime.keyring,
            runtime.vault,
            now,
            catalogue=await tenant_catalogue(runtime.plugins, tenant.enabled_plugins),
        )
        # Routed by the outbox dispatcher of `parcours run` (it takes every
        # pending message when it starts).
        report.events_created += received.created
    await mark_demo_people(tenant)
    report.logins = await seed_identities(runtime, tenant, spec)
    # After the organisations: a client may act for one (``organisation = "key"``, a funder's system).
    organisations = {o.name: o.id for o in await list_organisations(tenant.id)}
    keys = {item["key"]: organisations.get(item["name"]) for item in spec.get("organisations", [])}
    for client in spec.get("api_clients", []):
        await register_known_client(
            tenant.id,
            client["client_id"],
            client["name"],
            client["secret"],
            client["scopes"],
            keys.get(client["organisation"]) if "organisation" in client else None,
        )
        clients.append(
            {
                "client_id": client["client_id"],
                "client_secret": client["secret"],
                "scopes": " ".join(client["scopes"]),
            }
        )
    await seed_records(runtime, tenant, spec)
    await seed_offers(tenant, spec)
    await seed_funders(runtime, tenant, spec)
    report.events_created += await seed_story(runtime, tenant, spec)
    return report


async def mark_demo_people(tenant: TenantRecord) -> None:
    """Flag the people the seed declared as demo data."""
    async with tenant_scope(tenant.id):
        await scoped_connection().execute(
            "UPDATE person SET is_demo = true WHERE id IN "
            "(SELECT person_id FROM event WHERE declared_by = 'demo-seed')"
        )


async def seed_all(runtime: Runtime) -> list[SeedReport]:
    specs = [load_territory(path) for path in territory_files()]
    return [await seed_territory(runtime, spec) for spec in specs]
