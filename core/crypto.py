"""Encryption at rest and keyed lookups, per tenant.

Each tenant gets its own 256-bit data key and lookup key, derived from the
master key (``PARCOURS_MASTER_KEY``) with HKDF-SHA256 and the tenant id.
Values are encrypted with AES-256-GCM (random 96-bit nonce, the tenant id
and the field name as associated data); identifiers are found by
HMAC-SHA256, never by their clear value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.config import Environment, Settings

_NONCE_BYTES = 12
_VERSION = b"\x01"


def sha256_hex(value: str) -> str:
    """SHA-256 (hex) of a random secret (token, code, state): what is stored and looked up.

    Fit for high-entropy random values only; passwords and client secrets use argon2id."""
    return hashlib.sha256(value.encode()).hexdigest()


class MasterKeyError(RuntimeError):
    """The master key is missing or malformed."""


def load_master_key(settings: Settings) -> bytes:
    """The master key from the environment; in development, a local key file."""
    if settings.master_key is not None:
        try:
            key = base64.b64decode(settings.master_key.get_secret_value(), validate=True)
        except ValueError as error:
            raise MasterKeyError("PARCOURS_MASTER_KEY must be base64") from error
        if len(key) != 32:
            raise MasterKeyError("PARCOURS_MASTER_KEY must decode to 32 bytes")
        return key
    if settings.env is Environment.PRODUCTION:
        raise MasterKeyError("PARCOURS_MASTER_KEY is required in production")
    return _development_key(settings.data_dir / "master.key")


def _development_key(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.b64encode(os.urandom(32)))
    return base64.b64decode(path.read_bytes())


class Keyring:
    """Per-tenant keys derived from one master key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise MasterKeyError("the master key must be 32 bytes")
        self._master = master_key

    @lru_cache(maxsize=1024)  # noqa: B019 - one keyring per process, bounded
    def _derive(self, tenant_id: uuid.UUID, purpose: bytes) -> bytes:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=tenant_id.bytes, info=purpose)
        return hkdf.derive(self._master)

    def lookup_digest(self, tenant_id: uuid.UUID, value: str) -> str:
        """Keyed hash of ``value`` for deduplication and lookup."""
        key = self._derive(tenant_id, b"parcours/lookup/v1")
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, tenant_id: uuid.UUID, field: str, plaintext: str) -> bytes:
        key = self._derive(tenant_id, b"parcours/data/v1")
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), self._aad(tenant_id, field))
        return _VERSION + nonce + sealed

    def decrypt(self, tenant_id: uuid.UUID, field: str, blob: bytes) -> str:
        if blob[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        key = self._derive(tenant_id, b"parcours/data/v1")
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        return AESGCM(key).decrypt(nonce, sealed, self._aad(tenant_id, field)).decode()

    @staticmethod
    def _aad(tenant_id: uuid.UUID, field: str) -> bytes:
        return tenant_id.bytes + field.encode()
