"""French identifiers of health and social care: RPPS, ADELI, FINESS, SIREN, SIRET.

Each is a frozen value object built by ``parse()``, which strips the spaces, dots
and dashes people type, upper-cases, checks the shape with ASCII-only patterns
(a full-width or Arabic-Indic digit is refused: one number must have one
spelling) and then the check key. ``str()`` gives the compact value.

FHIR identifier systems and type codes are those of the FR Core profiles
(Interop'Santé, hl7.fhir.fr.core, ``input/fsh/profiles``):

- Practitioner: ``identifier[rpps].system = "https://rpps.esante.gouv.fr"`` (type
  RPPS), ``identifier[adeli].system = "https://adeli.esante.gouv.fr"`` (type ADELI,
  FR Core 2.1 practitioner profile), and the national identifier of the
  professional ``identifier[idNatPs].system = "urn:oid:1.2.250.1.71.4.2.1"`` (type
  IDNPS) whose value is "0 + ADELI ou 8 + RPPS".
- Organization: ``identifier[siren].system`` and ``identifier[siret].system`` are
  both ``"https://sirene.fr"`` (types SIREN, SIRET);
  ``identifier[finess].system = "https://finess.esante.gouv.fr"`` (types FINEJ |
  FINEG); the national structure identifier ``identifier[idNatSt].system =
  "urn:oid:1.2.250.1.71.4.2.2"`` (type IDNST) is "1 + FINESS Etablissement,
  2 + SIREN, 3 + SIRET" (FR Core example: SIREN 264403106 ↔ IDNST 2264403106).

So the OIDs 1.2.250.1.71.4.2.1 / .2 name the *prefixed national identifiers*
(IDNPS / IDNST), exposed here as ``idnps`` / ``idnst``; the bare numbers have the
``https://…`` systems above.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self

from core.identity.nir import InvalidIdentifier, Nir

__all__ = [
    "FR_CORE_IDENTIFIER_TYPE_SYSTEM",
    "IDENTIFIER_KINDS",
    "IDNPS_SYSTEM",
    "IDNST_SYSTEM",
    "LA_POSTE_SIREN",
    "Adeli",
    "Finess",
    "FinessKind",
    "Identifier",
    "InvalidIdentifier",
    "Rpps",
    "Siren",
    "Siret",
    "finess_check_digit",
    "luhn_check_digit",
    "luhn_is_valid",
    "parse_identifier",
]

FR_CORE_IDENTIFIER_TYPE_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
"""Code system of the ``identifier.type`` codes (RPPS, ADELI, FINEJ, FINEG, SIREN, SIRET…)."""

IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
"""System of the national identifier of a professional (IDNPS: "8" + RPPS, "0" + ADELI)."""

IDNST_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
"""System of the national identifier of a structure (IDNST: "1" + FINESS ET, "2" + SIREN, "3" + SIRET)."""

LA_POSTE_SIREN = "356000000"
"""La Poste: every establishment under one SIREN, with its own SIRET key rule (see ``Siret``)."""

_SEPARATORS = re.compile(r"[\s.\-]")
_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def _compact(text: str) -> str:
    """Spaces, dots and dashes removed, upper-cased: how every identifier is compared."""
    return _SEPARATORS.sub("", text).upper()


def _luhn_sum(digits: str) -> int:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = ord(char) - ord("0")
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total


def luhn_is_valid(digits: str) -> bool:
    """True when ``digits`` (ASCII digits only, at least one) passes the Luhn check.

    Anything else (empty, letters, non-ASCII digits) is simply not valid.
    """
    return _DIGITS.fullmatch(digits) is not None and _luhn_sum(digits) % 10 == 0


def luhn_check_digit(payload: str) -> str:
    """The Luhn check digit to append to ``payload`` (ASCII digits, at least one)."""
    if _DIGITS.fullmatch(payload) is None:
        raise ValueError(f"une clé de Luhn se calcule sur des chiffres (0 à 9), pas sur {payload!r}")
    return str(-_luhn_sum(payload + "0") % 10)


def _check_digits(compact: str, length: int, name: str) -> None:
    """Length, then ASCII digits only; messages name the identifier."""
    if len(compact) != length:
        raise InvalidIdentifier(f"{name} compte {length} chiffres")
    if _DIGITS.fullmatch(compact) is None:
        raise InvalidIdentifier(f"{name} ne contient que des chiffres (0 à 9)")


@dataclass(frozen=True)
class Rpps:
    """An RPPS number (Répertoire partagé des professionnels de santé): 11 digits, Luhn key.

    In practice it starts with 1 (or 8 for some older numbers); only the length
    and the Luhn key over the 11 digits are checked. Exchanges often carry the
    national identifier instead: ``idnps`` = "8" + RPPS (system ``IDNPS_SYSTEM``).
    """

    value: str

    system: ClassVar[str] = "https://rpps.esante.gouv.fr"
    label: ClassVar[str] = "RPPS"
    type_code: ClassVar[str] = "RPPS"

    @classmethod
    def parse(cls, text: str) -> Self:
        compact = _compact(text)
        _check_digits(compact, 11, "le numéro RPPS")
        if not luhn_is_valid(compact):
            raise InvalidIdentifier("clé de contrôle du numéro RPPS incorrecte")
        return cls(compact)

    @property
    def idnps(self) -> str:
        """The national identifier of the professional (IDNPS): "8" followed by the RPPS."""
        return "8" + self.value

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Adeli:
    """An ADELI number (professions not yet in the RPPS): 9 digits, Luhn key over the 9.

    The national identifier is ``idnps`` = "0" + ADELI (system ``IDNPS_SYSTEM``).
    """

    value: str

    system: ClassVar[str] = "https://adeli.esante.gouv.fr"
    label: ClassVar[str] = "ADELI"
    type_code: ClassVar[str] = "ADELI"

    @classmethod
    def parse(cls, text: str) -> Self:
        compact = _compact(text)
        _check_digits(compact, 9, "le numéro ADELI")
        if not luhn_is_valid(compact):
            raise InvalidIdentifier("clé de contrôle du numéro ADELI incorrecte")
        return cls(compact)

    @property
    def idnps(self) -> str:
        """The national identifier of the professional (IDNPS): "0" followed by the ADELI number."""
        return "0" + self.value

    def __str__(self) -> str:
        return self.value


class FinessKind(StrEnum):
    """Which FINESS a number is: the legal entity (EJ) or the establishment (ET, "géographique")."""

    EJ = "EJ"
    ET = "ET"

    @property
    def label(self) -> str:
        return "FINESS juridique" if self is FinessKind.EJ else "FINESS géographique"

    @property
    def type_code(self) -> str:
        """FR Core identifier type: FINEJ (entité juridique) or FINEG (entité géographique)."""
        return "FINEJ" if self is FinessKind.EJ else "FINEG"


_FINESS_SHAPE = re.compile(r"(?:[0-9]{2}|2A|2B)[0-9]{7}", re.ASCII)
_FINESS_CORSICA = {"2A": "21", "2B": "22"}


def _finess_key_digits(text: str) -> str:
    """The digits the FINESS Luhn key is computed on: Corsica's 2A / 2B read as 21 / 22."""
    return _FINESS_CORSICA.get(text[:2], text[:2]) + text[2:]


def finess_check_digit(payload: str) -> str:
    """The key to append to the first 8 characters of a FINESS number (2A / 2B accepted)."""
    payload = payload.upper()
    if len(payload) != 8 or not _FINESS_SHAPE.fullmatch(payload + "0"):
        raise ValueError(f"début de numéro FINESS invalide : {payload!r}")
    return luhn_check_digit(_finess_key_digits(payload))


@dataclass(frozen=True)
class Finess:
    """A FINESS number: département (2 digits, or 2A / 2B for Corsica), 6 digits, 1 Luhn key.

    EJ (legal entity) and ET (establishment) numbers share the format and the
    system; the caller says which one it holds: ``Finess.parse(text, kind=FinessKind.ET)``.

    The key is Luhn over the 9 characters with Corsica's **2A read as 21 and 2B
    as 22** (the letter as its rank in the alphabet), *not* as "20": every
    Corsican FINESS checked passes with 21 / 22 and none with 20, e.g. — from the
    ARS de Corse orders in the préfectures' recueils des actes administratifs —
    Corse-du-Sud RAA n°2A-2025-178 (24/12/2025): CH de Bonifacio EJ 2A0000170,
    CH de Castelluccio EJ 2A0000386, CH de Sartène EJ 2A0002606; Haute-Corse RAA
    n°2B-2024-02-015 (29/02/2024): CH de Bastia 2B0000020, CH de Calvi 2B0005342,
    CHI de Corte-Tattone 2B0004246; Haute-Corse RAA n°2B-2024-07-003 (04/07/2024):
    EHPAD 2B0000442, 2B0003107, 2B0003057, 2B0004238, 2B0000939, 2B0003628,
    2B0003073, 2B0000459, 2B0001341; and CH d'Ajaccio 2A0000022. (No published
    statement of the rule was found; it is inferred from these 16 numbers, and
    mainland numbers of the ANS FINESS sample, e.g. 010000016, 010780195, pass
    plain Luhn.) The ANS flux schema allows ``[0-9][0-9A-Z][0-9]{7}``; only 2A
    and 2B are accepted here.
    """

    value: str
    kind: FinessKind

    system: ClassVar[str] = "https://finess.esante.gouv.fr"

    @classmethod
    def parse(cls, text: str, *, kind: FinessKind) -> Self:
        compact = _compact(text)
        if len(compact) != 9:
            raise InvalidIdentifier("le numéro FINESS compte 9 caractères")
        if _FINESS_SHAPE.fullmatch(compact) is None:
            raise InvalidIdentifier(
                "format de numéro FINESS invalide : département sur 2 chiffres "
                "(2A ou 2B pour la Corse) puis 7 chiffres"
            )
        if not luhn_is_valid(_finess_key_digits(compact)):
            raise InvalidIdentifier("clé de contrôle du numéro FINESS incorrecte")
        return cls(compact, FinessKind(kind))

    @property
    def label(self) -> str:
        return self.kind.label

    @property
    def type_code(self) -> str:
        return self.kind.type_code

    @property
    def idnst(self) -> str | None:
        """National structure identifier "1" + FINESS, which exists for an establishment (ET) only."""
        return "1" + self.value if self.kind is FinessKind.ET else None

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Siren:
    """A SIREN (INSEE, legal unit): 9 digits, Luhn key over the 9."""

    value: str

    system: ClassVar[str] = "https://sirene.fr"
    label: ClassVar[str] = "SIREN"
    type_code: ClassVar[str] = "SIREN"

    @classmethod
    def parse(cls, text: str) -> Self:
        compact = _compact(text)
        _check_digits(compact, 9, "le SIREN")
        if not luhn_is_valid(compact):
            raise InvalidIdentifier("clé de contrôle du SIREN incorrecte")
        return cls(compact)

    @property
    def idnst(self) -> str:
        """National structure identifier: "2" followed by the SIREN."""
        return "2" + self.value

    def __str__(self) -> str:
        return self.value


def _siret_key_is_valid(value: str) -> bool:
    """Luhn over the 14 digits; La Poste's SIRETs may instead have a digit sum multiple of 5.

    All of La Poste's establishments share SIREN 356000000, more than the Luhn
    key leaves room for, so INSEE accepts a La Poste SIRET that fails Luhn when
    the sum of its 14 digits is a multiple of 5 (rule of INSEE's own validator,
    InseeFrLab/validinsee; its head office 35600000000048 passes Luhn, not the
    sum rule). The sum rule is weaker: it misses a digit changed by ±5.
    """
    if luhn_is_valid(value):
        return True
    return value.startswith(LA_POSTE_SIREN) and sum(int(char) for char in value) % 5 == 0


@dataclass(frozen=True)
class Siret:
    """A SIRET (INSEE, establishment): the SIREN (9, itself Luhn-valid) then the NIC (5).

    The key is Luhn over the 14 digits, except La Poste (SIREN 356000000), see
    ``_siret_key_is_valid``.
    """

    value: str

    system: ClassVar[str] = "https://sirene.fr"
    label: ClassVar[str] = "SIRET"
    type_code: ClassVar[str] = "SIRET"

    @classmethod
    def parse(cls, text: str) -> Self:
        compact = _compact(text)
        _check_digits(compact, 14, "le SIRET")
        if not luhn_is_valid(compact[:9]):
            raise InvalidIdentifier("clé de contrôle du SIREN incorrecte (9 premiers chiffres du SIRET)")
        if not _siret_key_is_valid(compact):
            raise InvalidIdentifier("clé de contrôle du SIRET incorrecte")
        return cls(compact)

    @property
    def siren(self) -> Siren:
        return Siren(self.value[:9])

    @property
    def nic(self) -> str:
        """The establishment's internal number (NIC): the last 5 digits, key included."""
        return self.value[9:]

    @property
    def is_la_poste(self) -> bool:
        return self.value.startswith(LA_POSTE_SIREN)

    @property
    def idnst(self) -> str:
        """National structure identifier: "3" followed by the SIRET."""
        return "3" + self.value

    def __str__(self) -> str:
        return self.value


Identifier = Rpps | Adeli | Finess | Siren | Siret | Nir

_PARSERS: dict[str, Callable[[str], Identifier]] = {
    "rpps": Rpps.parse,
    "adeli": Adeli.parse,
    "finess_ej": lambda text: Finess.parse(text, kind=FinessKind.EJ),
    "finess_et": lambda text: Finess.parse(text, kind=FinessKind.ET),
    "siren": Siren.parse,
    "siret": Siret.parse,
    "nir": Nir.parse,
}

IDENTIFIER_KINDS: tuple[str, ...] = tuple(_PARSERS)
"""The kinds ``parse_identifier`` knows, for CSV columns and form choices."""


def parse_identifier(kind: str, text: str) -> Identifier:
    """Parse ``text`` as the identifier named by ``kind`` (``IDENTIFIER_KINDS``, case-insensitive).

    An unknown kind raises ``InvalidIdentifier`` too, so an import or a form
    reports it like any other bad cell.
    """
    parser = _PARSERS.get(kind.strip().lower())
    if parser is None:
        raise InvalidIdentifier(
            f"type d'identifiant inconnu : {kind!r} (attendu : {', '.join(IDENTIFIER_KINDS)})"
        )
    return parser(text)
