"""CARSAT: the « aide au retour à domicile après hospitalisation » (ARDH) of the Assurance retraite.

Who. The CARSAT (caisse d'assurance retraite et de la santé au travail; the CNAV itself in
Île-de-France) runs the social action (« action sociale ») of the general pension scheme for its
retirees, under national rules set by the CNAV's board and its circulars.

The programme. The ARDH is a short-term help plan for a retiree of the general scheme going home
after a hospital stay: home help (housework, shopping, meals, help with washing), meals on wheels,
a remote alarm, escorted transport, a short stay in temporary accommodation, small safety
equipment. It lasts three months and the plan is capped at 1 800 €, the retiree's own contribution
included; that contribution (from 10 % to about three quarters of the plan) follows the CNAV's
income scale, the « barème de ressources et de participation » of its other home-help plans.
Conditions:

- a retiree whose main pension comes from the general scheme;
- at least 55 years old (the CARSAT sites state 55; retirees are nearly always older anyway);
- autonomous enough to recover: GIR 5 or 6 once home. People in GIR 1 to 4 are referred to the
  Département's APA instead (the two cannot be combined). The GIR is usually not known when the
  hospital's social worker files the request (the CARSAT evaluates at home), so an unknown GIR does
  not hold the request back here;
- monthly resources under the ceiling of the last bracket of the CNAV scale;
- asked during the stay (by the hospital's social service) or just after the discharge.

The CARSAT does not pay when another scheme already covers the same help (APA, PCH, a mutuelle's
assistance, an employer's contract): it checks this when it examines the request.

Sources: CNAV circular of 1 August 2003 creating the ARDH; CNAV circular of 2008 (in force on
1 January 2009) setting the plan's ceiling at 1 800 € over three months, participation included;
the CNAV income scale as revalued on 1 February 2025 (brackets follow the revaluation of the
minimum old-age pension, the Aspa); the pages of the CARSATs (Pays de la Loire, Midi-Pyrénées)
describing the current conditions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core import hookimpl, locale
from core.financing.parameters import Parameter, Unit, Values
from core.financing.rules import (
    IncomeCeiling,
    MinimumAge,
    Outcome,
    PensionSchemeIn,
    RecentDischarge,
    RuleResult,
)
from core.financing.situation import PensionScheme, Situation
from core.funders import (
    BaseFunder,
    Estimate,
    Programme,
    Reference,
    RequiredDocument,
    coverage,
    decision_days,
    max_amount,
)

CIRCULAR_2003 = "Circulaire Cnav du 1er août 2003 créant l'aide au retour à domicile après hospitalisation"
CIRCULAR_2008 = (
    "Circulaire Cnav de 2008 sur l'ARDH (en vigueur au 1er janvier 2009) : plan d'aide de trois mois au "
    "plus, plafonné à 1 800 € participation du retraité comprise ; plafond toujours affiché par les Carsat "
    "(p. ex. Carsat Pays de la Loire)"
)
SCALE_2025 = (
    "Barème de ressources et de participation de l'action sociale de la Cnav (dispositif Oscar, plans "
    "d'aide, ARDH), revalorisé au 1er février 2025 comme l'Aspa"
)
ILLUSTRATIVE = "Valeur illustrative, à fixer avec la Carsat du territoire"
SET_ON = dt.date(2026, 11, 23)
"""When the illustrative defaults of this module were set."""


@dataclass(frozen=True)
class AutonomousEnough:
    """GIR 5 or 6 (or not evaluated yet): GIR 1 to 4 fall under the Département's APA instead."""

    parameter: str = "gir_min"
    code: str = "gir"

    def evaluate(self, situation: Situation, values: Values) -> RuleResult:
        lowest = values.number(self.parameter)
        if situation.gir is None:
            return RuleResult(
                self.code,
                Outcome.MET,
                f"Niveau d'autonomie pas encore évalué : la Carsat l'évalue à domicile "
                f"(GIR {lowest} à 6 requis).",
            )
        if situation.gir >= lowest:
            return RuleResult(self.code, Outcome.MET, f"GIR {situation.gir} (GIR {lowest} à 6 requis).")
        return RuleResult(
            self.code,
            Outcome.NOT_MET,
            f"Non éligible : en GIR {situation.gir}, l'aide relève de l'allocation personnalisée "
            "d'autonomie (APA) du Département, pas de la Carsat.",
        )


ARDH = Programme(
    code="ardh",
    label="Aide au retour à domicile après hospitalisation (ARDH)",
    summary=(
        "Un plan d'aide de trois mois (aide à domicile, portage de repas, téléassistance, transport "
        "accompagné…) pour les retraités du régime général qui rentrent chez eux après une hospitalisation."
    ),
    service_types=(
        "home_help",
        "housekeeping",
        "shopping",
        "personal_care",
        "meals_on_wheels",
        "remote_alarm",
        "escorted_transport",
        "respite",
        "home_adaptation",
    ),
    rules=(
        PensionSchemeIn((PensionScheme.GENERAL,)),
        MinimumAge(),
        AutonomousEnough(),
        RecentDischarge(),
        IncomeCeiling(),
    ),
    parameters=(
        Parameter(
            "min_age",
            "Âge minimal",
            55,
            Unit.YEARS,
            f"{CIRCULAR_2003} : retraités de 55 ans et plus ; condition reprise par les Carsat "
            "(Pays de la Loire, Midi-Pyrénées).",
            dt.date(2003, 8, 1),
            0,
            130,
        ),
        Parameter(
            "gir_min",
            "GIR le plus dépendant admis (les GIR plus dépendants relèvent de l'APA)",
            5,
            Unit.GIR,
            f"{CIRCULAR_2008} : retraités relevant des GIR 5 et 6, non bénéficiaires de l'APA.",
            dt.date(2009, 1, 1),
            1,
            6,
        ),
        Parameter(
            "max_days_after_discharge",
            "Délai maximal entre la sortie d'hôpital et la demande",
            30,
            Unit.DAYS,
            "La demande est normalement faite pendant l'hospitalisation par le service social ; les Carsat "
            f"l'acceptent encore quelques jours après la sortie. {ILLUSTRATIVE}.",
            SET_ON,
            0,
            365,
        ),
        Parameter(
            "income_ceiling_single_cents",
            "Plafond de ressources mensuelles, personne seule",
            228_100,
            Unit.CENTS,
            f"{SCALE_2025} : seuil de la dernière tranche, 2 281 € par mois pour une personne seule "
            "(2 232 € avant la revalorisation). À revaloriser chaque année avec l'Aspa.",
            dt.date(2025, 2, 1),
        ),
        Parameter(
            "income_ceiling_couple_cents",
            "Plafond de ressources mensuelles, couple",
            342_100,
            Unit.CENTS,
            f"{SCALE_2025} : seuil de la dernière tranche pour un ménage, estimé à 1,5 fois celui d'une "
            "personne seule (rapport des barèmes Cnav publiés) ; à vérifier sur la circulaire de l'année.",
            dt.date(2025, 2, 1),
        ),
        max_amount(
            180_000,
            f"{CIRCULAR_2008}.",
            dt.date(2009, 1, 1),
            "Plafond du plan d'aide (participation du retraité comprise)",
        ),
        coverage(
            90,
            f"{SCALE_2025} : la participation du retraité va de 10 % (première tranche, ressources au "
            "niveau de l'Aspa) à près des trois quarts du plan selon la tranche ; 90 % est donc la part "
            "la plus haute que paie la Carsat.",
            dt.date(2025, 2, 1),
        ),
        decision_days(
            15, f"Instruction rapide d'une aide de sortie d'hospitalisation. {ILLUSTRATIVE}.", SET_ON
        ),
    ),
    required_documents=(
        RequiredDocument("hospital_discharge_notice", "Bulletin d'hospitalisation ou avis de sortie"),
        RequiredDocument("tax_notice", "Dernier avis d'imposition ou de non-imposition"),
        RequiredDocument("bank_details", "Relevé d'identité bancaire (RIB)"),
    ),
    references=(
        Reference(
            "Carsat Pays de la Loire, « Aide après une hospitalisation » (ARDH)",
            "https://www.carsat-pl.fr/home/retraites/votre-sante/aide-apres-une-hospitalisation.html",
        ),
        Reference(
            "Carsat Midi-Pyrénées, « Vous aider lors de votre sortie d'hospitalisation »",
            "https://www.carsat-mp.fr/home/retraites/bien-vieillir--aides-et-conseils/"
            "vous-aider-lors-de-votre-sortie-dhospitalisation.html",
        ),
        Reference(CIRCULAR_2003),
        Reference(CIRCULAR_2008),
        Reference(SCALE_2025),
    ),
    period_months=3,
)


class CarsatArdh(BaseFunder):
    identifier = "carsat_ardh"
    verbose_name = "CARSAT — action sociale de l'Assurance retraite"
    programmes = (ARDH,)

    def estimate(
        self, programme: Programme, situation: Situation, quote_cents: int | None
    ) -> Estimate | None:
        """The Carsat's share of the help plan: the plan is capped, participation included."""
        values = self.values(programme)
        ceiling = values.number("max_amount_cents")
        rate = values.number("coverage_percent")
        months = f" sur {programme.period_months} mois" if programme.period_months else ""
        if quote_cents is None:
            amount = ceiling * rate // 100
            return Estimate(
                amount,
                f"Jusqu'à {locale.money(amount)} : la Carsat paie au plus {rate} % d'un plan d'aide "
                f"plafonné à {locale.money(ceiling)}{months} ; votre participation dépend de vos ressources.",
            )
        plan = min(quote_cents, ceiling)
        amount = plan * rate // 100
        capped = f", ramené au plafond de {locale.money(ceiling)}" if quote_cents > ceiling else ""
        return Estimate(
            amount,
            f"Au plus {rate} % du plan d'aide de {locale.money(plan)} (devis de "
            f"{locale.money(quote_cents)}{capped}) ; votre participation dépend de vos ressources.",
        )


@hookimpl
def funders() -> list[type[BaseFunder]]:
    return [CarsatArdh]
