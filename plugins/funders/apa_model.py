"""Estimate of the APA at home (allocation personnalisée d'autonomie à domicile) by OpenFisca-France.

The law is not rewritten here: the figures come from the maintained rules-as-code model
(``openfisca_france.model.prestations.autonomie``), computed for one month:

- ``apa_eligibilite``: GIR 1 to 4 and at least ``apa_domicile.condition_age`` (60) years old;
- ``dependance_plan_aide_domicile_accepte``: the help plan capped at the ceiling of the GIR
  (``apa_domicile.plafond_apa_domicile_en_part_mtp.gir_N`` times the MTP, the "majoration pour aide
  constante d'une tierce personne");
- ``apa_domicile_participation`` and ``apa_domicile_taux_participation``: the beneficiary's
  contribution (0 % below 0.725 MTP of monthly resources, 90 % above 2.67 MTP, a smoothed rate between);
- ``apa_domicile``: the plan minus the participation, nil below the payment threshold (3 hourly gross
  Smic) or when not eligible.

Inputs are the model's own: ``gir``, ``age``, ``dependance_plan_aide_domicile`` and the APA-specific
resources ``base_ressources_apa`` (monthly, of the household). Feeding ``base_ressources_apa`` keeps the
model from deriving it from the income tax of two years before (slow, and data we do not have). A couple
is two parents of one ``famille`` (the model then divides the resources by 1.7).

Living at home is not an input of the model: this module only answers for the APA at home.

Building the tax-benefit system takes seconds: it is built once per process (call ``warm_up`` in a
background thread at start-up); one estimate then takes milliseconds.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from openfisca_core.taxbenefitsystems import TaxBenefitSystem

FIRST_MONTH = dt.date(2002, 1, 1)
"""The APA exists since January 2002 (loi 2001-647); the model has no formula before."""
MAX_AGE = 130
MAX_CENTS = 10**12
"""Upper bound of an amount (10 000 000 000 € a month): beyond it, the model's float32 inputs overflow."""
APPLICANT = "demandeur"
SPOUSE = "conjoint"
ELIGIBLE_GIRS = (1, 2, 3, 4)
"""The GIRs the model gives a plan ceiling (GIR 5 and 6 have no APA)."""


MAX_PARTICIPATION_RATE = 0.9
"""The beneficiary pays at most 90 % of the help plan (CASF R.232-11)."""


@dataclass(frozen=True)
class ApaEstimate:
    """One month of APA at home, as computed by OpenFisca-France. Amounts in integer cents."""

    eligible: bool
    """``apa_eligibilite``: GIR 1-4 and age >= 60 (living at home is assumed, not modelled)."""
    plan_ceiling_cents: int
    """Monthly ceiling of the help plan for this GIR (from the model's parameters); 0 for GIR 5-6."""
    plan_cents: int
    """``dependance_plan_aide_domicile_accepte``: the plan given, capped at the ceiling (the ceiling if
    none was given); 0 for GIR 5-6."""
    participation_rate: float
    """``apa_domicile_taux_participation``: 0.0 to 0.9 of the plan; 0.0 when the plan is nil."""
    participation_cents: int
    """``apa_domicile_participation``: the beneficiary's monthly contribution to the plan. When the APA
    is not paid (``apa_cents == 0``: not eligible, or below the payment threshold) the whole plan is
    at the person's expense, whatever this figure."""
    apa_cents: int
    """``apa_domicile``: the monthly APA paid by the département. When paid, it is exactly
    ``plan_cents - participation_cents`` (as in the model, without a cent of rounding drift)."""
    model_version: str
    """The ``openfisca-france`` version that computed it."""


_BUILD_LOCK = threading.Lock()


@functools.cache
def _build() -> TaxBenefitSystem:
    from openfisca_france import CountryTaxBenefitSystem

    return CountryTaxBenefitSystem()


def tax_benefit_system() -> TaxBenefitSystem:
    """The French tax-benefit system, built once per process (a few seconds the first time).

    The lock makes concurrent first calls wait for one build instead of building twice.
    """
    with _BUILD_LOCK:
        return _build()


def warm_up() -> None:
    """Build the tax-benefit system now (meant for a background thread at start-up)."""
    tax_benefit_system()


@functools.cache
def model_version() -> str:
    """The installed ``openfisca-france`` version."""
    return version("openfisca-france")


def estimate_apa(
    *,
    gir: int,
    monthly_income_cents: int,
    month: dt.date,
    age: int = 80,
    plan_cents: int | None = None,
    couple: bool = False,
) -> ApaEstimate:
    """Estimate the APA at home for ``month`` (its day is ignored).

    ``monthly_income_cents`` are the monthly resources of the household as the APA counts them
    (``base_ressources_apa``: for a couple, both spouses' together). ``plan_cents`` is the monthly help
    plan; without it, the ceiling of the GIR is used. Raises ``ValueError`` on invalid arguments.
    """
    _check_int("gir", gir, 1, 6)
    _check_int("monthly_income_cents", monthly_income_cents, 0, MAX_CENTS)
    _check_int("age", age, 0, MAX_AGE)
    if plan_cents is not None:
        _check_int("plan_cents", plan_cents, 0, MAX_CENTS)
    if not isinstance(couple, bool):
        raise ValueError(f"couple must be a bool, got {couple!r}")
    if not isinstance(month, dt.date):
        raise ValueError(f"month must be a datetime.date, got {month!r}")
    if (month.year, month.month) < (FIRST_MONTH.year, FIRST_MONTH.month):
        raise ValueError(
            f"month must be {FIRST_MONTH:%Y-%m} or later (the APA starts then), got {month:%Y-%m}"
        )

    tbs = tax_benefit_system()
    period = f"{month.year:04d}-{month.month:02d}"
    ceiling_cents = _plan_ceiling_cents(tbs, gir, period)
    situation = _situation(
        gir=gir,
        income=monthly_income_cents / 100,
        plan=(ceiling_cents if plan_cents is None else plan_cents) / 100,
        age=age,
        couple=couple,
        period=period,
    )

    from openfisca_core.simulation_builder import SimulationBuilder

    simulation = SimulationBuilder().build_from_entities(tbs, situation)
    index = list(simulation.persons.ids).index(APPLICANT)

    def value(variable: str) -> Any:
        # The spouse has no plan: the model's rate divides 0 by 0 for them (nan, ignored).
        with np.errstate(divide="ignore", invalid="ignore"):
            return simulation.calculate(variable, period)[index]

    eligible = bool(value("apa_eligibilite"))
    accepted_cents = _cents(value("dependance_plan_aide_domicile_accepte"))
    participation_cents = _cents(value("apa_domicile_participation"))
    paid = float(value("apa_domicile")) > 0
    rate = _decimal(value("apa_domicile_taux_participation")) if accepted_cents > 0 else Decimal(0)
    return ApaEstimate(
        eligible=eligible,
        plan_ceiling_cents=ceiling_cents,
        plan_cents=accepted_cents,
        # The model computes in float32 (0.9 comes back as 0.90000004): six decimals, within 0..0.9.
        participation_rate=min(max(round(float(rate), 6), 0.0), MAX_PARTICIPATION_RATE),
        participation_cents=participation_cents,
        apa_cents=accepted_cents - participation_cents if paid else 0,
        model_version=model_version(),
    )


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be from {low} to {high}, got {value}")


def _plan_ceiling_cents(tbs: TaxBenefitSystem, gir: int, period: str) -> int:
    """Ceiling of the help plan for ``gir``: the model's share of the MTP times the MTP, to the cent."""
    if gir not in ELIGIBLE_GIRS:
        return 0
    # The two leaves only: ``tbs.parameters(period)`` would rebuild the whole tree (~0.1 s) each time.
    autonomie = tbs.parameters.prestations_sociales.prestations_etat_de_sante.perte_autonomie_personnes_agees
    instant = f"{period}-01"
    share = getattr(autonomie.apa_domicile.plafond_apa_domicile_en_part_mtp, f"gir_{gir}")(instant)
    euros = Decimal(str(share)) * Decimal(str(autonomie.mtp(instant)))
    return int((euros * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _situation(
    *, gir: int, income: float, plan: float, age: int, couple: bool, period: str
) -> dict[str, Any]:
    """The model's entities for one applicant (and their spouse), inputs set for ``period`` only."""
    individuals: dict[str, dict[str, Any]] = {
        APPLICANT: {
            "age": {period: age},
            "gir": {period: f"gir_{gir}"},
            "base_ressources_apa": {period: income},
            "dependance_plan_aide_domicile": {period: plan},
        }
    }
    parents = [APPLICANT]
    menage: dict[str, list[str]] = {"personne_de_reference": [APPLICANT]}
    if couple:
        # The household's resources are the spouse's too: given, so the model never derives them.
        individuals[SPOUSE] = {"base_ressources_apa": {period: income}}
        parents.append(SPOUSE)
        menage["conjoint"] = [SPOUSE]
    return {
        "individus": individuals,
        "familles": {"famille": {"parents": parents}},
        "foyers_fiscaux": {"foyer_fiscal": {"declarants": parents}},
        "menages": {"menage": menage},
    }


def _decimal(value: Any) -> Decimal:
    """A model float (float32) as the shortest decimal reading back to it (2080.3298, not 2080.32983...)."""
    return Decimal(np.format_float_positional(np.float32(value), unique=True, trim="-"))


def _cents(value: Any) -> int:
    """A model amount in euros as integer cents, rounded half-up."""
    return int((_decimal(value) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
