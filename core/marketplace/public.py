"""One published offer as anyone may see it (the public offer page): no login, no personal data.

Only ``published`` offers exist here: a draft, a paused offer or an unknown id is ``None``, so the
page answers the same 404 and nothing tells them apart. The capacity is the weekly capacity the
provider declared, never what its orders already hold.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from functools import cache

from babel import Locale

from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.geo import communes
from core.marketplace.offers import OFFER_SELECT, offer_from_row
from core.marketplace.providers import Agreement, Site, load_profile
from core.marketplace.search import UNIT_LABELS, lead_time_text, price_text
from core.marketplace.taxonomy import label_of


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
    own_coverage: tuple[str, ...] = ()
    """Where the provider delivers it itself, without a site (communes, then départements)."""
    siret: str | None = None
    agreements: tuple[Agreement, ...] = ()
    """Every agreement the provider declared (see :meth:`agreements_on`)."""
    sites: tuple[tuple[Site, tuple[str, ...]], ...] = ()
    """The sites it is delivered from, each with the communes/départements it covers from there."""

    def agreements_on(self, day: dt.date) -> tuple[Agreement, ...]:
        """The agreements in force on ``day`` (an expired one is not shown to the public)."""
        return tuple(agreement for agreement in self.agreements if not agreement.expired_on(day))

    @property
    def siret_text(self) -> str:
        """« 732 829 320 00074 » (SIREN, then NIC)."""
        if not self.siret:
            return ""
        return f"{self.siret[:3]} {self.siret[3:6]} {self.siret[6:9]} {self.siret[9:]}"

    @property
    def price_text(self) -> str:
        return price_text(self.price_cents, self.price_unit)

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
    """The territory's published offer ``offer_id`` with where it is delivered and its provider's
    profile; None otherwise. The offer is read as the provider's console reads it
    (:data:`~core.marketplace.offers.OFFER_SELECT`)."""
    async with tenant_scope(tenant_id):
        row = await scoped_connection().fetchrow(
            OFFER_SELECT + " WHERE o.id = $1 AND o.status = 'published'", offer_id
        )
        profile = await load_profile(row["provider_organisation_id"]) if row is not None else None
    if row is None or profile is None:
        return None
    offer = offer_from_row(row)
    sites = {site.id: site for site in profile.sites}
    return PublicOffer(
        id=offer.id,
        title=offer.title,
        description=offer.description,
        service_type=offer.service_type,
        provider_name=profile.name,
        price_cents=offer.price_cents,
        price_unit=offer.price_unit,
        capacity_per_week=offer.capacity_per_week,
        lead_time_days=offer.lead_time_days,
        opening_hours=offer.opening_hours,
        accepted_programmes=offer.accepted_programmes,
        languages=offer.languages,
        accessibility=offer.accessibility,
        communes=offer.covered_communes,
        departements=offer.covered_departements,
        own_coverage=offer.coverage,
        siret=profile.siret,
        agreements=profile.agreements,
        sites=tuple((sites[item.site_id], item.codes) for item in offer.sites if item.site_id in sites),
    )


def coverage_text(codes: tuple[str, ...]) -> list[str]:
    """« Dax (40) », « Département 40 : toutes ses communes » for each code."""
    return [
        communes.name_of(code) if len(code) == 5 else f"Département {code} : toutes ses communes"
        for code in codes
    ]
