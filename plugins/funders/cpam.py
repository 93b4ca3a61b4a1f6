"""CPAM: home help after a hospital stay, from the health insurance's social action fund.

Who. The CPAM (caisse primaire d'assurance maladie) reimburses care; besides, each CPAM runs an
« action sanitaire et sociale » (code de la sécurité sociale, art. L.262-1), funded by the national
fund of the Assurance Maladie (FNASS) and governed by the CPAM board's own regulation: individual,
means-tested, non-statutory help (« prestations supplémentaires », « aides financières
individuelles »). One of them, in most CPAMs, pays part of a home help (housework, meals, shopping)
for a few weeks after a hospital stay.

The programme. It is meant for insured people whom no pension fund helps: people not retired (in
practice mostly under 60). Retirees go to their pension fund (the CARSAT's ARDH for the general
scheme, the MSA, the complementary pensions); the rule here is « not retired » rather than an age
limit, so a 62-year-old still working is covered and a 58-year-old retiree is not. Each CPAM sets
its own income scale, amounts and delays: every default below is illustrative and must be set by the
territory with its CPAM (ceilings are given as an order of magnitude: the ceiling of the
complementary health cover with a contribution, « complémentaire santé solidaire participative »,
plus half, a level several CPAM regulations use).

Not a funding: PRADO, the Assurance Maladie's discharge support service (« programme
d'accompagnement du retour à domicile »), where an Assurance Maladie adviser meets the patient in
hospital and books the first appointments at home (nurse, physiotherapist, GP). PRADO organises care
that is reimbursed as usual; it pays no home help, so it is not a programme here.

Sources: code de la sécurité sociale, art. L.262-1; each CPAM's « règlement intérieur d'action
sanitaire et sociale »; ceilings of the complémentaire santé solidaire from 1 April 2025.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core import hookimpl
from core.financing.parameters import Parameter, Unit, Values
from core.financing.rules import IncomeCeiling, Outcome, RecentDischarge, RuleResult
from core.financing.situation import Situation
from core.funders import (
    BaseFunder,
    Programme,
    Reference,
    RequiredDocument,
    coverage,
    decision_days,
    max_amount,
)

REGULATION = (
    "Règlement intérieur d'action sanitaire et sociale de la CPAM (code de la sécurité sociale, art. L.262-1)"
)
ILLUSTRATIVE = (
    "Valeur illustrative : chaque CPAM fixe la sienne dans son règlement d'action sanitaire et sociale"
)
SET_ON = dt.date(2026, 11, 23)
"""When the illustrative defaults of this module were set."""


@dataclass(frozen=True)
class NotRetired:
    """Not drawing a pension: retirees are helped by their pension fund, not the CPAM."""

    code: str = "not_retired"

    def evaluate(self, situation: Situation, values: Values) -> RuleResult:
        if situation.retired is None:
            question = "Votre régime de retraite"
            return RuleResult(
                self.code, Outcome.UNKNOWN, f"Information manquante : {question.lower()}.", question
            )
        if not situation.retired:
            return RuleResult(self.code, Outcome.MET, "Pas de retraite : l'aide relève de la CPAM.")
        return RuleResult(
            self.code,
            Outcome.NOT_MET,
            "Non éligible : les retraités s'adressent à leur caisse de retraite (par exemple l'aide au "
            "retour à domicile de la Carsat pour le régime général).",
        )


CPAM_AIDE_RETOUR = Programme(
    code="cpam_aide_retour",
    label="Aide à domicile après hospitalisation (action sanitaire et sociale de la CPAM)",
    summary=(
        "Une participation de l'Assurance Maladie à quelques semaines d'aide à domicile après une "
        "hospitalisation, pour les assurés qui ne sont pas retraités, sous condition de ressources."
    ),
    service_types=("home_help", "housekeeping", "shopping", "meals_on_wheels"),
    rules=(NotRetired(), RecentDischarge(), IncomeCeiling()),
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
            "income_ceiling_single_cents",
            "Plafond de ressources mensuelles, personne seule",
            174_500,
            Unit.CENTS,
            f"{ILLUSTRATIVE}. Ordre de grandeur : plafond de la complémentaire santé solidaire avec "
            "participation au 1er avril 2025 (13 957 € par an pour une personne) majoré de 50 %, "
            "soit environ 1 745 € par mois.",
            dt.date(2025, 4, 1),
        ),
        Parameter(
            "income_ceiling_couple_cents",
            "Plafond de ressources mensuelles, couple",
            261_700,
            Unit.CENTS,
            f"{ILLUSTRATIVE}. Ordre de grandeur : plafond de la complémentaire santé solidaire avec "
            "participation au 1er avril 2025 (20 936 € par an pour deux personnes) majoré de 50 %, "
            "soit environ 2 617 € par mois.",
            dt.date(2025, 4, 1),
        ),
        max_amount(100_000, f"{ILLUSTRATIVE}.", SET_ON),
        coverage(80, f"{ILLUSTRATIVE} (la caisse laisse en général une participation à l'assuré).", SET_ON),
        decision_days(15, f"{ILLUSTRATIVE}.", SET_ON),
    ),
    required_documents=(
        RequiredDocument(
            "hospital_discharge_notice", "Bulletin de situation ou avis de sortie d'hospitalisation"
        ),
        RequiredDocument("income_proof", "Justificatifs des ressources du foyer des trois derniers mois"),
        RequiredDocument("quote", "Devis du service d'aide à domicile"),
        RequiredDocument("bank_details", "Relevé d'identité bancaire (RIB)"),
    ),
    references=(
        Reference(REGULATION),
        Reference("Code de la sécurité sociale, art. L.262-1 (action sanitaire et sociale des caisses)"),
        Reference("Plafonds de la complémentaire santé solidaire au 1er avril 2025"),
    ),
)


class Cpam(BaseFunder):
    identifier = "cpam"
    verbose_name = "CPAM — Assurance maladie"
    programmes = (CPAM_AIDE_RETOUR,)


@hookimpl
def funders() -> list[type[BaseFunder]]:
    return [Cpam]
