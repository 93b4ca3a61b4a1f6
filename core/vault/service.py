"""The vault: envelope encryption of people's data, with per-tenant key rotation and crypto-shredding.

The master key wraps each version of a tenant's key-encryption key (table ``tenant_key``); the tenant
key wraps each person's data key (table ``person_key``); the data key encrypts the person's fields.
Every method but :meth:`Vault.rotate_tenant_key` runs inside the caller's ``tenant_scope``.

Concurrency:

- The first use in a tenant creates its key version 1 (``INSERT … ON CONFLICT DO NOTHING``, then
  read again), under the tenant's key lock, so concurrent first uses end with one version.
- Whoever wraps a data key locks the tenant key version it uses (``FOR KEY SHARE``) until its
  transaction ends; the rotation retires old versions only after taking those rows ``FOR UPDATE``,
  then re-wraps any person key committed meanwhile. No data key is ever left wrapped by a destroyed
  version.
- A person key and the tenant key version it refers to are read by one statement, so a rotation
  committing in between cannot make a read fail.

Unwrapped tenant keys are cached per (tenant, version), bounded, and forgotten by this process when
it rotates that tenant. A version is never rewritten, only retired, so a cached key is never wrong.

Ciphertexts of the former per-tenant keyring (first byte ``0x01``, :class:`core.crypto.Keyring`) are
still read. A person created before the vault has no data key yet: the first :meth:`Vault.person_cipher`
gives them one and re-encrypts their INS with it (see :meth:`Vault._adopt_legacy_person`).
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag

from core.crypto import Keyring
from core.db.connection import scoped_connection
from core.db.scope import TenantScopeError, current_tenant_id, tenant_scope
from core.vault.keys import (
    FIELD_VERSION,
    LEGACY_FIELD_VERSION,
    InvalidCiphertext,
    KeyErased,
    KeyUnavailable,
    PersonKeyExists,
    VaultError,
    generate_key,
    master_key_id,
    open_field,
    person_key_aad,
    seal_field,
    tenant_key_aad,
    unwrap,
    wrap,
)

__all__ = [
    "PERSON_INS_FIELD",
    "InvalidCiphertext",
    "KeyErased",
    "KeyUnavailable",
    "PersonCipher",
    "PersonKeyExists",
    "RotationReport",
    "Vault",
    "VaultError",
]

PERSON_INS_FIELD = "person.ins"
"""The field name of a person's INS (associated data of its ciphertext)."""

Progress = Callable[[int, int], None]
"""``progress(done, total)`` during a rotation."""

_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('parcours/tenant-key/' || $1::uuid::text, 0))"
_CURRENT_VERSION = (
    "SELECT version, wrapped_key, master_key_id FROM tenant_key WHERE wrapped_key IS NOT NULL "
    "ORDER BY version DESC LIMIT 1 FOR KEY SHARE"
)
_PERSON_KEY = (
    "SELECT pk.tenant_key_version, pk.wrapped_key, tk.wrapped_key AS tenant_wrapped_key, tk.master_key_id "
    "FROM person_key pk LEFT JOIN tenant_key tk "
    "ON tk.tenant_id = pk.tenant_id AND tk.version = pk.tenant_key_version WHERE pk.person_id = $1"
)
_STALE_PERSON_KEYS = (
    "SELECT id, person_id, tenant_key_version, wrapped_key FROM person_key "
    "WHERE tenant_key_version < $1 ORDER BY id"
)


class PersonCipher:
    """Encrypts and decrypts one person's fields with their data key (AES-256-GCM).

    Ciphertexts are ``b"\\x02"`` + 12-byte nonce + sealed data, with the tenant id, the person id and
    the field name as associated data. ``b"\\x01"`` ciphertexts (the former per-tenant keyring) are
    decrypted by that keyring (or, after a master key rotation, by the keyring of a previous one)."""

    __slots__ = ("_data_key", "_legacy", "person_id", "tenant_id")

    def __init__(
        self,
        tenant_id: uuid.UUID,
        person_id: uuid.UUID,
        data_key: bytes,
        legacy: Keyring | Sequence[Keyring] | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.person_id = person_id
        self._data_key = data_key
        self._legacy: tuple[Keyring, ...] = (
            () if legacy is None else (legacy,) if isinstance(legacy, Keyring) else tuple(legacy)
        )

    def __repr__(self) -> str:
        return f"PersonCipher(tenant_id={self.tenant_id}, person_id={self.person_id})"

    def encrypt(self, field: str, plaintext: str | bytes) -> bytes:
        data = plaintext.encode() if isinstance(plaintext, str) else bytes(plaintext)
        return seal_field(self._data_key, self.tenant_id, self.person_id, field, data)

    def decrypt(self, field: str, blob: bytes) -> bytes:
        blob = bytes(blob)
        if blob[:1] == FIELD_VERSION:
            return open_field(self._data_key, self.tenant_id, self.person_id, field, blob)
        if blob[:1] == LEGACY_FIELD_VERSION:
            if not self._legacy:
                raise KeyUnavailable("a legacy (0x01) ciphertext, and no legacy keyring to read it")
            for keyring in self._legacy:
                try:
                    return keyring.decrypt(self.tenant_id, field, blob).encode()
                except InvalidTag:
                    continue
            raise InvalidCiphertext(f"the legacy ciphertext of {field!r} does not open")
        raise InvalidCiphertext("unknown ciphertext version")

    def decrypt_text(self, field: str, blob: bytes) -> str:
        try:
            return self.decrypt(field, blob).decode()
        except UnicodeDecodeError as error:
            raise InvalidCiphertext(f"{field!r} is not text") from error


@dataclass(frozen=True)
class RotationReport:
    """What :meth:`Vault.rotate_tenant_key` did."""

    tenant_id: uuid.UUID
    version: int
    """The tenant key version now in use."""
    retired_versions: tuple[int, ...]
    """Versions whose wrapped key this run destroyed."""
    person_keys: int
    """Person data keys re-wrapped with ``version``."""
    master_key_id: str
    """Fingerprint of the master key wrapping ``version``."""
    resumed: bool
    """True when this run finished an interrupted rotation instead of adding a version."""


class _KeyCache:
    """Unwrapped tenant keys by (tenant, version), least recently used first out."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[uuid.UUID, int], bytes] = OrderedDict()
        self._lock = threading.Lock()  # a runtime is shared by the web loop and the worker threads

    def get(self, tenant_id: uuid.UUID, version: int) -> bytes | None:
        with self._lock:
            key = self._entries.get((tenant_id, version))
            if key is not None:
                self._entries.move_to_end((tenant_id, version))
            return key

    def put(self, tenant_id: uuid.UUID, version: int, key: bytes) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._entries[(tenant_id, version)] = key
            self._entries.move_to_end((tenant_id, version))
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def forget_tenant(self, tenant_id: uuid.UUID) -> None:
        with self._lock:
            for entry in [entry for entry in self._entries if entry[0] == tenant_id]:
                del self._entries[entry]

    def __len__(self) -> int:
        return len(self._entries)


class Vault:
    """Person data keys under versioned tenant keys under the master key.

    ``previous_master_keys`` are accepted to unwrap tenant keys wrapped before a master key rotation;
    new tenant key versions are always wrapped by ``master_key``. ``legacy_keyring`` reads the
    ciphertexts of the former per-tenant keyring (with keyrings of the previous master keys after it)."""

    def __init__(
        self,
        master_key: bytes,
        previous_master_keys: Iterable[bytes] = (),
        *,
        legacy_keyring: Keyring | None = None,
        cache_size: int = 1024,
        rotation_batch_size: int = 500,
    ) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key must be 32 bytes")
        self._master_key = master_key
        self._master_key_id = master_key_id(master_key)
        self._masters: dict[str, bytes] = {self._master_key_id: master_key}
        for key in previous_master_keys:
            if len(key) != 32:
                raise ValueError("previous master keys must be 32 bytes")
            self._masters.setdefault(master_key_id(key), key)
        self._legacy: tuple[Keyring, ...] = ()
        if legacy_keyring is not None:
            self._legacy = (legacy_keyring, *(Keyring(key) for key in list(self._masters.values())[1:]))
        self._cache = _KeyCache(cache_size)
        self._batch_size = max(1, rotation_batch_size)

    @property
    def master_key_id(self) -> str:
        """Fingerprint of the current master key."""
        return self._master_key_id

    @property
    def known_master_key_ids(self) -> tuple[str, ...]:
        """Fingerprints of every master key this vault can unwrap with, the current one first."""
        return tuple(self._masters)

    # -- person keys -----------------------------------------------------------------------------

    def new_person_key(self, person_id: uuid.UUID) -> PersonCipher:
        """A fresh data key for ``person_id`` in the current tenant, not stored yet.

        Encrypt with it, insert the person, then :meth:`save_person_key` in the same transaction: the
        key stored is the key that encrypted."""
        return PersonCipher(current_tenant_id(), person_id, generate_key(), self._legacy)

    async def save_person_key(self, cipher: PersonCipher) -> None:
        """Store ``cipher``'s data key, wrapped by the tenant's current key version.

        :class:`PersonKeyExists` if the person already has one (their data would not open with this one).
        """
        if not await self._insert_person_key(cipher):
            raise PersonKeyExists(f"person {cipher.person_id} already has a data key")

    async def create_person_key(self, person_id: uuid.UUID) -> PersonCipher:
        """A new data key for ``person_id``, stored; the existing one if the person already has one."""
        cipher = self.new_person_key(person_id)
        if await self._insert_person_key(cipher):
            return cipher
        return await self.person_cipher(person_id)

    async def person_cipher(self, person_id: uuid.UUID) -> PersonCipher:
        """The cipher of ``person_id``'s data key; :class:`KeyErased` if the person has none."""
        tenant_id = current_tenant_id()
        row = await scoped_connection().fetchrow(_PERSON_KEY, person_id)
        if row is None:
            adopted = await self._adopt_legacy_person(tenant_id, person_id)
            if adopted is None:
                raise KeyErased("la clé de chiffrement de cette personne a été détruite")
            return adopted
        return self._cipher_from_row(tenant_id, person_id, row)

    async def shred_person_key(self, person_id: uuid.UUID) -> bool:
        """Destroy ``person_id``'s data key (crypto-shredding); False if there was none."""
        status = await scoped_connection().execute("DELETE FROM person_key WHERE person_id = $1", person_id)
        return bool(status != "DELETE 0")

    # -- rotation --------------------------------------------------------------------------------

    async def rotate_tenant_key(
        self, tenant_id: uuid.UUID, progress: Progress | None = None, *, batch_size: int | None = None
    ) -> RotationReport:
        """Give ``tenant_id`` a new key version wrapped by the current master key, re-wrap every
        person key with it, then destroy the older versions (``wrapped_key`` NULL, ``retired_at`` set).

        Runs its own transactions (the re-wrapping in batches), so it must be called outside any
        tenant scope. Retry-safe: an interrupted run leaves every key readable, and the next run
        finishes it (same version) rather than adding one. :class:`KeyUnavailable`, before anything
        is written, if a live version is wrapped by a master key this vault does not hold.
        """
        try:
            current_tenant_id()
        except TenantScopeError:
            pass
        else:
            raise TenantScopeError(
                "rotate_tenant_key runs its own transactions: call it outside tenant_scope"
            )
        size = max(1, batch_size or self._batch_size)

        async with tenant_scope(tenant_id):
            connection = scoped_connection()
            await connection.execute(_LOCK, tenant_id)
            live = await connection.fetch(
                "SELECT version, wrapped_key, master_key_id FROM tenant_key "
                "WHERE wrapped_key IS NOT NULL ORDER BY version"
            )
            old_keys = {row["version"]: self._unwrap_tenant_key(tenant_id, row) for row in live}
            resumed = len(live) > 1 and live[-1]["master_key_id"] == self._master_key_id
            if resumed:
                target = live[-1]["version"]
                target_key = old_keys.pop(target)
            else:
                latest = await connection.fetchval("SELECT coalesce(max(version), 0) FROM tenant_key")
                target, target_key = latest + 1, generate_key()
                await connection.execute(
                    "INSERT INTO tenant_key (id, tenant_id, version, wrapped_key, master_key_id, created_at) "
                    "VALUES ($1, $2, $3, $4, $5, now())",
                    uuid.uuid4(),
                    tenant_id,
                    target,
                    wrap(self._master_key, target_key, tenant_key_aad(tenant_id, target)),
                    self._master_key_id,
                )
            total = await connection.fetchval(
                "SELECT count(*) FROM person_key WHERE tenant_key_version < $1", target
            )

        done = 0
        if progress is not None:
            progress(0, total)
        while True:
            async with tenant_scope(tenant_id):
                connection = scoped_connection()
                batch = await connection.fetch(f"{_STALE_PERSON_KEYS} LIMIT $2 FOR UPDATE", target, size)
                await self._rewrap(tenant_id, batch, old_keys, target, target_key)
            if not batch:
                break
            done += len(batch)
            if progress is not None:
                progress(min(done, total), total)

        async with tenant_scope(tenant_id):
            connection = scoped_connection()
            await connection.execute(_LOCK, tenant_id)
            # Waits for the transactions still wrapping data keys with an old version (FOR KEY SHARE) ...
            for row in await connection.fetch(
                "SELECT version, wrapped_key, master_key_id FROM tenant_key "
                "WHERE version < $1 AND wrapped_key IS NOT NULL FOR UPDATE",
                target,
            ):
                if row["version"] not in old_keys:
                    old_keys[row["version"]] = self._unwrap_tenant_key(tenant_id, row)
            # ... then re-wraps the keys they committed, before destroying those versions.
            late = await connection.fetch(f"{_STALE_PERSON_KEYS} FOR UPDATE", target)
            await self._rewrap(tenant_id, late, old_keys, target, target_key)
            done += len(late)
            retired = await connection.fetch(
                "UPDATE tenant_key SET wrapped_key = NULL, retired_at = now() "
                "WHERE version < $1 AND wrapped_key IS NOT NULL RETURNING version",
                target,
            )
        self._cache.forget_tenant(tenant_id)
        self._cache.put(tenant_id, target, target_key)
        if progress is not None and late:
            progress(done, max(done, total))
        return RotationReport(
            tenant_id=tenant_id,
            version=target,
            retired_versions=tuple(sorted(row["version"] for row in retired)),
            person_keys=done,
            master_key_id=self._master_key_id,
            resumed=resumed,
        )

    def forget_cached_keys(self, tenant_id: uuid.UUID | None = None) -> None:
        """Drop unwrapped tenant keys from memory (one tenant's, or all)."""
        if tenant_id is None:
            self._cache = _KeyCache(self._cache._size)
        else:
            self._cache.forget_tenant(tenant_id)

    # -- internals -------------------------------------------------------------------------------

    async def _insert_person_key(self, cipher: PersonCipher) -> bool:
        tenant_id = current_tenant_id()
        if cipher.tenant_id != tenant_id:
            raise TenantScopeError("this data key belongs to another tenant")
        version, tenant_key = await self._current_tenant_key(tenant_id)
        status = await scoped_connection().execute(
            "INSERT INTO person_key (id, tenant_id, person_id, tenant_key_version, wrapped_key, created_at) "
            "VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (tenant_id, person_id) DO NOTHING",
            uuid.uuid4(),
            tenant_id,
            cipher.person_id,
            version,
            wrap(tenant_key, cipher._data_key, person_key_aad(tenant_id, cipher.person_id, version)),
        )
        return bool(status == "INSERT 0 1")

    async def _current_tenant_key(self, tenant_id: uuid.UUID) -> tuple[int, bytes]:
        """The tenant's newest live key version, locked (``FOR KEY SHARE``) until the transaction ends;
        created (version 1) at the tenant's first use."""
        connection = scoped_connection()
        for _ in range(3):
            row = await connection.fetchrow(_CURRENT_VERSION)
            if row is None:
                # A rotation may have retired the row this statement first saw: look again, afresh.
                row = await connection.fetchrow(_CURRENT_VERSION)
            if row is not None:
                return row["version"], self._unwrap_tenant_key(tenant_id, row)
            await connection.execute(_LOCK, tenant_id)
            if (row := await connection.fetchrow(_CURRENT_VERSION)) is not None:
                return row["version"], self._unwrap_tenant_key(tenant_id, row)
            version = await connection.fetchval("SELECT coalesce(max(version), 0) + 1 FROM tenant_key")
            key = generate_key()
            inserted = await connection.fetchval(
                "INSERT INTO tenant_key (id, tenant_id, version, wrapped_key, master_key_id, created_at) "
                "VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (tenant_id, version) DO NOTHING RETURNING id",
                uuid.uuid4(),
                tenant_id,
                version,
                wrap(self._master_key, key, tenant_key_aad(tenant_id, version)),
                self._master_key_id,
            )
            if inserted is not None:
                self._cache.put(tenant_id, version, key)
            # Whether this insert or a concurrent one won, the next round reads the stored version.
        raise VaultError("no tenant key could be created or read")

    def _unwrap_tenant_key(self, tenant_id: uuid.UUID, row: Mapping[str, Any]) -> bytes:
        version = row["version"]
        cached = self._cache.get(tenant_id, version)
        if cached is not None:
            return cached
        key = self._open_tenant_key(tenant_id, version, row["wrapped_key"], row["master_key_id"])
        self._cache.put(tenant_id, version, key)
        return key

    def _open_tenant_key(
        self, tenant_id: uuid.UUID, version: int, wrapped: bytes | None, wrapped_by: str | None
    ) -> bytes:
        if wrapped is None:
            raise KeyUnavailable(f"version {version} of the tenant key was retired (destroyed)")
        master = self._masters.get(wrapped_by or "")
        if master is None:
            raise KeyUnavailable(
                f"version {version} of the tenant key is wrapped by master key {wrapped_by}, which this "
                f"process does not hold (PARCOURS_MASTER_KEY is {self._master_key_id}"
                + (f", previous: {', '.join(list(self._masters)[1:])}" if len(self._masters) > 1 else "")
                + "); set that key in PARCOURS_MASTER_KEY_PREVIOUS"
            )
        try:
            return unwrap(master, bytes(wrapped), tenant_key_aad(tenant_id, version))
        except KeyUnavailable as error:
            raise KeyUnavailable(
                f"version {version} of the tenant key does not open with master key {wrapped_by} "
                "(altered, or moved from another tenant)"
            ) from error

    def _cipher_from_row(
        self, tenant_id: uuid.UUID, person_id: uuid.UUID, row: Mapping[str, Any]
    ) -> PersonCipher:
        version = row["tenant_key_version"]
        tenant_key = self._cache.get(tenant_id, version)
        if tenant_key is None:
            tenant_key = self._open_tenant_key(
                tenant_id, version, row["tenant_wrapped_key"], row["master_key_id"]
            )
            self._cache.put(tenant_id, version, tenant_key)
        try:
            data_key = unwrap(
                tenant_key, bytes(row["wrapped_key"]), person_key_aad(tenant_id, person_id, version)
            )
        except KeyUnavailable as error:
            raise KeyUnavailable(
                f"the data key of person {person_id} does not open with version {version} of the tenant key"
            ) from error
        return PersonCipher(tenant_id, person_id, data_key, self._legacy)

    async def _rewrap(
        self,
        tenant_id: uuid.UUID,
        rows: list[Any],
        old_keys: Mapping[int, bytes],
        target: int,
        target_key: bytes,
    ) -> None:
        updates = []
        for row in rows:
            version = row["tenant_key_version"]
            old_key = old_keys.get(version)
            if old_key is None:
                raise KeyUnavailable(
                    f"the data key of person {row['person_id']} is wrapped by version {version} of the "
                    "tenant key, which is not live"
                )
            person_id = row["person_id"]
            data_key = unwrap(
                old_key, bytes(row["wrapped_key"]), person_key_aad(tenant_id, person_id, version)
            )
            rewrapped = wrap(target_key, data_key, person_key_aad(tenant_id, person_id, target))
            updates.append((row["id"], target, rewrapped))
        if updates:
            await scoped_connection().executemany(
                "UPDATE person_key SET tenant_key_version = $2, wrapped_key = $3 WHERE id = $1", updates
            )

    async def _adopt_legacy_person(self, tenant_id: uuid.UUID, person_id: uuid.UUID) -> PersonCipher | None:
        """Give a data key to a person created before the vault (INS still a ``0x01`` ciphertext).

        Their INS is re-encrypted with the new key in the same transaction, so a person without a key
        row and whose INS is no longer ``0x01`` can only be one whose key was destroyed. Returns None
        (no such live legacy person) otherwise."""
        connection = scoped_connection()
        person = await connection.fetchrow(
            "SELECT ins_ciphertext, erased_at FROM person WHERE id = $1 FOR UPDATE", person_id
        )
        if person is None or person["erased_at"] is not None or person["ins_ciphertext"] is None:
            return None
        row = await connection.fetchrow(_PERSON_KEY, person_id)  # adopted meanwhile?
        if row is not None:
            return self._cipher_from_row(tenant_id, person_id, row)
        legacy_ins = bytes(person["ins_ciphertext"])
        if legacy_ins[:1] != LEGACY_FIELD_VERSION:
            return None
        cipher = self.new_person_key(person_id)
        ins = cipher.decrypt(PERSON_INS_FIELD, legacy_ins)
        await connection.execute(
            "UPDATE person SET ins_ciphertext = $2 WHERE id = $1",
            person_id,
            cipher.encrypt(PERSON_INS_FIELD, ins),
        )
        await self.save_person_key(cipher)
        return cipher
