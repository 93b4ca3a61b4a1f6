"""Carer unavailable (illness, hospitalisation…): replace the carer, then look at the situation.

When the carer (aidant) who helps a person every day can no longer do it, the person must not stay
alone without help. The rule proposes, from the event date:

- temporary home help within 24 hours (urgent),
- a respite or temporary accommodation solution within 3 days, when the carer is in hospital or
  away for more than 7 days (``details.expected_until``),
- a social assessment by a social worker within 7 days.

Funding: the département's APA (allocation personnalisée d'autonomie) can pay for relief when the
carer is away, for people aged 60 or more (the "relais en cas d'hospitalisation du proche aidant"
of the 2015 law on the adaptation of society to ageing). When the territory enabled the
``funders.departement_apa`` funder plugin, the home help and the respite proposals suggest
``departement_apa``; the département checks the person's rights.
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
from plugins.routing.common import as_date, deadline, local_day

LONG_ABSENCE = dt.timedelta(days=7)
"""A carer away for longer than this calls for a respite solution."""
APA_FUNDER = "funders.departement_apa"
APA_MIN_AGE = 60


def needs_respite(event: EventView) -> bool:
    """True when the carer is in hospital or expected back more than 7 days after the event."""
    if event.details.get("reason") == "hospitalisation":
        return True
    until = as_date(event.details.get("expected_until"))
    return until is not None and until - local_day(event.occurred_at) > LONG_ABSENCE


def relief_funding(context: RoutingContext) -> tuple[str, ...]:
    """``("apa",)`` when the territory enabled the APA funder and the person is 60+."""
    if APA_FUNDER in context.funders and context.person.age >= APA_MIN_AGE:
        return ("apa",)
    return ()


def carer_actions(event: EventView, context: RoutingContext) -> list[ProposedAction]:
    """The proposals for one event (a plain function, tested as such)."""
    if event.type != EventType.CARER_UNAVAILABLE:
        return []
    start = event.occurred_at
    now = context.now
    funding = relief_funding(context)
    proposals = [
        ProposedAction(
            key="temporary_home_help",
            action_type="temporary_home_help",
            title="Mettre en place une aide à domicile en l'absence de l'aidant",
            target=Target.marketplace("home_help"),
            service_type="home_help",
            due_at=deadline(start, dt.timedelta(hours=24), now),
            priority=Priority.URGENT,
            suggested_funding=funding,
        )
    ]
    if needs_respite(event):
        proposals.append(
            ProposedAction(
                key="respite_care",
                action_type="respite_care",
                title="Trouver une solution de répit ou d'accueil temporaire",
                target=Target.marketplace("respite"),
                service_type="respite",
                due_at=deadline(start, dt.timedelta(days=3), now),
                suggested_funding=funding,
            )
        )
    proposals.append(
        ProposedAction(
            key="social_assessment",
            action_type="social_assessment",
            title="Évaluer la situation sociale en l'absence de l'aidant",
            target=Target.role("social_worker"),
            due_at=deadline(start, dt.timedelta(days=7), now),
        )
    )
    return proposals


@hookimpl
def propose_actions(event: EventView, context: RoutingContext) -> list[ProposedAction]:
    return carer_actions(event, context)
