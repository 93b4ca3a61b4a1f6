"""The service taxonomy of the marketplace, shipped as data (``taxonomy.toml``)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TAXONOMY_FILE = Path(__file__).with_name("taxonomy.toml")


@dataclass(frozen=True)
class DataInclusionMapping:
    """How a service type is exported in the data·inclusion ``services`` schema (vocabulary codes)."""

    type: str
    """One ``types-de-services`` value."""
    thematiques: tuple[str, ...]
    publics: tuple[str, ...]
    modes_accueil: tuple[str, ...]
    checked: bool
    """The values were checked against the vendored vocabularies (``schemas/data-inclusion-1.0``)."""


@dataclass(frozen=True)
class ServiceType:
    """One kind of service a provider offers."""

    code: str
    label: str
    description: str
    action_service_types: tuple[str, ...]
    """The routing catalogue's ``service_type`` codes this type serves."""
    datainclusion: DataInclusionMapping
    """Its data·inclusion ``type``, ``thematiques``, ``publics`` and ``modes_accueil``."""

    @property
    def thematiques(self) -> tuple[str, ...]:
        """data·inclusion ``thematiques`` codes."""
        return self.datainclusion.thematiques


def _datainclusion(table: dict[str, object]) -> DataInclusionMapping:
    def codes(name: str) -> tuple[str, ...]:
        value = table[name]
        if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
            raise ValueError(f"datainclusion.{name} must be a list of codes")
        return tuple(value)

    return DataInclusionMapping(
        type=str(table["type"]),
        thematiques=codes("thematiques"),
        publics=codes("publics"),
        modes_accueil=codes("modes_accueil"),
        checked=table.get("checked") is True,
    )


def load_taxonomy(path: Path = TAXONOMY_FILE) -> tuple[ServiceType, ...]:
    """Read and check a taxonomy file: unique codes, every field present."""
    with path.open("rb") as file:
        data = tomllib.load(file)
    types = tuple(
        ServiceType(
            code=item["code"],
            label=item["label"],
            description=item["description"],
            action_service_types=tuple(item["action_service_types"]),
            datainclusion=_datainclusion(item["datainclusion"]),
        )
        for item in data["service_types"]
    )
    codes = [item.code for item in types]
    if len(set(codes)) != len(codes):
        raise ValueError(f"duplicate service type codes in {path}")
    return types


@cache
def taxonomy() -> dict[str, ServiceType]:
    """The shipped service types by code, in file order."""
    return {item.code: item for item in load_taxonomy()}


def label_of(code: str) -> str:
    """The French label of ``code`` (the code itself when unknown)."""
    item = taxonomy().get(code)
    return item.label if item else code


def types_for_action(service_type: str) -> list[ServiceType]:
    """The service types serving a routing ``service_type`` (for routing to pick offers)."""
    return [item for item in taxonomy().values() if service_type in item.action_service_types]
