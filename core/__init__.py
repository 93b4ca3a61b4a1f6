"""Parcours core: tenants, identities, consent, audit and event routing.

The core never imports ``plugins``, ``tenants`` or ``web``. Plugins use
:data:`hookimpl` from here to implement the hooks declared in
:mod:`core.hookspecs`.
"""

import pluggy

hookimpl = pluggy.HookimplMarker("parcours")
"""Decorator marking a plugin function as the implementation of a hook."""

__all__ = ["hookimpl"]
