"""The fall-at-home rule as a plain function."""

from __future__ import annotations

import datetime as dt

import pytest

from core.events.model import EventType, Priority, Target
from plugins.routing.fall import fall_actions
from tests.plugins.helpers import NOW, by_key, make_context, make_event

FALL = NOW - dt.timedelta(hours=2)


def fall(**details):
    return make_event(EventType.FALL_AT_HOME, FALL, **details)


def test_first_fall_with_company_and_no_alarm():
    """GP within 72 h, assessment in 14 days, remote alarm in 7 days; no home help when not alone."""
    proposals = by_key(fall_actions(fall(), make_context(82, False)))
    assert list(proposals) == ["gp_visit_72h", "fall_prevention_assessment", "remote_alarm"]

    gp = proposals["gp_visit_72h"]
    assert gp.action_type == "gp_visit"
    assert gp.target == Target.care_team("gp_practice")
    assert gp.due_at == FALL + dt.timedelta(hours=72)
    assert gp.priority is Priority.ROUTINE

    assessment = proposals["fall_prevention_assessment"]
    assert assessment.action_type == "fall_prevention_assessment"
    assert assessment.target == Target.role("coordinator")
    assert assessment.due_at == FALL + dt.timedelta(days=14)
    assert assessment.priority is Priority.ROUTINE

    alarm = proposals["remote_alarm"]
    assert alarm.action_type == "remote_alarm"
    assert alarm.target == Target.marketplace("remote_alarm")
    assert alarm.service_type == "remote_alarm"
    assert alarm.due_at == FALL + dt.timedelta(days=7)


@pytest.mark.parametrize(
    ("details", "priority"),
    [
        ({"injured": True}, Priority.URGENT),
        ({"long_lie": True}, Priority.URGENT),
        ({"injured": True, "long_lie": True}, Priority.URGENT),
        ({"injured": False, "long_lie": False}, Priority.ROUTINE),
        ({}, Priority.ROUTINE),
    ],
)
def test_gp_visit_is_urgent_when_hurt_or_long_on_the_floor(details, priority):
    gp = by_key(fall_actions(fall(**details), make_context()))["gp_visit_72h"]
    assert gp.priority is priority


def test_titles_say_nothing_of_the_injury():
    """Titles may appear in notifications: no word about being hurt."""
    for proposal in fall_actions(fall(injured=True, long_lie=True), make_context(90, True)):
        assert "bless" not in proposal.title.lower()
        assert "sol" not in proposal.title.lower().split()


@pytest.mark.parametrize(("remote_alarm", "proposed"), [(True, False), (False, True), (None, True)])
def test_remote_alarm_unless_the_person_has_one(remote_alarm, proposed):
    details = {} if remote_alarm is None else {"remote_alarm": remote_alarm}
    proposals = by_key(fall_actions(fall(**details), make_context()))
    assert ("remote_alarm" in proposals) is proposed


@pytest.mark.parametrize(("lives_alone", "proposed"), [(True, True), (False, False), (None, False)])
def test_temporary_home_help_when_living_alone(lives_alone, proposed):
    proposals = by_key(fall_actions(fall(), make_context(70, lives_alone)))
    assert ("temporary_home_help" in proposals) is proposed
    if proposed:
        help_ = proposals["temporary_home_help"]
        assert help_.action_type == "temporary_home_help"
        assert help_.target == Target.marketplace("home_help")
        assert help_.due_at == FALL + dt.timedelta(days=3)


def test_a_repeated_fall_makes_the_assessment_urgent():
    """Another fall in the last 30 days: the prevention assessment becomes urgent."""
    context = make_context(recent_events=[EventType.HOSPITAL_DISCHARGE, EventType.FALL_AT_HOME])
    assessment = by_key(fall_actions(fall(), context))["fall_prevention_assessment"]
    assert assessment.priority is Priority.URGENT


def test_other_recent_events_do_not_make_it_a_repeated_fall():
    context = make_context(recent_events=[EventType.HOSPITAL_DISCHARGE, EventType.EMERGENCY_VISIT])
    assessment = by_key(fall_actions(fall(), context))["fall_prevention_assessment"]
    assert assessment.priority is Priority.ROUTINE


def test_fall_declared_late_is_due_from_now():
    """A fall declared 5 days later: the GP deadline (72 h) is past, so it is due in 4 hours."""
    now = FALL + dt.timedelta(days=5)
    proposals = by_key(fall_actions(fall(), make_context(now=now)))
    assert proposals["gp_visit_72h"].due_at == now + dt.timedelta(hours=4)
    assert proposals["fall_prevention_assessment"].due_at == FALL + dt.timedelta(days=14)


def test_person_with_everything_in_place_still_sees_the_gp_and_the_coordination():
    """Alarm already there, not alone: the GP visit and the assessment only."""
    proposals = fall_actions(fall(remote_alarm=True), make_context(50, False))
    assert [p.key for p in proposals] == ["gp_visit_72h", "fall_prevention_assessment"]


@pytest.mark.parametrize("type_", [EventType.HOSPITAL_DISCHARGE, EventType.CARER_UNAVAILABLE, "chute"])
def test_other_event_types_get_nothing(type_):
    assert fall_actions(make_event(type_, FALL), make_context(90, True)) == []
