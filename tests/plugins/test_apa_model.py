"""The APA at home as OpenFisca-France computes it, through ``plugins.funders.apa_model``.

The model is real (no mock): the tax-benefit system is built once for the module (a few seconds), then
each estimate is one small simulation. January 2026 is used throughout: the MTP is 1 288,13 € and the
published plan ceilings are 2 080,33 € (GIR 1) to 811,52 € (GIR 4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.funders.apa_model import ApaEstimate, estimate_apa, tax_benefit_system, warm_up

MONTH = dt.date(2026, 1, 1)
LOW_INCOME = 80_000
"""800 € a month: below the lower threshold (0.725 MTP = 933,89 €), so no participation."""
HIGH_INCOME = 1_000_000
"""10 000 € a month: above the upper threshold (2.67 MTP = 3 439,31 €), so the 90 % maximum."""


@pytest.fixture(scope="module", autouse=True)
def model() -> Iterator[None]:
    """Build the tax-benefit system once for the whole module (the cache keeps it for the process)."""
    warm_up()
    yield


def estimate(**kwargs: Any) -> ApaEstimate:
    kwargs.setdefault("month", MONTH)
    return estimate_apa(**kwargs)


def check_consistent(result: ApaEstimate, *, plan_given: int | None) -> None:
    """What holds for every estimate, whatever the inputs."""
    expected_plan = (
        result.plan_ceiling_cents if plan_given is None else min(plan_given, result.plan_ceiling_cents)
    )
    assert result.plan_cents == expected_plan
    assert 0.0 <= result.participation_rate <= 0.9
    assert 0 <= result.participation_cents <= result.plan_cents
    assert result.apa_cents in (0, result.plan_cents - result.participation_cents)
    if not result.eligible:
        assert result.apa_cents == 0


def test_the_system_is_built_once() -> None:
    assert tax_benefit_system() is tax_benefit_system()


def test_low_income_pays_nothing_and_gets_the_whole_plan() -> None:
    result = estimate(gir=1, monthly_income_cents=LOW_INCOME, plan_cents=150_000)

    assert result.eligible
    assert result.participation_rate == 0.0
    assert result.participation_cents == 0
    assert result.apa_cents == result.plan_cents == 150_000


def test_without_a_plan_the_ceiling_is_granted() -> None:
    result = estimate(gir=1, monthly_income_cents=0)

    assert result.plan_cents == result.plan_ceiling_cents == 208_033
    assert result.apa_cents == 208_033


def test_very_high_income_reaches_the_90_percent_rate() -> None:
    result = estimate(gir=2, monthly_income_cents=HIGH_INCOME, plan_cents=100_000)

    assert result.eligible
    assert result.participation_rate == 0.9
    assert result.participation_cents == 90_000
    assert result.apa_cents == 10_000


@pytest.mark.filterwarnings("error")
def test_the_largest_amounts_accepted_compute_cleanly() -> None:
    result = estimate(gir=3, monthly_income_cents=10**12, plan_cents=10**12)

    assert result.participation_rate == 0.9
    assert result.plan_cents == result.plan_ceiling_cents


def test_income_between_the_thresholds_gives_a_partial_rate() -> None:
    # 2 000 €: the smoothed formula of article R. 232-11 CASF, 289,09 € of a 1 000 € plan.
    result = estimate(gir=1, monthly_income_cents=200_000, plan_cents=100_000)

    assert result.participation_cents == 28_909
    assert result.participation_rate == pytest.approx(0.28909, abs=1e-5)
    assert result.apa_cents == 71_091


def test_a_couple_s_resources_are_divided_by_1_7() -> None:
    single = estimate(gir=1, monthly_income_cents=200_000, plan_cents=100_000)
    couple = estimate(gir=1, monthly_income_cents=200_000, plan_cents=100_000, couple=True)
    # 2 000 € for two counts as 1 176,47 € for one.
    alone_with_the_same_share = estimate(gir=1, monthly_income_cents=117_647, plan_cents=100_000)

    assert couple.participation_cents < single.participation_cents
    assert abs(couple.participation_cents - alone_with_the_same_share.participation_cents) <= 1


@pytest.mark.parametrize("gir", [5, 6])
def test_gir_5_and_6_are_not_eligible(gir: int) -> None:
    result = estimate(gir=gir, monthly_income_cents=LOW_INCOME, plan_cents=50_000)

    assert not result.eligible
    assert result.plan_ceiling_cents == result.plan_cents == 0
    assert result.apa_cents == result.participation_cents == 0
    assert result.participation_rate == 0.0


def test_under_60_is_not_eligible() -> None:
    result = estimate(gir=1, monthly_income_cents=LOW_INCOME, plan_cents=100_000, age=59)

    assert not result.eligible
    assert result.apa_cents == 0
    assert estimate(gir=1, monthly_income_cents=LOW_INCOME, plan_cents=100_000, age=60).eligible


def test_a_plan_above_the_ceiling_is_capped() -> None:
    result = estimate(gir=4, monthly_income_cents=LOW_INCOME, plan_cents=500_000)

    assert result.plan_ceiling_cents == 81_152
    assert result.plan_cents == 81_152
    assert result.apa_cents == 81_152


def test_ceilings_decrease_from_gir_1_to_gir_4() -> None:
    ceilings = [estimate(gir=gir, monthly_income_cents=0).plan_ceiling_cents for gir in (1, 2, 3, 4)]

    assert ceilings == sorted(ceilings, reverse=True)
    assert len(set(ceilings)) == 4
    assert ceilings[0] == 208_033 and ceilings[3] == 81_152  # published for 2026


def test_ceilings_follow_the_month() -> None:
    # Published for 2024: 1 955,60 €, 1 581,44 €, 1 143,09 €, 762,87 €.
    ceilings = [
        estimate(gir=gir, monthly_income_cents=0, month=dt.date(2024, 6, 1)).plan_ceiling_cents
        for gir in (1, 2, 3, 4)
    ]

    assert ceilings == [195_560, 158_144, 114_309, 76_287]


def test_the_day_of_the_month_is_ignored() -> None:
    first = estimate(gir=3, monthly_income_cents=150_000, month=dt.date(2026, 1, 1))
    last = estimate(gir=3, monthly_income_cents=150_000, month=dt.date(2026, 1, 31))

    assert first == last


def test_no_apa_below_the_payment_threshold() -> None:
    # 7,73 € of APA on a 30 € plan is below 3 hourly gross Smic (36,06 €): nothing is paid.
    result = estimate(gir=4, monthly_income_cents=300_000, plan_cents=3_000)

    assert result.eligible
    assert result.participation_cents == 2_227
    assert result.apa_cents == 0


def test_concurrent_estimates_agree_with_sequential_ones() -> None:
    cases = [{"gir": 1 + i % 4, "monthly_income_cents": 50_000 * i, "couple": i % 2 == 0} for i in range(12)]
    sequential = [estimate(**case) for case in cases]

    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda case: estimate(**case), cases))

    assert concurrent == sequential


def test_the_model_version_is_recorded() -> None:
    result = estimate(gir=1, monthly_income_cents=0)

    assert result.model_version == version("openfisca-france")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"gir": 0},
        {"gir": 7},
        {"gir": 2.0},
        {"gir": True},
        {"monthly_income_cents": -1},
        {"monthly_income_cents": 1000.5},
        {"monthly_income_cents": 10**12 + 1},
        {"age": -1},
        {"age": 131},
        {"plan_cents": -1},
        {"plan_cents": 10**12 + 1},
        {"couple": 1},
        {"month": "2026-01"},
        {"month": dt.date(2001, 12, 1)},
    ],
)
def test_bad_inputs_raise_value_error(kwargs: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"gir": 1, "monthly_income_cents": 0, "month": MONTH, **kwargs}

    with pytest.raises(ValueError):
        estimate_apa(**arguments)


@settings(max_examples=20, deadline=None)
@given(
    gir=st.integers(1, 4),
    plan=st.none() | st.integers(0, 300_000),
    incomes=st.lists(st.integers(0, 600_000), min_size=2, max_size=2).map(sorted),
    couple=st.booleans(),
)
def test_a_higher_income_never_lowers_the_participation(
    gir: int, plan: int | None, incomes: list[int], couple: bool
) -> None:
    lower, higher = (
        estimate(gir=gir, monthly_income_cents=income, plan_cents=plan, couple=couple) for income in incomes
    )

    check_consistent(lower, plan_given=plan)
    check_consistent(higher, plan_given=plan)
    assert higher.participation_cents >= lower.participation_cents
    assert higher.participation_rate >= lower.participation_rate
