"""The alert rules (GP → social services, social services → GP) as a plain function."""

from __future__ import annotations

import datetime as dt

import pytest

from core.events.model import EventType, Priority, Target
from plugins.routing.alerts import alert_actions
from tests.plugins.helpers import NOW, make_context, make_event

SENT = NOW - dt.timedelta(minutes=30)


def alert(type_: str, **details):
    return make_event(type_, SENT, **details)


@pytest.mark.parametrize(
    ("urgency", "delay", "priority"),
    [
        ("urgent", dt.timedelta(hours=24), Priority.URGENT),
        ("routine", dt.timedelta(days=5), Priority.ROUTINE),
        (None, dt.timedelta(days=5), Priority.ROUTINE),
    ],
)
def test_gp_alert_asks_a_social_worker_for_an_assessment(urgency, delay, priority):
    details = {} if urgency is None else {"urgency": urgency}
    [proposal] = alert_actions(alert(EventType.GP_ALERT_TO_SOCIAL, **details), make_context())
    assert proposal.key == "social_assessment"
    assert proposal.action_type == "social_assessment"
    assert proposal.target == Target.role("social_worker")
    assert proposal.due_at == SENT + delay
    assert proposal.priority is priority


@pytest.mark.parametrize(
    ("urgency", "delay", "priority"),
    [
        ("urgent", dt.timedelta(hours=48), Priority.URGENT),
        ("routine", dt.timedelta(days=7), Priority.ROUTINE),
        (None, dt.timedelta(days=7), Priority.ROUTINE),
    ],
)
def test_social_alert_asks_the_gp_to_see_the_person(urgency, delay, priority):
    details = {} if urgency is None else {"urgency": urgency}
    [proposal] = alert_actions(alert(EventType.SOCIAL_ALERT_TO_GP, **details), make_context())
    assert proposal.key == "gp_visit"
    assert proposal.action_type == "gp_visit"
    assert proposal.target == Target.care_team("gp_practice")
    assert proposal.due_at == SENT + delay
    assert proposal.priority is priority


@pytest.mark.parametrize("type_", [EventType.GP_ALERT_TO_SOCIAL, EventType.SOCIAL_ALERT_TO_GP])
def test_the_subject_never_reaches_the_title(type_):
    """Titles may appear in notifications: the alert's subject stays out of them."""
    [proposal] = alert_actions(
        alert(type_, urgency="urgent", subject="Suspicion de maltraitance"), make_context()
    )
    assert "maltraitance" not in proposal.title.lower()
    assert "maltraitance" not in proposal.description.lower()


def test_an_alert_routed_late_is_due_from_now():
    now = SENT + dt.timedelta(days=3)
    [proposal] = alert_actions(alert(EventType.GP_ALERT_TO_SOCIAL, urgency="urgent"), make_context(now=now))
    assert proposal.due_at == now + dt.timedelta(hours=4)


@pytest.mark.parametrize("type_", [EventType.HOSPITAL_DISCHARGE, EventType.AUTONOMY_LOSS, "alert"])
def test_other_event_types_get_nothing(type_):
    assert alert_actions(alert(type_, urgency="urgent"), make_context()) == []
