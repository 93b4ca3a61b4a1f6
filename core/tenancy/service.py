"""Reading and creating tenants."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from asyncpg import UniqueViolationError

from core.db.engine import DB
from core.errors import Conflict, FieldError, InvalidInput
from core.tenancy.tables import Tenant

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
DEPARTEMENT = re.compile(r"^(0[1-9]|1[0-9]|2[1-9]|2A|2B|[3-8][0-9]|9[0-5]|97[1-6])$")


@dataclass(frozen=True)
class TenantRecord:
    id: uuid.UUID
    slug: str
    name: str
    departements: tuple[str, ...]
    enabled_plugins: tuple[str, ...]
    is_demo: bool
    created_at: dt.datetime


def _record(row: dict) -> TenantRecord:
    return TenantRecord(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        departements=tuple(row["departements"] or ()),
        enabled_plugins=tuple(row["enabled_plugins"] or ()),
        is_demo=row["is_demo"],
        created_at=row["created_at"],
    )


_COLUMNS = "id, slug, name, departements, enabled_plugins, is_demo, created_at"


async def get_tenant(slug: str) -> TenantRecord | None:
    """The tenant with this slug, or None.

    Called on every tenant request: plain SQL on the pool (Piccolo's query
    builder cost more than the query itself here; see docs/performance.md)."""
    if not SLUG.match(slug):
        return None
    pool = await DB.ensure_pool()
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM tenant WHERE slug = $1", slug)
    return _record(dict(row)) if row else None


async def get_tenant_by_id(tenant_id: uuid.UUID) -> TenantRecord | None:
    row = await Tenant.select().where(Tenant.id == tenant_id).first()
    return _record(row) if row else None


async def list_tenants() -> list[TenantRecord]:
    return [_record(row) for row in await Tenant.select().order_by(Tenant.slug)]


def validate_tenant(slug: str, name: str, departements: Iterable[str]) -> None:
    """Raise :class:`InvalidInput` naming each bad field."""
    errors = []
    if not SLUG.match(slug):
        errors.append(
            FieldError(
                "slug",
                "2 à 40 caractères : minuscules, chiffres et tirets, en commençant par une lettre",
            )
        )
    if not name.strip():
        errors.append(FieldError("name", "le nom est obligatoire"))
    departements = list(departements)
    if not departements:
        errors.append(FieldError("departements", "au moins un département"))
    for code in departements:
        if not DEPARTEMENT.match(code):
            errors.append(FieldError("departements", f"code de département inconnu : {code!r}"))
    if errors:
        raise InvalidInput("territoire invalide", errors)


async def create_tenant(
    slug: str,
    name: str,
    departements: Iterable[str],
    enabled_plugins: Iterable[str] = (),
    *,
    is_demo: bool = False,
) -> TenantRecord:
    """Register a tenant; raises :class:`Conflict` if the slug is taken."""
    departements = list(dict.fromkeys(departements))
    validate_tenant(slug, name, departements)
    tenant = Tenant(
        id=uuid.uuid4(),
        slug=slug,
        name=name.strip(),
        departements=departements,
        enabled_plugins=list(dict.fromkeys(enabled_plugins)),
        is_demo=is_demo,
    )
    try:
        await tenant.save()
    except UniqueViolationError as error:
        raise Conflict(f"le territoire {slug!r} existe déjà") from error
    created = await get_tenant_by_id(tenant.id)
    assert created is not None
    return created


async def set_enabled_plugins(slug: str, plugins: Iterable[str]) -> None:
    await Tenant.update({Tenant.enabled_plugins: list(dict.fromkeys(plugins))}).where(Tenant.slug == slug)
