"""Amounts in euros typed in forms, French style: read them (to cents) and write them back."""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import NumberFormatError, format_decimal, parse_decimal

from core import locale
from core.errors import FieldError, InvalidInput


def parse_euros(text: str) -> int | None:
    """An amount typed in euros, French style, in cents; None when nothing was typed.

    Accepts « 1 234,50 », « 1234,5 », « 1234.50 » and « 80 € »: ordinary, no-break and narrow
    no-break spaces are read as the French group separator, then Babel (``parse_decimal``, strict,
    French CLDR symbols) checks the grouping. Refused, with a message for the field: anything but
    digits and separators (no sign, no exponent), misplaced groups, more than two decimals.
    """
    value = text.strip().removesuffix("€").removesuffix("EUR").removesuffix("euros").strip()
    if not value:
        return None
    value = re.sub(r"[ \u00a0\u202f]+", "\u202f", value)
    error = InvalidInput(
        "montant invalide",
        [FieldError("amount", "montant en euros, par exemple 1 234,50 (deux décimales au plus)")],
    )
    if not re.fullmatch(r"[0-9][0-9\u202f]*([.,][0-9]+)?", value):
        raise error
    try:
        amount = parse_decimal(value, locale=locale.LOCALE, strict=True)
    except NumberFormatError as failed:
        raise error from failed
    if amount != amount.quantize(Decimal("0.01")) or amount >= Decimal(10) ** 9:
        raise error
    return int(amount * 100)


def format_euros(cents: int | None) -> str:
    """Cents as a form shows them for editing: « 25,50 » (no grouping, no symbol); '' for None."""
    if cents is None:
        return ""
    return format_decimal(Decimal(cents) / 100, format="0.00", locale=locale.LOCALE)
