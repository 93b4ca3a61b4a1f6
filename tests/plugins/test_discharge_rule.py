"""The hospital-discharge rule as a plain function: who is fragile, what is proposed, for whom, when."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.events.model import EventType, Priority, Target, TargetKind
from core.events.routing import check_proposal
from plugins.routing.discharge import discharge_actions
from tests.plugins.helpers import NOW, PARIS_WINTER, by_key, make_context, make_event

DISCHARGE = dt.datetime(2026, 12, 4, 11, 30, tzinfo=PARIS_WINTER)
HOME_RETURN = [
    "home_help_assessment",
    "nurse_visit_48h",
    "pharmacy_delivery",
    "gp_call_d7",
]
LEAD = dt.timedelta(hours=4)


def event(type_: str = EventType.HOSPITAL_DISCHARGE, occurred_at: dt.datetime = DISCHARGE, **details):
    return make_event(type_, occurred_at, ward="Gériatrie", **details)


def context(age: int, lives_alone: bool | None, now: dt.datetime = NOW):
    return make_context(age, lives_alone, now)


def test_84_year_old_living_alone_gets_the_five_proposals():
    """An 84-year-old living alone: assessment, nurse, pharmacy, GP call and the ARDH request."""
    proposals = by_key(discharge_actions(event(), context(84, True)))
    assert list(proposals) == [*HOME_RETURN, "ardh_request"]

    assessment = proposals["home_help_assessment"]
    assert assessment.action_type == "home_help_assessment"
    assert assessment.target == Target(TargetKind.MARKETPLACE, "home_help")
    assert assessment.service_type == "home_help"
    assert assessment.due_at == DISCHARGE - dt.timedelta(days=1)
    assert assessment.priority is Priority.URGENT

    nurse = proposals["nurse_visit_48h"]
    assert nurse.action_type == "nurse_visit"
    assert nurse.target == Target.marketplace("home_nursing")
    assert nurse.due_at == dt.datetime(2026, 12, 6, 11, 30, tzinfo=PARIS_WINTER)
    assert nurse.priority is Priority.URGENT

    pharmacy = proposals["pharmacy_delivery"]
    assert pharmacy.action_type == "pharmacy_delivery"
    assert pharmacy.target == Target.marketplace("pharmacy_delivery")
    assert pharmacy.service_type == "pharmacy_delivery"
    assert pharmacy.due_at == dt.datetime(2026, 12, 5, 11, 30, tzinfo=PARIS_WINTER)

    gp_call = proposals["gp_call_d7"]
    assert gp_call.action_type == "gp_follow_up_call"
    assert gp_call.target == Target(TargetKind.CARE_TEAM, "gp_practice")
    assert gp_call.due_at == dt.datetime(2026, 12, 11, 11, 30, tzinfo=PARIS_WINTER)
    assert gp_call.priority is Priority.ROUTINE

    ardh = proposals["ardh_request"]
    assert ardh.action_type == "funding_request"
    assert ardh.target == Target(TargetKind.ROLE, "social_worker")
    assert ardh.suggested_funding == ("ardh",)
    assert ardh.title == "Demander l'aide au retour à domicile (ARDH) à la CARSAT"
    assert ardh.due_at == DISCHARGE + dt.timedelta(days=2)


def test_assessment_due_soon_when_discharge_is_imminent():
    """When discharge is in a few hours, the assessment is due 4 h from now, not in the past."""
    now = DISCHARGE - dt.timedelta(hours=6)
    assessment = by_key(discharge_actions(event(), context(84, True, now)))["home_help_assessment"]
    assert assessment.due_at == now + LEAD


def test_discharge_declared_late_gets_deadlines_from_now():
    """A discharge routed 10 days late: nothing is due in the past, everything in 4 hours."""
    now = DISCHARGE + dt.timedelta(days=10)
    proposals = discharge_actions(event(), context(84, True, now))
    assert len(proposals) == 5
    assert {p.due_at for p in proposals} == {now + LEAD}


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
def test_fragile_retiree_gets_the_home_return_and_the_ardh(age, lives_alone):
    """A person aged 75 or more, or living alone, and aged 60+: the four measures and the ARDH."""
    proposals = discharge_actions(event(), context(age, lives_alone))
    assert [p.key for p in proposals] == [*HOME_RETURN, "ardh_request"]


@pytest.mark.parametrize("age", [0, 30, 59])
def test_under_60_living_alone_gets_no_ardh(age):
    """Living alone makes a young person fragile, but the ARDH is for retirees (60+)."""
    proposals = discharge_actions(event(), context(age, True))
    assert [p.key for p in proposals] == HOME_RETURN
    assert not any(p.suggested_funding for p in proposals)


@pytest.mark.parametrize(
    ("age", "lives_alone"), [(50, False), (60, False), (60, None), (74, False), (74, None), (0, None)]
)
def test_person_neither_old_nor_alone_gets_nothing(age, lives_alone):
    """Under 75 and not known to live alone (e.g. a 50-year-old living with family): no proposal."""
    assert discharge_actions(event(), context(age, lives_alone)) == []


def test_going_to_a_nursing_home_gets_only_the_gp_call():
    """No home return: no home help, nurse, pharmacy delivery or ARDH; the GP still calls at D+7."""
    proposals = discharge_actions(event(destination="nursing_home"), context(84, True))
    assert [p.key for p in proposals] == ["gp_call_d7"]
    assert proposals[0].target == Target.care_team("gp_practice")


@pytest.mark.parametrize("destination", ["home", "other"])
def test_other_destinations_get_the_home_return(destination):
    proposals = discharge_actions(event(destination=destination), context(84, True))
    assert [p.key for p in proposals] == [*HOME_RETURN, "ardh_request"]


@pytest.mark.parametrize("type_", [EventType.HOSPITAL_ADMISSION, EventType.FALL_AT_HOME, ""])
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
    destination=st.sampled_from([None, "home", "nursing_home", "other"]),
    discharge=aware,
    now=aware,
)
def test_proposals_follow_the_rule_for_any_person_and_dates(age, lives_alone, destination, discharge, now):
    """For any age, living situation, destination and dates: the right proposals, due in time."""
    details = {} if destination is None else {"destination": destination}
    proposals = discharge_actions(event(occurred_at=discharge, **details), context(age, lives_alone, now))
    fragile = age >= 75 or lives_alone is True
    assert bool(proposals) == fragile
    if not fragile:
        return
    for proposal in proposals:
        assert proposal.target.value.strip()
        assert proposal.title.strip()
        assert proposal.due_at.utcoffset() is not None  # timezone-aware
        assert proposal.due_at >= now + LEAD  # never due in the past
        assert check_proposal("routing.discharge", proposal) is proposal  # what the core accepts
    kinds = by_key(proposals)

    def due(delta: dt.timedelta) -> dt.datetime:
        return max(discharge + delta, now + LEAD)

    assert kinds["gp_call_d7"].due_at == due(dt.timedelta(days=7))
    if destination == "nursing_home":
        assert list(kinds) == ["gp_call_d7"]
        return
    assert list(kinds) == HOME_RETURN + (["ardh_request"] if age >= 60 else [])
    day_before = discharge - dt.timedelta(days=1)
    if day_before >= now + LEAD:
        assert kinds["home_help_assessment"].due_at == day_before
    else:  # discharge imminent or past: as soon as possible
        assert kinds["home_help_assessment"].due_at == now + LEAD
    assert kinds["nurse_visit_48h"].due_at == due(dt.timedelta(hours=48))
    assert kinds["pharmacy_delivery"].due_at == due(dt.timedelta(hours=24))
    if age >= 60:
        assert kinds["ardh_request"].due_at == due(dt.timedelta(days=2))


@given(age=st.integers(min_value=0, max_value=74), lives_alone=st.sampled_from([False, None]), when=aware)
def test_younger_people_not_living_alone_never_get_proposals(age, lives_alone, when):
    """Nobody under 75 who is not known to live alone gets a proposal, whatever the dates."""
    assert discharge_actions(event(occurred_at=when), context(age, lives_alone, when)) == []
