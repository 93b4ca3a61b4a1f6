"""Hospital discharge of a fragile person: secure the first days at home.

A person aged 75 or more, or living alone, who leaves hospital is at high risk of coming back
within 30 days. The rule proposes, from the discharge date:

- a home-help needs assessment by a home-help service, due the day before discharge (so help is
  in place on day one), or within 4 hours when the discharge is imminent,
- a nurse visit within 48 hours of discharge,
- the preparation and delivery of the medication by a pharmacy for the return (within 24 hours),
- a follow-up call by the GP (médecin traitant) at D+7,
- for people aged 60 or more (retirees), a request for the CARSAT "aide au retour à domicile après
  hospitalisation" (ARDH), made by a social worker, ideally before the discharge.

When the person does not go home (``details.destination == "nursing_home"``), only the GP call is
proposed: the home-return measures make no sense there.

References: HAS, « Sortie d'hospitalisation — points clés » (2014/2015) and the CNAM PRADO
programme, which schedule a nurse visit in the first 48 h and a GP consultation within 7 days of
discharge; CNAV / CARSAT action sociale, « Aide au retour à domicile après hospitalisation »
(ARDH), for retirees of the general scheme.
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

FRAGILE_AGE = 75
RETIREMENT_AGE = 60
"""From this age the ARDH may apply (the funder checks the person is a retiree of its scheme)."""


def is_fragile(context: RoutingContext) -> bool:
    """True when the person is 75 or older, or lives alone."""
    return context.person.age >= FRAGILE_AGE or context.person.lives_alone is True


def may_get_ardh(context: RoutingContext) -> bool:
    """True when the person is old enough for the CARSAT ARDH (60 or more).

    The ARDH is for retirees of the general scheme (régime général); Parcours does not know the
    person's pension scheme: the CARSAT checks the affiliation when it examines the request.
    """
    return context.person.age >= RETIREMENT_AGE


def discharge_actions(event: EventView, context: RoutingContext) -> list[ProposedAction]:
    """The proposals for one event (a plain function, tested as such)."""
    if event.type != EventType.HOSPITAL_DISCHARGE or not is_fragile(context):
        return []
    discharge = event.occurred_at
    now = context.now
    gp_call = ProposedAction(
        key="gp_call_d7",
        action_type="gp_follow_up_call",
        title="Appel de suivi par le médecin traitant à J+7",
        target=Target.care_team("gp_practice"),
        due_at=deadline(discharge, dt.timedelta(days=7), now),
    )
    if event.details.get("destination") == "nursing_home":
        return [gp_call]
    proposals = [
        ProposedAction(
            key="home_help_assessment",
            action_type="home_help_assessment",
            title="Évaluer les besoins d'aide à domicile avant le retour",
            target=Target.marketplace("home_help"),
            service_type="home_help",
            due_at=deadline(discharge, -dt.timedelta(days=1), now),
            priority=Priority.URGENT,
        ),
        ProposedAction(
            key="nurse_visit_48h",
            action_type="nurse_visit",
            title="Passage infirmier dans les 48 heures suivant la sortie",
            target=Target.marketplace("home_nursing"),
            service_type="home_nursing",
            due_at=deadline(discharge, dt.timedelta(hours=48), now),
            priority=Priority.URGENT,
        ),
        ProposedAction(
            key="pharmacy_delivery",
            action_type="pharmacy_delivery",
            title="Préparer et livrer les médicaments pour le jour du retour",
            target=Target.marketplace("pharmacy_delivery"),
            service_type="pharmacy_delivery",
            due_at=deadline(discharge, dt.timedelta(hours=24), now),
        ),
        gp_call,
    ]
    if may_get_ardh(context):
        proposals.append(
            ProposedAction(
                key="ardh_request",
                action_type="funding_request",
                title="Demander l'aide au retour à domicile (ARDH) à la CARSAT",
                description=(
                    "À demander de préférence avant la sortie. La CARSAT vérifie que la personne "
                    "est retraitée du régime général."
                ),
                target=Target.role("social_worker"),
                due_at=deadline(discharge, dt.timedelta(days=2), now),
                suggested_funding=("ardh",),
            )
        )
    return proposals


@hookimpl
def propose_actions(event: EventView, context: RoutingContext) -> list[ProposedAction]:
    return discharge_actions(event, context)
