"""Receiving an event: validate, store it with its outbox message, once per key."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec

from core.crypto import Keyring
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import FieldError, IdempotencyKeyReused, InvalidInput
from core.events.catalogue import Catalogue, build_catalogue
from core.events.schemas import EventIn
from core.identity.nir import InvalidIdentifier, Nir
from core.identity.people import PersonIdentity, upsert_person
from core.outbox.service import Dispatch, enqueue
from core.vault.service import Vault

ROUTE_EVENT = "event.route"
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Received:
    event_id: uuid.UUID
    status: str
    created: bool
    dispatch: Dispatch | None
    """The outbox message to hand to the job system (None on a replay)."""


def request_digest(event: EventIn) -> str:
    """Digest of the declaration's content, independent of JSON formatting."""
    canonical = json.dumps(msgspec.to_builtins(event), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_idempotency_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise InvalidInput(
            "l'en-tête Idempotency-Key est obligatoire",
            [FieldError("Idempotency-Key", "en-tête obligatoire (une valeur unique par événement)")],
        )
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            "Idempotency-Key trop longue",
            [FieldError("Idempotency-Key", f"{MAX_KEY_LENGTH} caractères au plus")],
        )
    return key


def check_details(event: EventIn, catalogue: Catalogue) -> dict[str, Any]:
    """The event's details validated for its type (422 naming the field otherwise)."""
    spec = catalogue.event(event.type)
    if spec is None:
        known = ", ".join(sorted(catalogue.events))
        raise InvalidInput(
            "type d'événement inconnu",
            [FieldError("type", f"« {event.type} » inconnu ; types connus : {known}")],
        )
    try:
        return spec.validate_details(event.details)
    except msgspec.ValidationError as error:
        where = str(error).rsplit("at `$.", 1)
        field = "details." + where[1].rstrip("`") if len(where) == 2 else "details"
        raise InvalidInput(
            "précisions de l'événement invalides", [FieldError(field, str(error).split(" - at ")[0])]
        ) from error


def check_person(event: EventIn, today: dt.date) -> Nir:
    """Domain checks msgspec cannot express; returns the parsed NIR."""
    errors = []
    nir: Nir | None = None
    try:
        nir = Nir.parse(event.person.ins)
    except InvalidIdentifier as error:
        errors.append(FieldError("person.ins", str(error)))
    if event.person.birth_date > today:
        errors.append(FieldError("person.birth_date", "la date de naissance est dans le futur"))
    elif event.person.birth_date.year < today.year - 130:
        errors.append(FieldError("person.birth_date", "date de naissance invraisemblable"))
    if errors or nir is None:
        raise InvalidInput("déclaration d'événement invalide", errors)
    return nir


async def receive_event(
    tenant_id: uuid.UUID,
    event: EventIn,
    idempotency_key: str | None,
    declared_by: str,
    keyring: Keyring,
    vault: Vault,
    now: dt.datetime,
    catalogue: Catalogue | None = None,
) -> Received:
    """Store ``event`` and its routing message in one transaction.

    The same ``idempotency_key`` with the same content returns the first
    event and stores nothing; with other content it is refused. ``keyring``
    gives the INS lookup digest, ``vault`` a new person's data key;
    ``catalogue`` the territory's event types (default: the core's).
    """
    key = check_idempotency_key(idempotency_key)
    details = check_details(event, catalogue or build_catalogue([]))
    nir = check_person(event, now.date())
    event = msgspec.structs.replace(event, details=details)
    digest = request_digest(event)
    try:
        return await _store(tenant_id, event, nir, key, digest, declared_by, keyring, vault)
    except _Replayed as replayed:
        return replayed.received


class _Replayed(Exception):
    def __init__(self, received: Received) -> None:
        self.received = received


async def _store(
    tenant_id: uuid.UUID,
    event: EventIn,
    nir: Nir,
    key: str,
    digest: str,
    declared_by: str,
    keyring: Keyring,
    vault: Vault,
) -> Received:
    async with tenant_scope(tenant_id):
        connection = scoped_connection()
        existing = await connection.fetchrow(
            "SELECT id, status, request_digest FROM event WHERE idempotency_key = $1", key
        )
        if existing is not None:
            return _replay(existing, digest)
        person = event.person
        person_id = await upsert_person(
            PersonIdentity(
                nir,
                person.family_name,
                person.given_names,
                person.birth_date,
                person.commune_insee,
                person.lives_alone,
            ),
            keyring,
            vault,
        )
        event_id = await connection.fetchval(
            "INSERT INTO event (id, tenant_id, person_id, type, occurred_at, details, status, "
            "idempotency_key, request_digest, declared_by, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, 'received', $7, $8, $9, now()) "
            "ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id",
            uuid.uuid4(),
            tenant_id,
            person_id,
            event.type,
            event.occurred_at,
            json.dumps(msgspec.to_builtins(event.details)),
            key,
            digest,
            declared_by,
        )
        if event_id is None:  # a concurrent request with the same key committed first
            winner = await connection.fetchrow(
                "SELECT id, status, request_digest FROM event WHERE idempotency_key = $1", key
            )
            raise _Replayed(_replay(winner, digest))
        dispatch = await enqueue(ROUTE_EVENT, {"event_id": str(event_id)})
    return Received(event_id, "received", created=True, dispatch=dispatch)


def _replay(existing: dict, digest: str) -> Received:
    if existing["request_digest"] != digest:
        raise IdempotencyKeyReused(
            "cette Idempotency-Key a déjà servi pour une autre déclaration",
            [FieldError("Idempotency-Key", "déjà utilisée avec un contenu différent")],
        )
    return Received(existing["id"], existing["status"], created=False, dispatch=None)
