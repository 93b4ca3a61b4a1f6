"""Département: the « allocation personnalisée d'autonomie » (APA) at home.

Who. The Département (conseil départemental) pays the APA, a statutory allowance for people aged 60
or more who lose autonomy (code de l'action sociale et des familles, art. L.232-1 and following). Its
medico-social team evaluates the person at home, sets the level of autonomy on the national AGGIR
grid (GIR 1, the most dependent, to GIR 6) and proposes a help plan.

The programme. The APA at home pays part of a monthly help plan: home help, housework, help with
washing and dressing, meals, a remote alarm, respite for the carer, night care, adaptation of the
home. Conditions: 60 or more, GIR 1 to 4, a stable residence in France. There is no income ceiling:
the resources set the person's participation in the plan (none under a first threshold, up to 90 %
above a second one), and the plan is capped by a monthly amount per GIR. Without an answer within
two months of a complete file, the APA is deemed granted at a flat amount (art. L.232-14).

The amount is not computed here: ``estimate`` asks OpenFisca-France, the maintained rules-as-code
model of French law (:mod:`plugins.funders.apa_model`), for the plan ceiling of the GIR, the
participation and the APA, for the current month. The quote is read as the monthly cost of the help
plan. When the income is a range, the upper bound is used (the lowest APA: a conservative estimate);
with only a lower bound (« more than »), that bound is used and the estimate says it may be lower.
Without the income, the estimate is the plan ceiling of the GIR (« up to »); without the GIR, there
is none.

Sources: code de l'action sociale et des familles, art. L.232-1 to L.232-28 (L.232-2: age and loss
of autonomy; L.232-14: two months to decide), art. R.232-1 to R.232-61 (age of 60, GIR 1 to 4,
ceilings and participation); loi n° 2015-1776 du 28 décembre 2015 (adaptation de la société au
vieillissement), which set the current participation scale; OpenFisca-France for the figures.
"""

from __future__ import annotations

import datetime as dt
import logging

from core import hookimpl, locale
from core.financing.parameters import Parameter, Unit
from core.financing.rules import GirBetween, MinimumAge
from core.financing.situation import Household, Situation
from core.funders import BaseFunder, Estimate, Programme, Reference, RequiredDocument, decision_days

logger = logging.getLogger(__name__)

CASF = "Code de l'action sociale et des familles"
LAW_2015 = dt.date(2015, 12, 28)
"""Loi n° 2015-1776 du 28 décembre 2015 (adaptation de la société au vieillissement)."""

APA = Programme(
    code="apa",
    label="Allocation personnalisée d'autonomie (APA) à domicile",
    summary=(
        "Une allocation du Département qui paie une partie d'un plan d'aide mensuel (aide à domicile, "
        "toilette, repas, téléassistance, répit, adaptation du logement…) pour les personnes de 60 ans et "
        "plus en perte d'autonomie (GIR 1 à 4)."
    ),
    service_types=(
        "home_help",
        "housekeeping",
        "personal_care",
        "meals_on_wheels",
        "remote_alarm",
        "respite",
        "home_adaptation",
        "night_care",
    ),
    rules=(MinimumAge(), GirBetween()),
    parameters=(
        Parameter(
            "min_age",
            "Âge minimal",
            60,
            Unit.YEARS,
            f"{CASF}, art. L.232-2 et R.232-1 : 60 ans au moins.",
            dt.date(2002, 1, 1),
            0,
            130,
        ),
        Parameter(
            "gir_min",
            "GIR le plus dépendant admis",
            1,
            Unit.GIR,
            f"{CASF}, art. L.232-2 et R.232-4 : personnes classées en GIR 1 à 4 de la grille AGGIR.",
            dt.date(2002, 1, 1),
            1,
            6,
        ),
        Parameter(
            "gir_max",
            "GIR le moins dépendant admis",
            4,
            Unit.GIR,
            f"{CASF}, art. L.232-2 et R.232-4 : personnes classées en GIR 1 à 4 de la grille AGGIR.",
            dt.date(2002, 1, 1),
            1,
            6,
        ),
        decision_days(
            60,
            f"{CASF}, art. L.232-14 : décision dans les deux mois du dépôt du dossier complet, faute de "
            "quoi l'APA est réputée accordée pour un montant forfaitaire.",
            LAW_2015,
        ),
    ),
    required_documents=(
        RequiredDocument(
            "application_form", "Formulaire de demande d'aide à l'autonomie à domicile (cerfa n° 16301)"
        ),
        RequiredDocument("identity_document", "Pièce d'identité ou titre de séjour"),
        RequiredDocument("tax_notice", "Dernier avis d'imposition ou de non-imposition"),
        RequiredDocument("property_tax_notice", "Dernier avis de taxe foncière, le cas échéant"),
        RequiredDocument("bank_details", "Relevé d'identité bancaire (RIB)"),
    ),
    references=(
        Reference(
            "Service-Public.fr, « Allocation personnalisée d'autonomie (Apa) à domicile »",
            "https://www.service-public.fr/particuliers/vosdroits/F10009",
        ),
        Reference(f"{CASF}, art. L.232-1 à L.232-28 et R.232-1 à R.232-61"),
        Reference(
            "Loi n° 2015-1776 du 28 décembre 2015 relative à l'adaptation de la société au vieillissement"
        ),
        Reference(
            "OpenFisca-France : modèle de l'APA à domicile", "https://github.com/openfisca/openfisca-france"
        ),
    ),
)


def current_month() -> dt.date:
    """The first day of the current month in Paris (the month the APA is computed for)."""
    return locale.paris_day(dt.datetime.now(dt.UTC)).replace(day=1)


def _percent(rate: float) -> str:
    """0.1234 → « 12,3 % »."""
    text = f"{rate * 100:.1f}".removesuffix(".0").replace(".", ",")
    return f"{text} %"


class DepartementApa(BaseFunder):
    identifier = "departement_apa"
    verbose_name = "Département — allocation personnalisée d'autonomie"
    programmes = (APA,)

    def estimate(
        self, programme: Programme, situation: Situation, quote_cents: int | None
    ) -> Estimate | None:
        """The monthly APA by OpenFisca-France (see the module docstring for the choices made)."""
        values = self.values(programme)
        gir = situation.gir
        if gir is None or not values.number("gir_min") <= gir <= values.number("gir_max"):
            return None
        low, high = situation.income_min_cents, situation.income_max_cents
        income = high if high is not None else low
        try:
            from plugins.funders.apa_model import estimate_apa  # building the model takes seconds

            result = estimate_apa(
                gir=gir,
                monthly_income_cents=income or 0,
                month=current_month(),
                # An unknown or too low age is another rule's business: the amount does not depend on it.
                age=max(situation.age or 0, values.number("min_age")),
                plan_cents=quote_cents,
                couple=situation.household is Household.COUPLE,
            )
        except Exception:
            logger.exception("APA estimate failed (OpenFisca-France)")
            return None
        source = f"Calcul OpenFisca-France {result.model_version}."
        ceiling = f"plafond en GIR {gir} : {locale.money(result.plan_ceiling_cents)} par mois"
        if income is None:
            basis = (
                "Vos ressources ne sont pas connues : votre participation, qui en dépend, n'est pas déduite."
            )
        elif high is None:
            basis = (
                f"Ressources retenues : au moins {locale.money(income)} par mois (l'APA réelle peut être "
                "plus faible)."
            )
        elif low != high:
            basis = (
                f"Ressources retenues : {locale.money(income)} par mois, le haut de la fourchette déclarée "
                "(estimation prudente)."
            )
        else:
            basis = f"Ressources retenues : {locale.money(income)} par mois."
        if result.apa_cents == 0:
            return Estimate(
                0,
                f"Pas d'APA versée : pour un plan d'aide de {locale.money(result.plan_cents)} ({ceiling}), "
                f"le montant calculé est sous le seuil de versement. {basis} {source}",
            )
        if income is None:
            return Estimate(
                result.apa_cents,
                f"Jusqu'à {locale.money(result.apa_cents)} par mois ({ceiling}). {basis} {source}",
            )
        return Estimate(
            result.apa_cents,
            f"APA estimée à {locale.money(result.apa_cents)} par mois : plan d'aide de "
            f"{locale.money(result.plan_cents)} ({ceiling}), dont une participation de "
            f"{_percent(result.participation_rate)} ({locale.money(result.participation_cents)}) à votre "
            f"charge. {basis} {source}",
        )


@hookimpl
def funders() -> list[type[BaseFunder]]:
    return [DepartementApa]
