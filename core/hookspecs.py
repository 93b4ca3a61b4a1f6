"""Every hook a Parcours plugin can implement.

Plugins implement hooks with ``@core.hookimpl``, using the same function name
and any subset of the argument names. A hook may return a value or an
awaitable; the core awaits it. Each hook below says when it is called, what
it receives and what it returns. ``docs/plugin_hooks.md`` documents each one
for plugin authors (a test keeps the two in step).

Hooks are only ever called for the plugins a tenant enabled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from core.events.catalogue import ActionTypeSpec, EventTypeSpec
    from core.events.model import EventView, ProposedAction, RoutingContext
    from core.funders import BaseFunder

hookspec = pluggy.HookspecMarker("parcours")


@hookspec
def propose_actions(event: EventView, context: RoutingContext) -> list[ProposedAction] | Any:
    """Propose the actions a life event calls for.

    Called by the routing job once per event received by a tenant, for every
    plugin that tenant enabled, inside the transaction that stores the
    proposals (so a crash stores none of them, and a retry starts over).

    ``event`` is the event as declared (type, date, details validated for its type); ``context``
    gives the person's situation at the event date (age, commune, living alone, has a carer), their
    care team (organisation kinds and roles, no names), the types of their other recent events, the
    territory, the funder plugins it enabled, and ``now`` (use it rather than the clock, so tests
    can move time).

    Return a list of :class:`core.events.model.ProposedAction` (possibly
    empty), or an awaitable of one. Each names a :class:`core.events.model.Target` (a user, an
    organisation, a role, the care team's organisation of a kind, or a provider to pick from the
    marketplace), a timezone-aware deadline, a priority and suggested funding programmes; the core
    resolves the target into an assignee and follows the proposal through its statuses. Each
    proposal carries a ``key`` unique within the plugin; the core stores a proposal once per event
    and key, so running the hook again for the same event adds nothing. Not firstresult: the
    proposals of all plugins are combined.
    """


@hookspec
def event_types() -> list[EventTypeSpec] | Any:
    """Declare kinds of life event beyond the core's catalogue.

    Called when a territory's catalogue is built (at intake, in pages listing event types), for the
    plugins that territory enabled. Receives nothing. Returns a list of
    :class:`core.events.catalogue.EventTypeSpec`: a code, a French label, the category of the
    person's data the event belongs to (it decides, through consent, who may see it), a msgspec
    structure validating its details, whether it counts as a readmission after a discharge, and
    whether the person or a carer may declare it. A code the core already defines is ignored (core
    types cannot be redefined). Not firstresult: every plugin's types are added.
    """


@hookspec
def action_types() -> list[ActionTypeSpec] | Any:
    """Declare kinds of action that proposals may ask for, beyond the core's catalogue.

    Called with :func:`event_types`, for the plugins a territory enabled. Receives nothing.
    Returns a list of :class:`core.events.catalogue.ActionTypeSpec` (code, French label, and the
    marketplace service type that delivers it, if any). Proposals whose ``action_type`` is in
    neither catalogue are still stored; pages then show the raw code. Not firstresult.
    """


@hookspec
def funders() -> list[type[BaseFunder]] | Any:
    """Declare funders and their programmes for the single window of funding.

    Called when a territory's funders are loaded (eligibility, funding requests, the funder console,
    the public simulator), for the plugins that territory enabled. Receives nothing. Returns a list
    of :class:`core.funders.BaseFunder` subclasses — classes, not instances: the core instantiates
    each one for the territory with that territory's values of the programmes' parameters (ceilings,
    rates, delays), so a territory tunes them without code. Each class names its ``identifier``
    (conventionally the plugin name after ``funders.``), a French ``verbose_name`` and its
    ``programmes`` (:class:`core.funders.Programme`: eligibility rules with the sentence each one
    explains, parameters with the source and date of their defaults, required documents, marketplace
    service types covered, data categories needed — never medical — and references). A programme
    code must be unique across the platform; a second class declaring a known code is ignored.
    Not firstresult: every plugin's funders are added.
    """
