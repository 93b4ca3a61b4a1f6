"""The teleconsultation rule as a plain function."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from core.events.model import EventType, Priority, Target
from plugins.routing.teleconsultation import teleconsultation_actions
from tests.plugins.helpers import NOW, by_key, make_context, make_event

PARIS = ZoneInfo("Europe/Paris")


def request(**details):
    return make_event(EventType.TELECONSULTATION_REQUEST, NOW - dt.timedelta(hours=1), **details)


def test_preferred_date_sets_the_deadline_at_the_end_of_that_day_in_paris():
    proposals = by_key(teleconsultation_actions(request(preferred_date="2026-12-10"), make_context()))
    assert list(proposals) == ["teleconsultation", "teleconsultation_scheduling"]

    tele = proposals["teleconsultation"]
    assert tele.action_type == "teleconsultation"
    assert tele.target == Target.marketplace("home_nursing")
    assert tele.service_type == "home_nursing"
    assert tele.due_at == dt.datetime(2026, 12, 10, 23, 59, tzinfo=PARIS)
    assert tele.due_at.utcoffset() == dt.timedelta(hours=1)  # winter time
    assert tele.priority is Priority.ROUTINE

    check = proposals["teleconsultation_scheduling"]
    assert check.action_type == "coordination_check"
    assert check.target == Target.care_team("gp_practice")
    assert check.due_at == dt.datetime(2026, 12, 9, 23, 59, tzinfo=PARIS)


def test_summer_dates_are_in_summer_time():
    now = dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC)
    event = make_event(EventType.TELECONSULTATION_REQUEST, now, preferred_date=dt.date(2026, 7, 3))
    tele = by_key(teleconsultation_actions(event, make_context(now=now)))["teleconsultation"]
    assert tele.due_at == dt.datetime(2026, 7, 3, 21, 59, tzinfo=dt.UTC)


@pytest.mark.parametrize("details", [{}, {"preferred_date": "2026-11-20"}, {"preferred_date": "demain"}])
def test_without_a_usable_preferred_date_it_is_due_in_three_days(details):
    """No date, a past date or an unreadable one: due 3 days from now."""
    proposals = by_key(teleconsultation_actions(request(**details), make_context()))
    assert proposals["teleconsultation"].due_at == NOW + dt.timedelta(days=3)
    assert proposals["teleconsultation_scheduling"].due_at == NOW + dt.timedelta(days=2)


def test_preferred_day_is_today_evening():
    """Asked for today (now 10:00 in Paris): due tonight; the scheduling check in 4 hours at the earliest."""
    proposals = by_key(teleconsultation_actions(request(preferred_date="2026-12-01"), make_context()))
    tonight = dt.datetime(2026, 12, 1, 23, 59, tzinfo=PARIS)
    assert proposals["teleconsultation"].due_at == tonight
    assert proposals["teleconsultation_scheduling"].due_at == NOW + dt.timedelta(hours=4)


def test_the_specialty_never_reaches_the_title():
    for proposal in teleconsultation_actions(request(specialty="Psychiatrie"), make_context()):
        assert "psychiatrie" not in proposal.title.lower()


@pytest.mark.parametrize("type_", [EventType.HOSPITAL_DISCHARGE, EventType.DEATH, "teleconsultation"])
def test_other_event_types_get_nothing(type_):
    assert teleconsultation_actions(make_event(type_, NOW), make_context()) == []
