"""Amounts in euros typed in forms, French style: read them (to cents) and write them back."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_decimal

from core import locale
from core.errors import FieldError, InvalidInput
from core.money import read_euros


def parse_euros(text: str) -> int | None:
    """An amount typed in a form, in cents (:func:`core.money.read_euros`); None when nothing was
    typed; ``InvalidInput`` with a message for the field otherwise."""
    try:
        return read_euros(text)
    except ValueError as wrong:
        raise InvalidInput(
            "montant invalide",
            [FieldError("amount", "montant en euros, par exemple 1 234,50 (deux décimales au plus)")],
        ) from wrong


def format_euros(cents: int | None) -> str:
    """Cents as a form shows them for editing: « 25,50 » (no grouping, no symbol); '' for None."""
    if cents is None:
        return ""
    return format_decimal(Decimal(cents) / 100, format="0.00", locale=locale.LOCALE)
