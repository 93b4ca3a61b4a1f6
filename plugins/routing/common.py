"""Helpers shared by the built-in routing rules (not a plugin itself: no hook here).

Deadlines are computed from the event date, as the recommendations express them ("within 48 hours
of discharge"). An event can reach routing late (declared after the fact, routing retried): a
deadline that would already be past, or due in the next few hours, is then set to
``now + MIN_LEAD`` — as soon as possible, but never in the past.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
MIN_LEAD = dt.timedelta(hours=4)
"""The shortest delay a proposal is given: time for its holder to see it."""


def deadline(start: dt.datetime, delay: dt.timedelta, now: dt.datetime) -> dt.datetime:
    """``start + delay``, or ``now + MIN_LEAD`` when that would be sooner (a late event)."""
    return max(start + delay, now + MIN_LEAD)


def as_date(value: Any) -> dt.date | None:
    """A date from event details: a ``date`` or its ISO text (as stored); ``None`` otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def local_day(moment: dt.datetime) -> dt.date:
    """The day of ``moment`` in France (Europe/Paris)."""
    return moment.astimezone(PARIS).date()


def end_of_day(day: dt.date) -> dt.datetime:
    """23:59 on ``day``, Europe/Paris time."""
    return dt.datetime.combine(day, dt.time(23, 59), tzinfo=PARIS)
