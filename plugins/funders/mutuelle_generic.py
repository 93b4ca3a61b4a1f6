"""Mutuelle: the assistance cover of a complementary health insurance contract, after a hospital stay.

Who. Most complementary health contracts (« mutuelle », « complémentaire santé », individual or an
employer's group contract) include an assistance cover, run for the insurer by an assistance
company (IMA, RMA, Europ Assistance, Mondial Assistance…). After a hospital stay it typically
organises and pays a few hours of home help, meals or shopping delivery, medication delivery, or the
care of a dependent relative.

The programme. This is a generic contract, for a territory that wants to show people that their
mutuelle may help: the actual cover depends on each contract (the hours, the delay to ask, whether an
outpatient stay counts, a minimum stay of 24 hours or more…). Every default below is illustrative, of
the order found in usual contracts (about ten hours of home help over the weeks after discharge, to be
asked within a few weeks); a territory sets them, or a mutuelle with its own plugin declares its
exact contract. The assistance company decides quickly, on the phone, with the insurance number; it
needs no social file: only administrative and funding data are shared (no social or medical data).

Sources: the « garantie assistance » of usual complementary health contracts (notices of the
contracts); none is binding, hence the illustrative defaults.
"""

from __future__ import annotations

import datetime as dt

from core import hookimpl
from core.consent.model import DataCategory
from core.financing.parameters import Parameter, Unit
from core.financing.rules import Declared, RecentDischarge
from core.funders import (
    BaseFunder,
    Programme,
    Reference,
    RequiredDocument,
    coverage,
    decision_days,
    max_amount,
)

ILLUSTRATIVE = (
    "Valeur illustrative d'un contrat courant : la notice de la garantie assistance du contrat fait foi"
)
SET_ON = dt.date(2026, 11, 23)
"""When the illustrative defaults of this module were set."""

MUTUELLE_ASSISTANCE = Programme(
    code="mutuelle_assistance",
    label="Assistance après hospitalisation (contrat complémentaire santé)",
    summary=(
        "Quelques heures d'aide à domicile, de portage de repas ou de livraison de médicaments après une "
        "hospitalisation, organisées et payées par l'assistance de votre complémentaire santé."
    ),
    service_types=(
        "home_help",
        "housekeeping",
        "shopping",
        "meals_on_wheels",
        "pharmacy_delivery",
        "escorted_transport",
    ),
    rules=(
        Declared(
            "has_mutuelle",
            met="Complémentaire santé déclarée : sa garantie assistance peut s'appliquer.",
            not_met="il faut une complémentaire santé (mutuelle) dont le contrat comporte une garantie "
            "assistance.",
            question="Avez-vous une complémentaire santé (mutuelle)",
        ),
        RecentDischarge(),
    ),
    parameters=(
        Parameter(
            "max_days_after_discharge",
            "Délai maximal entre la sortie d'hôpital et la demande",
            30,
            Unit.DAYS,
            f"{ILLUSTRATIVE}.",
            SET_ON,
            0,
            365,
        ),
        Parameter(
            "max_hours",
            "Nombre maximal d'heures d'aide à domicile",
            10,
            Unit.HOURS,
            f"{ILLUSTRATIVE}.",
            SET_ON,
            1,
            1_000,
        ),
        max_amount(30_000, f"{ILLUSTRATIVE} (dix heures à environ 30 € de l'heure).", SET_ON),
        coverage(100, f"{ILLUSTRATIVE} : l'assisteur paie le service dans la limite de la garantie.", SET_ON),
        decision_days(
            2, f"{ILLUSTRATIVE} : l'assisteur répond par téléphone, en général sous 48 heures.", SET_ON
        ),
    ),
    required_documents=(
        RequiredDocument(
            "insurance_card", "Carte de tiers payant ou numéro d'adhérent de la complémentaire santé"
        ),
        RequiredDocument(
            "hospital_discharge_notice", "Bulletin de situation ou avis de sortie d'hospitalisation"
        ),
    ),
    references=(Reference("Notice de la garantie assistance du contrat de complémentaire santé"),),
    categories=frozenset({DataCategory.ADMINISTRATIVE, DataCategory.FUNDING}),
    period_months=1,
)


class MutuelleGeneric(BaseFunder):
    identifier = "mutuelle_generic"
    verbose_name = "Mutuelle — garantie assistance"
    programmes = (MUTUELLE_ASSISTANCE,)


@hookimpl
def funders() -> list[type[BaseFunder]]:
    return [MutuelleGeneric]
