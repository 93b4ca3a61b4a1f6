"""The carer-unavailable rule as a plain function."""

from __future__ import annotations

import datetime as dt

import pytest

from core.events.model import EventType, Priority, Target
from plugins.routing.carer_unavailable import carer_actions
from tests.plugins.helpers import by_key, make_context, make_event

START = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)  # 1 December in Paris too


def unavailable(**details):
    return make_event(EventType.CARER_UNAVAILABLE, START, **details)


def test_carer_ill_for_a_few_days():
    """Home help within 24 h (urgent) and a social assessment in 7 days; no respite for a short absence."""
    proposals = by_key(
        carer_actions(unavailable(reason="illness", expected_until="2026-12-05"), make_context())
    )
    assert list(proposals) == ["temporary_home_help", "social_assessment"]

    help_ = proposals["temporary_home_help"]
    assert help_.action_type == "temporary_home_help"
    assert help_.target == Target.marketplace("home_help")
    assert help_.service_type == "home_help"
    assert help_.priority is Priority.URGENT
    assert help_.due_at == START + dt.timedelta(hours=24)

    social = proposals["social_assessment"]
    assert social.action_type == "social_assessment"
    assert social.target == Target.role("social_worker")
    assert social.due_at == START + dt.timedelta(days=7)


def test_carer_in_hospital_calls_for_respite():
    proposals = by_key(carer_actions(unavailable(reason="hospitalisation"), make_context()))
    assert list(proposals) == ["temporary_home_help", "respite_care", "social_assessment"]
    respite = proposals["respite_care"]
    assert respite.action_type == "respite_care"
    assert respite.target == Target.marketplace("respite")
    assert respite.service_type == "respite"
    assert respite.due_at == START + dt.timedelta(days=3)


@pytest.mark.parametrize(
    ("expected_until", "respite"),
    [
        ("2026-12-08", False),  # exactly 7 days
        ("2026-12-09", True),  # 8 days
        (dt.date(2026, 12, 20), True),  # a date object works too
        (None, False),
        ("not a date", False),
    ],
)
def test_respite_when_away_more_than_a_week(expected_until, respite):
    details = {"reason": "other"}
    if expected_until is not None:
        details["expected_until"] = expected_until
    proposals = by_key(carer_actions(unavailable(**details), make_context()))
    assert ("respite_care" in proposals) is respite


def test_absence_is_counted_from_the_day_in_france():
    """23:30 UTC on 30 Nov is already 1 Dec in Paris: back on 9 Dec is 8 days away."""
    event = make_event(
        EventType.CARER_UNAVAILABLE,
        dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC),
        expected_until="2026-12-09",
    )
    assert "respite_care" in by_key(carer_actions(event, make_context(now=event.occurred_at)))


def test_apa_is_suggested_when_the_departement_funder_is_enabled():
    context = make_context(78, funders=["funders.departement_apa", "funders.carsat_ardh"])
    proposals = by_key(carer_actions(unavailable(reason="hospitalisation"), context))
    assert proposals["temporary_home_help"].suggested_funding == ("apa",)
    assert proposals["respite_care"].suggested_funding == ("apa",)
    assert proposals["social_assessment"].suggested_funding == ()


@pytest.mark.parametrize(
    ("age", "funders"),
    [(78, []), (78, ["funders.carsat_ardh"]), (45, ["funders.departement_apa"])],
)
def test_no_apa_without_its_funder_or_under_60(age, funders):
    proposals = carer_actions(unavailable(reason="hospitalisation"), make_context(age, funders=funders))
    assert all(p.suggested_funding == () for p in proposals)


def test_late_declaration_is_due_from_now():
    now = START + dt.timedelta(days=2)
    help_ = by_key(carer_actions(unavailable(), make_context(now=now)))["temporary_home_help"]
    assert help_.due_at == now + dt.timedelta(hours=4)


@pytest.mark.parametrize("type_", [EventType.FALL_AT_HOME, EventType.DEATH, "aidant"])
def test_other_event_types_get_nothing(type_):
    assert carer_actions(make_event(type_, START, reason="hospitalisation"), make_context()) == []
