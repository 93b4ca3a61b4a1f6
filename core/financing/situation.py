"""A person's situation as the funding rules see it: what the questionnaire or the file says.

Every field may be unknown (``None``): a rule that needs it answers « information manquante »
instead of guessing. Income is a range (a bracket of the questionnaire, or one exact amount), so a
rule on income can be decided without the exact figure when the whole bracket is on one side.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec


class Household(StrEnum):
    SINGLE = "single"
    COUPLE = "couple"


HOUSEHOLD_LABELS = {Household.SINGLE: "personne seule", Household.COUPLE: "couple"}


class PensionScheme(StrEnum):
    """The main pension scheme (régime de retraite de base)."""

    GENERAL = "general"
    AGRICULTURAL = "agricultural"
    PUBLIC = "public"
    INDEPENDENT = "independent"
    OTHER = "other"
    NONE = "none"


PENSION_SCHEME_LABELS = {
    PensionScheme.GENERAL: "régime général (CARSAT, Assurance retraite)",
    PensionScheme.AGRICULTURAL: "régime agricole (MSA)",
    PensionScheme.PUBLIC: "fonction publique",
    PensionScheme.INDEPENDENT: "indépendants",
    PensionScheme.OTHER: "autre régime",
    PensionScheme.NONE: "pas de retraite",
}

Cents = Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]


class Situation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the funding rules may ask about a person (``None``: not known)."""

    age: Annotated[int, msgspec.Meta(ge=0, le=130)] | None = None
    commune_insee: Annotated[str, msgspec.Meta(pattern=r"^(\d{5}|2[AB]\d{3})$")] | None = None
    household: Household | None = None
    lives_alone: bool | None = None
    pension_scheme: PensionScheme | None = None
    """The main pension scheme; ``none`` for someone not retired."""
    agirc_arrco: bool | None = None
    """Receives an Agirc-Arrco complementary pension."""
    gir: Annotated[int, msgspec.Meta(ge=1, le=6)] | None = None
    """Autonomy level (GIR 1: most dependent … 6: autonomous), when evaluated."""
    income_min_cents: Cents | None = None
    """Lower bound of the household's monthly resources."""
    income_max_cents: Cents | None = None
    """Upper bound (``None`` with a lower bound: « more than »); equal bounds: an exact amount."""
    days_since_discharge: Annotated[int, msgspec.Meta(ge=0, le=3650)] | None = None
    """Days since the last hospital discharge (0 on the day); ``None``: no recent discharge known."""
    has_mutuelle: bool | None = None
    employer_contract: bool | None = None
    """Covered by an employer's hospitalisation-support contract (employee or their relative)."""

    def __post_init__(self) -> None:
        low, high = self.income_min_cents, self.income_max_cents
        if low is not None and high is not None and high < low:
            raise ValueError("income_max_cents is below income_min_cents")

    @property
    def retired(self) -> bool | None:
        if self.pension_scheme is None:
            return None
        return self.pension_scheme is not PensionScheme.NONE

    def merged(self, other: Situation) -> Situation:
        """This situation with the known fields of ``other`` taking precedence."""
        values = msgspec.structs.asdict(self)
        values.update({k: v for k, v in msgspec.structs.asdict(other).items() if v is not None})
        return Situation(**values)


def exact_income(cents: int) -> dict[str, int]:
    """The income fields for one exact monthly amount."""
    return {"income_min_cents": cents, "income_max_cents": cents}


# Monthly resources brackets of the public questionnaire (bounds in cents; None: no upper bound).
INCOME_BRACKETS: dict[str, tuple[int, int | None, str]] = {
    "lt1000": (0, 99_999, "moins de 1 000 € par mois"),
    "1000-1500": (100_000, 149_999, "de 1 000 € à 1 500 € par mois"),
    "1500-2000": (150_000, 199_999, "de 1 500 € à 2 000 € par mois"),
    "2000-3000": (200_000, 299_999, "de 2 000 € à 3 000 € par mois"),
    "3000-4500": (300_000, 449_999, "de 3 000 € à 4 500 € par mois"),
    "gte4500": (450_000, None, "4 500 € par mois ou plus"),
}
