"""The vault against PostgreSQL: nothing in clear, rotation, master key rotation, shredding, concurrency.

Each test uses its own territory; vaults are built from explicit master keys so that a test can hold
the old, the new and an unrelated one at once.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import itertools
import re
import secrets
import subprocess
import uuid
from typing import Any

import msgspec
import pytest

from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import Gone
from core.events.intake import receive_event
from core.events.schemas import EventIn
from core.identity.nir import Nir
from core.identity.people import INS_FIELD, PersonIdentity, read_ins, upsert_person
from core.vault import keys
from core.vault.keys import InvalidCiphertext, KeyErased, KeyUnavailable, PersonKeyExists
from core.vault.service import PersonCipher, Vault
from tests.factories import discharge, nir
from tests.support.processes import PARCOURS, ROOT, command_env

_serial = itertools.count(1)


def new_nir() -> str:
    """A valid NIR no other test of the session uses."""
    return nir(f"2{next(_serial) % 100:02d}0240192{secrets.randbelow(999) + 1:03d}")


def master() -> bytes:
    return secrets.token_bytes(32)


@pytest.fixture
def session_master(master_key: str) -> bytes:
    return base64.b64decode(master_key)


def add_person(
    aio: Any, runtime: Any, tenant: Any, vault: Vault, ins: str | None = None
) -> tuple[uuid.UUID, str]:
    ins = ins or new_nir()
    identity = PersonIdentity(Nir.parse(ins), "Lafitte", "Jeanne", dt.date(1942, 2, 14), "40192")

    async def create() -> uuid.UUID:
        async with tenant_scope(tenant.id):
            return await upsert_person(identity, runtime.keyring, vault)

    return aio.run(create()), ins


def in_scope(aio: Any, tenant: Any, make: Any) -> Any:
    """Run ``make()`` (a coroutine factory) inside the tenant's scope."""

    async def run() -> Any:
        async with tenant_scope(tenant.id):
            return await make()

    return aio.run(run())


def tenant_keys(sql_owner: Any, tenant_id: uuid.UUID) -> list[tuple[int, bytes | None, str, Any]]:
    rows = sql_owner.execute(
        "SELECT version, wrapped_key, master_key_id, retired_at FROM tenant_key WHERE tenant_id = %s "
        "ORDER BY version",
        (tenant_id,),
    ).fetchall()
    return [(v, bytes(w) if w is not None else None, m, r) for v, w, m, r in rows]


def person_key_versions(sql_owner: Any, tenant_id: uuid.UUID) -> dict[uuid.UUID, int]:
    rows = sql_owner.execute(
        "SELECT person_id, tenant_key_version FROM person_key WHERE tenant_id = %s", (tenant_id,)
    ).fetchall()
    return dict(rows)


# -- pure key functions ------------------------------------------------------------------------------


def test_master_key_id_is_the_documented_fingerprint() -> None:
    key = bytes(range(32))
    expected = hashlib.sha256(b"parcours/master-key-id" + key).hexdigest()[:16]
    assert keys.master_key_id(key) == expected
    assert re.fullmatch(r"[0-9a-f]{16}", expected)
    assert keys.master_key_id(master()) != expected


def test_wrapped_keys_and_fields_open_only_where_they_belong() -> None:
    tenant, other_tenant, person, other_person = (uuid.uuid4() for _ in range(4))
    kek, data_key = keys.generate_key(), keys.generate_key()
    assert kek != data_key and len(kek) == 32
    assert keys.tenant_key_aad(tenant, 1) == b"parcours/tenant-key/v1" + tenant.bytes + b"\x00\x00\x00\x01"
    wrapped = keys.wrap(kek, data_key, keys.person_key_aad(tenant, person, 1))
    assert keys.unwrap(kek, wrapped, keys.person_key_aad(tenant, person, 1)) == data_key
    for aad in (
        keys.person_key_aad(other_tenant, person, 1),
        keys.person_key_aad(tenant, other_person, 1),
        keys.person_key_aad(tenant, person, 2),
    ):
        with pytest.raises(KeyUnavailable):
            keys.unwrap(kek, wrapped, aad)
    with pytest.raises(KeyUnavailable):
        keys.unwrap(keys.generate_key(), wrapped, keys.person_key_aad(tenant, person, 1))

    blob = keys.seal_field(data_key, tenant, person, "person.ins", b"242024019212329")
    assert blob[:1] == b"\x02" and len(blob) == 1 + 12 + 15 + 16
    assert b"242024019212329" not in blob
    assert keys.open_field(data_key, tenant, person, "person.ins", blob) == b"242024019212329"
    for where in (
        (other_tenant, person, "person.ins"),
        (tenant, other_person, "person.ins"),
        (tenant, person, "x"),
    ):
        with pytest.raises(InvalidCiphertext):
            keys.open_field(data_key, *where, blob)
    assert blob != keys.seal_field(data_key, tenant, person, "person.ins", b"242024019212329")  # fresh nonce


def test_a_person_cipher_reads_the_former_keyring_ciphertexts(runtime) -> None:
    tenant_id, person_id = uuid.uuid4(), uuid.uuid4()
    cipher = PersonCipher(tenant_id, person_id, keys.generate_key(), runtime.keyring)
    legacy = runtime.keyring.encrypt(tenant_id, "person.ins", "242024019212329")
    assert legacy[:1] == b"\x01"
    assert cipher.decrypt_text("person.ins", legacy) == "242024019212329"
    with pytest.raises(InvalidCiphertext):
        cipher.decrypt_text("person.other", legacy)
    assert "key" not in repr(cipher).lower()
    assert cipher.decrypt("f", cipher.encrypt("f", b"\x00\xff")) == b"\x00\xff"


# -- (a) nothing in clear -------------------------------------------------------------------------


def test_the_ins_of_a_person_received_at_intake_is_nowhere_in_clear(
    aio, runtime, tenant, sql_owner, session_master
):
    ins = new_nir()
    event = msgspec.convert(discharge(ins=ins), EventIn)
    received = aio.run(
        receive_event(
            tenant.id, event, uuid.uuid4().hex, "test", runtime.keyring, runtime.vault, runtime.clock()
        )
    )
    person_id = sql_owner.execute(
        "SELECT person_id FROM event WHERE id = %s", (received.event_id,)
    ).fetchone()[0]

    searched = 0
    for table in ("person", "person_key", "tenant_key"):
        cursor = sql_owner.execute(f"SELECT * FROM {table} WHERE tenant_id = %s", (tenant.id,))
        rows = cursor.fetchall()
        assert rows, table
        for row in rows:
            for value in row:
                if isinstance(value, (bytes, memoryview)):
                    raw = bytes(value)
                    assert ins.encode() not in raw, table
                    assert ins.encode("utf-16-le") not in raw, table
                    assert ins not in raw.hex() and ins.encode().hex() not in raw.hex(), table
                else:
                    assert ins not in str(value), table
                searched += 1
        # and as PostgreSQL renders the rows (bytea in hex)
        (found,) = sql_owner.execute(
            f"SELECT count(*) FROM {table} t WHERE t.tenant_id = %s AND t::text LIKE %s",
            (tenant.id, f"%{ins}%"),
        ).fetchone()
        assert found == 0, table
    assert searched > 10

    ciphertext = bytes(
        sql_owner.execute("SELECT ins_ciphertext FROM person WHERE id = %s", (person_id,)).fetchone()[0]
    )
    assert ciphertext[:1] == b"\x02"  # the person's data key, not the former per-tenant key
    with pytest.raises(Exception):  # noqa: B017 - whatever the keyring raises, it must not open it
        runtime.keyring.decrypt(tenant.id, INS_FIELD, ciphertext)
    assert person_key_versions(sql_owner, tenant.id) == {person_id: 1}
    assert in_scope(aio, tenant, lambda: read_ins(person_id, runtime.vault)) == ins
    # a vault that never saw this tenant (no cache) reads it from the tables alone
    fresh = Vault(session_master)
    assert in_scope(aio, tenant, lambda: read_ins(person_id, fresh)) == ins


def test_the_same_ins_again_keeps_the_first_key(aio, runtime, tenant, sql_owner):
    person_id, ins = add_person(aio, runtime, tenant, runtime.vault)
    again, _ = add_person(aio, runtime, tenant, runtime.vault, ins)
    assert again == person_id
    assert len(person_key_versions(sql_owner, tenant.id)) == 1
    assert in_scope(aio, tenant, lambda: read_ins(person_id, runtime.vault)) == ins

    async def save_twice() -> None:
        await runtime.vault.save_person_key(runtime.vault.new_person_key(person_id))

    with pytest.raises(PersonKeyExists):
        in_scope(aio, tenant, save_twice)


# -- (b) tenant key rotation ----------------------------------------------------------------------


def test_rotation_rewraps_every_person_key_and_destroys_the_old_version(
    aio, runtime, tenant, sql_owner, session_master
):
    vault = Vault(session_master, legacy_keyring=runtime.keyring)
    people = [add_person(aio, runtime, tenant, vault) for _ in range(5)]

    async def encrypt_notes() -> dict[uuid.UUID, bytes]:
        notes = {}
        for person_id, _ in people:
            cipher = await vault.person_cipher(person_id)
            notes[person_id] = cipher.encrypt("person_note.body", f"note de {person_id}")
        return notes

    notes = in_scope(aio, tenant, encrypt_notes)
    [(version, wrapped_v1, master_id, retired_at)] = tenant_keys(sql_owner, tenant.id)
    assert (version, retired_at, master_id) == (1, None, vault.master_key_id)
    assert wrapped_v1 is not None

    seen: list[tuple[int, int]] = []
    report = aio.run(
        vault.rotate_tenant_key(tenant.id, lambda done, total: seen.append((done, total)), batch_size=2)
    )

    assert (report.version, report.retired_versions, report.person_keys, report.resumed) == (
        2,
        (1,),
        5,
        False,
    )
    assert report.master_key_id == vault.master_key_id
    assert seen[0] == (0, 5) and seen[-1] == (5, 5) and len(seen) == 4  # batches of 2, 2 and 1
    rows = tenant_keys(sql_owner, tenant.id)
    assert [(v, w is None, r is not None) for v, w, _, r in rows] == [(1, True, True), (2, False, False)]
    assert set(person_key_versions(sql_owner, tenant.id).values()) == {2}

    # readable, by this vault and by one with no cached key at all
    for reader in (vault, Vault(session_master, legacy_keyring=runtime.keyring)):

        async def read_all(reader: Vault = reader) -> None:
            for person_id, ins in people:
                assert await read_ins(person_id, reader) == ins
                cipher = await reader.person_cipher(person_id)
                assert cipher.decrypt_text("person_note.body", notes[person_id]) == f"note de {person_id}"

        in_scope(aio, tenant, read_all)

    # a new person now gets a key wrapped by version 2; a second rotation adds version 3
    newcomer, newcomer_ins = add_person(aio, runtime, tenant, vault)
    assert person_key_versions(sql_owner, tenant.id)[newcomer] == 2
    second = aio.run(vault.rotate_tenant_key(tenant.id))
    assert (second.version, second.retired_versions, second.person_keys) == (3, (2,), 6)
    assert in_scope(aio, tenant, lambda: read_ins(newcomer, Vault(session_master))) == newcomer_ins


def test_an_interrupted_rotation_leaves_everything_readable_and_is_finished_by_the_next_run(
    aio, runtime, tenant, sql_owner, session_master
):
    vault = Vault(session_master, legacy_keyring=runtime.keyring)
    people = [add_person(aio, runtime, tenant, vault) for _ in range(4)]

    def crash(done: int, total: int) -> None:
        if done >= 2:
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        aio.run(vault.rotate_tenant_key(tenant.id, crash, batch_size=2))
    assert sorted(person_key_versions(sql_owner, tenant.id).values()) == [1, 1, 2, 2]
    assert [w is None for _, w, _, _ in tenant_keys(sql_owner, tenant.id)] == [False, False]

    async def read_all() -> list[str]:
        reader = Vault(session_master)
        return [await read_ins(person_id, reader) for person_id, _ in people]

    assert in_scope(aio, tenant, read_all) == [ins for _, ins in people]

    report = aio.run(vault.rotate_tenant_key(tenant.id, batch_size=2))
    assert (report.version, report.retired_versions, report.person_keys, report.resumed) == (2, (1,), 2, True)
    assert set(person_key_versions(sql_owner, tenant.id).values()) == {2}
    assert in_scope(aio, tenant, read_all) == [ins for _, ins in people]


def test_rotation_refuses_to_run_inside_a_tenant_scope(aio, runtime, tenant):
    from core.db.scope import TenantScopeError

    with pytest.raises(TenantScopeError):
        in_scope(aio, tenant, lambda: runtime.vault.rotate_tenant_key(tenant.id))


# -- (c) master key rotation ----------------------------------------------------------------------


def test_master_key_rotation_then_only_the_new_master_key_is_needed(aio, runtime, tenant, sql_owner):
    old, new, unrelated = master(), master(), master()
    old_vault = Vault(old, legacy_keyring=runtime.keyring)
    people = [add_person(aio, runtime, tenant, old_vault) for _ in range(3)]

    def read_all(vault: Vault) -> list[str]:
        async def read() -> list[str]:
            return [await read_ins(person_id, vault) for person_id, _ in people]

        return in_scope(aio, tenant, read)

    expected = [ins for _, ins in people]
    # before the tenant is rotated, the new master key alone cannot read, nor an unrelated one
    with pytest.raises(KeyUnavailable, match=keys.master_key_id(old)):
        read_all(Vault(new))
    with pytest.raises(KeyUnavailable) as unavailable:
        aio.run(Vault(unrelated).rotate_tenant_key(tenant.id))
    assert keys.master_key_id(old) in str(unavailable.value)
    assert keys.master_key_id(unrelated) in str(unavailable.value)
    assert "PARCOURS_MASTER_KEY_PREVIOUS" in str(unavailable.value)
    assert len(tenant_keys(sql_owner, tenant.id)) == 1  # nothing written by the failed rotation

    transition = Vault(new, [old], legacy_keyring=runtime.keyring)
    assert read_all(transition) == expected
    report = aio.run(transition.rotate_tenant_key(tenant.id))
    assert (report.version, report.retired_versions, report.person_keys) == (2, (1,), 3)
    rows = tenant_keys(sql_owner, tenant.id)
    assert [(v, w is None, m) for v, w, m, _ in rows] == [
        (1, True, keys.master_key_id(old)),
        (2, False, keys.master_key_id(new)),
    ]

    assert read_all(Vault(new)) == expected
    with pytest.raises(KeyUnavailable, match=keys.master_key_id(new)):
        read_all(Vault(old))
    with pytest.raises(KeyUnavailable, match="does not hold"):
        read_all(Vault(unrelated, [old]))


def test_previous_master_keys_come_from_the_environment(settings):
    first, second = master(), master()
    previous = f"{base64.b64encode(first).decode()}, {base64.b64encode(second).decode()}"
    assert keys.load_previous_master_keys(settings.model_copy(update={"master_key_previous": None})) == []
    configured = settings.model_copy(update={"master_key_previous": _secret(previous)})
    assert keys.load_previous_master_keys(configured) == [first, second]
    from core.crypto import MasterKeyError

    for wrong in ("pas du base64 !", base64.b64encode(b"short").decode()):
        with pytest.raises(MasterKeyError, match="PARCOURS_MASTER_KEY_PREVIOUS"):
            keys.load_previous_master_keys(
                settings.model_copy(update={"master_key_previous": _secret(wrong)})
            )


def _secret(value: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(value)


# -- (d) crypto-shredding -------------------------------------------------------------------------


def test_a_shredded_key_makes_the_persons_data_unreadable_for_good(aio, runtime, tenant, sql_owner):
    vault = runtime.vault
    person_id, _ = add_person(aio, runtime, tenant, vault)

    async def encrypt() -> bytes:
        return (await vault.person_cipher(person_id)).encrypt("person_note.body", "hospitalisée le 2 mars")

    note = in_scope(aio, tenant, encrypt)
    ins_ciphertext = bytes(
        sql_owner.execute("SELECT ins_ciphertext FROM person WHERE id = %s", (person_id,)).fetchone()[0]
    )

    assert in_scope(aio, tenant, lambda: vault.shred_person_key(person_id)) is True
    assert person_key_versions(sql_owner, tenant.id) == {}
    assert in_scope(aio, tenant, lambda: vault.shred_person_key(person_id)) is False
    with pytest.raises(KeyErased) as erased:
        in_scope(aio, tenant, lambda: vault.person_cipher(person_id))
    assert isinstance(erased.value, Gone)
    with pytest.raises(KeyErased):
        in_scope(aio, tenant, lambda: read_ins(person_id, vault))

    # a new key for the same person opens none of what the destroyed one sealed
    fresh = in_scope(aio, tenant, lambda: vault.create_person_key(person_id))
    with pytest.raises(InvalidCiphertext):
        fresh.decrypt("person_note.body", note)
    with pytest.raises(InvalidCiphertext):
        fresh.decrypt(INS_FIELD, ins_ciphertext)


# -- people encrypted before the vault --------------------------------------------------------------


def test_a_person_from_before_the_vault_gets_a_key_on_first_read(aio, runtime, tenant, sql_owner):
    ins = new_nir()
    person_id = uuid.uuid4()

    async def insert_legacy() -> None:
        await scoped_connection().execute(
            "INSERT INTO person (id, tenant_id, ins_digest, ins_ciphertext, family_name, given_names, "
            "birth_date, commune_insee, ins_status, is_demo, created_at, updated_at) "
            "VALUES ($1, $2, $3, $4, 'Lafitte', 'Jeanne', '1942-02-14', '40192', 'provisional', false, "
            "now(), now())",
            person_id,
            tenant.id,
            runtime.keyring.lookup_digest(tenant.id, ins),
            runtime.keyring.encrypt(tenant.id, INS_FIELD, ins),
        )

    in_scope(aio, tenant, insert_legacy)
    legacy_note = runtime.keyring.encrypt(tenant.id, "person_note.body", "écrit avant")

    assert in_scope(aio, tenant, lambda: read_ins(person_id, runtime.vault)) == ins
    assert person_key_versions(sql_owner, tenant.id) == {person_id: 1}
    stored = bytes(
        sql_owner.execute("SELECT ins_ciphertext FROM person WHERE id = %s", (person_id,)).fetchone()[0]
    )
    assert stored[:1] == b"\x02"  # re-encrypted with the person's new key
    cipher = in_scope(aio, tenant, lambda: runtime.vault.person_cipher(person_id))
    assert cipher.decrypt_text("person_note.body", legacy_note) == "écrit avant"
    assert cipher.decrypt_text(INS_FIELD, stored) == ins

    # and once shredded, the person is not given a key again
    assert in_scope(aio, tenant, lambda: runtime.vault.shred_person_key(person_id))
    with pytest.raises(KeyErased):
        in_scope(aio, tenant, lambda: runtime.vault.person_cipher(person_id))


def test_former_keyring_ciphertexts_stay_readable_after_a_master_key_rotation(aio, runtime, tenant):
    from core.crypto import Keyring

    old, new = master(), master()
    ins = new_nir()
    person_id = uuid.uuid4()

    async def insert_legacy() -> None:
        await scoped_connection().execute(
            "INSERT INTO person (id, tenant_id, ins_digest, ins_ciphertext, family_name, given_names, "
            "birth_date, commune_insee, ins_status, is_demo, created_at, updated_at) "
            "VALUES ($1, $2, $3, $4, 'Lafitte', 'Jeanne', '1942-02-14', '40192', 'provisional', false, "
            "now(), now())",
            person_id,
            tenant.id,
            uuid.uuid4().hex,
            Keyring(old).encrypt(tenant.id, INS_FIELD, ins),
        )

    in_scope(aio, tenant, insert_legacy)
    with pytest.raises(InvalidCiphertext):
        in_scope(aio, tenant, lambda: read_ins(person_id, Vault(new, legacy_keyring=Keyring(new))))
    transition = Vault(new, [old], legacy_keyring=Keyring(new))
    assert in_scope(aio, tenant, lambda: read_ins(person_id, transition)) == ins
    # adopted: the INS is now sealed with the person's key, which the new master key alone reaches
    aio.run(transition.rotate_tenant_key(tenant.id))
    assert in_scope(aio, tenant, lambda: read_ins(person_id, Vault(new))) == ins


# -- (f) concurrency --------------------------------------------------------------------------------


def test_concurrent_first_uses_create_one_tenant_key_version(aio, runtime, tenant, sql_owner, session_master):
    person_ids = [uuid.uuid4() for _ in range(8)]

    async def insert_people() -> None:
        for person_id in person_ids:
            await scoped_connection().execute(
                "INSERT INTO person (id, tenant_id, ins_digest, ins_ciphertext, family_name, given_names, "
                "birth_date, commune_insee, ins_status, is_demo, created_at, updated_at) "
                "VALUES ($1, $2, $3, 'x'::bytea, 'Lafitte', 'Jeanne', '1942-02-14', '40192', "
                "'provisional', false, now(), now())",
                person_id,
                tenant.id,
                uuid.uuid4().hex,
            )

    in_scope(aio, tenant, insert_people)
    assert tenant_keys(sql_owner, tenant.id) == []
    vaults = [Vault(session_master) for _ in person_ids]  # no shared cache: each one goes to the table
    started = asyncio.Event()

    async def first_use(vault: Vault, person_id: uuid.UUID) -> bytes:
        async with tenant_scope(tenant.id):
            await started.wait()
            cipher = await vault.create_person_key(person_id)
            await asyncio.sleep(0.05)  # keep the transaction open while the others insert
            return cipher.encrypt("f", b"ok")

    async def race() -> list[bytes]:
        tasks = [asyncio.ensure_future(first_use(v, p)) for v, p in zip(vaults, person_ids, strict=True)]
        await asyncio.sleep(0.1)  # every task holds its scope (its connection), waiting
        started.set()
        return await asyncio.gather(*tasks)

    blobs = aio.run(race())
    rows = tenant_keys(sql_owner, tenant.id)
    assert [(v, w is not None) for v, w, _, _ in rows] == [(1, True)]
    assert person_key_versions(sql_owner, tenant.id) == dict.fromkeys(person_ids, 1)

    async def read_back() -> list[bytes]:
        reader = Vault(session_master)
        return [
            (await reader.person_cipher(person_id)).decrypt("f", blob)
            for person_id, blob in zip(person_ids, blobs, strict=True)
        ]

    assert in_scope(aio, tenant, read_back) == [b"ok"] * len(person_ids)


# -- (e) the command ----------------------------------------------------------------------------------


def run_cli(settings: Any, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PARCOURS, *args],
        env=command_env(settings, COLUMNS="160", **env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_keys_rotate_command(aio, runtime, tenant, settings, sql_owner, session_master):
    people = [add_person(aio, runtime, tenant, runtime.vault) for _ in range(3)]

    done = run_cli(settings, "keys", "rotate", "--tenant", tenant.slug)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"Clés de personnes rechiffrées\s*│\s*3\b", done.stdout), done.stdout
    assert re.search(r"Version de la clé du territoire\s*│\s*2\b", done.stdout), done.stdout
    assert keys.master_key_id(session_master) in done.stdout
    assert set(person_key_versions(sql_owner, tenant.id).values()) == {2}
    assert [w is None for _, w, _, _ in tenant_keys(sql_owner, tenant.id)] == [True, False]

    unknown = run_cli(settings, "keys", "rotate", "--tenant", "nulle-part")
    assert unknown.returncode == 1
    assert "aucun territoire 'nulle-part'" in unknown.stderr

    # an unrelated master key: refused, nothing written
    stranger = base64.b64encode(master()).decode()
    refused = run_cli(settings, "keys", "rotate", "--tenant", tenant.slug, PARCOURS_MASTER_KEY=stranger)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "clé maîtresse indisponible" in refused.stderr
    assert keys.master_key_id(session_master) in refused.stderr
    assert len(tenant_keys(sql_owner, tenant.id)) == 2

    malformed = run_cli(
        settings, "keys", "rotate", "--tenant", tenant.slug, PARCOURS_MASTER_KEY_PREVIOUS="pas une clé"
    )
    assert malformed.returncode == 1
    assert "PARCOURS_MASTER_KEY_PREVIOUS" in malformed.stderr

    # master key rotation: the new key, the old one as previous
    new = master()
    rotated = run_cli(
        settings,
        "keys",
        "rotate",
        "--tenant",
        tenant.slug,
        PARCOURS_MASTER_KEY=base64.b64encode(new).decode(),
        PARCOURS_MASTER_KEY_PREVIOUS=settings.master_key.get_secret_value(),
    )
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    assert keys.master_key_id(new) in rotated.stdout

    async def read_all() -> list[str]:
        return [await read_ins(person_id, Vault(new)) for person_id, _ in people]

    assert in_scope(aio, tenant, read_all) == [ins for _, ins in people]
