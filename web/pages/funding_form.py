"""The situation questionnaire shared by the funding request form and the public simulator, and the
live eligibility of every programme of the territory.

The answers are strings as typed (``values``, given back to the form) read into a
:class:`~core.financing.situation.Situation`; every field may stay unanswered (« je ne sais pas »),
which the rules turn into « information manquante ». A wrong answer names its field in French.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from core import locale
from core.errors import FieldError, InvalidInput
from core.financing.registry import TerritoryFunders
from core.financing.situation import (
    INCOME_BRACKETS,
    PENSION_SCHEME_LABELS,
    Household,
    PensionScheme,
    Situation,
)
from core.funders import VERDICT_LABELS, Assessment, Programme, Verdict
from core.geo import communes

FIELDS = ("age", "commune", "sortie", "retraite", "agirc", "gir", "revenus", "foyer", "mutuelle", "contrat")
"""The questionnaire's fields (query parameters of the simulator, form fields of a request)."""
YES_NO = {"oui": True, "non": False}
HOUSEHOLDS: dict[str, tuple[str, Household, bool]] = {
    "seul": ("Personne seule, vit seule", Household.SINGLE, True),
    "seul-entoure": ("Personne seule, ne vit pas seule (enfant, proche…)", Household.SINGLE, False),
    "couple": ("En couple", Household.COUPLE, False),
}
"""Answer → (label, household, lives alone)."""
PENSION_CHOICES = [(scheme.value, label) for scheme, label in PENSION_SCHEME_LABELS.items()]
INCOME_CHOICES = [(code, label) for code, (_low, _high, label) in INCOME_BRACKETS.items()]
GIR_CHOICES = [(str(gir), f"GIR {gir}") for gir in range(1, 7)]
VERDICT_CLASSES = {
    Verdict.ELIGIBLE: "eligible",
    Verdict.NOT_ELIGIBLE: "not-eligible",
    Verdict.MISSING_INFORMATION: "missing",
}
REFERENCE_QUANTITIES: dict[str, tuple[int, str]] = {
    "hour": (10, "10 heures"),
    "meal": (30, "30 repas"),
    "month": (1, "1 mois"),
    "visit": (10, "10 passages"),
    "flat": (1, "le forfait"),
}
"""The quantity a quote is estimated for when only a unit price is known, and how the page says it."""


def read_values(source: Mapping[str, Any]) -> dict[str, str]:
    """The questionnaire's answers as typed (trimmed, bounded), from a query or a form."""
    values = {}
    for name in FIELDS:
        raw = source.get(name)
        values[name] = raw.strip()[: 80 if name == "commune" else 20] if isinstance(raw, str) else ""
    return values


def _number(values: dict[str, str], name: str, low: int, high: int, message: str, errors: list) -> int | None:
    text = values[name]
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        errors.append(FieldError(name, message))
        return None
    return int(text)


def _yes_no(values: dict[str, str], name: str, errors: list[FieldError]) -> bool | None:
    text = values[name]
    if not text:
        return None
    if text not in YES_NO:
        errors.append(FieldError(name, "répondez oui ou non"))
        return None
    return YES_NO[text]


def parse_situation(values: dict[str, str], departements: tuple[str, ...] = ()) -> Situation:
    """The situation the answers describe; :class:`InvalidInput` naming every wrong field.

    The commune may be typed by its name or INSEE code (homonyms: the territory's ``departements``
    first)."""
    errors: list[FieldError] = []
    age = _number(values, "age", 0, 130, "âge en années : un nombre entier de 0 à 130", errors)
    commune = None
    if values["commune"]:
        try:
            commune = communes.resolve(values["commune"], departements).code
        except InvalidInput as refused:
            errors.extend(refused.errors)
    days = _number(
        values, "sortie", 0, 3650, "nombre de jours depuis la sortie de l'hôpital, de 0 à 3 650", errors
    )
    pension = None
    if values["retraite"]:
        try:
            pension = PensionScheme(values["retraite"])
        except ValueError:
            errors.append(FieldError("retraite", "choisissez un régime de retraite proposé"))
    gir = _number(values, "gir", 1, 6, "le GIR va de 1 à 6", errors)
    income: dict[str, int | None] = {}
    if values["revenus"]:
        bracket = INCOME_BRACKETS.get(values["revenus"])
        if bracket is None:
            errors.append(FieldError("revenus", "choisissez une tranche de revenus proposée"))
        else:
            income = {"income_min_cents": bracket[0], "income_max_cents": bracket[1]}
    household = lives_alone = None
    if values["foyer"]:
        found = HOUSEHOLDS.get(values["foyer"])
        if found is None:
            errors.append(FieldError("foyer", "choisissez une situation de famille proposée"))
        else:
            _label, household, lives_alone = found
    agirc = _yes_no(values, "agirc", errors)
    mutuelle = _yes_no(values, "mutuelle", errors)
    contract = _yes_no(values, "contrat", errors)
    if errors:
        raise InvalidInput("réponses à corriger", errors)
    return Situation(
        age=age,
        commune_insee=commune,
        household=household,
        lives_alone=lives_alone,
        pension_scheme=pension,
        agirc_arrco=agirc,
        gir=gir,
        days_since_discharge=days,
        has_mutuelle=mutuelle,
        employer_contract=contract,
        **income,
    )


def situation_values(situation: Situation) -> dict[str, str]:
    """The answers a known situation gives (the request form prefilled from the person's file)."""

    def yes_no(value: bool | None) -> str:
        return "" if value is None else ("oui" if value else "non")

    household = ""
    if situation.household is not None or situation.lives_alone is not None:
        if situation.household is Household.COUPLE:
            household = "couple"
        elif situation.lives_alone:
            household = "seul"
        elif situation.household is Household.SINGLE:
            household = "seul-entoure"
    income = ""
    for code, (low, high, _label) in INCOME_BRACKETS.items():
        if (low, high) == (situation.income_min_cents, situation.income_max_cents):
            income = code
    return {
        "age": "" if situation.age is None else str(situation.age),
        "commune": communes.name_of(situation.commune_insee) if situation.commune_insee else "",
        "sortie": "" if situation.days_since_discharge is None else str(situation.days_since_discharge),
        "retraite": situation.pension_scheme.value if situation.pension_scheme else "",
        "agirc": yes_no(situation.agirc_arrco),
        "gir": "" if situation.gir is None else str(situation.gir),
        "revenus": income,
        "foyer": household,
        "mutuelle": yes_no(situation.has_mutuelle),
        "contrat": yes_no(situation.employer_contract),
    }


@dataclass(frozen=True)
class Answer:
    """One programme's answer for the situation, as the pages show it."""

    funder_label: str
    programme: Programme
    assessment: Assessment

    @property
    def code(self) -> str:
        return self.programme.code

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS[self.assessment.verdict]

    @property
    def verdict_class(self) -> str:
        return VERDICT_CLASSES[self.assessment.verdict]

    @property
    def eligible(self) -> bool:
        return self.assessment.verdict is Verdict.ELIGIBLE

    @property
    def possible(self) -> bool:
        """Not refused: eligible, or missing information."""
        return self.assessment.verdict is not Verdict.NOT_ELIGIBLE


def assess_now(funders: TerritoryFunders, situation: Situation, quote_cents: int | None) -> list[Answer]:
    """Every programme of the territory for ``situation``: eligible first, refused last."""
    answers = [
        Answer(funder.verbose_name, programme, funder.assess(programme, situation, quote_cents))
        for funder, programme in funders.programmes()
    ]
    order = {Verdict.ELIGIBLE: 0, Verdict.MISSING_INFORMATION: 1, Verdict.NOT_ELIGIBLE: 2}
    return sorted(answers, key=lambda a: (order[a.assessment.verdict], a.programme.label))


async def assess_all(
    funders: TerritoryFunders, situation: Situation, quote_cents: int | None
) -> list[Answer]:
    """:func:`assess_now` in a worker thread: a model (the APA's) may compute for a while."""
    return await anyio.to_thread.run_sync(assess_now, funders, situation, quote_cents)


def reference_quote(price_cents: int | None, unit: str | None) -> tuple[int, str] | None:
    """(The cost of the reference quantity, its words) for an offer's unit price; None without one."""
    if price_cents is None:
        return None
    quantity, words = REFERENCE_QUANTITIES.get(unit or "", (1, "une unité"))
    return price_cents * quantity, words


def checked_programmes(
    answers: list[Answer], posted: list[str] | None, previously_eligible: list[str] | None
) -> set[str]:
    """The programmes ticked after the eligibility changed: the user's choice where the verdict is the
    same as when it was shown, else (and at first) the eligible ones."""
    if posted is None or previously_eligible is None:
        return {a.code for a in answers if a.eligible}
    before = set(previously_eligible)
    chosen = set(posted)
    return {a.code for a in answers if (a.code in chosen if (a.code in before) == a.eligible else a.eligible)}


def money(cents: int | None) -> str:
    return "—" if cents is None else locale.money(cents)
