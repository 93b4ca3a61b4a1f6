"""Creating a territory: check its plugins exist, then register it."""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from core.errors import FieldError, InvalidInput
from core.plugins import installed_plugins
from core.tenancy.service import TenantRecord, create_tenant


def check_plugins(pm: pluggy.PluginManager, names: Iterable[str]) -> list[str]:
    """The names, if every one is an installed plugin; else :class:`InvalidInput`."""
    known = {info.name for info in installed_plugins(pm)}
    names = list(dict.fromkeys(names))
    unknown = [name for name in names if name not in known]
    if unknown:
        raise InvalidInput(
            "greffons inconnus",
            [
                FieldError("plugins", f"inconnu : {name} (installés : {', '.join(sorted(known))})")
                for name in unknown
            ],
        )
    return names


async def onboard_territory(
    pm: pluggy.PluginManager,
    slug: str,
    name: str,
    departements: Iterable[str],
    plugins: Iterable[str] | None = None,
    *,
    is_demo: bool = False,
) -> TenantRecord:
    """Register a territory; ``plugins=None`` enables every installed plugin."""
    if plugins is None:
        plugins = [info.name for info in installed_plugins(pm)]
    return await create_tenant(slug, name, departements, check_plugins(pm, plugins), is_demo=is_demo)
