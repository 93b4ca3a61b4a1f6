"""Demo directory and logins of a demo territory: organisations, people's carers, one account per role.

Accounts live in the built-in identity provider (``/idp``) with a published
demo password; each gets an invitation in the territory for its e-mail, which
becomes an active role at first login, exactly as for a real invited user.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from core.db.scope import tenant_scope
from core.errors import Conflict
from core.identity import directory
from core.identity.idp.service import ensure_client, ensure_demo_account
from core.identity.nir import Nir
from core.identity.oidc_client import register_provider
from core.identity.people import PersonIdentity, find_person, grant_carer, upsert_person
from core.runtime import Runtime
from core.tenancy.service import TenantRecord

BUILTIN_PROVIDER_KEY = "demo"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    name: str


async def seed_identities(runtime: Runtime, tenant: TenantRecord, spec: dict[str, Any]) -> list[DemoLogin]:
    """Idempotent: running it again changes nothing."""
    identity = spec.get("identity")
    if identity is None:
        return []
    base = runtime.settings.base_url
    await ensure_client(
        identity["client_id"],
        identity["client_secret"],
        f"Parcours — {tenant.name}",
        [f"{base}/t/{tenant.slug}/auth/callback"],
    )
    await register_provider(
        tenant.id,
        runtime.keyring,
        key=BUILTIN_PROVIDER_KEY,
        label=identity["label"],
        issuer=f"{base}/idp",
        client_id=identity["client_id"],
        client_secret=identity["client_secret"],
    )
    organisations = await _organisations(tenant, spec.get("organisations", []))
    await _carers(runtime, tenant, spec.get("carers", []))
    logins = []
    for account in spec.get("accounts", []):
        logins.append(await _account(runtime, tenant, identity, organisations, account))
    return logins


async def _organisations(tenant: TenantRecord, items: list[dict[str, Any]]) -> dict[str, uuid.UUID]:
    existing = {org.name: org.id for org in await directory.list_organisations(tenant.id)}
    keys = {}
    for item in items:
        fields = {k: v for k, v in item.items() if k != "key"}
        if fields["name"] not in existing:
            created = await directory.create_organisation(tenant.id, **fields)
            existing[created.name] = created.id
        keys[item["key"]] = existing[fields["name"]]
    return keys


def _person(item: dict[str, Any]) -> PersonIdentity:
    return PersonIdentity(
        Nir.parse(item["ins"]),
        item["family_name"],
        item["given_names"],
        dt.date.fromisoformat(item["birth_date"]),
        item["commune_insee"],
    )


async def _person_id(runtime: Runtime, tenant: TenantRecord, ins: str) -> uuid.UUID | None:
    async with tenant_scope(tenant.id):
        return await find_person(Nir.parse(ins), runtime.keyring)


async def _carers(runtime: Runtime, tenant: TenantRecord, items: list[dict[str, Any]]) -> None:
    for item in items:
        person_id = await _person_id(runtime, tenant, item["person_ins"])
        if person_id is None:
            continue
        async with tenant_scope(tenant.id):
            carer_id = await upsert_person(
                _person(item["carer"]), runtime.keyring, runtime.vault, is_demo=True
            )
        with contextlib.suppress(Conflict):  # already recorded by an earlier seed
            await grant_carer(tenant.id, person_id, carer_id, item["relationship"], item["granted_by"])


async def _account(
    runtime: Runtime,
    tenant: TenantRecord,
    identity: dict[str, Any],
    organisations: dict[str, uuid.UUID],
    item: dict[str, Any],
) -> DemoLogin:
    email = f"{item['username']}@{identity['email_domain']}"
    claims: dict[str, Any] = {
        "given_name": item["given_name"],
        "family_name": item["family_name"],
        "email": email,
    }
    if "rpps" in item:
        claims["rpps"] = item["rpps"]
    await ensure_demo_account(item["username"], identity["demo_password"], claims)
    professional_id = None
    if "rpps" in item:
        professional_id = await directory.create_professional(
            tenant.id,
            profession=item.get("profession", "professionnel de santé"),
            family_name=item["family_name"],
            given_names=item["given_name"],
            rpps=item["rpps"],
            email=email,
            is_demo=True,
        )
    person_id = await _person_id(runtime, tenant, item["person_ins"]) if "person_ins" in item else None
    with contextlib.suppress(Conflict):  # invited (or active) since an earlier seed
        await directory.invite_member(
            tenant.id,
            email,
            item["role"],
            organisations.get(item.get("organisation", "")),
            "demo-seed",
            professional_id=professional_id,
            person_id=person_id,
        )
    return DemoLogin(
        item["username"],
        identity["demo_password"],
        item["role"],
        f"{item['given_name']} {item['family_name']}",
    )
