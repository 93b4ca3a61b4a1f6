"""Demo offers of a demo territory's providers (``[[offers]]`` of the territory file), with the
providers' agreements and sites (``[[provider_agreements]]``, ``[[provider_sites]]``). Idempotent.

An offer is known by its provider and title: seeding again changes nothing. Runs after the
identities (the providers are organisations of the directory).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.marketplace.taxonomy import label_of
from core.tenancy.service import TenantRecord


async def _seed_profiles(
    tenant: TenantRecord, spec: dict[str, Any], by_key: dict[str, Any]
) -> dict[Any, Any]:
    """Providers' agreements and sites (``[[provider_agreements]]``, ``[[provider_sites]]``), each
    once; returns the site ids by (provider id, name)."""
    connection = scoped_connection()
    for item in spec.get("provider_agreements", []):
        provider_id = by_key.get(item["provider"])
        if provider_id is not None:
            await connection.execute(
                "INSERT INTO provider_agreement (id, tenant_id, organisation_id, kind, reference, issuer, "
                "valid_from, valid_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                uuid.uuid4(),
                tenant.id,
                provider_id,
                item["kind"],
                item["reference"],
                item.get("issuer", ""),
                item.get("valid_from"),
                item.get("valid_until"),
            )
    for item in spec.get("provider_sites", []):
        provider_id = by_key.get(item["provider"])
        if provider_id is not None:
            await connection.execute(
                "INSERT INTO provider_site (id, tenant_id, organisation_id, name, address, commune_insee, "
                "phone) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                uuid.uuid4(),
                tenant.id,
                provider_id,
                item["name"],
                item.get("address", ""),
                item["commune"],
                item.get("phone"),
            )
    rows = await connection.fetch("SELECT id, organisation_id, name FROM provider_site")
    return {(row["organisation_id"], row["name"]): row["id"] for row in rows}


async def seed_offers(tenant: TenantRecord, spec: dict[str, Any]) -> int:
    """Create the missing demo offers with their coverage; returns how many were created."""
    created = 0
    async with tenant_scope(tenant.id):
        connection = scoped_connection()
        organisations = {
            row["name"]: row["id"] for row in await connection.fetch("SELECT id, name FROM organisation")
        }
        by_key = {item["key"]: organisations.get(item["name"]) for item in spec.get("organisations", [])}
        sites = await _seed_profiles(tenant, spec, by_key)
        for item in spec.get("offers", []):
            provider_id = by_key.get(item["provider"])
            if provider_id is None:
                continue
            exists = await connection.fetchval(
                "SELECT 1 FROM service_offer WHERE provider_organisation_id = $1 AND title = $2",
                provider_id,
                item["title"],
            )
            if exists:
                continue
            offer_id = uuid.uuid4()
            now = dt.datetime.now(dt.UTC)
            await connection.execute(
                "INSERT INTO service_offer (id, tenant_id, provider_organisation_id, service_type, "
                "type_label, title, description, price_cents, currency, price_unit, capacity_per_week, "
                "lead_time_days, opening_hours, accepted_programmes, languages, accessibility, status, "
                "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'EUR', $9, $10, $11, "
                "$12, $13, $14, $15, $16, $17, $17)",
                offer_id,
                tenant.id,
                provider_id,
                item["service_type"],
                label_of(item["service_type"]),
                item["title"],
                item.get("description", ""),
                item.get("price_cents"),
                item.get("price_unit"),
                item.get("capacity_per_week"),
                item.get("lead_time_days", 0),
                item.get("opening_hours"),
                item.get("accepted_programmes", []),
                item.get("languages", ["fr"]),
                item.get("accessibility"),
                item.get("status", "published"),
                now,
            )
            for commune in item.get("communes", []):
                await _coverage(tenant, offer_id, commune, None)
            for departement in item.get("departements", []):
                await _coverage(tenant, offer_id, None, departement)
            for site_name, codes in item.get("site_communes", {}).items():
                for commune in codes:
                    await _coverage(tenant, offer_id, commune, None, sites[(provider_id, site_name)])
            created += 1
    return created


async def _coverage(
    tenant: TenantRecord,
    offer_id: uuid.UUID,
    commune: str | None,
    departement: str | None,
    site_id: uuid.UUID | None = None,
) -> None:
    await scoped_connection().execute(
        "INSERT INTO offer_coverage (id, tenant_id, offer_id, commune_insee, departement, site_id) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        uuid.uuid4(),
        tenant.id,
        offer_id,
        commune,
        departement,
        site_id,
    )
