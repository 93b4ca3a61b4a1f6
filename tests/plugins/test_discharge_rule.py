"""The hospital-discharge rule as a plain function: who is fragile, what is proposed, when it is due."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.events.model import EventType, EventView, PersonSituation, Priority, RoutingContext
from core.events.routing import check_proposal
from plugins.routing.discharge import discharge_actions

PARIS_WINTER = dt.timezone(dt.timedelta(hours=1))
DISCHARGE = dt.datetime(2026, 12, 4, 11, 30, tzinfo=PARIS_WINTER)
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def event(type_: str = EventType.HOSPITAL_DISCHARGE, occurred_at: dt.datetime = DISCHARGE) -> EventView:
    return EventView(id=uuid.uuid4(), type=type_, occurred_at=occurred_at, details={"ward": "Gériatrie"})


def context(age: int, lives_alone: bool | None, now: dt.datetime = NOW) -> RoutingContext:
    return RoutingContext(
        tenant_slug="landes",
        departements=("40",),
        person=PersonSituation(age=age, commune_insee="40192", lives_alone=lives_alone),
        now=now,
    )


def by_type(proposals):
    return {proposal.action_type: proposal for proposal in proposals}


def test_84_year_old_living_alone_gets_the_three_proposals():
    """An 84-year-old living alone leaving hospital gets assessment, nurse visit and GP call."""
    proposals = discharge_actions(event(), context(84, True))
    assert len(proposals) == 3
    kinds = by_type(proposals)
    assert set(kinds) == {"home_help_assessment", "nurse_visit", "gp_follow_up_call"}
    assert kinds["home_help_assessment"].due_at == DISCHARGE - dt.timedelta(days=1)
    assert kinds["home_help_assessment"].assignee == "home_help_provider"
    assert kinds["home_help_assessment"].priority is Priority.URGENT
    assert kinds["nurse_visit"].due_at == dt.datetime(2026, 12, 6, 11, 30, tzinfo=PARIS_WINTER)
    assert kinds["nurse_visit"].assignee == "nurse"
    assert kinds["nurse_visit"].priority is Priority.URGENT
    assert kinds["gp_follow_up_call"].due_at == dt.datetime(2026, 12, 11, 11, 30, tzinfo=PARIS_WINTER)
    assert kinds["gp_follow_up_call"].assignee == "general_practitioner"


def test_assessment_due_soon_when_discharge_is_imminent():
    """When discharge is in a few hours, the assessment is due 4 h from now, not in the past."""
    now = DISCHARGE - dt.timedelta(hours=6)
    assessment = by_type(discharge_actions(event(), context(84, True, now)))["home_help_assessment"]
    assert assessment.due_at == now + dt.timedelta(hours=4)


@pytest.mark.parametrize(
    ("age", "lives_alone"),
    [
        (60, True),  # alone, whatever the age
        (80, False),  # old, even with company
        (75, False),  # exactly 75
        (75, None),  # old, situation unknown
        (101, True),
    ],
)
def test_fragile_person_gets_three_proposals(age, lives_alone):
    """A person aged 75 or more, or living alone, gets the three proposals."""
    proposals = discharge_actions(event(), context(age, lives_alone))
    assert [p.action_type for p in proposals] == [
        "home_help_assessment",
        "nurse_visit",
        "gp_follow_up_call",
    ]


@pytest.mark.parametrize(
    ("age", "lives_alone"), [(60, False), (60, None), (74, False), (74, None), (0, None)]
)
def test_person_neither_old_nor_alone_gets_nothing(age, lives_alone):
    """Under 75 and not known to live alone: no proposal."""
    assert discharge_actions(event(), context(age, lives_alone)) == []


@pytest.mark.parametrize("type_", [EventType.HOSPITAL_ADMISSION, "fall_at_home", ""])
def test_other_event_types_get_nothing(type_):
    """Only a hospital discharge triggers the rule, even for a fragile person."""
    assert discharge_actions(event(type_), context(84, True)) == []


offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: dt.timezone(dt.timedelta(minutes=m))
)
aware = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=offsets)


@given(
    age=st.integers(min_value=0, max_value=120),
    lives_alone=st.sampled_from([True, False, None]),
    discharge=aware,
    now=aware,
)
def test_proposals_follow_the_rule_for_any_person_and_dates(age, lives_alone, discharge, now):
    """For any age, living situation and dates: proposals iff fragile, each well-formed and due in time."""
    proposals = discharge_actions(event(occurred_at=discharge), context(age, lives_alone, now))
    fragile = age >= 75 or lives_alone is True
    assert bool(proposals) == fragile
    if not fragile:
        return
    assert len(proposals) == 3
    keys = [p.key for p in proposals]
    assert len(set(keys)) == len(keys)
    for proposal in proposals:
        assert proposal.assignee.strip()
        assert proposal.title.strip()
        assert proposal.due_at.utcoffset() is not None  # timezone-aware
        assert check_proposal("routing.discharge", proposal) is proposal  # what the core accepts
    kinds = by_type(proposals)
    assessment = kinds["home_help_assessment"].due_at
    assert assessment >= now
    day_before = discharge - dt.timedelta(days=1)
    if day_before >= now + dt.timedelta(hours=4):
        assert assessment == day_before
    else:  # discharge imminent or past: as soon as possible
        assert assessment == now + dt.timedelta(hours=4)
    assert kinds["nurse_visit"].due_at - discharge == dt.timedelta(hours=48)
    assert kinds["gp_follow_up_call"].due_at - discharge == dt.timedelta(days=7)


@given(age=st.integers(min_value=0, max_value=74), lives_alone=st.sampled_from([False, None]), when=aware)
def test_younger_people_not_living_alone_never_get_proposals(age, lives_alone, when):
    """Nobody under 75 who is not known to live alone gets a proposal, whatever the dates."""
    assert discharge_actions(event(occurred_at=when), context(age, lives_alone, when)) == []
