"""The tunable figures of funding programmes: ceilings, thresholds, rates, delays.

They change by year and by territory, so they are data: each programme declares its parameters with
a default, the source of that default and its date; a territory overrides them in its settings
(:mod:`core.financing.settings`). Rules and estimates read them through :class:`Values`, never as
constants.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core import locale

ParameterValue = int | bool | tuple[str, ...]


class Unit(StrEnum):
    CENTS = "cents"
    YEARS = "years"
    DAYS = "days"
    HOURS = "hours"
    PERCENT = "percent"
    GIR = "gir"
    COMMUNES = "communes"
    FLAG = "flag"


@dataclass(frozen=True)
class Parameter:
    """One tunable figure of a programme, with where its default comes from."""

    key: str
    label: str
    """French, as the territory's settings page shows it."""
    default: ParameterValue
    unit: Unit
    source: str
    """Where the default comes from (text, circular, scale), in French."""
    as_of: dt.date
    """The date of that source: a territory checks defaults older than a year."""
    minimum: int = 0
    maximum: int = 100_000_000

    def parse(self, raw: Any) -> ParameterValue:
        """A stored or typed value checked against the unit; ``ValueError`` in French otherwise."""
        if self.unit is Unit.FLAG:
            if isinstance(raw, bool):
                return raw
            raise ValueError("oui ou non attendu")
        if self.unit is Unit.COMMUNES:
            codes = raw.replace(",", " ").split() if isinstance(raw, str) else list(raw)
            bad = [code for code in codes if not _is_insee(str(code))]
            if bad:
                raise ValueError(f"code commune INSEE invalide : {bad[0]}")
            return tuple(dict.fromkeys(str(code) for code in codes))
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError("nombre entier attendu")
        if not self.minimum <= raw <= self.maximum:
            raise ValueError(f"valeur attendue entre {self.show(self.minimum)} et {self.show(self.maximum)}")
        return raw

    def show(self, value: ParameterValue) -> str:
        """The value in French, with its unit: « 1 800,00 € », « 60 ans », « GIR 4 »."""
        if isinstance(value, bool):
            return "oui" if value else "non"
        if isinstance(value, tuple):
            return ", ".join(value) if value else "toutes les communes du territoire"
        match self.unit:
            case Unit.CENTS:
                return locale.money(value)
            case Unit.YEARS:
                return f"{value} ans"
            case Unit.DAYS:
                return f"{value} jour{'s' if value > 1 else ''}"
            case Unit.HOURS:
                return f"{value} heure{'s' if value > 1 else ''}"
            case Unit.PERCENT:
                return f"{value} %"
            case Unit.GIR:
                return f"GIR {value}"
        return str(value)


def _is_insee(code: str) -> bool:
    return len(code) == 5 and (code.isdigit() or (code[:2] in ("2A", "2B") and code[2:].isdigit()))


class Values(Mapping[str, ParameterValue]):
    """A programme's parameters for one territory: its overrides, else the declared defaults."""

    def __init__(self, parameters: tuple[Parameter, ...], overrides: Mapping[str, Any] | None = None) -> None:
        self.parameters = {parameter.key: parameter for parameter in parameters}
        self._values: dict[str, ParameterValue] = {p.key: p.default for p in parameters}
        self.overridden: set[str] = set()
        for key, raw in (overrides or {}).items():
            parameter = self.parameters.get(key)
            if parameter is None:
                continue  # a parameter the programme no longer declares: ignored
            try:
                self._values[key] = parameter.parse(raw)
            except ValueError:
                continue  # a stored value the unit no longer accepts: the default applies
            self.overridden.add(key)

    def __getitem__(self, key: str) -> ParameterValue:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def number(self, key: str) -> int:
        value = self._values[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"parameter {key!r} is not a number")
        return value

    def communes(self, key: str) -> tuple[str, ...]:
        value = self._values[key]
        if not isinstance(value, tuple):
            raise TypeError(f"parameter {key!r} is not a list of communes")
        return value

    def show(self, key: str) -> str:
        return self.parameters[key].show(self._values[key])
