"""Demo funders of a demo territory: which organisation instructs each funder's requests, parameter
overrides (``[funders.<identifier>]`` of the territory file) and the demo people's consents
(``[[consents]]``). Idempotent; runs after the identities (organisations of the directory)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from core.audit.trail import Actor as AuditActor
from core.consent.model import Consent, Recipient, RecordedBy
from core.consent.store import insert_consent, sorted_codes
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.financing.registry import declared_funder_classes
from core.financing.settings import set_organisation, set_parameters
from core.identity.nir import Nir
from core.identity.people import find_person
from core.runtime import Runtime
from core.tenancy.service import TenantRecord

SEEDED_BY = "données de démonstration"


async def _organisations(tenant: TenantRecord, spec: dict[str, Any]) -> dict[str, uuid.UUID]:
    async with tenant_scope(tenant.id):
        rows = await scoped_connection().fetch("SELECT id, name FROM organisation")
    by_name = {row["name"]: row["id"] for row in rows}
    return {
        item["key"]: by_name[item["name"]]
        for item in spec.get("organisations", [])
        if item["name"] in by_name
    }


async def seed_funders(runtime: Runtime, tenant: TenantRecord, spec: dict[str, Any]) -> None:
    """Name each funder's organisation and apply the parameter overrides of the territory file."""
    organisations = await _organisations(tenant, spec)
    classes = {
        cls.identifier: cls for cls in await declared_funder_classes(runtime.plugins, tenant.enabled_plugins)
    }
    for identifier, settings in spec.get("funders", {}).items():
        cls = classes.get(identifier)
        if cls is None:
            continue
        organisation = organisations.get(settings.get("organisation", ""))
        if organisation is not None:
            await set_organisation(tenant.id, identifier, organisation, SEEDED_BY)
        for programme, values in settings.get("parameters", {}).items():
            await set_parameters(tenant.id, cls(), programme, dict(values), AuditActor.system(), SEEDED_BY)
    await seed_consents(runtime, tenant, spec, organisations)


async def seed_consents(
    runtime: Runtime, tenant: TenantRecord, spec: dict[str, Any], organisations: dict[str, uuid.UUID]
) -> int:
    """Record the demo consents not yet in force (as given by the person herself)."""
    created = 0
    now = runtime.clock()
    for item in spec.get("consents", []):
        organisation = organisations.get(item["organisation"])
        if organisation is None:
            continue
        async with tenant_scope(tenant.id):
            person_id = await find_person(Nir.parse(item["person_ins"]), runtime.keyring)
            if person_id is None:
                continue
            consent = Consent(
                id=uuid.uuid4(),
                person_id=person_id,
                recipient=Recipient.organisation(organisation),
                actions=frozenset(item["actions"]),
                categories=frozenset(item["categories"]),
                purposes=frozenset(item["purposes"]),
                valid_from=now - dt.timedelta(days=30),
                recorded_by=RecordedBy.PERSON,
                recorded_at=now - dt.timedelta(days=30),
            )
            exists = await scoped_connection().fetchval(
                "SELECT 1 FROM consent WHERE person_id = $1 AND recipient_organisation_id = $2 "
                "AND revoked_at IS NULL AND kind = 'grant' AND purposes::text[] = $3::text[] "
                "AND categories::text[] = $4::text[]",
                person_id,
                organisation,
                sorted_codes(consent.purposes),
                sorted_codes(consent.categories),
            )
            if exists:
                continue
            await insert_consent(consent, None)
            created += 1
    return created
