"""Jinja filters for French display: ``when`` (date and time), ``day`` (date), ``size`` (bytes)."""

from __future__ import annotations

from litestar.plugins.jinja import JinjaTemplateEngine

from core import locale


def register_filters(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters.update({"when": locale.when, "day": locale.day, "size": locale.size})
