"""Declaring an event from a page, for a person already known: a professional, the person, a carer.

Partners declare through the API with the person's identity (``core.events.intake``). In pages the
person is already known, so the declaration names them by id, and consent decides: a professional
must be allowed to *write* the event's category of the person's data; the person declares in their
own file; a carer declares, for the person whose active carer link names them, the events the
catalogue marks as declarable by the person. The event and its routing message are stored in one
transaction; the returned dispatch is handed to the job system.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec

from core.access.policy import Actor as SessionActor
from core.audit.trail import Outcome, Record, append
from core.consent.access import audit_actor, require
from core.consent.model import Action
from core.crypto import sha256_hex
from core.db.connection import scoped_connection
from core.db.scope import tenant_scope
from core.errors import FieldError, Forbidden, InvalidInput
from core.events.catalogue import Catalogue, EventTypeSpec
from core.events.intake import ROUTE_EVENT
from core.identity.roles import Role
from core.outbox.service import Dispatch, enqueue
from core.proposals.queries import purpose_for
from core.records.portal import people_i_manage
from core.runtime import Runtime

MAX_PAST = dt.timedelta(days=365)
MAX_FUTURE = dt.timedelta(days=60)
"""A planned discharge may be declared ahead; nothing further."""


@dataclass(frozen=True)
class Declared:
    event_id: uuid.UUID
    dispatch: Dispatch


def declarable_types(actor: SessionActor, catalogue: Catalogue) -> list[EventTypeSpec]:
    """The event types ``actor`` may declare from a page, in catalogue order."""
    specs = list(catalogue.events.values())
    if actor.role in (Role.PERSON, Role.CARER):
        return [spec for spec in specs if spec.declarable_by_person]
    return specs


def _check(
    spec: EventTypeSpec | None, occurred_at: dt.datetime, details: dict[str, Any], now: dt.datetime
) -> dict:
    errors = []
    if spec is None:
        errors.append(FieldError("type", "choisissez un type d'événement dans la liste"))
    if occurred_at.tzinfo is None:
        errors.append(FieldError("occurred_at", "date et heure avec fuseau attendues"))
    elif occurred_at < now - MAX_PAST:
        errors.append(FieldError("occurred_at", "l'événement date de plus d'un an"))
    elif occurred_at > now + MAX_FUTURE:
        errors.append(FieldError("occurred_at", "l'événement est prévu dans plus de 60 jours"))
    checked: dict[str, Any] = {}
    if spec is not None:
        try:
            checked = spec.validate_details(details)
        except msgspec.ValidationError as error:
            errors.append(FieldError("details", str(error)))
    if errors:
        raise InvalidInput("déclaration d'événement invalide", errors)
    return checked


async def declare_for_person(
    runtime: Runtime,
    actor: SessionActor,
    person_id: uuid.UUID,
    type_code: str,
    occurred_at: dt.datetime,
    details: dict[str, Any],
    catalogue: Catalogue,
) -> Declared:
    """Store the event, checked against the declarer's standing, and its routing message."""
    assert actor.tenant_id is not None
    now = runtime.clock()
    spec = catalogue.event(type_code)
    checked = _check(spec, occurred_at, details, now)
    assert spec is not None
    if actor.role in (Role.PERSON, Role.CARER):
        if not spec.declarable_by_person:
            raise Forbidden("ce type d'événement est déclaré par les professionnels")
        if person_id not in {person.id for person in await people_i_manage(actor)}:
            raise Forbidden("cette personne ne fait pas partie des dossiers que vous suivez")
    else:
        await require(
            runtime, actor, person_id, spec.category, Action.WRITE, purpose_for(actor.role), access="event"
        )
    event_id = uuid.uuid4()
    body = msgspec.json.encode({"type": type_code, "occurred_at": occurred_at, "details": checked}).decode()
    async with tenant_scope(actor.tenant_id):
        await scoped_connection().execute(
            "INSERT INTO event (id, tenant_id, person_id, type, occurred_at, details, status, "
            "idempotency_key, request_digest, declared_by, declared_by_user_id, source, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, 'received', $7, $8, $9, $10, 'page', $11)",
            event_id,
            actor.tenant_id,
            person_id,
            type_code,
            occurred_at,
            msgspec.json.encode(checked).decode(),
            f"page:{event_id}",
            sha256_hex(body),
            f"user:{actor.user_id}",
            actor.user_id,
            now,
        )
        await append(
            Record(
                audit_actor(actor),
                "event.declared",
                Outcome.SUCCESS,
                "person",
                str(person_id),
                {"event_id": str(event_id), "type": type_code},
            )
        )
        dispatch = await enqueue(ROUTE_EVENT, {"event_id": str(event_id)})
    return Declared(event_id, dispatch)
