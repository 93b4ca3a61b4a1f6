"""Jinja filters for French display: ``when`` (date and time), ``day`` (date), ``size`` (bytes),
``euros`` (an amount in cents)."""

from __future__ import annotations

from litestar.plugins.jinja import JinjaTemplateEngine

from core import locale


def euros(cents: int) -> str:
    """« 1 234,50 € » (French grouping and decimal comma)."""
    return locale.money(cents)


def register_filters(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters.update(
        {"when": locale.when, "day": locale.day, "size": locale.size, "euros": euros}
    )
