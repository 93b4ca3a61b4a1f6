"""The plugin manager, and hook calls restricted to a tenant's enabled plugins."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pluggy

from core import hookspecs

ENTRY_POINT_GROUP = "parcours"


def create_plugin_manager(extra_modules: Iterable[str] = ()) -> pluggy.PluginManager:
    """Build a plugin manager with every installed plugin registered.

    Installed plugins (built-in ones included) come from the ``parcours``
    entry-point group and are named after their entry point; ``extra_modules``
    (``PARCOURS_PLUGINS``) are imported and named after their module path.
    """
    pm = pluggy.PluginManager("parcours")
    pm.add_hookspecs(hookspecs)
    pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for module_name in extra_modules:
        if pm.has_plugin(module_name):
            continue
        module = importlib.import_module(module_name)
        if pm.is_registered(module):
            continue  # already installed through its entry point
        pm.register(module, name=module_name)
    pm.check_pending()
    return pm


@dataclass(frozen=True)
class PluginInfo:
    name: str
    hooks: tuple[str, ...]
    version: str | None


def installed_plugins(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Name, implemented hooks and distribution version of every plugin."""
    versions = {plugin_name: dist.version for plugin_name, dist in _distributions(pm)}
    infos = []
    for name, plugin in pm.list_name_plugin():
        if name is None or plugin is None:
            continue
        hooks = tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or ()))
        infos.append(PluginInfo(name=name, hooks=hooks, version=versions.get(name)))
    return sorted(infos, key=lambda info: info.name)


def _distributions(pm: pluggy.PluginManager) -> list[tuple[str, Any]]:
    return [(pm.get_name(plugin) or "", dist) for plugin, dist in pm.list_plugin_distinfo()]


def tenant_hook(pm: pluggy.PluginManager, enabled: Iterable[str], name: str) -> Any:
    """The hook ``name`` restricted to the plugins in ``enabled``.

    ``subset_hook_caller`` takes the plugins to *remove*: every registered
    plugin that the tenant did not enable.
    """
    wanted = set(enabled)
    remove = [plugin for plugin_name, plugin in pm.list_name_plugin() if plugin_name not in wanted]
    return pm.subset_hook_caller(name, remove_plugins=remove)


async def await_me_maybe(value: Any) -> Any:
    """Await ``value`` if a hook returned an awaitable (datasette's helper)."""
    if inspect.isawaitable(value):
        return await value
    return value


async def call_tenant_hook(
    pm: pluggy.PluginManager, enabled: Iterable[str], name: str, **kwargs: Any
) -> list[Any]:
    """Call a hook for a tenant's enabled plugins and await every result."""
    results = tenant_hook(pm, enabled, name)(**kwargs)
    return [await await_me_maybe(result) for result in results]


async def call_each(
    pm: pluggy.PluginManager, enabled: Iterable[str], name: str, **kwargs: Any
) -> list[tuple[str, Any]]:
    """Call a hook for each enabled plugin; return ``(plugin name, awaited result)`` pairs.

    Unlike a plain hook call, the caller learns which plugin said what (the
    routing engine records the source of every proposal).
    """
    caller = tenant_hook(pm, enabled, name)
    results = []
    for impl in reversed(caller.get_hookimpls()):  # pluggy calls the last registered first
        args = {arg: kwargs[arg] for arg in impl.argnames}
        results.append((impl.plugin_name, await await_me_maybe(impl.function(**args))))
    return results
