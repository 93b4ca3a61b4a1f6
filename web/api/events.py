"""``/t/{slug}/api/v1/events``: partners declare life events and follow their routing."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from core.access.service import Principal
from core.errors import NotFound
from core.events.catalogue import tenant_catalogue
from core.events.intake import receive_event
from core.events.queries import get_event
from core.events.schemas import EventIn, EventOut, EventReceived
from core.jobs.system import JobSystem
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import api_scope
from web.context import provide_principal


class EventsController(Controller):
    path = "/t/{slug:str}/api/v1/events"
    tags = ["events"]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}
    security = [{"bearer": []}]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Déclarer un événement de vie",
        opt=api_scope("events:write").opt(),
    )
    async def declare(
        self,
        data: JSONBody[EventIn],
        tenant: NamedDependency[TenantRecord],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[Runtime],
        jobs: NamedDependency[JobSystem | None],
        idempotency_key: Annotated[
            str,
            HeaderParameter(
                name="Idempotency-Key",
                required=True,
                max_length=255,
                description="Obligatoire. Une valeur unique par événement ; "
                "la rejouer renvoie le même événement sans rien créer.",
            ),
        ],
    ) -> EventReceived:
        """Store the event and its routing message in one transaction; route it in the background.

        Replaying the same Idempotency-Key with the same body returns the same
        event (201, nothing created); with another body, 422.
        """
        received = await receive_event(
            tenant.id,
            data,
            idempotency_key,
            declared_by=f"api:{principal.client_id}",
            keyring=runtime.keyring,
            vault=runtime.vault,
            now=runtime.clock(),
            catalogue=await tenant_catalogue(runtime.plugins, tenant.enabled_plugins),
        )
        if received.dispatch is not None and jobs is not None:
            jobs.send(received.dispatch)
        return EventReceived(id=str(received.event_id), status=received.status)

    @get(
        "/{event_id:uuid}",
        summary="Lire un événement et ses propositions d'action",
        opt=api_scope("events:read").opt(),
    )
    async def read(
        self,
        event_id: FromPath[uuid.UUID],
        tenant: NamedDependency[TenantRecord],
    ) -> EventOut:
        event = await get_event(tenant.id, event_id)
        if event is None:
            raise NotFound("événement introuvable dans ce territoire")
        return event
