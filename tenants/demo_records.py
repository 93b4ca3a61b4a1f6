"""Demo care teams and notes of a demo territory (fictional people only). Idempotent."""

from __future__ import annotations

import uuid
from typing import Any

from core.audit.trail import Actor as AuditActor
from core.consent.care_team import add_member
from core.consent.model import DataCategory
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.identity.nir import Nir
from core.identity.people import find_person
from core.identity.roles import Role
from core.records.notes import import_note
from core.runtime import Runtime
from core.tenancy.service import TenantRecord

SEED = AuditActor("system", "demo-seed")


async def seed_records(runtime: Runtime, tenant: TenantRecord, spec: dict[str, Any]) -> None:
    async with tenant_scope(tenant.id):
        organisations = {
            row["name"]: row["id"]
            for row in await scoped_connection().fetch("SELECT id, name FROM organisation")
        }
        by_key = {item["key"]: organisations.get(item["name"]) for item in spec.get("organisations", [])}
        for item in spec.get("care_team", []):
            person_id = await _person(runtime, item["person_ins"])
            organisation_id = by_key.get(item["organisation"])
            if person_id is None or organisation_id is None:
                continue
            await add_member(
                person_id,
                role=Role(item["role"]),
                function=item["function"],
                by=SEED,
                organisation_id=organisation_id,
            )
        for item in spec.get("notes", []):
            person_id = await _person(runtime, item["person_ins"])
            if person_id is None or await _has_imported_notes(person_id, item["author"]):
                continue
            await import_note(
                runtime,
                person_id,
                DataCategory(item["category"]),
                item["body"],
                author_label=item["author"],
                organisation_id=by_key.get(item.get("organisation", "")),
                by=SEED,
            )


async def _person(runtime: Runtime, ins: str) -> uuid.UUID | None:
    return await find_person(Nir.parse(ins), runtime.keyring)


async def _has_imported_notes(person_id: uuid.UUID, author: str) -> bool:
    found = await scoped_connection().fetchval(
        "SELECT 1 FROM person_note WHERE person_id = $1 AND author_label = $2 AND author_user_id IS NULL",
        person_id,
        author,
    )
    return bool(found)
