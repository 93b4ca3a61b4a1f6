"""Eligibility rules declared as data by funder plugins, each explaining its answer in French.

A rule reads the person's :class:`~core.financing.situation.Situation` and the programme's
parameters for the territory, and answers *met*, *not met* or *unknown* (the information it needs is
missing) with one sentence a person understands. Rules are monotonic where the law is: more income
never turns an income ceiling from *not met* to *met*, a higher age never fails a minimum age.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from core import locale
from core.financing.parameters import Values
from core.financing.situation import PENSION_SCHEME_LABELS, Household, PensionScheme, Situation


class Outcome(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class RuleResult:
    rule: str
    outcome: Outcome
    explanation: str
    """One French sentence: why the condition is met, not met, or what is missing."""
    question: str | None = None
    """When unknown: the information to give (« Votre âge »)."""


class Rule(Protocol):
    """What every rule offers: a code (stable, for tests and exports) and an evaluation."""

    @property
    def code(self) -> str: ...

    def evaluate(self, situation: Situation, values: Values) -> RuleResult: ...


def _unknown(code: str, question: str) -> RuleResult:
    return RuleResult(code, Outcome.UNKNOWN, f"Information manquante : {question.lower()}.", question)


@dataclass(frozen=True)
class MinimumAge:
    parameter: str = "min_age"
    code: str = "min_age"

    def evaluate(self, situation: Situation, values: Values) -> RuleResult:
        need = values.number(self.parameter)
        if situation.age is None:
            return _unknown(self.code, "Votre âge")
        if situation.age >= need:
            return RuleResult(
                self.code, Outcome.MET, f"Âge : {situation.age} ans (au moins {need} ans requis)."
            )
        return RuleResult(
            self.code,
            Outcome.NOT_MET,
            f"Non éligible : il faut avoir au moins {need} ans ({situation.age} ans).",
        )


@dataclass(frozen=True)
class MaximumAge:
    parameter: str = "max_age"
    code: str = "max_age"

    def evaluate(self, situation: Situation, values: Values) -> RuleResult:
        limit = values.number(self.parameter)
        if situation.age is None:
            return _unknown(self.code, "Votre âge")
        if situation.age <= limit:
            return RuleResult(self.code, Outcome.MET, f"Âge : {situation.age} ans ({limit} ans au plus).")
        return RuleResult(
            self.code, Outcome.NOT_MET, f"Non éligible : réservé aux personnes de {limit} ans au plus."
        )


@dataclass(frozen=True)
class IncomeCeiling:
    """Monthly resources at most a ceiling, one for a single person and one for a couple."""

    single: str = "income_ceiling_single_cents"
    couple: str = "income_ceiling_couple_cents"
    code: str = "income_ceiling"

    def evaluate(self, situation: Situation, values: Values) -> RuleResult:
        ceilings = {
            Household.SINGLE: values.number(self.single),
            Household.COUPLE: values.number(self.couple),
        }
        low, high = situation.income_min_cents, situation.income_max_cents
        if low is None and high is None:
            return _unknown(self.code, "Vos ressources mensuelles")
        if situation.household is None:
            candidates = list(ceilings.values())
            if high is not None and high <= min(candidates):
                return RuleResult(self.code, Outcome.MET, "Ressources sous le plafond, seul ou en couple.")
            if low is not None and low > max(candidates):
                return RuleResult(
                    self.code,
                    Outcome.NOT_MET,
                    f"Non éligible : ressources au-dessus du plafond de {locale.money(max(candidates))} "
                    "par mois, même pour un couple.",
                )
            return _unknown(self.code, "Vivez-vous seul(e) ou en couple")
        ceiling = ceilings[situation.household]
        who = "pour une personne seule" if situation.household is Household.SINGLE else "pour un couple"
        if high is not None and high <= ceiling:
            return RuleResult(
                self.code,
                Outcome.MET,
                f"Ressources sous le plafond de {locale.money(ceiling)} par mois {who}.",
            )
        if low is not None and low > ceiling:
            return RuleResult(
                self.code,
                Outcome.NOT_MET,
                f"Non éligible : ressources au-dessus du plafond de {locale.money(ceiling)} par mois {who}.",
            )
        return _unknown(
            self.code, f"Vos ressources mensuelles exactes (plafond : {locale.money(ceiling)} {who})"
        )


@dataclass(frozen=True)
class PensionSchemeIn:
    """The main pension scheme is one of ``schemes`` (the funder's own retirees)."""

    schemes: tuple[PensionScheme, ...]
    code: str = "pension_scheme"

    def evaluate(self, situation: Situation, values: Values) -> RuleResult:
        wanted = " ou ".join(PENSION_SCHEME_LABELS[scheme] for scheme in self.schemes)
        if situation.pension_scheme is None:
            return _unknown(self.code, "Votre régime de retraite")
        if situation.pension_scheme in self.schemes:
            return RuleResult(self.code, Outcome.MET, f"Retraite principale : {wanted}.")
        return RuleResult(
            self.code,
            Outcome.NOT_MET,
            f"Non éligible : réservé aux retraités du {wanted} "
            f"(déclaré : {PENSION_SCHEME_LABELS[situation.pension_scheme]}).",
        )


@dataclass(frozen=True)
class GirBetween:
    """The autonomy level (GIR) is within the programme's range (GIR 1 is the most dependent)."""

    most: str = "gir_min"
    least: str = "gir_max"
    code: str = "gir"

    def evaluate(self, situation: Situation, values: Values) -> RuleResult:
        low, high = values.number(self.most), values.number(self.least)
        if situation.gir is None:
            return _unknown(self.code, "Votre niveau d'autonomie (GIR), s'il a été évalué")
        if low <= situation.gir <= high:
            return RuleResult(self.code, Outcome.MET, f"GIR {situation.gir} (GIR {low} à {high} requis).")
        return RuleResult(
            self.code,
            Outcome.NOT_MET,
            f"Non éligible : réservé aux GIR {low} à {high} (GIR {situation.gir}).",
        )


@dataclass(frozen=True)
class RecentDischarge:
    """Asked within ``max_days`` of a hospital discharge."""

    parameter: str = "max_days_after_discharge"
    code: str = "recent_discharge"

    def evaluate(self, situation: Situation, values: Values) -> RuleResult:
        limit = values.number(self.parameter)
        days = situation.days_since_discharge
        if days is None:
            return _unknown(self.code, "La date de votre sortie d'hôpital, si vous en sortez")
        if days <= limit:
            return RuleResult(
                self.code, Outcome.MET, f"Sortie d'hôpital il y a {days} jour(s) ({limit} jours au plus)."
            )
        return RuleResult(
            self.code,
            Outcome.NOT_MET,
            f"Non éligible : la demande doit suivre la sortie d'hôpital de {limit} jours au plus.",
        )


@dataclass(frozen=True)
class Declared:
    """A yes/no fact of the situation must be true (``field`` names the situation's attribute)."""

    field: str
    met: str
    not_met: str
    question: str
    code: str = ""

    def __post_init__(self) -> None:
        if not self.code:
            object.__setattr__(self, "code", self.field)

    def evaluate(self, situation: Situation, values: Values) -> RuleResult:
        value = getattr(situation, self.field)
        if value is None:
            return _unknown(self.code, self.question)
        if value:
            return RuleResult(self.code, Outcome.MET, self.met)
        return RuleResult(self.code, Outcome.NOT_MET, f"Non éligible : {self.not_met}")


@dataclass(frozen=True)
class LivesIn:
    """Lives in one of the communes of a parameter (an empty list: anywhere in the territory)."""

    parameter: str = "communes"
    code: str = "commune"

    def evaluate(self, situation: Situation, values: Values) -> RuleResult:
        communes = values.communes(self.parameter)
        if not communes:
            return RuleResult(self.code, Outcome.MET, "Ouvert à tout le territoire.")
        if situation.commune_insee is None:
            return _unknown(self.code, "Votre commune")
        if situation.commune_insee in communes:
            return RuleResult(self.code, Outcome.MET, "Vous habitez une commune couverte.")
        return RuleResult(
            self.code, Outcome.NOT_MET, "Non éligible : réservé aux habitants des communes couvertes."
        )
