"""What a running process holds once: settings, plugins, keys."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pluggy

from core.config import Settings
from core.crypto import Keyring, load_master_key
from core.plugins import create_plugin_manager
from core.vault.keys import load_previous_master_keys
from core.vault.service import Vault


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Runtime:
    """Shared by the web app and the job worker of one process.

    Dramatiq actors receive ids only and use the runtime installed in their
    process to rebuild what they need (hook callers are never pickled).
    """

    settings: Settings
    plugins: pluggy.PluginManager
    keyring: Keyring
    """Lookup digests, identity providers' client secrets, the built-in provider's signing key; and
    the reading of people's data encrypted before the vault."""
    vault: Vault
    """People's data: per-person data keys under versioned per-tenant keys."""
    clock: Callable[[], dt.datetime] = field(default=utc_now)


def build_runtime(settings: Settings) -> Runtime:
    master_key = load_master_key(settings)
    keyring = Keyring(master_key)
    return Runtime(
        settings=settings,
        plugins=create_plugin_manager(settings.plugin_modules),
        keyring=keyring,
        vault=Vault(master_key, load_previous_master_keys(settings), legacy_keyring=keyring),
    )
