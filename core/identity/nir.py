"""INS / NIR: the French national health identifier (numéro de sécurité sociale).

15 characters: sex (1), birth year (2), birth month (2), birth département
(2, with ``2A``/``2B`` for Corsica), commune (3), order number (3), key (2).
The key is ``97 − (N mod 97)`` where N is the first 13 characters read as a
number, Corsica's ``2A`` and ``2B`` being read as ``19`` and ``18``.
Temporary numbers (NIA) start with 7 or 8 and follow the same key rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SHAPE = re.compile(r"^[1-478](\d{2})(\d{2})(\d{2}|2A|2B)(\d{3})(\d{3})(\d{2})$", re.ASCII)
_CORSICA = {"2A": "19", "2B": "18"}


class InvalidIdentifier(ValueError):
    """An identifier that is malformed or whose check key is wrong."""


def nir_key(first13: str) -> int:
    """The check key of the first 13 characters of a NIR."""
    digits = first13[:5] + _CORSICA.get(first13[5:7], first13[5:7]) + first13[7:]
    return 97 - int(digits) % 97


@dataclass(frozen=True)
class Nir:
    """A NIR whose shape and key were checked. ``str()`` gives the 15 characters."""

    value: str

    @classmethod
    def parse(cls, text: str) -> Nir:
        compact = re.sub(r"[\s.\-]", "", text).upper()
        if len(compact) != 15:
            raise InvalidIdentifier("un NIR compte 15 caractères (clé comprise)")
        if not _SHAPE.match(compact):
            raise InvalidIdentifier("format de NIR invalide")
        if int(compact[13:]) != nir_key(compact[:13]):
            raise InvalidIdentifier("clé de contrôle du NIR incorrecte")
        return cls(compact)

    @property
    def is_temporary(self) -> bool:
        """NIA: a temporary number, not yet a definitive NIR."""
        return self.value[0] in "78"

    def __str__(self) -> str:
        return self.value
