"""Settings read once from the environment (``PARCOURS_*``)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every knob of Parcours, one typed object. See the README's table."""

    model_config = SettingsConfigDict(env_prefix="PARCOURS_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    data_dir: Path = Field(default=Path("var"))
    database_url: str | None = None
    """Owner connection (migrations). Unset: an embedded PostgreSQL under data_dir."""
    app_database_url: str | None = None
    """Connection of the application role. Unset: derived from database_url with
    user ``parcours_app`` and ``app_db_password``."""
    app_db_password: SecretStr | None = None
    master_key: SecretStr | None = None
    """Base64 of 32 bytes. Unset in development: a key file under data_dir."""
    master_key_previous: SecretStr | None = None
    """Former master keys, comma-separated base64: still accepted to unwrap tenant keys after a
    master key rotation, until ``parcours keys rotate`` has re-wrapped every tenant."""
    broker_url: str | None = None
    """``redis://…`` or ``amqp://…``. Unset: an in-memory broker with an in-process worker."""
    queue: str = "parcours"
    """Broker queue of the jobs (read when the actors are imported): web app, dispatcher and workers of
    one deployment share it; another name isolates deployments (or tests) sharing a Redis or RabbitMQ."""
    worker_threads: int = 2
    embedded_worker: bool = True
    """Run a job worker inside ``parcours run``; set false when ``parcours worker`` runs apart."""
    plugins: str = ""
    """Extra plugin modules to load, comma-separated dotted paths, besides the entry points."""
    outbox_redispatch_seconds: float = 30.0
    """A pending outbox row dispatched longer ago than this is dispatched again."""
    outbox_poll_seconds: float = 2.0
    outbox_max_attempts: int = 10
    token_ttl_seconds: int = 3600
    session_idle_minutes: int = 30
    """A session unused this long ends (the user logs in again)."""
    session_max_hours: int = 12
    login_attempts_per_minute: int = 10
    """Per client address, on login endpoints."""
    base_url: str = "http://127.0.0.1:8000"
    smtp_url: str | None = None
    """``smtp://user:password@host:port`` (``smtps://`` for implicit TLS, ``?starttls=1`` for
    STARTTLS). Unset: notifications are in-app only."""
    mail_from: str = "Parcours <ne-pas-repondre@parcours.invalid>"
    watch_seconds: float = 60.0
    """How often the deadline and readmission watch runs (escalations, D+7/D+30 checks)."""
    escalation_grace_hours: int = 24
    """After the coordinators are alerted of an overdue proposal, hours before it is handed to the
    territory's fallback organisation (its coordination service)."""

    @model_validator(mode="after")
    def _normalise_base_url(self) -> Settings:
        self.base_url = self.base_url.rstrip("/")
        return self

    @model_validator(mode="after")
    def _worker_needs_a_broker(self) -> Settings:
        if not self.embedded_worker and self.broker_url is None:
            raise ValueError(
                "PARCOURS_EMBEDDED_WORKER=false needs PARCOURS_BROKER_URL (redis:// or amqp://): "
                "without a shared broker no other process can receive the jobs"
            )
        return self

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def plugin_modules(self) -> list[str]:
        return [name.strip() for name in self.plugins.split(",") if name.strip()]

    @property
    def embedded_broker(self) -> bool:
        return self.broker_url is None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
