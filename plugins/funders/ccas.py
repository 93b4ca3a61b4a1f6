"""CCAS: the optional social help of a commune's social action centre.

Who. Every commune of 1 500 inhabitants or more has a CCAS (centre communal d'action sociale; a
CIAS when communes pool it). Besides the statutory social help it instructs for the Département,
it may grant « aide sociale facultative »: help of its own choosing, decided by its board
(code de l'action sociale et des familles, art. L.123-5), under a regulation it writes and votes
(« règlement d'aide sociale facultative »): who may ask, the income ceiling, the amounts, the delays.

The programme. A one-off or short help for residents of the commune(s) with low resources, here
towards home services after a hard time (a discharge, a fall): home help, meals on wheels, a remote
alarm, shopping, escorted transport. It is subsidiary: the CCAS helps when the statutory schemes and
the pension funds do not, or do not cover everything.

There is no national rule: every figure below is illustrative and must be set by each territory from
the CCAS's own regulation. The communes default to none, meaning « the whole territory » (one CCAS or
CIAS for the territory); a territory with several CCAS lists each one's communes.

Sources: code de l'action sociale et des familles, art. L.123-4 and L.123-5; the minimum old-age
pension (Aspa) on 1 January 2026, which many regulations use as their ceiling.
"""

from __future__ import annotations

import datetime as dt

from core import hookimpl
from core.financing.parameters import Parameter, Unit
from core.financing.rules import IncomeCeiling, LivesIn
from core.funders import BaseFunder, Programme, Reference, RequiredDocument, decision_days, max_amount

REGULATION = (
    "Règlement d'aide sociale facultative du CCAS (code de l'action sociale et des familles, art. L.123-5)"
)
ILLUSTRATIVE = "Valeur illustrative : chaque CCAS la fixe dans son règlement d'aide sociale facultative"
SET_ON = dt.date(2026, 11, 23)
"""When the illustrative defaults of this module were set."""
ASPA_2026 = dt.date(2026, 1, 1)

CCAS_AIDE_FACULTATIVE = Programme(
    code="ccas_aide_facultative",
    label="Aide sociale facultative du CCAS",
    summary=(
        "Une aide ponctuelle de la commune pour payer des services à domicile (aide à domicile, portage "
        "de repas, téléassistance…) quand les ressources sont faibles."
    ),
    service_types=(
        "home_help",
        "housekeeping",
        "shopping",
        "meals_on_wheels",
        "remote_alarm",
        "escorted_transport",
    ),
    rules=(LivesIn(), IncomeCeiling()),
    parameters=(
        Parameter(
            "communes",
            "Communes couvertes par le CCAS (vide : tout le territoire)",
            (),
            Unit.COMMUNES,
            "Compétence territoriale du CCAS : les habitants de sa commune (ou des communes d'un CIAS), "
            "code de l'action sociale et des familles, art. L.123-4. À renseigner par le territoire.",
            SET_ON,
        ),
        Parameter(
            "income_ceiling_single_cents",
            "Plafond de ressources mensuelles, personne seule",
            104_359,
            Unit.CENTS,
            f"{ILLUSTRATIVE}. Par défaut, le montant de l'Aspa (minimum vieillesse) au 1er janvier 2026 "
            "pour une personne seule : 1 043,59 € par mois.",
            ASPA_2026,
        ),
        Parameter(
            "income_ceiling_couple_cents",
            "Plafond de ressources mensuelles, couple",
            162_018,
            Unit.CENTS,
            f"{ILLUSTRATIVE}. Par défaut, le montant de l'Aspa au 1er janvier 2026 pour un couple : "
            "1 620,18 € par mois.",
            ASPA_2026,
        ),
        max_amount(30_000, f"{ILLUSTRATIVE}.", SET_ON),
        decision_days(30, f"{ILLUSTRATIVE} (commission d'attribution souvent mensuelle).", SET_ON),
    ),
    required_documents=(
        RequiredDocument("proof_of_address", "Justificatif de domicile"),
        RequiredDocument("tax_notice", "Dernier avis d'imposition ou de non-imposition"),
        RequiredDocument("income_proof", "Justificatifs des ressources des trois derniers mois"),
        RequiredDocument("quote", "Devis ou facture du service"),
        RequiredDocument("bank_details", "Relevé d'identité bancaire (RIB)"),
    ),
    references=(
        Reference(REGULATION),
        Reference("Code de l'action sociale et des familles, art. L.123-4 et L.123-5"),
        Reference("Montants de l'allocation de solidarité aux personnes âgées (Aspa) au 1er janvier 2026"),
    ),
)


class Ccas(BaseFunder):
    identifier = "ccas"
    verbose_name = "CCAS — centre communal d'action sociale"
    programmes = (CCAS_AIDE_FACULTATIVE,)


@hookimpl
def funders() -> list[type[BaseFunder]]:
    return [Ccas]
