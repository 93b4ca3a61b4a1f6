"""Fall at home: see the GP, prevent the next fall, make sure help can be called.

A fall at home, above all of an older person, announces further falls and loss of autonomy. The
rule proposes, from the date of the fall:

- a consultation or call by the GP (médecin traitant) within 72 hours, urgent when the person was
  hurt or stayed on the floor a long time (``injured`` / ``long_lie``),
- a fall-risk and home assessment by the coordination within 14 days, urgent when it is not the
  first fall of the last 30 days (another ``fall_at_home`` in ``context.recent_events``),
- the installation of a remote alarm (téléassistance) within 7 days, unless the details say the
  person already has one,
- temporary home help within 3 days when the person lives alone.

Titles say what to do, never what happened to the person (they may appear in notifications).

References: HAS, « Évaluation et prise en charge des personnes âgées faisant des chutes
répétées » (2009) and « Prévention des chutes accidentelles chez la personne âgée » (2005).
"""

from __future__ import annotations

import datetime as dt

from core import hookimpl
from core.events.model import (
    EventType,
    EventView,
    Priority,
    ProposedAction,
    RoutingContext,
    Target,
)
from plugins.routing.common import deadline


def is_repeated_fall(context: RoutingContext) -> bool:
    """True when another fall at home was declared in the last 30 days."""
    return EventType.FALL_AT_HOME in context.recent_events


def fall_actions(event: EventView, context: RoutingContext) -> list[ProposedAction]:
    """The proposals for one event (a plain function, tested as such)."""
    if event.type != EventType.FALL_AT_HOME:
        return []
    fall = event.occurred_at
    now = context.now
    details = event.details
    serious = details.get("injured") is True or details.get("long_lie") is True
    proposals = [
        ProposedAction(
            key="gp_visit_72h",
            action_type="gp_visit",
            title="Consultation ou appel du médecin traitant sous 72 heures",
            target=Target.care_team("gp_practice"),
            due_at=deadline(fall, dt.timedelta(hours=72), now),
            priority=Priority.URGENT if serious else Priority.ROUTINE,
        ),
        ProposedAction(
            key="fall_prevention_assessment",
            action_type="fall_prevention_assessment",
            title="Évaluer le risque de chute et l'aménagement du logement",
            target=Target.role("coordinator"),
            due_at=deadline(fall, dt.timedelta(days=14), now),
            priority=Priority.URGENT if is_repeated_fall(context) else Priority.ROUTINE,
        ),
    ]
    if details.get("remote_alarm") is not True:
        proposals.append(
            ProposedAction(
                key="remote_alarm",
                action_type="remote_alarm",
                title="Proposer et installer une téléassistance",
                target=Target.marketplace("remote_alarm"),
                service_type="remote_alarm",
                due_at=deadline(fall, dt.timedelta(days=7), now),
            )
        )
    if context.person.lives_alone is True:
        proposals.append(
            ProposedAction(
                key="temporary_home_help",
                action_type="temporary_home_help",
                title="Mettre en place une aide à domicile temporaire",
                target=Target.marketplace("home_help"),
                service_type="home_help",
                due_at=deadline(fall, dt.timedelta(days=3), now),
            )
        )
    return proposals


@hookimpl
def propose_actions(event: EventView, context: RoutingContext) -> list[ProposedAction]:
    return fall_actions(event, context)
