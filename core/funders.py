"""The base class of funder plugins, and the programmes they declare.

A funder plugin (``plugins/funders/<name>.py``) subclasses :class:`BaseFunder` and returns the class
from the ``funders`` hook; the core instantiates it for one territory with that territory's settings
(pretix's ``BasePaymentProvider`` + ``SettingsSandbox`` pattern). A funder declares one or more
:class:`Programme`: who is eligible (rules, :mod:`core.financing.rules`), its tunable figures
(ceilings, rates, delays: :mod:`core.financing.parameters`, overridable per territory), the documents
to provide, the marketplace service types it pays for, and where its rules come from.

The default :meth:`BaseFunder.assess` evaluates the declared rules and estimates the amount as
« the lesser of the ceiling and the covered share of the quote »; a funder whose law is modelled
elsewhere (the APA by OpenFisca) overrides :meth:`BaseFunder.estimate`.

Employer branch funds (a later issue) are funders of the same kind: a subclass with its programmes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from core import locale
from core.consent.model import DataCategory
from core.financing.parameters import Parameter, Unit, Values
from core.financing.rules import Outcome, Rule, RuleResult
from core.financing.situation import Situation


@dataclass(frozen=True)
class Reference:
    """A source of a rule or of a default figure (law, circular, scale), cited to the user."""

    label: str
    url: str | None = None


@dataclass(frozen=True)
class RequiredDocument:
    code: str
    label: str


INSTRUCTION_CATEGORIES = frozenset({DataCategory.ADMINISTRATIVE, DataCategory.SOCIAL, DataCategory.FUNDING})
"""What a funder usually needs to instruct a request: identity, situation, funding (never medical)."""


# Parameters every programme has (a territory may tune them like the others).
def decision_days(default: int, source: str, as_of: dt.date) -> Parameter:
    return Parameter("decision_days", "Délai de décision visé", default, Unit.DAYS, source, as_of, 1, 365)


def max_amount(default: int, source: str, as_of: dt.date, label: str = "Montant maximal") -> Parameter:
    return Parameter("max_amount_cents", label, default, Unit.CENTS, source, as_of)


def coverage(default: int, source: str, as_of: dt.date) -> Parameter:
    return Parameter(
        "coverage_percent", "Part du devis prise en charge", default, Unit.PERCENT, source, as_of, 0, 100
    )


@dataclass(frozen=True)
class Programme:
    """One funding programme (an « aide ») of a funder."""

    code: str
    """Unique in the platform (``ardh``, ``apa``…): offers list the codes they accept."""
    label: str
    summary: str
    """One French sentence: what it pays for, for whom."""
    service_types: tuple[str, ...]
    """Marketplace service types it may pay for (codes of the taxonomy)."""
    rules: tuple[Rule, ...]
    parameters: tuple[Parameter, ...]
    """Must include ``decision_days``; the default estimate reads ``max_amount_cents``,
    ``coverage_percent`` and ``max_hours`` when declared."""
    required_documents: tuple[RequiredDocument, ...] = ()
    references: tuple[Reference, ...] = ()
    categories: frozenset[DataCategory] = INSTRUCTION_CATEGORIES
    """The categories of the person's data the funder needs to instruct a request (never medical)."""
    period_months: int | None = None
    """How long the help lasts once granted, when the programme has a fixed duration."""

    def __post_init__(self) -> None:
        keys = [parameter.key for parameter in self.parameters]
        if "decision_days" not in keys:
            raise ValueError(f"programme {self.code}: a decision_days parameter is required")
        if len(keys) != len(set(keys)):
            raise ValueError(f"programme {self.code}: duplicate parameter keys")
        if DataCategory.MEDICAL in self.categories:
            raise ValueError(f"programme {self.code}: funders never receive medical data")


class Verdict(StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    MISSING_INFORMATION = "missing_information"


VERDICT_LABELS = {
    Verdict.ELIGIBLE: "Éligible",
    Verdict.NOT_ELIGIBLE: "Non éligible",
    Verdict.MISSING_INFORMATION: "Information manquante",
}


@dataclass(frozen=True)
class Estimate:
    """What the programme would pay for a quote (or at most, without a quote), and how it was found."""

    amount_cents: int
    explanation: str


@dataclass(frozen=True)
class Assessment:
    """A programme's answer for one situation: verdict, every rule's sentence, an estimate."""

    funder: str
    funder_label: str
    programme: str
    programme_label: str
    verdict: Verdict
    results: tuple[RuleResult, ...]
    estimate: Estimate | None
    """Only for an eligible verdict (or one missing information: what it would be if eligible)."""

    @property
    def explanation(self) -> str:
        """The verdict in one French paragraph: refusals first, then what is missing."""
        refused = [r.explanation for r in self.results if r.outcome is Outcome.NOT_MET]
        if refused:
            return " ".join(refused)
        missing = [r.question for r in self.results if r.outcome is Outcome.UNKNOWN and r.question]
        if missing:
            return "Pour conclure, il manque : " + " ; ".join(q[0].lower() + q[1:] for q in missing) + "."
        return "Éligible : " + " ".join(r.explanation for r in self.results)

    @property
    def questions(self) -> tuple[str, ...]:
        return tuple(r.question for r in self.results if r.outcome is Outcome.UNKNOWN and r.question)


class BaseFunder:
    """A funder, bound to one territory's settings. Subclass it in a plugin.

    Class attributes to set: ``identifier`` (the plugin's name after ``funders.``, e.g.
    ``carsat_ardh``), ``verbose_name`` (French, shown to people) and ``programmes`` (a tuple of
    :class:`Programme`). Override :meth:`estimate` when the amount is computed by a model.
    """

    identifier: ClassVar[str]
    verbose_name: ClassVar[str]
    programmes: ClassVar[tuple[Programme, ...]]

    def __init__(self, overrides: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """``overrides`` maps a programme code to the territory's values of its parameters."""
        self._values = {p.code: Values(p.parameters, (overrides or {}).get(p.code)) for p in self.programmes}

    def values(self, programme: Programme) -> Values:
        """The programme's parameters for this territory."""
        return self._values[programme.code]

    def programme(self, code: str) -> Programme:
        for programme in self.programmes:
            if programme.code == code:
                return programme
        raise KeyError(code)

    def assess(
        self, programme: Programme, situation: Situation, quote_cents: int | None = None
    ) -> Assessment:
        """Evaluate every rule of ``programme`` for ``situation``; estimate unless refused."""
        values = self.values(programme)
        results = tuple(rule.evaluate(situation, values) for rule in programme.rules)
        outcomes = {result.outcome for result in results}
        if Outcome.NOT_MET in outcomes:
            verdict = Verdict.NOT_ELIGIBLE
        elif Outcome.UNKNOWN in outcomes:
            verdict = Verdict.MISSING_INFORMATION
        else:
            verdict = Verdict.ELIGIBLE
        estimate = None
        if verdict is not Verdict.NOT_ELIGIBLE:
            estimate = self.estimate(programme, situation, quote_cents)
        return Assessment(
            self.identifier, self.verbose_name, programme.code, programme.label, verdict, results, estimate
        )

    def estimate(
        self, programme: Programme, situation: Situation, quote_cents: int | None
    ) -> Estimate | None:
        """The amount the programme would pay: the lesser of its ceiling and its share of the quote,
        said with the hours of help it gives when it caps them (``max_hours``).

        ``None`` when the programme declares no ceiling (the funder decides case by case).
        """
        values = self.values(programme)
        if "max_amount_cents" not in values:
            return None
        ceiling = values.number("max_amount_cents")
        rate = values.number("coverage_percent") if "coverage_percent" in values else 100
        hours = f"{values.show('max_hours')} d'aide à domicile au plus. " if "max_hours" in values else ""
        if quote_cents is None:
            return Estimate(ceiling, f"{hours}Jusqu'à {locale.money(ceiling)}.")
        share = quote_cents * rate // 100
        amount = min(ceiling, share)
        if amount == ceiling and share > ceiling:
            return Estimate(amount, f"{hours}Plafond de {locale.money(ceiling)} atteint.")
        return Estimate(amount, f"{hours}{rate} % du devis ({locale.money(quote_cents)}).")


def remaining_share(quote_cents: int, covered: Sequence[int]) -> int:
    """What is left to the person once every funder's amount is deducted (never below zero)."""
    return max(0, quote_cents - sum(covered))
