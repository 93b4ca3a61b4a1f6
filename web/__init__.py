"""The web layer: Litestar app, pages (Jinja + htmx) and API v1. Thin: it calls core services."""
