"""Amounts in euros as people type them, French style, read to cents (Babel's French CLDR rules)."""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import NumberFormatError, parse_decimal

from core.locale import LOCALE


def read_euros(text: str) -> int | None:
    """An amount typed in euros, in cents; None when nothing was typed.

    Accepts « 1 234,50 », « 1234,5 », « 1234.50 » and « 80 € »: ordinary, no-break and narrow
    no-break spaces are read as the French group separator, then Babel (``parse_decimal``, strict,
    French CLDR symbols) checks the grouping. ``ValueError`` for anything but digits and separators
    (no sign, no exponent), misplaced groups, more than two decimals, a billion or more.
    """
    value = text.strip().removesuffix("€").removesuffix("EUR").removesuffix("euros").strip()
    if not value:
        return None
    value = re.sub(r"[ \u00a0\u202f]+", "\u202f", value)
    if not re.fullmatch(r"[0-9][0-9\u202f]*([.,][0-9]+)?", value):
        raise ValueError(value)
    try:
        amount = parse_decimal(value, locale=LOCALE, strict=True)
    except NumberFormatError as failed:
        raise ValueError(value) from failed
    if amount != amount.quantize(Decimal("0.01")) or amount >= Decimal(10) ** 9:
        raise ValueError(value)
    return int(amount * 100)
