"""One published offer as anyone may see it (the public offer page): no login, no personal data.

Only ``published`` offers exist here: a draft, a paused offer or an unknown id is ``None``, so the
page answers the same 404 and nothing tells them apart. The capacity is the weekly capacity the
provider declared, never what its orders already hold.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from functools import cache

from babel import Locale

from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.geo import communes
from core.locale import paris_day
from core.marketplace.providers import Agreement, Site, load_profile
from core.marketplace.search import UNIT_LABELS, lead_time_text
from core.marketplace.taxonomy import label_of

_SELECT = """
    SELECT o.id, o.title, o.description, o.service_type, org.name AS provider_name,
           o.provider_organisation_id,
           o.price_cents, o.price_unit, o.capacity_per_week, o.lead_time_days, o.opening_hours,
           o.accepted_programmes, o.languages, o.accessibility,
           ARRAY(SELECT c.commune_insee FROM offer_coverage c
                 WHERE c.tenant_id = o.tenant_id AND c.offer_id = o.id AND c.commune_insee IS NOT NULL
                 ORDER BY c.commune_insee) AS communes,
           ARRAY(SELECT c.departement FROM offer_coverage c
                 WHERE c.tenant_id = o.tenant_id AND c.offer_id = o.id AND c.departement IS NOT NULL
                 ORDER BY c.departement) AS departements
           , ARRAY(SELECT jsonb_build_object('site', c.site_id,
                        'codes', array_agg(coalesce(c.commune_insee, c.departement) ORDER BY c.commune_insee,
                                           c.departement))
                 FROM offer_coverage c WHERE c.tenant_id = o.tenant_id AND c.offer_id = o.id
                 AND c.site_id IS NOT NULL GROUP BY c.site_id) AS site_codes
    FROM service_offer o
    JOIN organisation org ON org.tenant_id = o.tenant_id AND org.id = o.provider_organisation_id
    WHERE o.id = $1 AND o.status = 'published'
"""


@cache
def _language_names() -> dict[str, str]:
    names = Locale.parse("fr").languages
    return {code: str(name) for code, name in names.items() if isinstance(code, str)}


def language_name(code: str) -> str:
    """The French name of an ISO 639-1 code (« occitan » for ``oc``); the code itself when unknown."""
    return _language_names().get(code, code)


@dataclass(frozen=True)
class PublicOffer:
    """What the public page of an offer shows."""

    id: uuid.UUID
    title: str
    description: str
    service_type: str
    provider_name: str
    price_cents: int | None
    price_unit: str | None
    capacity_per_week: int | None
    lead_time_days: int
    opening_hours: str
    accepted_programmes: tuple[str, ...]
    languages: tuple[str, ...]
    accessibility: str
    communes: tuple[str, ...]
    departements: tuple[str, ...]
    """Everywhere it is delivered, from any site."""
    siret: str | None = None
    agreements: tuple[Agreement, ...] = ()
    """The provider's agreements still in force."""
    sites: tuple[tuple[Site, tuple[str, ...]], ...] = ()
    """The sites it is delivered from, each with the communes/départements it covers from there."""

    @property
    def siret_text(self) -> str:
        """« 732 829 320 00074 » (SIREN, then NIC)."""
        if not self.siret:
            return ""
        return f"{self.siret[:3]} {self.siret[3:6]} {self.siret[6:9]} {self.siret[9:]}"

    @property
    def type_label(self) -> str:
        return label_of(self.service_type)

    @property
    def unit_label(self) -> str:
        """« heure », « repas »… (the French name of the price unit)."""
        return UNIT_LABELS.get(self.price_unit or "", self.price_unit or "")

    @property
    def lead_time_text(self) -> str:
        return lead_time_text(self.lead_time_days)

    @property
    def language_names(self) -> list[str]:
        return [language_name(code) for code in self.languages]

    @property
    def capacity_text(self) -> str:
        """The declared weekly capacity, for all the people served together (not what is left)."""
        if self.capacity_per_week is None:
            return "Le prestataire n'annonce pas de limite de capacité."
        unit = self.unit_label or "unité"
        plural = "" if self.capacity_per_week <= 1 or unit.endswith(("s", "x")) else "s"
        return (
            f"Jusqu'à {self.capacity_per_week} {unit}{plural} par semaine, "
            "pour l'ensemble des personnes accompagnées."
        )


async def public_offer(tenant_id: uuid.UUID, offer_id: uuid.UUID) -> PublicOffer | None:
    """The territory's published offer ``offer_id`` with where it is delivered; None otherwise."""
    async with tenant_scope(tenant_id):
        row = await scoped_connection().fetchrow(_SELECT, offer_id)
        profile = await load_profile(row["provider_organisation_id"]) if row is not None else None
    if row is None:
        return None
    today = paris_day(dt.datetime.now(dt.UTC))
    sites_by_id = {site.id: site for site in profile.sites} if profile else {}
    site_codes = [json.loads(item) if isinstance(item, str) else item for item in row["site_codes"]]
    sites = tuple(
        (sites_by_id[uuid.UUID(str(item["site"]))], tuple(item["codes"]))
        for item in site_codes
        if uuid.UUID(str(item["site"])) in sites_by_id
    )
    return PublicOffer(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        service_type=row["service_type"],
        provider_name=row["provider_name"],
        price_cents=row["price_cents"],
        price_unit=row["price_unit"],
        capacity_per_week=row["capacity_per_week"],
        lead_time_days=row["lead_time_days"],
        opening_hours=row["opening_hours"] or "",
        accepted_programmes=tuple(row["accepted_programmes"] or ()),
        languages=tuple(row["languages"] or ()),
        accessibility=row["accessibility"] or "",
        communes=tuple(row["communes"]),
        departements=tuple(row["departements"]),
        siret=profile.siret if profile else None,
        agreements=tuple(a for a in profile.agreements if not a.expired_on(today)) if profile else (),
        sites=tuple(sorted(sites, key=lambda item: item[0].name.lower())),
    )


def coverage_text(codes: tuple[str, ...]) -> list[str]:
    """« Dax (40) », « Département 40 : toutes ses communes » for each code."""
    return [
        communes.name_of(code) if len(code) == 5 else f"Département {code} : toutes ses communes"
        for code in codes
    ]
