"""Agirc-Arrco: the « aide à domicile momentanée » of the complementary pension scheme.

Who. Agirc-Arrco is the compulsory complementary pension scheme of private-sector employees; its
member pension institutions (Malakoff Humanis, AG2R La Mondiale, Klesia, Pro BTP…) run a common
social action for its retirees.

The programme. The « aide à domicile momentanée » pays a few hours of home help (housework,
shopping, meals, help with washing) when a retiree aged 75 or more faces a passing difficulty: a
return from hospital, an illness, a temporary disability, the absence of the usual carer. The
request is made by phone to the scheme's platform, which evaluates lightly and has a service start
within 48 hours. The help is free for the retiree and has no income or dependency condition; it is
up to ten hours (renewable once), spread over a few weeks. It is not for a lasting loss of autonomy
(then the Département's APA or the CARSAT's help apply), nor for someone already helped by the
CARSAT, the MSA or the APA: the platform checks this.

The defaults follow the circular that generalised the help (age 75, ten hours). We found no
published text extending it to younger retirees after a hospital stay: a territory that knows such
an extension sets the minimum age in its settings. The amount cap is illustrative (ten hours at a
usual hourly rate of a home-help service).

Sources: circulaire Agirc-Arrco n° 2011-15-DAS du 25 juillet 2011 (generalisation of the help, ten
hours renewable once, 75 and over, no income condition), as reported by ASH n° 2722; UNSA Retraités,
« Aide à domicile temporaire de l'Agirc-Arrco » (September 2022: 75 and over, service within 48 hours).
"""

from __future__ import annotations

import datetime as dt

from core import hookimpl
from core.financing.parameters import Parameter, Unit
from core.financing.rules import Declared, MinimumAge
from core.funders import (
    BaseFunder,
    Programme,
    Reference,
    RequiredDocument,
    coverage,
    decision_days,
    max_amount,
)

CIRCULAR_2011 = (
    "Circulaire Agirc-Arrco n° 2011-15-DAS du 25 juillet 2011 : aide à domicile momentanée pour les "
    "retraités de 75 ans et plus, dix heures renouvelables une fois, gratuite, sans condition de ressources"
)
UNSA_2022 = "UNSA Retraités, « Aide à domicile temporaire de l'Agirc-Arrco », 10 septembre 2022"
SET_ON = dt.date(2026, 11, 23)
"""When the illustrative defaults of this module were set."""

AGIRC_ARRCO_ADM = Programme(
    code="agirc_arrco_adm",
    label="Aide à domicile momentanée",
    summary=(
        "Quelques heures d'aide à domicile gratuites, mises en place sous 48 heures, pour les retraités "
        "Agirc-Arrco de 75 ans et plus face à une difficulté passagère (retour d'hospitalisation, maladie…)."
    ),
    service_types=("home_help", "housekeeping", "shopping", "personal_care"),
    rules=(
        Declared(
            "agirc_arrco",
            met="Retraite complémentaire Agirc-Arrco.",
            not_met="réservé aux retraités qui perçoivent une retraite complémentaire Agirc-Arrco "
            "(anciens salariés du privé).",
            question="Percevez-vous une retraite complémentaire Agirc-Arrco",
        ),
        MinimumAge(),
    ),
    parameters=(
        Parameter(
            "min_age", "Âge minimal", 75, Unit.YEARS, f"{CIRCULAR_2011}.", dt.date(2011, 7, 25), 0, 130
        ),
        Parameter(
            "max_hours",
            "Nombre maximal d'heures d'aide à domicile",
            10,
            Unit.HOURS,
            f"{CIRCULAR_2011} (renouvelables une fois sur décision de la plateforme).",
            dt.date(2011, 7, 25),
            1,
            1_000,
        ),
        max_amount(
            30_000,
            "Valeur illustrative : dix heures au tarif horaire habituel d'un service d'aide à domicile "
            "(environ 30 €) ; l'aide est gratuite pour le retraité, la caisse paie le service.",
            SET_ON,
        ),
        coverage(100, f"{CIRCULAR_2011} : aide gratuite pour le retraité.", dt.date(2011, 7, 25)),
        decision_days(2, f"{UNSA_2022} : intervention organisée sous 48 heures.", dt.date(2022, 9, 10)),
    ),
    required_documents=(RequiredDocument("pension_statement", "Numéro ou relevé de retraite Agirc-Arrco"),),
    references=(
        Reference(
            "ASH n° 2722, « L'Agirc-Arrco propose une prestation d'aide à domicile momentanée » (2011)",
            "https://ash.tm.fr/hebdo/2722/dans-les-textes/prevention-de-la-perte-dautonomie-lagirc-arrco-"
            "propose-une-prestation-d-aide-a-domicile-momentanee-377267.php",
        ),
        Reference(
            UNSA_2022,
            "https://retraites.unsa.org/aide-a-domicile-temporaire-de-l-agirc-arrco-comment-ca-marche",
        ),
        Reference(CIRCULAR_2011),
    ),
)


class AgircArrco(BaseFunder):
    identifier = "agirc_arrco"
    verbose_name = "Agirc-Arrco — action sociale"
    programmes = (AGIRC_ARRCO_ADM,)


@hookimpl
def funders() -> list[type[BaseFunder]]:
    return [AgircArrco]
