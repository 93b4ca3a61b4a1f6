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
    from core.events.model import EventView, ProposedAction, RoutingContext

hookspec = pluggy.HookspecMarker("parcours")


@hookspec
def propose_actions(event: EventView, context: RoutingContext) -> list[ProposedAction] | Any:
    """Propose the actions a life event calls for.

    Called by the routing job once per event received by a tenant, for every
    plugin that tenant enabled, inside the transaction that stores the
    proposals (so a crash stores none of them, and a retry starts over).

    ``event`` is the event as declared (type, date, details); ``context``
    gives the person's situation at the event date (age, commune, living
    situation), the tenant's territory, and ``now`` (use it rather than the
    clock, so tests can move time).

    Return a list of :class:`core.events.model.ProposedAction` (possibly
    empty), or an awaitable of one. Each proposal carries a ``key`` unique
    within the plugin; the core stores a proposal once per event and key, so
    running the hook again for the same event adds nothing. Not firstresult:
    the proposals of all plugins are combined.
    """
