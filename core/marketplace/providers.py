"""A provider's public profile: its SIRET, its agreements (SAP, SAAD…) and the sites it works from.

People choosing a home-help service look for two things before the price: is the provider
allowed to do this (a SAAD is authorised by the Département, a service à la personne is declared
to the State, a SSIAD is authorised by the ARS), and does it come to my commune (a provider with
several agencies covers a different area from each). The profile answers both, and the public offer
page shows it.

Only the organisation's own staff (``offers.manage``) change it; every change runs in one tenant
transaction with one audit entry (``provider.siret``, ``provider.agreement_added`` / ``_removed``,
``provider.site_added`` / ``_updated`` / ``_removed``). A site still serving an offer cannot be
removed. Input is checked here, whatever the edge, naming every wrong field (French messages).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, replace

import asyncpg

from core.access.policy import Actor
from core.audit.trail import Outcome, Record, append
from core.consent.access import audit_actor
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Conflict, FieldError, InvalidInput, NotFound
from core.geo import communes
from core.identity.identifiers import InvalidIdentifier, Siret
from core.marketplace.offers import provider_scope

AGREEMENT_KINDS = {
    "saad_authorisation": "Autorisation SAAD (service d'aide et d'accompagnement à domicile) du Département",
    "sap_declaration": "Déclaration de services à la personne (SAP)",
    "social_aid_habilitation": "Habilitation à l'aide sociale du Département",
    "ssiad_authorisation": "Autorisation SSIAD (soins infirmiers à domicile) de l'ARS",
    "health_insurance_agreement": "Conventionnement avec l'Assurance maladie",
    "other": "Autre agrément ou autorisation",
}
"""Code → French label of the agreements a home-service provider may hold."""
SAP_REFERENCE = re.compile(r"^SAP\d{9}$")
"""A SAP declaration number: « SAP » then the provider's SIREN."""
MAX_AGREEMENTS = 20
MAX_SITES = 50
NAME_MAX = 120
ADDRESS_MAX = 300
REFERENCE_MAX = 60
ISSUER_MAX = 200
PHONE = re.compile(r"^\+?[0-9 .\-()]{6,25}$")


@dataclass(frozen=True)
class Agreement:
    id: uuid.UUID
    kind: str
    reference: str
    issuer: str
    valid_from: dt.date | None
    valid_until: dt.date | None

    @property
    def label(self) -> str:
        return AGREEMENT_KINDS.get(self.kind, self.kind)

    def expired_on(self, day: dt.date) -> bool:
        return self.valid_until is not None and self.valid_until < day


@dataclass(frozen=True)
class Site:
    id: uuid.UUID
    name: str
    address: str
    commune_insee: str
    phone: str | None

    @property
    def commune_label(self) -> str:
        return communes.name_of(self.commune_insee)


@dataclass(frozen=True)
class ProviderProfile:
    organisation_id: uuid.UUID
    name: str
    siret: str | None
    agreements: tuple[Agreement, ...]
    sites: tuple[Site, ...]


@dataclass(frozen=True)
class AgreementInput:
    kind: str
    reference: str
    issuer: str = ""
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None

    def checked(self, siret: str | None) -> AgreementInput:
        """Trimmed; :class:`InvalidInput` naming every wrong field. A SAP number must carry the
        provider's SIREN when its SIRET is known."""
        clean = replace(
            self,
            kind=self.kind.strip(),
            reference=" ".join(self.reference.split()).upper()
            if self.kind == "sap_declaration"
            else " ".join(self.reference.split()),
            issuer=" ".join(self.issuer.split()),
        )
        errors = []
        if clean.kind not in AGREEMENT_KINDS:
            errors.append(FieldError("kind", "choisissez le type d'agrément dans la liste"))
        if not clean.reference:
            errors.append(FieldError("reference", "indiquez le numéro ou la référence de l'acte"))
        elif len(clean.reference) > REFERENCE_MAX:
            errors.append(FieldError("reference", f"{REFERENCE_MAX} caractères au plus"))
        elif clean.kind == "sap_declaration":
            compact = clean.reference.replace(" ", "")
            clean = replace(clean, reference=compact)
            if not SAP_REFERENCE.match(compact):
                errors.append(
                    FieldError("reference", "« SAP » suivi des 9 chiffres du SIREN, par exemple SAP123456789")
                )
            elif siret and compact[3:] != siret[:9]:
                errors.append(FieldError("reference", "le numéro SAP ne porte pas le SIREN de votre SIRET"))
        if len(clean.issuer) > ISSUER_MAX:
            errors.append(FieldError("issuer", f"{ISSUER_MAX} caractères au plus"))
        if clean.valid_from and clean.valid_until and clean.valid_until < clean.valid_from:
            errors.append(FieldError("valid_until", "la fin de validité précède son début"))
        if errors:
            raise InvalidInput("agrément invalide", errors)
        return clean


@dataclass(frozen=True)
class SiteInput:
    name: str
    commune: str
    address: str = ""
    phone: str = ""

    def checked(self, departements: tuple[str, ...]) -> tuple[SiteInput, str]:
        """Trimmed, and the commune's INSEE code (typed by name or code)."""
        clean = replace(
            self,
            name=" ".join(self.name.split()),
            address=" ".join(self.address.split()),
            phone=" ".join(self.phone.split()),
        )
        errors = []
        if not 2 <= len(clean.name) <= NAME_MAX:
            errors.append(FieldError("name", f"nom du site de 2 à {NAME_MAX} caractères"))
        if len(clean.address) > ADDRESS_MAX:
            errors.append(FieldError("address", f"{ADDRESS_MAX} caractères au plus"))
        if clean.phone and not PHONE.match(clean.phone):
            errors.append(FieldError("phone", "numéro de téléphone, par exemple 05 58 00 00 00"))
        code = ""
        try:
            code = communes.resolve(clean.commune, departements).code
        except InvalidInput as refused:
            errors.extend(refused.errors)
        if errors:
            raise InvalidInput("site invalide", errors)
        return clean, code


def _agreement(row: asyncpg.Record) -> Agreement:
    return Agreement(
        row["id"], row["kind"], row["reference"], row["issuer"], row["valid_from"], row["valid_until"]
    )


def _site(row: asyncpg.Record) -> Site:
    return Site(row["id"], row["name"], row["address"], row["commune_insee"], row["phone"])


async def load_profile(organisation_id: uuid.UUID) -> ProviderProfile | None:
    """The profile of one organisation, in the current tenant scope (public facts only)."""
    connection = scoped_connection()
    organisation = await connection.fetchrow(
        "SELECT id, name, siret FROM organisation WHERE id = $1", organisation_id
    )
    if organisation is None:
        return None
    agreements = await connection.fetch(
        "SELECT * FROM provider_agreement WHERE organisation_id = $1 ORDER BY kind, reference",
        organisation_id,
    )
    sites = await connection.fetch(
        "SELECT * FROM provider_site WHERE organisation_id = $1 ORDER BY lower(name)", organisation_id
    )
    return ProviderProfile(
        organisation["id"],
        organisation["name"],
        organisation["siret"],
        tuple(_agreement(row) for row in agreements),
        tuple(_site(row) for row in sites),
    )


async def provider_profile(actor: Actor) -> ProviderProfile:
    """The actor's organisation's profile (``offers.manage``)."""
    tenant_id, organisation_id = provider_scope(actor)
    async with tenant_scope(tenant_id):
        profile = await load_profile(organisation_id)
    if profile is None:
        raise NotFound("structure introuvable")
    return profile


async def _audit(actor: Actor, action: str, target: uuid.UUID, detail: dict[str, str]) -> None:
    await append(Record(audit_actor(actor), action, Outcome.SUCCESS, "organisation", str(target), detail))


async def set_siret(actor: Actor, text: str) -> str:
    """Record the organisation's SIRET (checked: 14 digits, SIREN and SIRET keys)."""
    tenant_id, organisation_id = provider_scope(actor)
    try:
        siret = Siret.parse(text).value
    except InvalidIdentifier as wrong:
        raise InvalidInput("SIRET invalide", [FieldError("siret", str(wrong))]) from wrong
    async with tenant_scope(tenant_id):
        await scoped_connection().execute(
            "UPDATE organisation SET siret = $2 WHERE id = $1", organisation_id, siret
        )
        await _audit(actor, "provider.siret", organisation_id, {"siret": siret})
    return siret


async def add_agreement(actor: Actor, data: AgreementInput) -> uuid.UUID:
    tenant_id, organisation_id = provider_scope(actor)
    agreement_id = uuid.uuid4()
    async with tenant_scope(tenant_id):
        connection = scoped_connection()
        row = await connection.fetchrow(
            "SELECT o.siret, (SELECT count(*) FROM provider_agreement a "
            "WHERE a.organisation_id = o.id) AS held FROM organisation o WHERE o.id = $1 FOR UPDATE",
            organisation_id,
        )
        if row is None:
            raise NotFound("structure introuvable")
        data = data.checked(row["siret"])
        if row["held"] >= MAX_AGREEMENTS:
            raise Conflict(f"impossible : {MAX_AGREEMENTS} agréments au plus")
        try:
            await connection.execute(
                "INSERT INTO provider_agreement (id, tenant_id, organisation_id, kind, reference, issuer, "
                "valid_from, valid_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                agreement_id,
                tenant_id,
                organisation_id,
                data.kind,
                data.reference,
                data.issuer,
                data.valid_from,
                data.valid_until,
            )
        except asyncpg.UniqueViolationError as twice:
            raise Conflict("impossible : cet agrément est déjà enregistré") from twice
        await _audit(actor, "provider.agreement_added", organisation_id, {"kind": data.kind})
    return agreement_id


async def remove_agreement(actor: Actor, agreement_id: uuid.UUID) -> None:
    tenant_id, organisation_id = provider_scope(actor)
    async with tenant_scope(tenant_id):
        kind = await scoped_connection().fetchval(
            "DELETE FROM provider_agreement WHERE id = $1 AND organisation_id = $2 RETURNING kind",
            agreement_id,
            organisation_id,
        )
        if kind is None:
            raise NotFound("agrément introuvable")
        await _audit(actor, "provider.agreement_removed", organisation_id, {"kind": kind})


async def save_site(
    actor: Actor, data: SiteInput, departements: tuple[str, ...], site_id: uuid.UUID | None = None
) -> uuid.UUID:
    """Add a site (``site_id`` None) or change one of the organisation's sites."""
    tenant_id, organisation_id = provider_scope(actor)
    clean, commune = data.checked(departements)
    async with tenant_scope(tenant_id):
        connection = scoped_connection()
        try:
            if site_id is None:
                held = await connection.fetchval(
                    "SELECT count(*) FROM provider_site WHERE organisation_id = $1", organisation_id
                )
                if held >= MAX_SITES:
                    raise Conflict(f"impossible : {MAX_SITES} sites au plus")
                site_id = uuid.uuid4()
                await connection.execute(
                    "INSERT INTO provider_site (id, tenant_id, organisation_id, name, address, "
                    "commune_insee, phone) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    site_id,
                    tenant_id,
                    organisation_id,
                    clean.name,
                    clean.address,
                    commune,
                    clean.phone or None,
                )
                action = "provider.site_added"
            else:
                changed = await connection.fetchval(
                    "UPDATE provider_site SET name = $3, address = $4, commune_insee = $5, phone = $6 "
                    "WHERE id = $1 AND organisation_id = $2 RETURNING id",
                    site_id,
                    organisation_id,
                    clean.name,
                    clean.address,
                    commune,
                    clean.phone or None,
                )
                if changed is None:
                    raise NotFound("site introuvable")
                action = "provider.site_updated"
        except asyncpg.UniqueViolationError as twice:
            raise InvalidInput(
                "site invalide", [FieldError("name", "un autre de vos sites porte déjà ce nom")]
            ) from twice
        await _audit(actor, action, organisation_id, {"site": str(site_id)})
    return site_id


async def remove_site(actor: Actor, site_id: uuid.UUID) -> None:
    """Remove a site no offer is delivered from any more (:class:`Conflict` otherwise)."""
    tenant_id, organisation_id = provider_scope(actor)
    async with tenant_scope(tenant_id):
        connection = scoped_connection()
        serving = await connection.fetchval(
            "SELECT count(DISTINCT c.offer_id) FROM offer_coverage c "
            "JOIN provider_site s ON s.id = c.site_id WHERE s.id = $1 AND s.organisation_id = $2",
            site_id,
            organisation_id,
        )
        if serving:
            raise Conflict(
                f"impossible : ce site dessert encore {serving} offre{'s' if serving > 1 else ''} ; "
                "retirez-le d'abord de leur zone d'intervention"
            )
        removed = await connection.fetchval(
            "DELETE FROM provider_site WHERE id = $1 AND organisation_id = $2 RETURNING id",
            site_id,
            organisation_id,
        )
        if removed is None:
            raise NotFound("site introuvable")
        await _audit(actor, "provider.site_removed", organisation_id, {"site": str(site_id)})
