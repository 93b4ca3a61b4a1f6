"""The communes of France (INSEE's official geographic code), found by code or by name.

``communes.csv.gz`` lists the 34 935 communes of the code officiel géographique in force in
2024 (INSEE code, département, name), as published with the ABC housing zoning of July 2024. It
is read once per process (a few megabytes). People type a commune the way they say it: « Dax »,
« saint paul les dax », « St-Paul-lès-Dax », « Dax (40) » or its INSEE code « 40088 »; all of them
lead to the same commune. Homonyms (there are a dozen Sainte-Colombe) are told apart by the
territory's départements first, then by the département typed in brackets.

La Poste's postcodes are not part of the official geographic code and are not shipped: a
postcode (five digits that are not an INSEE code) is reported as such, never guessed.
"""

from __future__ import annotations

import csv
import gzip
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from core.errors import FieldError, InvalidInput

INSEE_CODE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
IN_BRACKETS = re.compile(r"^(?P<name>.*?)\s*\((?P<departement>\d{2,3}|2[AB])\)$")
ABBREVIATIONS = {"st": "saint", "ste": "sainte"}
"""Short words typed for long ones (« St-Sever », « Ste-Foy »); compared after normalisation."""
MAX_SUGGESTIONS = 10


@dataclass(frozen=True)
class Commune:
    code: str
    """INSEE code (``40192``, ``2A004``)."""
    departement: str
    name: str

    @property
    def label(self) -> str:
        """« Mont-de-Marsan (40) »: the name people read, with the département for homonyms."""
        return f"{self.name} ({self.departement})"


def normalised(text: str) -> str:
    """Lower case, no accents, hyphens and apostrophes as spaces, usual abbreviations spelled out."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in plain if not unicodedata.combining(char))
    words = re.split(r"[\s\-'’.]+", plain)
    return " ".join(ABBREVIATIONS.get(word, word) for word in words if word)


@cache
def _communes() -> tuple[dict[str, Commune], dict[str, tuple[Commune, ...]]]:
    """By code, and by normalised name (homonyms together)."""
    by_code: dict[str, Commune] = {}
    by_name: dict[str, list[Commune]] = {}
    source = resources.files(__package__).joinpath("communes.csv.gz")
    with source.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8", newline="") as text:
        for row in csv.DictReader(text, delimiter=";"):
            commune = Commune(row["code_insee"], row["departement"], row["nom"])
            by_code[commune.code] = commune
            by_name.setdefault(normalised(commune.name), []).append(commune)
    return by_code, {name: tuple(found) for name, found in by_name.items()}


def commune(code: str) -> Commune | None:
    """The commune of an INSEE code, if it is one in force."""
    return _communes()[0].get(code.strip().upper())


def name_of(code: str) -> str:
    """« Mont-de-Marsan (40) » for ``40192``; the code itself when it is not a commune in force."""
    found = commune(code)
    return found.label if found else code


@cache
def of_departements(departements: tuple[str, ...]) -> tuple[Commune, ...]:
    """Every commune of these départements, by name (a territory's list for suggestions)."""
    wanted = set(departements)
    found = (c for c in _communes()[0].values() if c.departement in wanted)
    return tuple(sorted(found, key=lambda c: (normalised(c.name), c.departement)))


def _ranked(found: Iterable[Commune], departements: Iterable[str]) -> list[Commune]:
    """The territory's communes first, then by département and name."""
    home = set(departements)
    return sorted(found, key=lambda c: (c.departement not in home, c.departement, c.name, c.code))


def find(text: str, departements: Iterable[str] = ()) -> list[Commune]:
    """Every commune ``text`` may name: an INSEE code, a name (any spelling), « Name (dep) ».

    The territory's communes (``departements``) come first. Empty when nothing matches.
    """
    text = " ".join(text.split())
    if not text:
        return []
    if INSEE_CODE.match(text.upper()):
        found = commune(text)
        return [found] if found else []
    departement = None
    if bracketed := IN_BRACKETS.match(text):
        text, departement = bracketed["name"], bracketed["departement"].upper()
    matches = _communes()[1].get(normalised(text), ())
    if departement:
        matches = tuple(c for c in matches if c.departement == departement)
    return _ranked(matches, departements)


def suggest(text: str, departements: Iterable[str] = (), limit: int = MAX_SUGGESTIONS) -> list[Commune]:
    """Communes whose name starts with what was typed (or whose code does), the territory's first."""
    key = normalised(text)
    if len(key) < 2:
        return []
    if key[:2].isdigit() or key[:2].upper() in {"2A", "2B"}:
        by_code = _communes()[0]
        return _ranked([c for code, c in by_code.items() if code.startswith(key.upper())], departements)[
            :limit
        ]
    home = tuple(departements)
    starting = [c for name, found in _communes()[1].items() if name.startswith(key) for c in found]
    ranked = sorted(
        starting,
        key=lambda c: (c.departement not in home, len(c.name), c.name, c.code),
    )
    return ranked[:limit]


def resolve(text: str, departements: Iterable[str] = (), field: str = "commune") -> Commune:
    """The one commune ``text`` names, or :class:`InvalidInput` on ``field`` saying what to type.

    Among homonyms, the only one in the territory's ``departements`` is taken; otherwise the
    message lists them and asks for the département in brackets.
    """
    home = tuple(departements)
    found = find(text, home)
    if not found:
        plain = text.strip()
        if plain.isdigit() and len(plain) == 5:
            message = (
                f"{plain} n'est pas un code INSEE de commune (les codes postaux ne sont pas reconnus) : "
                "tapez le nom de la commune"
            )
        else:
            message = "commune introuvable : vérifiez l'orthographe, ou tapez son code INSEE"
        raise InvalidInput("commune inconnue", [FieldError(field, message)])
    local = [c for c in found if c.departement in home]
    if len(found) == 1 or len(local) == 1:
        return local[0] if local else found[0]
    choices = local or found
    listed = ", ".join(c.label for c in choices[:5]) + ("…" if len(choices) > 5 else "")
    raise InvalidInput(
        "commune ambiguë",
        [FieldError(field, f"plusieurs communes portent ce nom ({listed}) : précisez le département")],
    )
