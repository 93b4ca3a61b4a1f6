"""The funders of one territory: the enabled plugins' classes, bound to the territory's settings."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pluggy

from core.financing.settings import load_settings
from core.funders import BaseFunder, Programme
from core.plugins import call_each


@dataclass(frozen=True)
class TerritoryFunders:
    """Funders bound to a territory, and the organisation that instructs each one's requests."""

    funders: tuple[BaseFunder, ...]
    organisations: dict[str, uuid.UUID]
    """Funder identifier → organisation id (funders without one cannot receive requests)."""

    def __iter__(self) -> Iterator[BaseFunder]:
        return iter(self.funders)

    def programmes(self) -> Iterator[tuple[BaseFunder, Programme]]:
        for funder in self.funders:
            for programme in funder.programmes:
                yield funder, programme

    def find(self, programme_code: str) -> tuple[BaseFunder, Programme] | None:
        for funder, programme in self.programmes():
            if programme.code == programme_code:
                return funder, programme
        return None

    def funder(self, identifier: str) -> BaseFunder | None:
        return next((funder for funder in self.funders if funder.identifier == identifier), None)

    def handled_by(self, organisation_id: uuid.UUID | None) -> tuple[str, ...]:
        """Identifiers of the funders whose requests ``organisation_id`` instructs."""
        return tuple(ident for ident, org in self.organisations.items() if org == organisation_id)


async def declared_funder_classes(pm: pluggy.PluginManager, enabled: Iterable[str]) -> list[type[BaseFunder]]:
    """The funder classes of the enabled plugins; a programme code already seen is dropped with its class."""
    classes: list[type[BaseFunder]] = []
    codes: set[str] = set()
    for _plugin, declared in await call_each(pm, tuple(enabled), "funders"):
        for cls in declared or ():
            if not (isinstance(cls, type) and issubclass(cls, BaseFunder)):
                continue
            mine = {programme.code for programme in cls.programmes}
            if mine & codes:
                continue
            codes |= mine
            classes.append(cls)
    return classes


async def territory_funders(
    pm: pluggy.PluginManager, tenant_id: uuid.UUID, enabled: Iterable[str]
) -> TerritoryFunders:
    """Instantiate the enabled funders with the territory's parameter values."""
    settings = await load_settings(tenant_id)
    funders = []
    organisations = {}
    for cls in await declared_funder_classes(pm, enabled):
        stored = settings.get(cls.identifier)
        funders.append(cls(stored.overrides if stored else None))
        if stored and stored.organisation_id:
            organisations[cls.identifier] = stored.organisation_id
    return TerritoryFunders(tuple(funders), organisations)
