"""Piccolo configuration (found through ``PICCOLO_CONF=core.db.piccolo_conf``)."""

from piccolo.conf.apps import AppRegistry

from core.db.engine import DB

APP_REGISTRY = AppRegistry(apps=["core.db.piccolo_app"])

__all__ = ["APP_REGISTRY", "DB"]
