"""The death rule as a plain function."""

from __future__ import annotations

import datetime as dt

import pytest

from core.events.model import EventType, Priority, Target
from plugins.routing.death import death_actions
from tests.plugins.helpers import NOW, make_context, make_event


def test_the_coordinator_closes_the_file_within_a_week():
    died = NOW - dt.timedelta(hours=12)
    [proposal] = death_actions(make_event(EventType.DEATH, died), make_context())
    assert proposal.key == "close_file"
    assert proposal.action_type == "close_file"
    assert proposal.target == Target.role("coordinator")
    assert proposal.due_at == died + dt.timedelta(days=7)
    assert proposal.priority is Priority.ROUTINE


@pytest.mark.parametrize("type_", [EventType.HOSPITAL_DISCHARGE, EventType.FALL_AT_HOME, "deces"])
def test_other_event_types_get_nothing(type_):
    assert death_actions(make_event(type_, NOW), make_context()) == []
