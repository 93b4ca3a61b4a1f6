"""Hospital discharge of a fragile person: secure the first days at home.

A person aged 75 or more, or living alone, who leaves hospital is at high
risk of coming back within 30 days. The rule proposes, from the discharge
date:

- a home-help needs assessment by the territory's home-help services, due the
  day before discharge (so help is in place on day one),
- a nurse visit within 48 hours of discharge,
- a follow-up call by the GP (médecin traitant) at D+7.

References: HAS, « Sortie d'hospitalisation — points clés » (2014/2015) and
the CNAM PRADO programme, which schedule a nurse visit in the first 48 h and
a GP consultation within 7 days of discharge.
"""

from __future__ import annotations

import datetime as dt

from core import hookimpl
from core.events.model import (
    AssigneeKind,
    EventType,
    EventView,
    Priority,
    ProposedAction,
    RoutingContext,
)

FRAGILE_AGE = 75


def is_fragile(context: RoutingContext) -> bool:
    """True when the person is 75 or older, or lives alone."""
    return context.person.age >= FRAGILE_AGE or context.person.lives_alone is True


def discharge_actions(event: EventView, context: RoutingContext) -> list[ProposedAction]:
    """The proposals for one event (a plain function, tested as such)."""
    if event.type != EventType.HOSPITAL_DISCHARGE or not is_fragile(context):
        return []
    discharge = event.occurred_at
    assessment_due = max(discharge - dt.timedelta(days=1), context.now + dt.timedelta(hours=4))
    return [
        ProposedAction(
            key="home_help_assessment",
            action_type="home_help_assessment",
            title="Évaluer les besoins d'aide à domicile avant le retour",
            assignee_kind=AssigneeKind.ROLE,
            assignee="home_help_provider",
            due_at=assessment_due,
            priority=Priority.URGENT,
        ),
        ProposedAction(
            key="nurse_visit_48h",
            action_type="nurse_visit",
            title="Passage infirmier dans les 48 heures suivant la sortie",
            assignee_kind=AssigneeKind.ROLE,
            assignee="nurse",
            due_at=discharge + dt.timedelta(hours=48),
            priority=Priority.URGENT,
        ),
        ProposedAction(
            key="gp_call_d7",
            action_type="gp_follow_up_call",
            title="Appel de suivi par le médecin traitant à J+7",
            assignee_kind=AssigneeKind.ROLE,
            assignee="general_practitioner",
            due_at=discharge + dt.timedelta(days=7),
        ),
    ]


@hookimpl
def propose_actions(event: EventView, context: RoutingContext) -> list[ProposedAction]:
    return discharge_actions(event, context)
