"""``/t/{slug}/api/v1/…/follow-up``: pseudonymous follow-up of events for partners (``followup:read``).

Nothing here names a person: the person appears as a stable pseudonym of the territory (a keyed
digest, not their record's id), no free text is returned. The territory rows are an export: each
call leaves a ``followup.export`` entry in the tenant's audit trail.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter

from core.access.service import Principal
from core.audit.trail import Actor as AuditActor
from core.errors import FieldError, InvalidInput, NotFound
from core.events.catalogue import tenant_catalogue
from core.followup.export import audit_export, disposition, rows_csv, rows_json
from core.followup.record import day_bounds, event_record, territory_rows
from core.runtime import Runtime
from core.tenancy.service import TenantRecord
from web.authz import api_scope
from web.context import provide_principal

SCOPE = "followup:read"
NO_STORE = CacheControlHeader(no_store=True)


def _doc(text: str) -> Any:
    return msgspec.Meta(description=text)


class FundingOut(msgspec.Struct):
    programme: Annotated[str, _doc("Programme de financement (code), p. ex. carsat_ardh.")]
    funder: Annotated[str, _doc("Financeur.")]
    status: Annotated[str, _doc("requested, approved, partially_approved, refused ou paid.")]
    status_label: str
    amount: Annotated[Decimal | None, _doc("Montant en euros (2 décimales) : demandé, puis accordé.")]
    currency: str
    decided_at: dt.datetime | None


class ActionOut(msgspec.Struct):
    id: str
    action_type: str
    action_label: str
    status: Annotated[str, _doc("Statut FHIR Task : requested, received, accepted, rejected, in-progress…")]
    status_label: str
    holder: Annotated[str, _doc("Qui détient l'action : structure, utilisateur ou rôle.")]
    carrier: Annotated[str | None, _doc("Qui réalise l'action (prestataire).")]
    created_at: dt.datetime
    due_at: dt.datetime
    first_response_at: dt.datetime | None
    completed_at: dt.datetime | None
    on_time: Annotated[bool | None, _doc("Réalisée dans les délais ; null tant que ce n'est pas décidable.")]
    escalation_level: Annotated[int, _doc("0 : aucune ; 1 : coordination alertée ; 2 : relais.")]
    funding: list[FundingOut]
    outcome_reason: Annotated[str | None, _doc("Motif codé d'un refus, d'un échec ou d'une annulation.")]
    outcome_reason_label: str


class ReadmissionOut(msgspec.Struct):
    horizon_days: Annotated[int, _doc("7 ou 30 jours après la sortie.")]
    due_at: dt.datetime
    checked_at: dt.datetime | None
    state: Annotated[str, _doc("pending, readmitted ou not_readmitted.")]
    readmitted: bool | None
    readmission_type: str | None
    readmitted_at: dt.datetime | None


class EventFollowUpOut(msgspec.Struct):
    event_id: str
    event_type: str
    event_label: str
    occurred_at: dt.datetime
    declared_at: dt.datetime
    source: Annotated[str, _doc("api (partenaire) ou page (saisie dans Parcours).")]
    status: str
    routed_at: dt.datetime | None
    person_pseudonym: Annotated[str, _doc("Pseudonyme stable de la personne dans ce territoire.")]
    actions: list[ActionOut]
    readmissions: list[ReadmissionOut]


class TerritoryRowOut(msgspec.Struct):
    """One action of the territory (see ``core.followup.record.TerritoryRow``)."""

    event_id: str
    event_type: str
    event_label: str
    event_date: dt.datetime
    person_pseudonym: str
    action_id: str
    action_type: str
    action_label: str
    status: str
    status_label: str
    carrier: str | None
    created_at: dt.datetime
    due_at: dt.datetime
    first_response_at: dt.datetime | None
    completed_at: dt.datetime | None
    on_time: bool | None
    escalation_level: int
    funding_programmes: Annotated[str | None, _doc("Programmes de financement, séparés par « ; ».")]
    funding_status: Annotated[str | None, _doc("Leurs statuts, dans le même ordre.")]
    funding_amount: Annotated[str | None, _doc("Leurs montants en euros (« 450.00 »), dans le même ordre.")]
    readmitted_d7: Annotated[
        bool | None, _doc("Sortie suivie d'une réhospitalisation à 7 jours (null : non vérifié).")
    ]
    readmitted_d30: bool | None


class FollowUpRowsOut(msgspec.Struct):
    since: dt.datetime | None
    until: dt.datetime | None
    count: int
    rows: list[TerritoryRowOut]


def _record_out(record: Any) -> EventFollowUpOut:
    return EventFollowUpOut(
        event_id=str(record.event_id),
        event_type=record.event_type,
        event_label=record.event_label,
        occurred_at=record.occurred_at,
        declared_at=record.declared_at,
        source=record.source,
        status=record.status,
        routed_at=record.routed_at,
        person_pseudonym=record.person_pseudonym,
        actions=[
            ActionOut(
                id=str(step.id),
                action_type=step.action_type,
                action_label=step.action_label,
                status=step.status,
                status_label=step.status_label,
                holder=step.holder,
                carrier=step.carrier,
                created_at=step.created_at,
                due_at=step.due_at,
                first_response_at=step.first_response_at,
                completed_at=step.completed_at,
                on_time=step.on_time,
                escalation_level=step.escalation_level,
                funding=[
                    FundingOut(
                        programme=line.programme,
                        funder=line.funder,
                        status=line.status,
                        status_label=line.status_label,
                        amount=line.amount,
                        currency=line.currency,
                        decided_at=line.decided_at,
                    )
                    for line in step.funding
                ],
                outcome_reason=step.outcome_reason,
                outcome_reason_label=step.outcome_reason_label,
            )
            for step in record.actions
        ],
        readmissions=[
            ReadmissionOut(
                horizon_days=check.horizon_days,
                due_at=check.due_at,
                checked_at=check.checked_at,
                state=check.state,
                readmitted=check.readmitted,
                readmission_type=check.readmission_type,
                readmitted_at=check.readmitted_at,
            )
            for check in record.readmissions
        ],
    )


def check_period(since: dt.date | None, until: dt.date | None) -> None:
    if since is not None and until is not None and until < since:
        raise InvalidInput("période invalide", [FieldError("until", "la fin précède le début de la période")])


class FollowUpController(Controller):
    path = "/t/{slug:str}/api/v1"
    tags = ["follow-up"]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}
    security = [{"bearer": []}]

    @get(
        "/events/{event_id:uuid}/follow-up",
        summary="Suivi d'un événement : actions, prestataires, financements, issue, réhospitalisation",
        description="Chaîne de suivi pseudonymisée d'un événement : chaque action proposée avec son "
        "détenteur, son prestataire, ses délais, ses financements et son issue ; pour une sortie "
        "d'hospitalisation, la vérification des retours à l'hôpital à J+7 et J+30. La personne "
        "n'apparaît que sous un pseudonyme stable du territoire.",
        opt=api_scope(SCOPE).opt(),
        cache_control=NO_STORE,
    )
    async def event_follow_up(
        self,
        event_id: FromPath[uuid.UUID],
        tenant: NamedDependency[TenantRecord],
        runtime: NamedDependency[Runtime],
    ) -> EventFollowUpOut:
        catalogue = await tenant_catalogue(runtime.plugins, tenant.enabled_plugins)
        record = await event_record(
            tenant.id, event_id, catalogue, keyring=runtime.keyring, now=runtime.clock()
        )
        if record is None:
            raise NotFound("événement introuvable dans ce territoire")
        return _record_out(record)

    @get(
        "/follow-up",
        summary="Suivi du territoire : une ligne par action (pseudonymisé, JSON ou CSV)",
        description="Toutes les actions des événements survenus dans la période (`since` et `until` "
        "inclus, dates de Paris ; sans borne : tout), une ligne par action, avec ses financements "
        "joints par « ; » et les réhospitalisations à J+7 et J+30 de la sortie. `format=csv` : "
        "fichier pour tableur français (UTF-8 avec BOM, séparateur « ; »). Chaque appel est tracé "
        "dans le journal d'audit du territoire.",
        opt=api_scope(SCOPE).opt(),
        cache_control=NO_STORE,
        responses={
            200: ResponseSpec(
                data_container=FollowUpRowsOut,
                description="Les lignes du territoire (JSON ; `text/csv` avec `format=csv`).",
            )
        },
    )
    async def territory(
        self,
        tenant: NamedDependency[TenantRecord],
        runtime: NamedDependency[Runtime],
        principal: NamedDependency[Principal],
        since: Annotated[
            dt.date | None, QueryParameter(description="Premier jour de la période (AAAA-MM-JJ), inclus.")
        ] = None,
        until: Annotated[
            dt.date | None, QueryParameter(description="Dernier jour de la période (AAAA-MM-JJ), inclus.")
        ] = None,
        export_format: Annotated[
            Literal["json", "csv"], QueryParameter(name="format", description="json (défaut) ou csv.")
        ] = "json",
    ) -> Response[Any]:
        check_period(since, until)
        start, end = day_bounds(since, until)
        catalogue = await tenant_catalogue(runtime.plugins, tenant.enabled_plugins)
        rows = await territory_rows(
            tenant.id, catalogue, start, end, keyring=runtime.keyring, now=runtime.clock()
        )
        await audit_export(
            tenant.id,
            AuditActor("api_client", principal.client_id),
            export_format=export_format,
            rows=len(rows),
            since=start,
            until=end,
            via="api",
        )
        if export_format == "csv":
            return Response(
                content=rows_csv(rows),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": disposition(tenant.slug, "csv", runtime.clock)},
            )
        return Response(content=rows_json(rows, start, end), media_type="application/json")


FOLLOWUP_API: list[Any] = [FollowUpController]
