"""French formatting of dates and sizes for people (Babel), in the territory's time zone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

LOCALE = "fr_FR"
TIME_ZONE = ZoneInfo("Europe/Paris")


def paris_day(instant: dt.datetime) -> dt.date:
    """The calendar day in Paris of an aware instant (23:30 UTC in winter is already tomorrow)."""
    return instant.astimezone(TIME_ZONE).date()


def when(instant: dt.datetime) -> str:
    """« 3 déc. 2026 à 10:42 » (Paris time)."""
    return format_datetime(instant, "d MMM y 'à' HH:mm", tzinfo=TIME_ZONE, locale=LOCALE)


def day(value: dt.date) -> str:
    """« 14 février 1942 »."""
    return format_date(value, "d MMMM y", locale=LOCALE)


def money(cents: int, currency: str = "EUR") -> str:
    """« 1 450,00 € » (cents to a French amount with its currency)."""
    return str(format_currency(Decimal(cents) / 100, currency or "EUR", locale=LOCALE))


def size(n_bytes: int) -> str:
    """« 1,2 Mo »."""
    if n_bytes < 1024:
        return f"{n_bytes} o"
    if n_bytes < 1024 * 1024:
        return f"{format_decimal(n_bytes / 1024, '#,##0.#', locale=LOCALE)} ko"
    return f"{format_decimal(n_bytes / 1024 / 1024, '#,##0.#', locale=LOCALE)} Mo"
