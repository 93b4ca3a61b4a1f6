"""Properties every built-in funder keeps, for any situation and any territory's settings.

The funders are found as the core finds them (the ``funders`` hook of the ``funders.*`` plugins), so
a new built-in funder is checked here without being listed. Situations are random (any field unknown),
territories override any parameter within its bounds. The APA's estimate asks OpenFisca (slow): the
rule properties use the APA without its estimate, and its estimate has a few examples of its own.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.consent.model import DataCategory
from core.financing.parameters import Parameter, Unit
from core.financing.rules import IncomeCeiling, MinimumAge, Outcome
from core.financing.situation import Household, PensionScheme, Situation
from core.funders import Assessment, BaseFunder, Estimate, Programme, Verdict
from core.plugins import create_plugin_manager

ROOT = Path(__file__).resolve().parents[2]
TAXONOMY = ROOT / "core" / "marketplace" / "taxonomy.toml"
MODEL_ESTIMATES = {"departement_apa"}
"""Funders whose estimate runs a model (OpenFisca): disabled in the rule properties."""
COMMUNES = ("40192", "40088", "33063", "2A004")
MAX_INCOME = 800_000


def builtin_funders() -> list[type[BaseFunder]]:
    pm = create_plugin_manager()
    return [
        cls
        for name, plugin in pm.list_name_plugin()
        if name and name.startswith("funders.")
        for cls in plugin.funders()
    ]


FUNDERS = builtin_funders()


def without_model(funder: type[BaseFunder]) -> type[BaseFunder]:
    """The funder with its model-based estimate switched off (same rules, same parameters)."""
    if funder.identifier not in MODEL_ESTIMATES:
        return funder

    class RulesOnly(funder):  # type: ignore[valid-type, misc]
        def estimate(self, programme: Programme, situation: Situation, quote_cents: int | None) -> None:
            return None

    return RulesOnly


RULE_FUNDERS = [without_model(funder) for funder in FUNDERS]
PROGRAMMES = [(funder, programme) for funder in RULE_FUNDERS for programme in funder.programmes]


# Strategies ---------------------------------------------------------------------------------------


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def incomes(draw: st.DrawFn) -> dict[str, int | None]:
    low = draw(maybe(st.integers(0, MAX_INCOME)))
    high = draw(maybe(st.integers(low or 0, MAX_INCOME)))
    return {"income_min_cents": low, "income_max_cents": high}


@st.composite
def situations(draw: st.DrawFn) -> Situation:
    return Situation(
        age=draw(maybe(st.integers(0, 120))),
        commune_insee=draw(maybe(st.sampled_from(COMMUNES))),
        household=draw(maybe(st.sampled_from(Household))),
        lives_alone=draw(maybe(st.booleans())),
        pension_scheme=draw(maybe(st.sampled_from(PensionScheme))),
        agirc_arrco=draw(maybe(st.booleans())),
        gir=draw(maybe(st.integers(1, 6))),
        days_since_discharge=draw(maybe(st.integers(0, 400))),
        has_mutuelle=draw(maybe(st.booleans())),
        employer_contract=draw(maybe(st.booleans())),
        **draw(incomes()),
    )


def parameter_values(parameter: Parameter) -> st.SearchStrategy[Any]:
    if parameter.unit is Unit.COMMUNES:
        return st.lists(st.sampled_from(COMMUNES), max_size=3).map(tuple)
    if parameter.unit is Unit.FLAG:
        return st.booleans()
    return st.integers(parameter.minimum, min(parameter.maximum, 1_000_000))


@st.composite
def territories(draw: st.DrawFn, funder: type[BaseFunder]) -> BaseFunder:
    """The funder bound to a territory that overrides some of its parameters at random."""
    overrides: dict[str, dict[str, Any]] = {}
    for programme in funder.programmes:
        chosen = draw(st.lists(st.sampled_from(programme.parameters), unique=True, max_size=3))
        overrides[programme.code] = {p.key: draw(parameter_values(p)) for p in chosen}
    return funder(overrides)


@st.composite
def assessed(draw: st.DrawFn) -> tuple[BaseFunder, Programme]:
    funder, programme = draw(st.sampled_from(PROGRAMMES))
    return draw(territories(funder)), programme


def with_fields(situation: Situation, **changes: Any) -> Situation:
    values = {field: getattr(situation, field) for field in situation.__struct_fields__}
    return Situation(**{**values, **changes})


# Every assessment ------------------------------------------------------------------------------------


def check(assessment: Assessment, programme: Programme, quote_cents: int | None) -> None:
    assert [result.rule for result in assessment.results] == [rule.code for rule in programme.rules]
    assert assessment.explanation.strip()
    for result in assessment.results:
        assert result.explanation.strip()
        assert (result.question is not None) == (result.outcome is Outcome.UNKNOWN)
    outcomes = {result.outcome for result in assessment.results}
    if Outcome.NOT_MET in outcomes:
        assert assessment.verdict is Verdict.NOT_ELIGIBLE
        assert assessment.estimate is None
        assert assessment.explanation.startswith("Non éligible")
    elif Outcome.UNKNOWN in outcomes:
        assert assessment.verdict is Verdict.MISSING_INFORMATION
        assert assessment.questions
    else:
        assert assessment.verdict is Verdict.ELIGIBLE
    if assessment.estimate is not None:
        assert assessment.estimate.amount_cents >= 0
        assert assessment.estimate.explanation.strip()
        if quote_cents is not None:
            assert assessment.estimate.amount_cents <= quote_cents


@settings(max_examples=200, deadline=None)
@given(assessed(), situations(), maybe(st.integers(0, 1_000_000)))
def test_every_assessment_has_one_result_per_rule_and_an_explanation(bound, situation, quote_cents):
    funder, programme = bound
    check(funder.assess(programme, situation, quote_cents), programme, quote_cents)


# Monotonicity -------------------------------------------------------------------------------------------


def amount(estimate: Estimate | None) -> int | None:
    return None if estimate is None else estimate.amount_cents


@settings(max_examples=200, deadline=None)
@given(assessed(), situations(), st.integers(1, MAX_INCOME), maybe(st.integers(0, 1_000_000)))
def test_more_income_never_turns_a_refusal_into_eligibility(bound, situation, raise_by, quote_cents):
    funder, programme = bound
    low, high = situation.income_min_cents, situation.income_max_cents
    richer = with_fields(
        situation,
        income_min_cents=None if low is None else low + raise_by,
        income_max_cents=None if high is None else high + raise_by,
    )
    before = funder.assess(programme, situation, quote_cents)
    after = funder.assess(programme, richer, quote_cents)
    if before.verdict is Verdict.NOT_ELIGIBLE:
        assert after.verdict is Verdict.NOT_ELIGIBLE
    for rule, was, now in zip(programme.rules, before.results, after.results, strict=True):
        if isinstance(rule, IncomeCeiling):
            if was.outcome is Outcome.NOT_MET:
                assert now.outcome is Outcome.NOT_MET
            if now.outcome is Outcome.MET:
                assert was.outcome is Outcome.MET
    if before.estimate is not None and after.estimate is not None:
        assert after.estimate.amount_cents <= before.estimate.amount_cents


@settings(max_examples=200, deadline=None)
@given(assessed(), situations(), st.integers(0, 60))
def test_getting_older_never_fails_a_minimum_age_that_passed(bound, situation, years):
    funder, programme = bound
    if situation.age is None:
        return
    older = with_fields(situation, age=min(130, situation.age + years))
    before = funder.assess(programme, situation)
    after = funder.assess(programme, older)
    for rule, was, now in zip(programme.rules, before.results, after.results, strict=True):
        if isinstance(rule, MinimumAge) and was.outcome is Outcome.MET:
            assert now.outcome is Outcome.MET


FIELDS = [field for field in Situation.__struct_fields__ if not field.startswith("income_")]


@st.composite
def knowing_more(draw: st.DrawFn) -> tuple[Situation, Situation]:
    """A situation, and the same one with fewer fields known (and a wider income range)."""
    full = draw(situations())
    hidden = draw(st.lists(st.sampled_from(FIELDS), unique=True))
    less = with_fields(full, **dict.fromkeys(hidden))
    low, high = full.income_min_cents, full.income_max_cents
    income = draw(st.sampled_from(["same", "wider", "unknown"]))
    if income == "unknown":
        less = with_fields(less, income_min_cents=None, income_max_cents=None)
    elif income == "wider":
        wider_low = None if low is None else draw(maybe(st.integers(0, low)))
        wider_high = None if high is None else draw(maybe(st.integers(high, MAX_INCOME)))
        less = with_fields(less, income_min_cents=wider_low, income_max_cents=wider_high)
    return less, full


@settings(max_examples=200, deadline=None)
@given(assessed(), knowing_more())
def test_knowing_more_never_unrefuses(bound, pair):
    funder, programme = bound
    less, more = pair
    if funder.assess(programme, less).verdict is Verdict.NOT_ELIGIBLE:
        assert funder.assess(programme, more).verdict is Verdict.NOT_ELIGIBLE


# Declarations ------------------------------------------------------------------------------------------


def test_the_six_builtin_funders_are_found():
    assert sorted(funder.identifier for funder in FUNDERS) == [
        "agirc_arrco",
        "carsat_ardh",
        "ccas",
        "cpam",
        "departement_apa",
        "mutuelle_generic",
    ]


def test_programme_codes_are_unique():
    codes = [programme.code for funder in FUNDERS for programme in funder.programmes]
    assert len(codes) == len(set(codes))
    assert set(codes) == {
        "ardh",
        "cpam_aide_retour",
        "ccas_aide_facultative",
        "apa",
        "agirc_arrco_adm",
        "mutuelle_assistance",
    }


@pytest.mark.parametrize("funder", FUNDERS, ids=lambda f: f.identifier)
def test_declarations_are_complete_and_never_medical(funder):
    known = {service["code"] for service in tomllib.loads(TAXONOMY.read_text())["service_types"]}
    assert funder.verbose_name
    for programme in funder.programmes:
        assert DataCategory.MEDICAL not in programme.categories
        assert programme.categories
        assert programme.label and programme.summary and programme.references
        assert set(programme.service_types) <= known, set(programme.service_types) - known
        assert "decision_days" in {parameter.key for parameter in programme.parameters}
        rule_codes = [rule.code for rule in programme.rules]
        assert len(rule_codes) == len(set(rule_codes))


@pytest.mark.parametrize("funder", FUNDERS, ids=lambda f: f.identifier)
def test_every_parameter_default_passes_its_own_parse_and_is_sourced(funder):
    for programme in funder.programmes:
        values = funder().values(programme)
        for parameter in programme.parameters:
            assert parameter.parse(parameter.default) == parameter.default, parameter.key
            assert parameter.label and parameter.source.strip(), parameter.key
            assert isinstance(parameter.as_of, dt.date)
            assert values.show(parameter.key)


# The APA estimate (OpenFisca: few examples) ----------------------------------------------------------


@pytest.fixture(scope="module")
def apa() -> BaseFunder:
    (funder,) = [funder for funder in FUNDERS if funder.identifier == "departement_apa"]
    return funder()


@settings(max_examples=12, deadline=None)
@given(
    st.integers(1, 4),
    st.integers(0, 600_000),
    st.integers(0, 300_000),
    maybe(st.integers(0, 300_000)),
    st.sampled_from(Household),
)
def test_apa_never_grows_with_income_nor_exceeds_the_quote(
    apa, gir, income, raise_by, quote_cents, household
):
    (programme,) = apa.programmes
    situation = Situation(
        age=80, gir=gir, household=household, income_min_cents=income, income_max_cents=income
    )
    richer = with_fields(situation, income_min_cents=income + raise_by, income_max_cents=income + raise_by)
    before = apa.assess(programme, situation, quote_cents)
    after = apa.assess(programme, richer, quote_cents)
    assert before.verdict is after.verdict is Verdict.ELIGIBLE
    check(before, programme, quote_cents)
    assert before.estimate is not None and after.estimate is not None
    assert after.estimate.amount_cents <= before.estimate.amount_cents
    assert "OpenFisca-France" in before.estimate.explanation
