"""Roles a user may hold in a tenant, and organisation kinds of the directory."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A role within one tenant (platform admin is a property of the account)."""

    TERRITORY_ADMIN = "territory_admin"
    COORDINATOR = "coordinator"
    PROFESSIONAL = "professional"
    """Medical or paramedical professional (GP, nurse, pharmacist…)."""
    SOCIAL_WORKER = "social_worker"
    PROVIDER_STAFF = "provider_staff"
    FUNDER_AGENT = "funder_agent"
    EMPLOYER_HR = "employer_hr"
    DPO = "dpo"
    """The territory's data protection officer (délégué à la protection des données)."""
    PERSON = "person"
    CARER = "carer"


ROLE_LABELS: dict[Role, str] = {
    Role.TERRITORY_ADMIN: "Administrateur du territoire",
    Role.COORDINATOR: "Coordinateur de parcours",
    Role.PROFESSIONAL: "Professionnel de santé",
    Role.SOCIAL_WORKER: "Travailleur social",
    Role.PROVIDER_STAFF: "Prestataire de services",
    Role.FUNDER_AGENT: "Agent d'un financeur",
    Role.EMPLOYER_HR: "Ressources humaines (employeur)",
    Role.DPO: "Délégué à la protection des données",
    Role.PERSON: "Personne accompagnée",
    Role.CARER: "Aidant",
}


class OrganisationKind(StrEnum):
    HOSPITAL = "hospital"
    GP_PRACTICE = "gp_practice"
    NURSING_PRACTICE = "nursing_practice"
    PHARMACY = "pharmacy"
    CCAS = "ccas"
    HOME_HELP_PROVIDER = "home_help_provider"
    FUNDER = "funder"
    EMPLOYER = "employer"
    COORDINATION_SERVICE = "coordination_service"


ORGANISATION_LABELS: dict[OrganisationKind, str] = {
    OrganisationKind.HOSPITAL: "Établissement de santé",
    OrganisationKind.GP_PRACTICE: "Cabinet de médecine générale",
    OrganisationKind.NURSING_PRACTICE: "Cabinet infirmier",
    OrganisationKind.PHARMACY: "Pharmacie",
    OrganisationKind.CCAS: "CCAS",
    OrganisationKind.HOME_HELP_PROVIDER: "Service d'aide à domicile",
    OrganisationKind.FUNDER: "Financeur",
    OrganisationKind.EMPLOYER: "Employeur",
    OrganisationKind.COORDINATION_SERVICE: "Dispositif d'appui à la coordination",
}
