"""Key material of the vault, without the database: generating, wrapping and using keys.

Three levels (see ``docs/architecture.md``, "Keys and encryption"):

- the **master key** (``PARCOURS_MASTER_KEY``) wraps each version of a tenant's key-encryption key
  (KEK); it is named by a fingerprint (:func:`master_key_id`) stored beside what it wraps;
- the **tenant KEK** (random, 256 bits, versioned) wraps each person's data key (DEK);
- the **person DEK** (random, 256 bits) encrypts that person's fields.

Everything is AES-256-GCM with a random 96-bit nonce, and the associated data binds each wrapped key
or ciphertext to where it belongs (tenant, version, person, field): moved anywhere else, it no longer
opens.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.config import Settings
from core.crypto import MasterKeyError
from core.errors import Gone

KEY_BYTES = 32
NONCE_BYTES = 12
FIELD_VERSION = b"\x02"
"""First byte of a field ciphertext sealed with a person's data key."""
LEGACY_FIELD_VERSION = b"\x01"
"""First byte of a field ciphertext of :class:`core.crypto.Keyring` (per-tenant derived key)."""

_TENANT_KEY_AAD = b"parcours/tenant-key/v1"
_PERSON_KEY_AAD = b"parcours/person-key/v1"
_MASTER_KEY_ID = b"parcours/master-key-id"


class VaultError(Exception):
    """Base class of the vault's errors."""


class KeyUnavailable(VaultError):
    """A key needed to unwrap or open something is not available to this process.

    Typically: a tenant key wrapped by a master key that is neither ``PARCOURS_MASTER_KEY`` nor one of
    ``PARCOURS_MASTER_KEY_PREVIOUS``, or wrapped material that does not open under the expected key."""


class KeyErased(VaultError, Gone):
    """The person's data key was destroyed (crypto-shredding): their encrypted data is gone for good."""


class PersonKeyExists(VaultError):
    """The person already has a data key; another one cannot be stored for them."""


class InvalidCiphertext(VaultError, ValueError):
    """A field ciphertext is malformed, or does not open under this key, person and field."""


def generate_key() -> bytes:
    """A fresh random 256-bit key."""
    return os.urandom(KEY_BYTES)


def master_key_id(key: bytes) -> str:
    """Fingerprint of a master key (16 hex characters), stored beside what it wraps; reveals nothing."""
    return hashlib.sha256(_MASTER_KEY_ID + key).hexdigest()[:16]


def tenant_key_aad(tenant_id: uuid.UUID, version: int) -> bytes:
    """Associated data of a tenant key version wrapped by the master key."""
    return _TENANT_KEY_AAD + tenant_id.bytes + _version_bytes(version)


def person_key_aad(tenant_id: uuid.UUID, person_id: uuid.UUID, tenant_key_version: int) -> bytes:
    """Associated data of a person's data key wrapped by a tenant key version."""
    return _PERSON_KEY_AAD + tenant_id.bytes + person_id.bytes + _version_bytes(tenant_key_version)


def field_aad(tenant_id: uuid.UUID, person_id: uuid.UUID, field: str) -> bytes:
    """Associated data of a field ciphertext: the tenant, the person and the field's name."""
    return tenant_id.bytes + person_id.bytes + field.encode()


def wrap(wrapping_key: bytes, key: bytes, aad: bytes) -> bytes:
    """``key`` encrypted by ``wrapping_key``: nonce (12 bytes) + ciphertext and tag."""
    _check_key(wrapping_key)
    _check_key(key)
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(wrapping_key).encrypt(nonce, key, aad)


def unwrap(wrapping_key: bytes, wrapped: bytes, aad: bytes) -> bytes:
    """The key :func:`wrap` sealed; :class:`KeyUnavailable` if it does not open (wrong key or place)."""
    _check_key(wrapping_key)
    if len(wrapped) != NONCE_BYTES + KEY_BYTES + 16:
        raise KeyUnavailable("wrapped key of unexpected length")
    try:
        key = AESGCM(wrapping_key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], aad)
    except InvalidTag as error:
        raise KeyUnavailable("the wrapped key does not open with this key") from error
    return key


def seal_field(
    data_key: bytes, tenant_id: uuid.UUID, person_id: uuid.UUID, field: str, plaintext: bytes
) -> bytes:
    """``b"\\x02"`` + nonce + AES-256-GCM of ``plaintext`` under the person's data key."""
    _check_key(data_key)
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(data_key).encrypt(nonce, plaintext, field_aad(tenant_id, person_id, field))
    return FIELD_VERSION + nonce + sealed


def open_field(data_key: bytes, tenant_id: uuid.UUID, person_id: uuid.UUID, field: str, blob: bytes) -> bytes:
    """The plaintext :func:`seal_field` sealed; :class:`InvalidCiphertext` otherwise."""
    _check_key(data_key)
    if blob[:1] != FIELD_VERSION or len(blob) < 1 + NONCE_BYTES + 16:
        raise InvalidCiphertext("not a ciphertext of a person's data key")
    nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return AESGCM(data_key).decrypt(nonce, sealed, field_aad(tenant_id, person_id, field))
    except InvalidTag as error:
        raise InvalidCiphertext(
            f"the ciphertext of {field!r} does not open with this person's key"
        ) from error


def load_previous_master_keys(settings: Settings) -> list[bytes]:
    """Master keys still accepted for unwrapping (``PARCOURS_MASTER_KEY_PREVIOUS``, comma-separated base64).

    They let a process read tenant keys wrapped before a master key rotation, until ``parcours keys
    rotate`` has re-wrapped every tenant under the current master key."""
    if settings.master_key_previous is None:
        return []
    keys = []
    for position, text in enumerate(settings.master_key_previous.get_secret_value().split(","), start=1):
        if not text.strip():
            continue
        try:
            key = base64.b64decode(text.strip(), validate=True)
        except ValueError as error:
            raise MasterKeyError(f"PARCOURS_MASTER_KEY_PREVIOUS: key n° {position} must be base64") from error
        if len(key) != KEY_BYTES:
            raise MasterKeyError(f"PARCOURS_MASTER_KEY_PREVIOUS: key n° {position} must decode to 32 bytes")
        keys.append(key)
    return keys


def _version_bytes(version: int) -> bytes:
    return version.to_bytes(4, "big")


def _check_key(key: bytes) -> None:
    if len(key) != KEY_BYTES:
        raise ValueError("keys are 32 bytes")
